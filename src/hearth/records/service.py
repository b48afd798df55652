"""Record CRUD: rules → coercion and validation → one transaction → the stored values.

Handlers call this; it never sees HTTP. Values are dicts of API values keyed by field name.
"""

from __future__ import annotations

import math
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from hearth._util import deepjson, passwords, times
from hearth.db.base import Database, Executor, Transaction, UniqueViolation
from hearth.errors import BadRequest, FieldError, Forbidden, NotFound
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import RecordCommitted, RecordFailed, RecordWrite
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


def _changed(values: dict[str, Any], old: dict[str, Any]) -> set[str]:
    # deepjson.equal: a json field may nest deeper than `!=` can recurse.
    return {name for name in values if not deepjson.equal(values[name], old.get(name))}


def _blank_passwords(c: Collection, values: dict[str, Any]) -> None:
    """Written values go on to events and answers: never with a password hash."""
    for f in c.fields:
        if getattr(f, "is_password", False):
            values[f.name] = ""


def _not_unique() -> FieldError:
    return FieldError("validation_not_unique", "Value must be unique.")


# Module-level names: inside RecordService, `list` is the list method.
Records = list[dict[str, Any]]
# Password hashes made before a transaction opened, by (bcrypt cost, plain password); each is
# used once.
Prehashed = dict[tuple[int, str], list[str]]
MAX_PREHASH_LENGTH = 256  # longer ones fail validation anyway


