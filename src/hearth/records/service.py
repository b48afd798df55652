"""Record writes, as one sequence: prepare (rules, values, validation, password hashing: before
any transaction opens) → the model hook chain → persist (inside it, in the caller's transaction
or one of its own) → after-commit (or after-error) events.

Handlers call this; it never sees HTTP. Values are dicts of API values keyed by field name. Reads
are `RecordReader`'s (`self.reads`); what a requester sees of the result is `RecordPresenter`'s.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any, TypeVar

from hearth._util import times
from hearth.db.base import Database, Transaction, UniqueViolation
from hearth.errors import BadRequest, FieldError, NotFound
from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import Binding, Hook
from hearth.hooks.events import RecordCommitted, RecordFailed, RecordValidate, RecordWrite
from hearth.query.context import AuthState, RequestInfo
from hearth.records import auth_policy
from hearth.records.auth_cache import AuthRecords
from hearth.records.body import assignments, resolved_body
from hearth.records.codec import RecordCodec
from hearth.records.files import RecordFiles, StorageSource, held_names, uploads_in
from hearth.records.passwords import Prehashed, blank_passwords, hash_passwords
from hearth.records.reads import RecordReader
from hearth.records.relations import Guard, Relations
from hearth.records.validate import changed_fields, unique_errors, validate
from hearth.rules import enforce
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository
from hearth.schema.secrets import is_password
from hearth.sql import system
from hearth.sql.checks import StoredCheck, postgres_condition
from hearth.sql.dialect import POSTGRES
from hearth.sql.records import all_of

T = TypeVar("T")
Chain = tuple[Binding[RecordWrite], ...]  # a model hook's handlers, as `Hook.quiet_chain` gave them
CREATE_FAILED = "Failed to create record."
UPDATE_FAILED = "Failed to update record."
DELETE_FAILED = (
    "Failed to delete record. Make sure that the record is not part of a required relation reference."
)
UNSUPPORTED_TYPE = "Unsupported collection type."


class _NotInOne(Exception):
    """An update tried as one statement wrote nothing (a check failed, or no row matched)."""


class RecordService:
    def __init__(
        self,
        db: Database,
        collections: CollectionRepository,
        hooks: Hooks,
        reads: RecordReader,
        storage: StorageSource,
    ) -> None:
        self.db = db
        self.files = RecordFiles(storage)
        self.collections = collections
        self.hooks = hooks
        self.reads = reads
        self.relations = Relations(reads, collections)
        self.auth_records = AuthRecords(reads)  # the tokens' auth records (PostgreSQL)
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

    async def _within(
        self, ex: Transaction | None, work: Callable[[Transaction], Awaitable[T]], single: bool = False
    ) -> T:
        """`work` in the caller's transaction (a batch), or in a new one; `single`: a write of
        one statement (`_single`), which PostgreSQL runs without BEGIN and COMMIT."""
        if ex is not None:
            return await work(ex)
        async with self.db.one_statement() if single else self.db.transaction() as tx:
            return await work(tx)

    def _quiet_chain(self, ex: Transaction | None, hook: Hook[RecordWrite], c: Collection) -> Chain | None:
        """The model hook's handlers, when a write of its own will send one writing statement:
        no caller's transaction (a batch, a hook's), and every handler said it writes nothing
        with it as things stand (Hearth's realtime and webhooks without a client or endpoint
        concerned; a user's handler never says so, and gets a real transaction). The write is
        triggered with exactly these handlers (one bound meanwhile waits for the next write).
        The caller knows its own statements: one INSERT or UPDATE, reads before it, nothing
        after it that could fail. Were a handler to find it must write after all (a client
        connected meanwhile), it writes after commit instead (db.base.Transaction.autocommit)."""
        return None if ex is not None else hook.quiet_chain((c.id, c.name))

    async def _check_auth_id(self, tx: Transaction, c: Collection, rid: str) -> None:
        """A chosen id must be free in every auth collection (PocketBase: the system tables
        that refer to auth records — OTPs, MFAs, external auths — know them by id)."""
        for other in self.collections.all():
            if other.is_auth and other.id != c.id and await self.reads.find_row(other, rid, tx) is not None:
                raise BadRequest(
                    CREATE_FAILED,
                    {"id": FieldError("validation_invalid_auth_id", "Invalid or duplicated auth record id.")},
                )

    async def _new_row_meets(
        self, tx: Transaction, codec: RecordCodec, con: enforce.Constraint, record: dict[str, Any], info: RequestInfo
    ) -> bool:
        assert con.condition is not None
        sql = codec.sql.exists_where(con.condition.render(self.db.dialect, 2))
        return await tx.fetch_one(sql, (record["id"], *con.params(info))) is not None

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
        values = {f.name: f.zero() for f in c.fields}
        modified = _assign(c, body, values, auth)
        if modified:
            # A rule reads `@request.body.n` of `{"n+": 5}` as the value it gives (PocketBase).
            info = info.with_body(resolved_body(body, {name: values[name] for name in modified}))
        con = enforce.constraint(self.db.dialect, c, c.rules.get("createRule"), info)
        if con.deny:
            raise BadRequest(CREATE_FAILED)
        codec = self.reads.codec(c)
        errors: dict[str, Any] = {}
        uploads = uploads_in(body)
        now = times.now()
        for f in c.fields:
            if f.type == "autodate" and f.options.get("onCreate"):
                values[f.name] = now
            elif f.type == "text" and values[f.name] == "":
                generated = f.generate()  # type: ignore[attr-defined]
                if generated:
                    values[f.name] = generated
        manage = auth_policy.check_create(self.db.dialect, c, body, values, info, errors) if c.is_auth else None
        if c.is_superusers:
            values["verified"] = True  # superusers are always verified, as in PocketBase
        # An auth record's form (password, its confirmation, who may set `verified`) is checked
        # first: when it fails, PocketBase answers its errors alone, without the fields'.
        if not (c.is_auth and errors):
            validate(c, values, errors, changed=None, uploads=uploads)
        # Invalid values still go through the validate hook (it sees every error) but are never
        # hashed nor written: `refused` fails the write whatever a handler does to `errors`.
        refused = bool(errors)
        if not refused:
            await hash_passwords(c, values, None, hashes)
        stored = await self._store(c, str(values.get("id", "")), values, uploads, refused)

        async def insert(e: RecordWrite) -> None:
            guard = await self._validate(
                e.tx,
                c,
                e.record,
                errors,
                None,
                None,
                CREATE_FAILED,
                refused,
                self.hooks.record_create.may_change(),
                uploads,
            )
            if c.is_auth and "id" in body and not refused:
                await self._check_auth_id(e.tx, c, str(e.record["id"]))
            params = codec.params(e.record, codec.sql.columns)
            sql = codec.sql.insert
            if guard is not None:
                where, ids = guard.where(len(params) + 1)
                sql, params = codec.sql.insert_if(where), [*params, *ids]
            try:
                written = await e.tx.execute(sql, params)
            except UniqueViolation as exc:
                raise BadRequest(CREATE_FAILED, unique_errors(c, exc)) from exc
            if written == 0 and guard is not None:
                held = await self._held_back(e.tx, c, e.record, guard, None)
                raise BadRequest(CREATE_FAILED, held or guard.missing())
            # The create rule, and the manageRule of a `verified` it must admit, are checked on
            # the new row, inside the transaction.
            if con.condition is not None and not await self._new_row_meets(e.tx, codec, con, e.record, info):
                raise BadRequest(CREATE_FAILED)
            if manage is not None and not await self._new_row_meets(e.tx, codec, manage, e.record, info):
                raise BadRequest(CREATE_FAILED, {"verified": auth_policy.NOT_MANAGER})
            blank_passwords(c, e.record)

        # A create or manage rule that needs SQL is checked after the INSERT and may roll it back.
        quiet = con.condition is None and manage is None
        chain = self._quiet_chain(ex, self.hooks.record_create, c) if quiet else None

        async def run(tx: Transaction) -> dict[str, Any]:
            event = RecordWrite(c, values, tx)
            self.files.settle(tx, c, stored, None, lambda: event.record)
            self._after(tx, "create", c, values)
            await self.hooks.record_create.trigger(event, insert, chain)
            return event.record

        return await self._within_stored(ex, run, stored, chain is not None)

    async def update(
        self,
        c: Collection,
        rid: str,
        body: dict[str, Any],
        info: RequestInfo,
        ex: Transaction | None = None,
        hashes: Prehashed | None = None,
    ) -> dict[str, Any]:
        """Read the record (its update rule met), prepare the new values, then write them inside
        the `record_update` hook chain, in `ex` or a transaction of its own. A write of one
        statement on a pooled database reads on the connection it then writes on (one checkout
        instead of two) when nothing slow comes in between: no password to hash (auth
        collections also read for their checks), no upload to store."""
        chain = self._quiet_chain(ex, self.hooks.record_update, c)
        if (
            chain is not None
            and self.db.pooled
            and not c.is_auth
            and not any(is_password(f) for f in c.fields)
            and not uploads_in(body)
        ):
            checks = self._in_one_checks(c, body)
            if checks is not None:
                try:
                    async with self.db.one_statement() as tx:
                        return await self._update_in_one(c, rid, body, info, tx, chain, checks)
                except _NotInOne:
                    pass  # nothing was written: the read and the write answer it
            async with self.db.one_statement() as tx:
                return await self._update(c, rid, body, info, tx, hashes, chain)
        return await self._update(c, rid, body, info, ex, hashes, chain)

    def _in_one_checks(self, c: Collection, body: dict[str, Any]) -> dict[str, StoredCheck] | None:
        """The stored checks of every field, when this update may be one statement that reads
        nothing first (`_update_in_one`): plain values only (no modifier, not the id), no file
        field, and no handler of the record's validation or of a failed update (both are given
        the record as read before the write). None otherwise."""
        if len(self.hooks.record_validate) or len(self._failed["update"]) or self.db.dialect is not POSTGRES:
            return None
        checks = self.reads.codec(c).stored_checks
        if checks is None:
            return None
        for a in assignments(c, body):
            if a.modifier or a.field.name == "id":
                return None
        return checks

    async def _update_in_one(
        self,
        c: Collection,
        rid: str,
        body: dict[str, Any],
        info: RequestInfo,
        tx: Transaction,
        chain: Chain,
        checks: dict[str, StoredCheck],
    ) -> dict[str, Any]:
        """An update as one statement: the row is read, checked and written by the UPDATE
        itself. The body's values are checked here, before it; the fields it leaves alone by the
        UPDATE's WHERE (hearth.sql.checks: PocketBase checks every field of the merged record);
        the rule and the relation ids too. Raises _NotInOne, having written nothing, when a check
        fails or no row matched: the two-statement path then answers, with its errors."""
        self._check_writable(c)
        codec = self.reads.codec(c)
        values: dict[str, Any] = {}
        _assign(c, body, values, info.auth)
        errors: dict[str, Any] = {}
        for name, value in values.items():
            err = c.field_map[name].validate(value)
            if err is not None:
                errors[name] = err
        guard = self.relations.guard(c, values, errors, set(values))
        if errors:
            raise _NotInOne()
        assigned = dict(values)
        _stamp_update(c, values)
        names = tuple(n for n in codec.sql.columns if n in values)
        params: list[Any] = [*codec.params(values, names), rid]

        def param(value: Any) -> str:
            params.append(value)
            return self.db.dialect.placeholder(len(params))

        rule = enforce.constraint(self.db.dialect, c, c.rules.get("updateRule"), info)
        if rule.deny:
            raise _NotInOne()
        before: list[str] = []
        if rule.condition is not None:
            before.append(rule.condition.render(self.db.dialect, len(params) + 1))
            params.extend(rule.params(info))
        for name, check in checks.items():
            if name not in values:
                cond = postgres_condition(name, check, param)
                if cond:
                    before.append(cond)
        after = ""
        if guard is not None:
            after, ids = guard.where(len(params) + 1)
            params.extend(ids)
        sql = codec.sql.update_returning_old(names, all_of(before) if before else "", after)
        n = len(codec.sql.columns)

        async def write(e: RecordWrite) -> None:
            try:
                row = await e.tx.write_returning(sql, params)
            except UniqueViolation as exc:
                raise BadRequest(UPDATE_FAILED, unique_errors(c, exc)) from exc
            if row is None:
                raise _NotInOne()
            old.update(codec.values_from_row([row[i] for i in range(n)]))
            new.update(codec.values_from_row([row[n + i] for i in range(n)]))
            # The after-commit event gets what the two-statement path gives it: the record as
            # read with the body applied (before the autodates).
            self._after(e.tx, "update", c, {**old, **assigned})

        # Filled by `write`: the quiet handlers read them only after `next()`.
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        await self.hooks.record_update.trigger(RecordWrite(c, new, tx, old), write, chain)
        return new

    async def _update(
        self,
        c: Collection,
        rid: str,
        body: dict[str, Any],
        info: RequestInfo,
        ex: Transaction | None,
        hashes: Prehashed | None,
        chain: Chain | None,
    ) -> dict[str, Any]:
        """`update`, in `ex` if given; `chain`: the write is one statement, of these handlers."""
        self._check_writable(c)
        auth = info.auth
        codec = self.reads.codec(c)
        update_rule = c.rules.get("updateRule")
        if update_rule and "@request.body" in update_rule and any(a.modifier for a in assignments(c, body)):
            # The rule reads a modifier's result, which needs the stored values: one read more.
            current = await self.reads.find_row(c, rid, ex)
            if current is not None:
                preview = codec.values_from_row(current)
                modified = _assign(c, body, preview, auth)
                info = info.with_body(resolved_body(body, {name: preview[name] for name in modified}))
        rule = enforce.constraint(self.db.dialect, c, update_rule, info)
        row = await self.reads.row_meeting(c, rid, rule, info, ex)
        if row is None:
            raise NotFound()
        old = codec.values_from_row(row)
        values = dict(old)
        errors: dict[str, Any] = {}
        uploads = uploads_in(body)
        _assign(c, body, values, auth)
        if values.get("id") != old.get("id"):
            errors["id"] = FieldError("validation_pk_change", "The record primary key cannot be changed.")
            values["id"] = old["id"]
        changed = changed_fields(values, old)
        if c.is_auth:
            await auth_policy.check_update(self.reads, c, body, values, old, row, auth, errors, changed)
        if c.is_superusers:
            values["verified"] = True
            if not old.get("verified"):
                changed.add("verified")
        validate(c, values, errors, changed=changed, old=old, uploads=uploads)
        refused = bool(errors)  # as in create
        if not refused:
            await hash_passwords(c, values, changed, hashes)
        stored = await self._store(c, rid, values, uploads, refused)

        async def write(e: RecordWrite) -> None:
            new = e.record
            # What changed, again only when a handler may have changed the values since.
            recheck = new is not values or self.hooks.record_update.may_change()
            now_changed = changed_fields(new, old) if recheck else set(changed)
            if "password" in changed:
                now_changed.add("password")
            guard = await self._validate(
                e.tx, c, new, errors, now_changed, old, UPDATE_FAILED, refused, recheck, uploads
            )
            now_changed |= _stamp_update(c, new)
            await self._write_update(e.tx, c, rid, new, now_changed, rule, info, guard)
            blank_passwords(c, new)

        async def run(tx: Transaction) -> dict[str, Any]:
            event = RecordWrite(c, values, tx, old)
            self.files.settle(tx, c, stored, old, lambda: event.record)
            self._after(tx, "update", c, values)
            await self.hooks.record_update.trigger(event, write, chain)
            return event.record

        # The update rule is checked again by the UPDATE's own WHERE: one statement.
        return await self._within_stored(ex, run, stored, chain is not None)

    async def _store(
        self, c: Collection, rid: str, values: dict[str, Any], uploads: dict[str, Any], refused: bool
    ) -> list[str]:
        """Store the uploads the values hold (before the transaction; none for a refused write)."""
        if refused or not uploads:
            return []
        held = held_names(c, values)
        return await self.files.store(c, rid, [u for name, u in uploads.items() if name in held])

    async def _within_stored(
        self,
        ex: Transaction | None,
        work: Callable[[Transaction], Awaitable[T]],
        stored: list[str],
        single: bool = False,
    ) -> T:
        """`_within`, removing the stored uploads if the transaction never began."""
        if not stored:
            return await self._within(ex, work, single)
        began = False

        async def tracked(tx: Transaction) -> T:
            nonlocal began
            began = True
            return await work(tx)

        try:
            return await self._within(ex, tracked, single)
        except BaseException:
            if not began:
                await self.files.discard(stored)
            raise

    async def _validate(
        self,
        tx: Transaction,
        c: Collection,
        record: dict[str, Any],
        errors: dict[str, Any],
        changed: set[str] | None,
        old: dict[str, Any] | None,
        failed: str,
        refused: bool,
        recheck: bool,
        uploads: dict[str, Any] | None = None,
    ) -> Guard | None:
        """The `record_validate` chain around the fields' checks and relation integrity (the
        plain passwords were checked before hashing); any error, or `refused` (the checks
        before the transaction failed), fails the write. The fields were checked once before
        the transaction: `recheck` when a model handler may have changed the values since, or
        when validate handlers expect the built-in errors after `next()`.

        Without validate handlers and with no error so far, the relations are left to the write
        statement: the Guard returned goes into its WHERE (one statement fewer; `_held_back`
        tells which relation held it back). Otherwise they are read here, so that handlers and
        the answer see every error at once."""

        async def builtin(e: RecordValidate) -> None:
            if recheck or e.record is not record:
                validate(
                    c, e.record, e.errors, changed=changed, old=old, skip_passwords=True, uploads=uploads
                )
            await self.relations.check(tx, c, e.record, e.errors, changed=changed)

        hook = self.hooks.record_validate
        guard = None
        if len(hook):
            await hook.trigger(RecordValidate(c, record, errors, old), builtin)
        else:
            if recheck:
                validate(c, record, errors, changed=changed, old=old, skip_passwords=True, uploads=uploads)
            if errors or refused:
                await self.relations.check(tx, c, record, errors, changed=changed)
            else:
                guard = self.relations.guard(c, record, errors, changed)
        if errors or refused:
            raise BadRequest(failed, errors)
        return guard

    async def _held_back(
        self, tx: Transaction, c: Collection, record: dict[str, Any], guard: Guard, changed: set[str] | None
    ) -> dict[str, Any]:
        """A write its relation guard held back (or whose row or rule failed): the relation
        errors, read now (none: every id exists by now)."""
        errors: dict[str, Any] = {}
        await self.relations.check(tx, c, record, errors, changed=changed)
        return errors

    async def _write_update(
        self,
        tx: Transaction,
        c: Collection,
        rid: str,
        values: dict[str, Any],
        changed: set[str],
        rule: enforce.Constraint | None = None,
        info: RequestInfo | None = None,
        guard: Guard | None = None,
    ) -> None:
        codec = self.reads.codec(c)
        names = tuple(n for n in codec.sql.columns if n in changed)
        if not names:
            return
        params = [*codec.params(values, names), rid]
        conditions = []
        if rule is not None and rule.condition is not None and info is not None:
            # The rule is checked again by the UPDATE itself, so a concurrent change between
            # the check before and this write cannot let a request past it.
            conditions.append(rule.condition.render(self.db.dialect, len(params) + 1))
            params.extend(rule.params(info))
        if guard is not None:
            where, ids = guard.where(len(params) + 1)
            conditions.append(where)
            params.extend(ids)
        sql = codec.sql.update_where(names, all_of(conditions)) if conditions else codec.sql.update(names)
        try:
            written = await tx.execute(sql, params)
        except UniqueViolation as exc:
            raise BadRequest(UPDATE_FAILED, unique_errors(c, exc)) from exc
        if written == 0:
            errors = await self._held_back(tx, c, values, guard, changed) if guard is not None else None
            if errors:
                raise BadRequest(UPDATE_FAILED, errors)
            raise NotFound()

    async def delete(self, c: Collection, rid: str, info: RequestInfo, ex: Transaction | None = None) -> None:
        self._check_writable(c)

        async def run(tx: Transaction) -> None:
            row = await self.reads.find_allowed(c, rid, c.rules.get("deleteRule"), info, tx)
            if row is None:
                raise NotFound()
            await self._delete_one(tx, c, self.reads.codec(c).values_from_row(row), 0)

        await self._within(ex, run)

    async def _delete_one(self, tx: Transaction, c: Collection, values: dict[str, Any], depth: int) -> None:
        """Delete one record inside the `record_delete` hook chain; relations pointing at it
        are followed first (cascade, unset or refuse), each as a write of its own, as in
        PocketBase."""
        if depth > 32:
            raise BadRequest(DELETE_FAILED)

        async def delete(e: RecordWrite) -> None:
            await self._follow_references(tx, c, str(values["id"]), depth)
            await tx.execute(self.reads.codec(c).sql.delete, (values["id"],))
            if c.is_auth:
                # Its MFA sessions, codes, OAuth2 links and known origins go with it, as in PocketBase.
                for owned in ("_mfas", "_otps", "_externalAuths", "_authOrigins"):
                    if self.collections.get(owned) is not None:
                        await tx.execute(system.delete_owned(self.db.dialect, owned), (c.id, values["id"]))

        self._after(tx, "delete", c, values)
        self.files.remove_record(tx, c, str(values["id"]))
        await self.hooks.record_delete.trigger(RecordWrite(c, values, tx, values), delete)

    async def _follow_references(self, tx: Transaction, c: Collection, rid: str, depth: int) -> None:
        async with aclosing(self.relations.referencing(tx, c, rid)) as refs:
            async for other, f, ref in refs:
                if f.options.get("cascadeDelete"):
                    await self._delete_one(tx, other, ref, depth + 1)
                    continue
                current = ref[f.name]
                new_value: Any = [x for x in current if x != rid] if f.storage == "json" else ""
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
            await self._write_update(tx, c, rid, e.record, changed_fields(e.record, old))
            blank_passwords(c, e.record)

        self._after(tx, "update", c, values)
        await self.hooks.record_update.trigger(RecordWrite(c, values, tx, old), write)

    async def truncate(self, c: Collection) -> None:
        """Delete every record, each one as a delete of its own (hooks, realtime, references)."""
        async with self.db.transaction() as tx:
            codec = self.reads.codec(c)
            for (rid,) in await tx.fetch_all(codec.sql.all_ids):
                values = await self.reads.find(c, rid, tx)
                if values is not None:
                    await self._delete_one(tx, c, values, 0)

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

        if c.is_auth:
            rid = str(values.get("id", ""))

            async def drop() -> None:
                self.auth_records.changed(c, rid)  # before this request's answer leaves

            tx.after_commit(drop)
        if len(committed):
            tx.after_commit(success)
        if len(failed):
            tx.after_rollback(failure)


def _stamp_update(c: Collection, values: dict[str, Any]) -> set[str]:
    """Set the autodate fields updated on every write to now; their names."""
    now = times.now()
    stamped = {f.name for f in c.fields if f.type == "autodate" and f.options.get("onUpdate")}
    for name in stamped:
        values[name] = now
    return stamped


def _assign(c: Collection, body: dict[str, Any], values: dict[str, Any], auth: AuthState) -> set[str]:
    """Apply the body to `values` (plain keys, then modifiers; autodates and fields the writer may
    not set are skipped); the names a modifier changed."""
    modified: set[str] = set()
    for a in assignments(c, body):
        f = a.field
        if f.type == "autodate" or not auth_policy.may_write(c, f, auth):
            continue
        if a.modifier:
            values[f.name] = f.apply_modifier(values[f.name], a.modifier, a.raw)
            modified.add(f.name)
        else:
            values[f.name] = f.prepare(a.raw)
    return modified
