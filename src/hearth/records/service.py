"""Record CRUD: rules → coercion and validation → one transaction → the stored values.

Handlers call this; it never sees HTTP. Values are dicts of API values keyed by field name.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from hearth._util import deepjson, passwords, times
from hearth.db.base import Database, Executor, UniqueViolation
from hearth.errors import BadRequest, FieldError, Forbidden, NotFound
from hearth.query.compile import FilterError, Unsupported, compile_filter, compile_sort
from hearth.query.context import AuthState, RequestInfo
from hearth.records.body import assignments
from hearth.records.codec import RecordCodec, codec_for
from hearth.records.expand import expand as expand_records
from hearth.rules import enforce
from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field
from hearth.schema.fields.file import FileField
from hearth.schema.repository import CollectionRepository
from hearth.schema.secrets import PASSWORD, TOKEN_KEY, new_token_key
from hearth.sql import system

DEFAULT_PER_PAGE = 30
MAX_OFFSET = 2**62
MAX_PER_PAGE = 1000
CREATE_FAILED = "Failed to create record."
UPDATE_FAILED = "Failed to update record."
DELETE_FAILED = (
    "Failed to delete record. Make sure that the record is not part of a required relation reference."
)
UNSUPPORTED_TYPE = "Unsupported collection type."


@dataclass(slots=True)
class Page:
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total_items: int
    total_pages: int


# The name a realtime snapshot of a record goes by (reserved: no collection may be named so),
# so rules that join the collection's own table still read the table.
SNAPSHOT = "__hearth_snapshot"


class _RuleRejected(Exception):
    pass


def _check_password_confirm(body: dict[str, Any], errors: dict[str, Any]) -> None:
    confirm = body.get("passwordConfirm")
    if confirm in (None, ""):
        errors["passwordConfirm"] = FieldError("validation_required", "Cannot be blank.")
    elif confirm != body.get("password"):
        errors["passwordConfirm"] = FieldError("validation_values_mismatch", "Values don't match.")


def _may_write(c: Collection, f: Field, auth: AuthState) -> bool:
    """Hidden fields (an auth record's tokenKey included) take values from superusers only;
    anyone else's are ignored, as PocketBase ignores them. An auth record's password is hidden but
    set by its user."""
    if c.is_auth and f.name in (PASSWORD, TOKEN_KEY):
        return f.name == PASSWORD or auth.is_superuser
    return not f.hidden or auth.is_superuser


def _not_unique() -> FieldError:
    return FieldError("validation_not_unique", "Value must be unique.")


# Module-level names: inside RecordService, `list` is the list method.
Records = list[dict[str, Any]]
ChangeEvents = list[tuple[str, Collection, dict[str, Any]]]


class RecordService:
    def __init__(self, db: Database, collections: CollectionRepository) -> None:
        # (action, collection, values) after each committed write; set by the realtime layer.
        self.on_change: Callable[[str, Collection, dict[str, Any]], None] | None = None
        self._pending: dict[int, list[tuple[str, Collection, dict[str, Any]]]] = {}
        self.db = db
        self.collections = collections

    def codec(self, c: Collection) -> RecordCodec:
        return codec_for(self.db.dialect, c)

    @asynccontextmanager
    async def _within(self, ex: Executor | None) -> AsyncIterator[Executor]:
        """The caller's transaction (a batch), or a new one."""
        if ex is not None:
            yield ex
        else:
            async with self.db.transaction() as tx:
                yield tx

    # ----- reads --------------------------------------------------------------------------
    async def find(self, c: Collection, rid: str, ex: Executor | None = None) -> dict[str, Any] | None:
        codec = self.codec(c)
        row = await (ex or self.db).fetch_one(codec.sql.by_id, (rid,))
        return None if row is None else codec.values_from_row(row)

    async def find_row(self, c: Collection, rid: str, ex: Executor | None = None) -> Any:
        return await (ex or self.db).fetch_one(self.codec(c).sql.by_id, (rid,))

    async def find_allowed(
        self, c: Collection, rid: str, rule: str | None, info: RequestInfo, ex: Executor | None = None
    ) -> Any:
        """The row of `rid` if it exists and its rule admits the requester, else None (403 for null rules)."""
        return await self._row_meeting(c, rid, enforce.constraint(self.db.dialect, c, rule, info), info, ex)

    async def _row_meeting(
        self, c: Collection, rid: str, con: enforce.Constraint, info: RequestInfo, ex: Executor | None
    ) -> Any:
        if con.deny:
            return None
        codec = self.codec(c)
        if con.condition is None:
            return await (ex or self.db).fetch_one(codec.sql.by_id, (rid,))
        sql = codec.sql.by_id_where(con.condition.render(self.db.dialect, 2))
        return await (ex or self.db).fetch_one(sql, (rid, *con.params(info)))

    async def matches_rule(
        self, c: Collection, rid: str, rule: str | None, info: RequestInfo, ex: Executor | None = None
    ) -> bool:
        """Whether record `rid` meets `rule` for this requester (null rules: superusers only)."""
        if info.auth.is_superuser:
            return True
        if rule is None:
            return False
        try:
            return await self.find_allowed(c, rid, rule, info, ex) is not None
        except Forbidden:
            return False

    async def snapshot_meets(
        self,
        c: Collection,
        values: dict[str, Any],
        rule: str | None,
        info: RequestInfo,
        filter_text: str = "",
    ) -> bool:
        """Whether a record given by its values (not read from the table: it may be deleted)
        meets `rule` and a client `filter_text` for this requester (realtime events)."""
        alias = SNAPSHOT
        try:
            con = enforce.constraint(self.db.dialect, c, rule, info, alias)
        except Forbidden:
            return False
        if con.deny:
            return False
        conditions = [con.condition] if con.condition is not None else []
        client_filter = self._client_filter(c, filter_text, info.auth, alias) if filter_text else None
        if client_filter is not None:
            conditions.append(client_filter)
        if not conditions:
            return True
        codec = self.codec(c)
        params: list[Any] = codec.params(values, codec.sql.columns)
        parts = []
        for cond in conditions:
            parts.append(cond.render(self.db.dialect, len(params) + 1))
            params.extend(cond.params(info))
        sql = codec.sql.snapshot_where(alias, " AND ".join(parts))
        return await self.db.fetch_one(sql, params) is not None

    # ----- change events --------------------------------------------------------------------
    def _changed(self, action: str, c: Collection, values: dict[str, Any], ex: Executor | None) -> None:
        """Tell the realtime layer; inside a caller's transaction, only once it commits."""
        if self.on_change is None:
            return
        event = (action, c, dict(values))
        if ex is None:
            self.on_change(*event)
        else:
            self._pending.setdefault(id(ex), []).append(event)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Executor]:
        """A transaction whose record writes become realtime events once it commits (and are
        forgotten if it rolls back). Callers that pass `ex` to create/update/delete use this."""
        seen: Executor | None = None
        try:
            async with self.db.transaction() as tx:
                seen = tx
                yield tx
        except BaseException:
            if seen is not None:
                self.rolled_back(seen)
            raise
        self.committed(seen)

    def committed(self, ex: Executor) -> None:
        """The caller's transaction `ex` committed: its changes become events."""
        for event in self._pending.pop(id(ex), []):
            if self.on_change is not None:
                self.on_change(*event)

    def rolled_back(self, ex: Executor) -> None:
        self._pending.pop(id(ex), None)

    async def view(self, c: Collection, rid: str, info: RequestInfo) -> dict[str, Any]:
        row = await self.find_allowed(c, rid, c.rules.get("viewRule"), info)
        if row is None:
            raise NotFound()
        return self.codec(c).values_from_row(row)

    async def list(
        self,
        c: Collection,
        info: RequestInfo,
        *,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        sort: str = "",
        filter_text: str = "",
        skip_total: bool = False,
    ) -> Page:
        auth = info.auth
        con = enforce.constraint(self.db.dialect, c, c.rules.get("listRule"), info)
        codec = self.codec(c)
        page = page if page > 0 else 1
        per_page = per_page if per_page > 0 else DEFAULT_PER_PAGE
        per_page = min(per_page, MAX_PER_PAGE)
        if not auth.is_superuser and ("@collection." in sort or "@request." in sort):
            raise Forbidden("Only superusers can filter by @collection and @request.")
        try:
            order = compile_sort(self.db.dialect, c, sort, superuser=auth.is_superuser)
        except (FilterError, Unsupported) as exc:
            raise BadRequest() from exc
        if con.deny:
            return Page([], page, per_page, 0 if not skip_total else -1, 0 if not skip_total else -1)
        d = self.db.dialect
        conditions = [con.condition] if con.condition is not None else []
        user_filter = self._client_filter(c, filter_text, auth)
        if user_filter is not None:
            conditions.append(user_filter)
        where_parts: list[str] = []
        params: list[Any] = []
        for cond in conditions:
            where_parts.append(cond.render(d, len(params) + 1))
            params.extend(cond.params(info))
        where = " AND ".join(where_parts)
        where_params = list(params)
        order_sql = order.render(d, len(params) + 1)
        params.extend(order.params(info))
        n = len(params)
        sql = codec.sql.select(where, order_sql, d.placeholder(n + 1), d.placeholder(n + 2))
        offset = (page - 1) * per_page
        # Past any real table: answer an empty page instead of overflowing the engine's integers.
        rows = await self.db.fetch_all(sql, (*params, per_page, offset)) if offset < MAX_OFFSET else []
        items = [codec.values_from_row(r) for r in rows]
        if skip_total:
            return Page(items, page, per_page, -1, -1)
        row = await self.db.fetch_one(codec.sql.count(where), where_params)
        total = int(row[0]) if row else 0
        return Page(items, page, per_page, total, math.ceil(total / per_page))

    def _client_filter(self, c: Collection, text: str, auth: AuthState, alias: str = "") -> Any:
        if text == "":
            return None
        if not auth.is_superuser:
            for prefix in ("@collection.", "@request."):
                if prefix in text:
                    raise Forbidden(f"Only superusers can filter by {prefix}")
        try:
            # Superusers may filter on hidden fields, as in rules; nobody else can.
            compiled = compile_filter(
                self.db.dialect, c, text, rule=auth.is_superuser, auth_collection=auth.collection, alias=alias
            )
        except (FilterError, Unsupported) as exc:
            raise BadRequest() from exc
        if compiled is None:
            raise BadRequest()  # only whitespace or comments: PocketBase refuses it too
        return compiled

    # ----- writes -------------------------------------------------------------------------
    def _check_writable(self, c: Collection) -> None:
        if c.is_view:
            raise BadRequest(UNSUPPORTED_TYPE)

    async def create(
        self, c: Collection, body: dict[str, Any], info: RequestInfo, ex: Executor | None = None
    ) -> dict[str, Any]:
        self._check_writable(c)
        auth = info.auth
        con = enforce.constraint(self.db.dialect, c, c.rules.get("createRule"), info)
        if con.deny:
            raise BadRequest(CREATE_FAILED)
        codec = self.codec(c)
        values = {f.name: f.zero() for f in c.fields}
        errors: dict[str, Any] = {}
        for a in assignments(c, body):
            if a.field.type == "autodate" or not _may_write(c, a.field, auth):
                continue
            name = a.field.name
            values[name] = (
                a.field.apply_modifier(values[name], a.modifier, a.raw)
                if a.modifier
                else a.field.prepare(a.raw)
            )
        now = times.now()
        for f in c.fields:
            if f.type == "autodate" and f.options.get("onCreate"):
                values[f.name] = now
            elif f.type == "text" and values[f.name] == "":
                generated = f.generate()  # type: ignore[attr-defined]
                if generated:
                    values[f.name] = generated
        if c.is_auth:
            self._auth_create_checks(c, body, values, auth, errors)
        if c.is_superusers:
            values["verified"] = True  # superusers are always verified, as in PocketBase
        self._validate(c, values, errors, changed=None)
        await self._check_relations(c, values, errors, changed=None, ex=ex)
        if errors:
            raise BadRequest(CREATE_FAILED, errors)
        await self._hash_passwords(c, values, changed=None)
        names = codec.sql.columns
        try:
            if con.condition is None:
                await (ex or self.db).execute(codec.sql.insert, codec.params(values, names))
            else:
                async with self._within(ex) as tx:
                    await tx.execute(codec.sql.insert, codec.params(values, names))
                    # The create rule is checked on the new row, inside the transaction.
                    sql = codec.sql.exists_where(con.condition.render(self.db.dialect, 2))
                    if await tx.fetch_one(sql, (values["id"], *con.params(info))) is None:
                        raise _RuleRejected()
        except UniqueViolation as exc:
            raise BadRequest(CREATE_FAILED, self._unique_errors(c, exc)) from exc
        except _RuleRejected:
            raise BadRequest(CREATE_FAILED) from None
        for f in c.fields:
            if getattr(f, "is_password", False):
                values[f.name] = ""
        self._changed("create", c, values, ex)
        return values

    async def update(
        self, c: Collection, rid: str, body: dict[str, Any], info: RequestInfo, ex: Executor | None = None
    ) -> dict[str, Any]:
        self._check_writable(c)
        auth = info.auth
        codec = self.codec(c)
        rule = enforce.constraint(self.db.dialect, c, c.rules.get("updateRule"), info)
        row = await self._row_meeting(c, rid, rule, info, ex)
        if row is None:
            raise NotFound()
        old = codec.values_from_row(row)
        values = dict(old)
        errors: dict[str, Any] = {}
        for a in assignments(c, body):
            f = a.field
            if f.type == "autodate" or not _may_write(c, f, auth):
                continue
            values[f.name] = (
                f.apply_modifier(values[f.name], a.modifier, a.raw) if a.modifier else f.prepare(a.raw)
            )
        if values.get("id") != old.get("id"):
            errors["id"] = FieldError("validation_pk_change", "The record primary key cannot be changed.")
            values["id"] = old["id"]
        # deepjson.equal: a json field may nest deeper than `!=` can recurse.
        changed = {name for name in values if not deepjson.equal(values[name], old.get(name))}
        if c.is_auth:
            await self._auth_update_checks(c, body, values, old, row, auth, errors, changed)
        if c.is_superusers:
            values["verified"] = True
        self._validate(c, values, errors, changed=changed, old=old)
        await self._check_relations(c, values, errors, changed=changed, ex=ex)
        if errors:
            raise BadRequest(UPDATE_FAILED, errors)
        now = times.now()
        for f in c.fields:
            if f.type == "autodate" and f.options.get("onUpdate"):
                values[f.name] = now
                changed.add(f.name)
        await self._hash_passwords(c, values, changed=changed)
        if changed:
            names = tuple(n for n in codec.sql.columns if n in changed)
            params = [*codec.params(values, names), rid]
            sql = codec.sql.update(names)
            if rule.condition is not None:
                # The rule is checked again by the UPDATE itself, so a concurrent change between
                # the check above and this write cannot let a request past it.
                sql = codec.sql.update_where(names, rule.condition.render(self.db.dialect, len(params) + 1))
                params.extend(rule.params(info))
            try:
                written = await (ex or self.db).execute(sql, params)
            except UniqueViolation as exc:
                raise BadRequest(UPDATE_FAILED, self._unique_errors(c, exc)) from exc
            if written == 0:
                raise NotFound()
        for f in c.fields:
            if getattr(f, "is_password", False):
                values[f.name] = ""
        self._changed("update", c, values, ex)
        return values

    async def delete(self, c: Collection, rid: str, info: RequestInfo, ex: Executor | None = None) -> None:
        self._check_writable(c)
        async with self._within(ex) as tx:
            row = await self.find_allowed(c, rid, c.rules.get("deleteRule"), info, tx)
            if row is None:
                raise NotFound()
            events: list[tuple[str, Collection, dict[str, Any]]] = []
            await self._delete_in(tx, c, rid, 0, events)
        # Cascaded deletes and unset relations are events too, as in PocketBase.
        for action, other, values in events:
            self._changed(action, other, values, ex)
        self._changed("delete", c, self.codec(c).values_from_row(row), ex)

    async def _delete_in(
        self,
        tx: Executor,
        c: Collection,
        rid: str,
        depth: int,
        events: ChangeEvents | None = None,
    ) -> None:
        """Delete one record and follow relations pointing at it (cascade, unset or refuse)."""
        if depth > 32:
            raise BadRequest(DELETE_FAILED)
        d = self.db.dialect
        for other, f in self.collections.referencing(c):
            if other.is_view:
                continue
            multi = f.storage == "json"
            rows = await tx.fetch_all(system.records_referencing(d, other.name, f.name, multi), (rid,))
            for (ref_id,) in rows:
                if other.id == c.id and ref_id == rid:
                    continue
                if f.options.get("cascadeDelete"):
                    gone = await self.find(other, ref_id, tx)
                    await self._delete_in(tx, other, ref_id, depth + 1, events)
                    if events is not None and gone is not None:
                        events.append(("delete", other, gone))
                    continue
                ref_codec = self.codec(other)
                ref = await self.find(other, ref_id, tx)
                if ref is None:
                    continue
                current = ref[f.name]
                new_value: Any = [x for x in current if x != rid] if multi else ""
                if f.required and not new_value:
                    raise BadRequest(DELETE_FAILED)
                ref[f.name] = new_value
                await tx.execute(ref_codec.sql.update((f.name,)), [*ref_codec.params(ref, (f.name,)), ref_id])
                if events is not None:
                    events.append(("update", other, ref))
        await tx.execute(self.codec(c).sql.delete, (rid,))
        if c.is_auth:
            # Its MFA sessions, codes, OAuth2 links and known origins go with it, as in PocketBase.
            for owned in ("_mfas", "_otps", "_externalAuths", "_authOrigins"):
                if self.collections.get(owned) is not None:
                    await tx.execute(system.delete_owned(d, owned), (c.id, rid))

    async def truncate(self, c: Collection) -> None:
        async with self.db.transaction() as tx:
            if self.collections.referencing(c):
                rows = await tx.fetch_all(self.codec(c).sql.all_ids)
                for (rid,) in rows:
                    await self._delete_in(tx, c, rid, depth=0)
            else:
                await tx.execute(self.codec(c).sql.truncate)

    # ----- helpers ------------------------------------------------------------------------
    def _validate(
        self,
        c: Collection,
        values: dict[str, Any],
        errors: dict[str, Any],
        changed: set[str] | None,
        old: dict[str, Any] | None = None,
    ) -> None:
        """`old`: the stored values on update (None on create)."""
        for f in c.fields:
            if f.name in errors:
                continue
            if getattr(f, "is_password", False) and changed is not None and f.name not in changed:
                continue  # the stored hash stays; only a new password is checked
            if isinstance(f, FileField):
                # Only names the record already holds in the field may stay; no upload adds any.
                err = f.validate(values.get(f.name), f.values_of(old.get(f.name)) if old else ())
            else:
                err = f.validate(values.get(f.name))
            if err is not None:
                errors[f.name] = err

    async def _check_relations(
        self,
        c: Collection,
        values: dict[str, Any],
        errors: dict[str, Any],
        changed: set[str] | None,
        ex: Executor | None = None,
    ) -> None:
        for f in c.fields:
            if f.type != "relation" or f.name in errors or (changed is not None and f.name not in changed):
                continue
            ids = f.ids(values.get(f.name))  # type: ignore[attr-defined]
            if not ids:
                continue
            target = self.collections.get(f.options.get("collectionId", ""))
            if target is None:
                errors[f.name] = FieldError(
                    "validation_missing_rel_records",
                    "Failed to find all relation records with the provided ids.",
                )
                continue
            tcodec = self.codec(target)
            rows = await (ex or self.db).fetch_all(tcodec.sql.existing_ids(len(ids)), ids)
            if len({r[0] for r in rows}) != len(set(ids)):
                errors[f.name] = FieldError(
                    "validation_missing_rel_records",
                    "Failed to find all relation records with the provided ids.",
                )

    async def _hash_passwords(self, c: Collection, values: dict[str, Any], changed: set[str] | None) -> None:
        for f in c.fields:
            if not getattr(f, "is_password", False):
                continue
            if changed is not None and f.name not in changed:
                values.pop(f.name, None)
                continue
            plain = values.get(f.name) or ""
            values[f.name] = (
                await passwords.hash_password(plain, int(f.options.get("cost") or 0)) if plain else ""
            )

    def _unique_errors(self, c: Collection, exc: UniqueViolation) -> dict[str, Any]:
        cols = [col for col in exc.columns if col in c.field_map]
        if not cols and exc.index:
            for idx in c.parsed_indexes():
                if idx.name == exc.index:
                    cols = [col.name for col in idx.columns]
        if not cols and exc.index.endswith("_pkey"):
            cols = ["id"]
        return {col: _not_unique() for col in cols} or {"id": _not_unique()}

    def _auth_create_checks(
        self,
        c: Collection,
        body: dict[str, Any],
        values: dict[str, Any],
        auth: AuthState,
        errors: dict[str, Any],
    ) -> None:
        _check_password_confirm(body, errors)
        if values.get("verified") and not enforce.allows_value(
            c.auth.get("manageRule"), RequestInfo(auth=auth)
        ):
            errors["verified"] = FieldError("validation_values_mismatch", "Values don't match.")
        values["tokenKey"] = values.get("tokenKey") or new_token_key(c)

    async def _auth_update_checks(
        self,
        c: Collection,
        body: dict[str, Any],
        values: dict[str, Any],
        old: dict[str, Any],
        row: Any,
        auth: AuthState,
        errors: dict[str, Any],
        changed: set[str],
    ) -> None:
        privileged = auth.is_superuser or (
            auth.record is not None
            and await self.matches_rule(c, old["id"], c.auth.get("manageRule"), RequestInfo(auth=auth))
        )
        if not privileged:
            for name in ("email", "verified"):
                if name in changed:
                    errors[name] = FieldError("validation_values_mismatch", "Values don't match.")
        password = values.get("password") or ""
        if password:
            changed.add("password")
            _check_password_confirm(body, errors)
            if not privileged:
                old_password = body.get("oldPassword")
                stored = self.codec(c).raw_value(row, "password")
                if not isinstance(old_password, str) or not old_password:
                    errors["oldPassword"] = FieldError("validation_required", "Cannot be blank.")
                elif not await passwords.verify_password(old_password, stored):
                    errors["oldPassword"] = FieldError(
                        "validation_invalid_old_password", "Missing or invalid old password."
                    )
        else:
            changed.discard("password")
        if "password" in changed or "email" in changed:
            # A new password or e-mail revokes every token of the record.
            values["tokenKey"] = new_token_key(c)
            changed.add("tokenKey")

    # ----- output -------------------------------------------------------------------------
    async def serialize(
        self, c: Collection, values: Records, info: RequestInfo, expand_text: str = ""
    ) -> Records:
        """Records as the API shows them to this requester, with `?expand=` applied."""
        return await expand_records(self, c, values, expand_text, info)

    async def present(self, c: Collection, values: Records, auth: AuthState) -> Records:
        """Records as this requester may see them, without expansions. Every response that holds
        records is built here (through `RecordCodec.to_api`, which never emits secret columns):
        hidden fields for superusers only; an auth record's e-mail when it is visible, when the
        requester is that record, a superuser, or passes the collection's manageRule."""
        codec = self.codec(c)
        if auth.is_superuser:
            return [codec.to_api(v, show_hidden=True) for v in values]
        if not c.is_auth:
            return [codec.to_api(v) for v in values]
        own = auth.id if auth.collection is not None and auth.collection.id == c.id else None
        shown = {v.get("id") for v in values if v.get("emailVisibility") or (own and v.get("id") == own)}
        shown |= await self._managed_ids(c, [v for v in values if v.get("id") not in shown], auth)
        return [codec.to_api(v, show_email=v.get("id") in shown) for v in values]

    async def _managed_ids(self, c: Collection, values: Records, auth: AuthState) -> set[Any]:
        """Which of these auth records the (authenticated) requester may manage (manageRule)."""
        rule = c.auth.get("manageRule")
        if not values or auth.record is None or rule is None:
            return set()
        ids = [str(v.get("id")) for v in values]
        info = RequestInfo(auth=auth)
        try:
            con = enforce.constraint(self.db.dialect, c, rule, info)
        except Forbidden:
            return set()
        if con.deny:
            return set()
        if con.condition is None:
            return set(ids)
        codec = self.codec(c)
        sql = codec.sql.with_ids(len(ids), con.condition.render(self.db.dialect, len(ids) + 1))
        rows = await self.db.fetch_all(sql, (*ids, *con.params(info)))
        return {codec.values_from_row(r)["id"] for r in rows}