class RecordService:
    def __init__(self, db: Database, collections: CollectionRepository, hooks: Hooks) -> None:
        self.db = db
        self.collections = collections
        self.hooks = hooks
        self._committed = {
            "create": hooks.record_after_create_success,
            "update": hooks.record_after_update_success,
            "delete": hooks.record_after_delete_success,
        }
        self._failed = {
            "create": hooks.record_after_create_error,
            "update": hooks.record_after_update_error,
            "delete": hooks.record_after_delete_error,
        }

    def codec(self, c: Collection) -> RecordCodec:
        return codec_for(self.db.dialect, c)

    @asynccontextmanager
    async def _within(self, ex: Transaction | None) -> AsyncIterator[Transaction]:
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
    def _after(self, tx: Transaction, action: str, c: Collection, values: dict[str, Any]) -> None:
        """The write's after-commit event, or its after-error event if `tx` rolls back. Events
        that must outlive the process (realtime) were written to the outbox by model-tier
        subscribers, inside `tx`."""
        snapshot = dict(values)
        committed, failed = self._committed[action], self._failed[action]

        async def success() -> None:
            await committed.trigger(RecordCommitted(c, action, snapshot))

        async def failure() -> None:
            exc = sys.exc_info()[1] or RuntimeError("the transaction was rolled back")
            await failed.trigger(RecordFailed(c, action, snapshot, exc))

        if len(committed):
            tx.after_commit(success)
        if len(failed):
            tx.after_rollback(failure)

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
        self,
        c: Collection,
        body: dict[str, Any],
        info: RequestInfo,
        ex: Transaction | None = None,
        hashes: Prehashed | None = None,
    ) -> dict[str, Any]:
        """Prepare (values, validation, password hashing: before any transaction opens), then
        insert inside the `record_create` hook chain, in `ex` or a transaction of its own."""
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
        if errors:
            raise BadRequest(CREATE_FAILED, errors)
        await self._hash_passwords(c, values, None, hashes)

        async def insert(e: RecordWrite) -> None:
            # Handlers before this one may have changed the values: they are checked again.
            self._validate(c, e.record, errors, changed=None, skip_passwords=True)
            await self._check_relations(c, e.record, errors, changed=None, ex=e.tx)
            if errors:
                raise BadRequest(CREATE_FAILED, errors)
            try:
                await e.tx.execute(codec.sql.insert, codec.params(e.record, codec.sql.columns))
            except UniqueViolation as exc:
                raise BadRequest(CREATE_FAILED, self._unique_errors(c, exc)) from exc
            if con.condition is not None:
                # The create rule is checked on the new row, inside the transaction.
                sql = codec.sql.exists_where(con.condition.render(self.db.dialect, 2))
                if await e.tx.fetch_one(sql, (e.record["id"], *con.params(info))) is None:
                    raise BadRequest(CREATE_FAILED)
            _blank_passwords(c, e.record)

        async with self._within(ex) as tx:
            event = RecordWrite(c, values, tx)
            self._after(tx, "create", c, values)
            await self.hooks.record_create.trigger(event, insert)
        return event.record

    async def update(
        self,
        c: Collection,
        rid: str,
        body: dict[str, Any],
        info: RequestInfo,
        ex: Transaction | None = None,
        hashes: Prehashed | None = None,
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
        changed = _changed(values, old)
        if c.is_auth:
            await self._auth_update_checks(c, body, values, old, row, auth, errors, changed)
        if c.is_superusers:
            values["verified"] = True
        self._validate(c, values, errors, changed=changed, old=old)
        if errors:
            raise BadRequest(UPDATE_FAILED, errors)
        await self._hash_passwords(c, values, changed, hashes)

        async def write(e: RecordWrite) -> None:
            new = e.record
            now_changed = _changed(new, old)
            if "password" in changed:
                now_changed.add("password")
            # Handlers before this one may have changed the values: they are checked again.
            self._validate(c, new, errors, changed=now_changed, old=old, skip_passwords=True)
            await self._check_relations(c, new, errors, changed=now_changed, ex=e.tx)
            if errors:
                raise BadRequest(UPDATE_FAILED, errors)
            now = times.now()
            for f in c.fields:
                if f.type == "autodate" and f.options.get("onUpdate"):
                    new[f.name] = now
                    now_changed.add(f.name)
            await self._write_update(e.tx, c, rid, new, now_changed, rule, info)
            _blank_passwords(c, new)

        async with self._within(ex) as tx:
            event = RecordWrite(c, values, tx, old)
            self._after(tx, "update", c, values)
            await self.hooks.record_update.trigger(event, write)
        return event.record

    async def _write_update(
        self,
        tx: Transaction,
        c: Collection,
        rid: str,
        values: dict[str, Any],
        changed: set[str],
        rule: enforce.Constraint | None = None,
        info: RequestInfo | None = None,
    ) -> None:
        codec = self.codec(c)
        names = tuple(n for n in codec.sql.columns if n in changed)
        if not names:
            return
        params = [*codec.params(values, names), rid]
        sql = codec.sql.update(names)
        if rule is not None and rule.condition is not None and info is not None:
            # The rule is checked again by the UPDATE itself, so a concurrent change between
            # the check before and this write cannot let a request past it.
            sql = codec.sql.update_where(names, rule.condition.render(self.db.dialect, len(params) + 1))
            params.extend(rule.params(info))
        try:
            written = await tx.execute(sql, params)
        except UniqueViolation as exc:
            raise BadRequest(UPDATE_FAILED, self._unique_errors(c, exc)) from exc
        if written == 0:
            raise NotFound()

    async def delete(self, c: Collection, rid: str, info: RequestInfo, ex: Transaction | None = None) -> None:
        self._check_writable(c)
        async with self._within(ex) as tx:
            row = await self.find_allowed(c, rid, c.rules.get("deleteRule"), info, tx)
            if row is None:
                raise NotFound()
            await self._delete_one(tx, c, self.codec(c).values_from_row(row), 0)

    async def _delete_one(self, tx: Transaction, c: Collection, values: dict[str, Any], depth: int) -> None:
        """Delete one record inside the `record_delete` hook chain; relations pointing at it
        are followed first (cascade, unset or refuse), each as a write of its own, as in
        PocketBase."""
        if depth > 32:
            raise BadRequest(DELETE_FAILED)

        async def delete(e: RecordWrite) -> None:
            await self._follow_references(tx, c, str(values["id"]), depth)
            await tx.execute(self.codec(c).sql.delete, (values["id"],))
            if c.is_auth:
                # Its MFA sessions, codes, OAuth2 links and known origins go with it, as in PocketBase.
                for owned in ("_mfas", "_otps", "_externalAuths", "_authOrigins"):
                    if self.collections.get(owned) is not None:
                        await tx.execute(system.delete_owned(self.db.dialect, owned), (c.id, values["id"]))

        self._after(tx, "delete", c, values)
        await self.hooks.record_delete.trigger(RecordWrite(c, values, tx, values), delete)

    async def _follow_references(self, tx: Transaction, c: Collection, rid: str, depth: int) -> None:
        d = self.db.dialect
        for other, f in self.collections.referencing(c):
            if other.is_view:
                continue
            multi = f.storage == "json"
            rows = await tx.fetch_all(system.records_referencing(d, other.name, f.name, multi), (rid,))
            for (ref_id,) in rows:
                if other.id == c.id and ref_id == rid:
                    continue
                ref = await self.find(other, ref_id, tx)
                if ref is None:
                    continue
                if f.options.get("cascadeDelete"):
                    await self._delete_one(tx, other, ref, depth + 1)
                    continue
                current = ref[f.name]
                new_value: Any = [x for x in current if x != rid] if multi else ""
                if f.required and not new_value:
                    raise BadRequest(DELETE_FAILED)
                await self._unset_reference(tx, other, ref, f.name, new_value)

    async def _unset_reference(
        self, tx: Transaction, c: Collection, old: dict[str, Any], name: str, value: Any
    ) -> None:
        """A relation to a deleted record is emptied: an update of the referencing record."""
        values = {**old, name: value}
        rid = str(old["id"])

        async def write(e: RecordWrite) -> None:
            await self._write_update(tx, c, rid, e.record, _changed(e.record, old))
            _blank_passwords(c, e.record)

        self._after(tx, "update", c, values)
        await self.hooks.record_update.trigger(RecordWrite(c, values, tx, old), write)

    async def truncate(self, c: Collection) -> None:
        """Delete every record, each one as a delete of its own (hooks, realtime, references)."""
        async with self.db.transaction() as tx:
            codec = self.codec(c)
            for (rid,) in await tx.fetch_all(codec.sql.all_ids):
                values = await self.find(c, rid, tx)
                if values is not None:
                    await self._delete_one(tx, c, values, 0)

    # ----- helpers ------------------------------------------------------------------------
    def _validate(
        self,
        c: Collection,
        values: dict[str, Any],
        errors: dict[str, Any],
        changed: set[str] | None,
        old: dict[str, Any] | None = None,
        skip_passwords: bool = False,
    ) -> None:
        """`old`: the stored values on update (None on create). `skip_passwords`: the values
        hold hashes by now (the plain passwords were checked before hashing)."""
        for f in c.fields:
            if f.name in errors:
                continue
            if getattr(f, "is_password", False) and (
                skip_passwords or (changed is not None and f.name not in changed)
            ):
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

    async def _hash_passwords(
        self, c: Collection, values: dict[str, Any], changed: set[str] | None, hashes: Prehashed | None
    ) -> None:
        for f in c.fields:
            if not getattr(f, "is_password", False):
                continue
            if changed is not None and f.name not in changed:
                values.pop(f.name, None)
                continue
            plain = values.get(f.name) or ""
            cost = int(f.options.get("cost") or 0)
            ready = hashes.get((cost, plain)) if hashes and plain else None
            # One hash per use: two records never share a salt, even with the same password.
            known = ready.pop() if ready else None
            values[f.name] = known or (await passwords.hash_password(plain, cost) if plain else "")

    async def prehash(self, c: Collection, body: dict[str, Any], hashes: Prehashed) -> None:
        """Hash the passwords `body` sets on an auth record into `hashes`, for a create or update
        that will run inside a transaction opened later (a batch, an OAuth2 sign-up): bcrypt
        must not run while the write lock is held."""
        for f in c.fields:
            plain = body.get(f.name) if getattr(f, "is_password", False) else None
            if isinstance(plain, str) and plain and len(plain) <= MAX_PREHASH_LENGTH:
                cost = int(f.options.get("cost") or 0)
                hashes.setdefault((cost, plain), []).append(await passwords.hash_password(plain, cost))

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
