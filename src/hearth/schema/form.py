"""Turn a submitted collection JSON (create or update) into a validated Collection.

Errors are gathered per key in PocketBase's shape, e.g. `{"fields": {"1": {"collectionId": …}}}`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Container, Mapping
from typing import Any

from hearth._util import times
from hearth._util.ids import checksum_id
from hearth.errors import BadRequest, FieldError, ValidationFailed
from hearth.schema.auth_options import (
    OptionsFormatError,
    decode_patch,
    default_auth_options,
    merge_options,
    normalize_options,
    validate_options,
)
from hearth.schema.collection import (
    AUTH,
    AUTH_RULE_NAMES,
    BASE,
    COLLECTION_TYPES,
    RULE_NAMES,
    VIEW,
    Collection,
)
from hearth.schema.fields.base import Field, FieldLoadError, OptionError
from hearth.schema.indexes import IndexSyntaxError, parse_index, with_table
from hearth.schema.system_fields import AUTH_FIELDS, ID_FIELD, auth_indexes, make_fields
from hearth.schema.views import check_query
from hearth.sql.dialect import identifier_key, is_identifier

# Hearth's own tables and indexes (and the engines' namespaces) cannot be collection or index
# names: tables and indexes share one namespace on both engines.
RESERVED_TABLES = frozenset(
    {"_collections", "_params", "_hearth_state", "idx__collections_name", "idx__collections_type",
     "_collections_pkey", "_collections_name_key", "_params_pkey"}  # fmt: skip
)
RESERVED_PREFIXES = ("sqlite_", "pg_", "_hearth_", "__hearth")
MAX_NAME_LENGTH = 255

Lookup = Callable[[str], Collection | None]
RuleChecker = Callable[[str, Collection, Lookup], FieldError | None]


def _invalid_format() -> BadRequest:
    return BadRequest("Failed to load the submitted data due to invalid formatting.")


def build_collection(
    payload: Any,
    existing: Collection | None,
    lookup: Lookup,
    check_rule: RuleChecker,
    others: Callable[[], list[Collection]] = list,
    *,
    providers: Container[str],
) -> Collection:
    """Validate `payload` against `existing` (None on create) and return the new model.

    `others` lists every collection of the schema (the one being saved may be among them): table
    and index names must not collide with theirs. `providers` are the OAuth2 provider names an
    auth collection may enable (auth's registry: the caller passes them, schema sits below auth)."""
    if not isinstance(payload, dict):
        raise _invalid_format()
    errors: dict[str, Any] = {}
    now = times.now()

    if existing is None:
        ctype = payload.get("type", BASE) or BASE
        if ctype not in COLLECTION_TYPES:
            errors["type"] = FieldError("validation_in_invalid", "Must be a valid value.")
            ctype = BASE
        name = payload.get("name", "")
        cid = payload.get("id") or ""
        if not isinstance(cid, str):
            raise _invalid_format()
        new = Collection(id="", name="", type=ctype, created=now, updated=now)
        if ctype == AUTH:
            new.auth = default_auth_options()
        new.rules = dict.fromkeys(RULE_NAMES)
    else:
        new = copy.copy(existing)
        new.rules = dict(existing.rules)
        new.auth = copy.deepcopy(existing.auth)
        new.updated = now
        if "type" in payload and payload["type"] != existing.type:
            errors["type"] = FieldError(
                "validation_collection_type_change", "Collection type cannot be changed."
            )
        name = payload.get("name", existing.name)
        cid = existing.id
        if "id" in payload and payload["id"] not in (existing.id, None, ""):
            errors["id"] = FieldError("validation_pk_change", "The collection id cannot be changed.")

    # name
    if not isinstance(name, str):
        raise _invalid_format()
    if not name:
        errors["name"] = FieldError("validation_required", "Cannot be blank.")
    elif len(name) > MAX_NAME_LENGTH:
        errors["name"] = FieldError(
            "validation_length_out_of_range", "The length must be between 1 and 255.", {"max": 255, "min": 1}
        )
    elif not is_identifier(name) or "_via_" in name:
        errors["name"] = FieldError("validation_match_invalid", "Must be in a valid format.")
    elif name.lower() in RESERVED_TABLES or name.lower().startswith(RESERVED_PREFIXES):
        errors["name"] = FieldError(
            "validation_not_in_invalid", "The name is reserved for Hearth's own tables."
        )
    else:
        key = identifier_key(name)
        other = lookup(name)
        if other is None or other.id == cid:
            other = next((o for o in others() if o.id != cid and identifier_key(o.name) == key), None)
        index_owner = _index_owner(others(), key, cid)
        if index_owner is not None:
            errors["name"] = FieldError(
                "validation_not_in_invalid",
                f"The name is already used by an index of the {index_owner} collection.",
            )
        elif other is not None:
            errors["name"] = FieldError(
                "validation_collection_name_exists", "Collection name must be unique (case insensitive)."
            )
        elif existing is not None and existing.system and name != existing.name:
            errors["name"] = FieldError(
                "validation_collection_system_name_change", "System collection name cannot be changed."
            )
    new.name = name

    if existing is None:
        if cid:
            if not is_identifier(cid) or len(cid) > 100:
                errors["id"] = FieldError("validation_match_invalid", "Must be in a valid format.")
            elif lookup(cid) is not None:
                errors["id"] = FieldError(
                    "validation_pk_invalid", "The collection id is invalid or already exists."
                )
        else:
            cid = checksum_id("pbc_", new.type + name)
            suffix = 0
            while lookup(cid if suffix == 0 else f"{cid}{suffix}") is not None:
                suffix += 1
            cid = cid if suffix == 0 else f"{cid}{suffix}"
        new.id = cid

    # rules (null = superusers only)
    for key in RULE_NAMES:
        if key in payload:
            value = payload[key]
            if value is not None and not isinstance(value, str):
                raise _invalid_format()
            new.rules[key] = value

    # auth options: typed as PocketBase's structs (a wrong JSON type is a format error, null the
    # zero value), merged over the stored ones, then checked as PocketBase checks them
    if new.type == AUTH:
        try:
            patch = decode_patch(payload)
        except OptionsFormatError:
            raise _invalid_format() from None
        new.auth = normalize_options(merge_options(new.auth, patch))
        errors.update(validate_options(new.auth))
        oauth2_errors = _check_oauth2(new.auth["oauth2"], providers)
        if oauth2_errors:
            errors["oauth2"] = {"providers": oauth2_errors}

    if new.type == VIEW:
        query = payload.get("viewQuery", existing.view_query if existing else "")
        if not isinstance(query, str):
            raise _invalid_format()
        new.view_query = query.strip().rstrip(";")
        query_error = check_query(new.view_query)
        if query_error is not None:
            errors["viewQuery"] = query_error

    # fields (a view's come from its query, when the table layer creates it)
    if new.type == VIEW:
        new.fields = list(existing.fields) if existing else []
    elif "fields" in payload or existing is None:
        raw_fields = payload.get("fields") or []
        if not isinstance(raw_fields, list):
            raise _invalid_format()
        new.fields = _build_fields(raw_fields, existing, new.type, errors)
    else:
        new.fields = list(existing.fields)
    new.reindex()

    # relation targets
    field_errors: dict[str, Any] = errors.get("fields", {}) if isinstance(errors.get("fields"), dict) else {}
    for i, f in enumerate(new.fields):
        if f.type == "relation":
            target_id = f.options.get("collectionId", "")
            target = lookup(target_id) if target_id else None
            if target_id and (target is None or target.id != target_id and target.name != target_id):
                field_errors.setdefault(str(i), {})["collectionId"] = FieldError(
                    "validation_field_relation_missing_collection", "The relation collection doesn't exist."
                )
            elif target is not None:
                f.options["collectionId"] = target.id
    if field_errors:
        errors["fields"] = field_errors

    # indexes
    if "indexes" in payload:
        idx = payload["indexes"]
        if idx is None:
            idx = []
        if not isinstance(idx, list) or not all(isinstance(x, str) for x in idx):
            raise _invalid_format()
        new.indexes = list(idx)
    elif existing is not None and existing.name != new.name:
        new.indexes = [with_table(sql, existing.name, new.name) for sql in existing.indexes]
    if existing is not None and existing.name != new.name and "indexes" in payload:
        new.indexes = [with_table(sql, existing.name, new.name) for sql in new.indexes]
    # The automatic auth indexes and the rules name the table: only once its name is valid.
    name_ok = "name" not in errors
    if new.type == AUTH and name_ok:
        _ensure_auth_indexes(new)
    index_errors, missing_columns = _check_indexes(new, others)
    if index_errors:
        errors["indexes"] = index_errors
    if new.type == AUTH and not index_errors and not errors.get("fields") and "passwordAuth" not in errors:
        identity_error = _check_identity_fields(new)
        if identity_error is not None:
            errors["passwordAuth"] = {"identityFields": identity_error}

    # rules syntax (after fields, so identifiers resolve against the new schema)
    if not errors.get("fields") and name_ok:
        rule_keys = list(RULE_NAMES) + (list(AUTH_RULE_NAMES) if new.type == AUTH else [])
        for key in rule_keys:
            rule = new.rules.get(key) if key in RULE_NAMES else new.auth.get(key)
            if rule:
                err = check_rule(rule, new, _seeing(new, lookup))
                if err is not None:
                    errors[key] = err

    if not errors and missing_columns:
        # PocketBase finds these when it creates the index, so only once all else is valid.
        errors["indexes"] = missing_columns
    if errors:
        raise ValidationFailed(errors)
    return new


def _build_fields(
    raw_fields: list[Any], existing: Collection | None, ctype: str, errors: dict[str, Any]
) -> list[Field]:
    from hearth.schema.fields.registry import field_from_dict

    old_by_id = {f.id: f for f in existing.fields} if existing else {}
    old_by_name = {f.name: f for f in existing.fields} if existing else {}
    fields: list[Field] = []
    field_errors: dict[str, Any] = {}
    positions: dict[str, int] = {}
    keys: dict[str, str] = {}  # identifier_key → name
    parsed: list[tuple[int, dict[str, Any]]] = []
    for raw in raw_fields:
        if not isinstance(raw, dict):
            raise _invalid_format()
        data = dict(raw)
        if not data.get("id"):
            # A field without id replaces the one with the same name (PocketBase's merge rule).
            # A system field keeps its id whatever type is given (it is made the system type).
            old = old_by_name.get(str(data.get("name", "")))
            if old is not None and (old.type == data.get("type") or old.system):
                data["id"] = old.id
        parsed.append((len(parsed), data))

    if any(d.get("primaryKey") is True and d.get("name") != "id" for _, d in parsed):
        # The primary key renamed (or a second one): PocketBase answers for the whole list.
        errors["fields"] = FieldError("validation_missing_primary_key", 'Missing or invalid "id" PK field.')
        return list(existing.fields) if existing else []

    # A field given under a system field's name becomes that system field, as PocketBase makes
    # it: of the system type, its own options kept (its id too) when the type is the system's.
    parsed = [(i, _as_system_field(d, ctype)) for i, d in parsed]

    # The id field comes first, auth system fields last, as PocketBase orders them.
    names = {str(d.get("name", "")) for _, d in parsed}
    ordered: list[dict[str, Any]] = []
    if not any(d.get("name") == "id" and d.get("type") == "text" for _, d in parsed):
        ordered.append(dict(ID_FIELD))
    ordered.extend(d for _, d in parsed)
    if ctype == AUTH:
        for sys_field in AUTH_FIELDS:
            if sys_field["name"] not in names:
                ordered.append(dict(sys_field))

    for i, data in enumerate(ordered):
        name = str(data.get("name", ""))
        if ctype == AUTH and name in RESERVED_AUTH_NAMES:
            field_errors[str(i)] = {
                "name": FieldError("validation_reserved_field_name", "The field name is reserved and cannot be used.")
            }
            continue
        if name == "id" and data.get("type") != "text":
            field_errors[str(i)] = {
                "name": FieldError(
                    "validation_duplicated_field_name",
                    "Duplicated or invalid field name id.",
                    {"fieldName": "id"},
                )
            }
            continue
        try:
            f = field_from_dict(data)
        except FieldLoadError as exc:
            # PocketBase answers malformed field JSON (unknown type, wrongly typed options) generically.
            raise _invalid_format() from exc
        except OptionError as exc:
            field_errors[str(i)] = exc.errors
            continue
        old = old_by_id.get(f.id)
        if old is not None:
            if old.type != f.type:
                field_errors[str(i)] = FieldError(
                    "validation_field_type_change", "Field type cannot be changed."
                )
                continue
            if old.system:
                f.system = True
                if old.name != f.name:
                    errors["fields"] = FieldError(
                        "validation_system_field_change", "System fields cannot be deleted or renamed."
                    )
                    return fields
        if name in positions:
            # Duplicate names: the later definition wins, in the earlier position.
            fields[positions[name]] = f
            continue
        twin = keys.get(identifier_key(f.name))
        if twin is not None:
            # "Title" and "title" (or two names alike in their first 63 bytes) are one column.
            field_errors[str(i)] = {
                "name": FieldError(
                    "validation_duplicated_field_name",
                    f"Duplicated or invalid field name {f.name}.",
                    {"fieldName": f.name},
                )
            }
            continue
        keys[identifier_key(f.name)] = f.name
        positions[name] = len(fields)
        fields.append(f)

    if field_errors and "fields" not in errors:
        errors["fields"] = {k: v for k, v in field_errors.items() if v}
    return fields


_AUTH_SYSTEM = {f["name"]: f for f in AUTH_FIELDS}
RESERVED_AUTH_NAMES = frozenset({"passwordConfirm", "oldPassword"})  # the auth forms' own keys


def _as_system_field(data: dict[str, Any], ctype: str) -> dict[str, Any]:
    """`data` as the system field of its name: the primary key `id` (text) is always one; in an
    auth collection so are password, tokenKey, email, emailVisibility and verified. Another type
    is replaced by the system definition (keeping the id the given field would have); the same
    type keeps its options, with what the system needs forced."""
    name = data.get("name")
    if name == "id" and data.get("type") == "text":
        forced = {**data, "primaryKey": True, "system": True, "required": True}
        forced["pattern"] = data.get("pattern") or ID_FIELD["pattern"]
        return forced
    system = _AUTH_SYSTEM.get(name) if ctype == AUTH and isinstance(name, str) else None
    if system is None:
        return data
    if data.get("type") != system["type"]:
        given_type = data.get("type")
        own_id = data.get("id") or (checksum_id(given_type, str(name)) if isinstance(given_type, str) else "")
        return {**system, "id": own_id or system["id"]}
    forced = {**data, "system": True}
    if name in ("password", "tokenKey"):
        forced.update(required=True, hidden=True)  # secrets: always set, never shown
    return forced


def _seeing(new: Collection, lookup: Lookup) -> Lookup:
    """`lookup`, but the collection being saved is its new version (self-relations in rules)."""

    def find(key: str) -> Collection | None:
        if key in (new.id, new.name) or key.lower() == new.name.lower():
            return new
        return lookup(key)

    return find


def _check_oauth2(oauth2: dict[str, Any], providers: Container[str]) -> dict[str, Any]:
    """PocketBase's checks of enabled OAuth2 providers: known names, credentials, URLs, no twins."""
    if not oauth2.get("enabled"):
        return {}
    errors: dict[str, Any] = {}
    seen: set[str] = set()
    for i, p in enumerate(oauth2.get("providers") or []):
        if not isinstance(p, dict):
            continue
        err: dict[str, FieldError] = {}
        name = p.get("name") or ""
        if not name:
            err["name"] = FieldError("validation_required", "Cannot be blank.")
        elif name not in providers:
            err["name"] = FieldError(
                "validation_missing_provider",
                f"Invalid or missing provider with name {name}.",
                {"name": name},
            )
        elif name in seen:
            err["name"] = FieldError(
                "validation_duplicated_provider",
                f"The provider {name} is already registered.",
                {"name": name},
            )
        seen.add(str(name))
        for key in ("clientId", "clientSecret"):
            if not p.get(key):
                err[key] = FieldError("validation_required", "Cannot be blank.")
        for key in ("authURL", "tokenURL", "userInfoURL"):
            url = p.get(key) or ""
            if url and not re.match(r"^https?://[^\s/$.?#].[^\s]*$", str(url)):
                err[key] = FieldError("validation_is_url", "Must be a valid URL.")
        if err:
            errors[str(i)] = err
    return errors


def _unique_columns(c: Collection) -> set[str]:
    """The columns that have a single-column UNIQUE index of their own."""
    return {idx.columns[0].name for idx in c.parsed_indexes() if idx.unique and len(idx.columns) == 1}


def _ensure_auth_indexes(c: Collection) -> None:
    present = _unique_columns(c)
    for sql in auth_indexes(c.id, c.name):
        try:
            col = parse_index(sql).columns[0].name
        except IndexSyntaxError:
            continue  # an invalid id: reported on its own
        if col not in present:
            c.indexes.append(sql)


def _index_owner(collections: list[Collection], key: str, skip_id: str) -> str | None:
    """The name of the collection (other than `skip_id`) holding an index named like `key`."""
    for o in collections:
        if o.id == skip_id:
            continue
        if any(identifier_key(idx.name) == key for idx in o.parsed_indexes()):
            return o.name
    return None


def _check_identity_fields(c: Collection) -> FieldError | None:
    """Each identity field exists and has a single-column UNIQUE index, as PocketBase demands
    (a sign-in by it must find one record)."""
    password_auth = c.auth.get("passwordAuth", {})
    if not password_auth.get("enabled"):
        return None  # PocketBase checks them only when password sign-in is on
    unique = _unique_columns(c)
    for name in password_auth.get("identityFields") or []:
        if not isinstance(name, str) or name not in c.field_map:
            return FieldError("validation_missing_field", f"Invalid or missing field {name}.", {"fieldName": name})
        if name not in unique:
            return FieldError(
                "validation_missing_unique_constraint",
                f"The field {name} doesn't have a UNIQUE constraint.",
                {"fieldName": name},
            )
    return None


def _check_indexes(
    c: Collection, others: Callable[[], list[Collection]]
) -> tuple[dict[str, FieldError], dict[str, FieldError]]:
    """The indexes' validation errors, and apart from them those of indexes naming a column the
    collection lacks (in PocketBase's words for the failed CREATE INDEX)."""
    errors: dict[str, FieldError] = {}
    missing: dict[str, FieldError] = {}
    seen: set[str] = set()
    invalid = FieldError("validation_invalid_index_expression", "Invalid CREATE INDEX expression.")
    for i, sql in enumerate(c.indexes):
        try:
            idx = parse_index(sql)
        except IndexSyntaxError:
            errors[str(i)] = invalid
            continue
        cols = [col.name for col in idx.columns] + [p.column for p in idx.where]
        key = identifier_key(idx.name)
        if idx.table != c.name:
            errors[str(i)] = invalid
            continue
        absent = next((col for col in cols if col not in c.field_map), None)
        if absent is not None:
            missing[str(i)] = FieldError(
                "validation_invalid_index_expression",
                f"Failed to create index {idx.name} - SQL logic error: no such column: {absent} (1).",
            )
            continue
        if key in seen:
            errors[str(i)] = FieldError("validation_duplicated_index_name", "The index name already exists.")
            continue
        seen.add(key)
        # Index names share one namespace with tables, across the whole database.
        owner = _index_owner(others(), key, c.id)
        if owner is not None:
            errors[str(i)] = FieldError(
                "validation_existing_index_name",
                f"The index name is already used in {owner} collection.",
                {"usedTableName": owner},
            )
        elif (
            key in RESERVED_TABLES
            or key.startswith(RESERVED_PREFIXES)
            or any(identifier_key(o.name) == key for o in others() if o.id != c.id)
            or key == identifier_key(c.name)
        ):
            errors[str(i)] = FieldError(
                "validation_invalid_index_expression", "The index name is already used by a table."
            )
    return errors, missing


def make_collection(
    name: str,
    ctype: str,
    fields: list[dict[str, Any]],
    *,
    cid: str = "",
    system: bool = False,
    rules: Mapping[str, str | None] | None = None,
    auth_patch: dict[str, Any] | None = None,
) -> Collection:
    """Build a built-in collection directly (no validation needed for our own definitions)."""
    now = times.now()
    cid = cid or checksum_id("pbc_", ctype + name)
    all_fields = [dict(ID_FIELD), *fields] + ([dict(f) for f in AUTH_FIELDS] if ctype == AUTH else [])
    c = Collection(
        id=cid,
        name=name,
        type=ctype,
        system=system,
        rules={k: (rules or {}).get(k) for k in RULE_NAMES},
        fields=make_fields(all_fields),
        created=now,
        updated=now,
    )
    if ctype == AUTH:
        c.auth = merge_options(default_auth_options(), auth_patch or {})
        c.indexes = auth_indexes(c.id, c.name)
    return c
