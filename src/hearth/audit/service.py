"""The audit trail: who changed which record of which collection, when, from where, and the
before/after values of the fields that changed (docs/operations.md, "Audit trail").

Written in the write's transaction, by a model-tier handler (as the webhooks outbox is): after
`next()` the row is written, so the entry commits with the change or rolls back with it (a
handler or constraint failing later, a batch failing on another request). An after-commit
subscriber would need a second transaction, and a process ending between the two would lose
the entry of a committed change. The handler is outermost, so it sees the record as every
other handler left it.

Collections are audited when a superuser turns them on (off by default), kept in
`_hearth_audit_config`; each process keeps a copy that follows the revocation counter (as API
keys and webhooks do), so a change made through one process applies in every other at its
next request (or, on PostgreSQL, within a second). While the copy is current, the handler
says it writes nothing for a collection not audited (`quiet`), so those writes keep their
one-statement path on PostgreSQL.

Schema and settings changes (when turned on) are recorded around the API requests that make
them (request tier): the collection service and the settings store commit in transactions of
their own, so these entries follow just after the commit, in another one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from collections.abc import Collection as Tags
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from hearth._util import deepjson, times
from hearth.audit import actor as actors
from hearth.db.base import Database, Executor, Row
from hearth.errors import BadRequest, FieldError, NotFound
from hearth.filter import FilterSyntaxError, parse_sort
from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import OUTERMOST, Quiet
from hearth.hooks.events import JobRun, RecordWrite, RequestEvent
from hearth.query.compile import FilterError, Unsupported, compile_filter
from hearth.query.context import RequestInfo
from hearth.schema.auth_options import TOKEN_OPTIONS
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository
from hearth.schema.secrets import is_password, raw_never_shown
from hearth.schema.system_fields import table_model
from hearth.settings import model as settings_model
from hearth.settings.store import SettingsStore
from hearth.sql import audit as sql
from hearth.sql import system

log = logging.getLogger("hearth.audit")

REDACTED = "[redacted]"  # what a secret's value is replaced by (its change is still recorded)
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 36500
CLEANUP = "__hearthAuditCleanup__"  # the built-in cron that prunes old entries
CLEANUP_SCHEDULE = "17 * * * *"
SAVE_FAILED = "Failed to save the audit settings."
# The entries of schema and settings changes name these as their collection (the tables that
# hold them, as in PocketBase); `record` is the collection's id, or "settings".
SCHEMA = "_collections"
SETTINGS = "_params"
SETTINGS_ID = "settings"
SCHEMA_REQUESTS = (
    "collection_create_request", "collection_update_request", "collection_delete_request",
    "collections_import_request",
)  # fmt: skip
SECRET_SUFFIXES = (".secret", ".clientSecret")

# The entry table described to the filter compiler, as `_collections` is for its list.
TABLE = table_model(
    sql.TABLE,
    [("id", "number"), *((name, "text") for name in sql.ENTRY_COLUMNS[:-2]), ("before", "json"), ("after", "json")],
)
SORTABLE = frozenset(("id", *sql.ENTRY_COLUMNS[:-2]))


class AuditTrail:
    def __init__(
        self, db: Database, collections: CollectionRepository, settings: SettingsStore, hooks: Hooks
    ) -> None:
        self.db = db
        self.collections = collections
        self.settings = settings
        self._insert = sql.insert_entry(db.dialect)
        self._enabled: frozenset[str] = frozenset()  # collection ids
        self.retention_days = DEFAULT_RETENTION_DAYS
        self.with_schema = self.with_settings = False  # collection and settings changes audited too
        self._seen = -1  # the revocation counter the copy was loaded at
        for hook, action in (
            (hooks.record_create, "create"),
            (hooks.record_update, "update"),
            (hooks.record_delete, "delete"),
        ):
            quiet = self._quiet()
            hook.bind(self._recorder(action, quiet), id="hearth.audit", priority=OUTERMOST, observer=True, quiet=quiet)
        # A job's writes are the job's (its name), whatever context enqueued it.
        hooks.job_run.bind(self._job, id="hearth.audit", priority=OUTERMOST, observer=True)
        # Schema and settings changes, around the API requests that make them.
        for name in SCHEMA_REQUESTS:
            hooks.request_hook(name).bind(self._schema_change, id="hearth.audit", priority=OUTERMOST, observer=True)
        hooks.request_hook("settings_update_request").bind(self._settings_change, id="hearth.audit", priority=OUTERMOST, observer=True)

    # ----- recording, inside the write's transaction -------------------------------------------
    async def _load(self, ex: Executor) -> None:
        seen = self.collections.revocations
        row = await ex.fetch_one(sql.select_config(self.db.dialect))
        if row is None:
            self._enabled, self.retention_days = frozenset(), DEFAULT_RETENTION_DAYS
            self.with_schema = self.with_settings = False
        else:
            self._enabled, self.retention_days = frozenset(orjson.loads(row[0])), int(row[1])
            self.with_schema, self.with_settings = bool(row[2]), bool(row[3])
        self._seen = seen

    def _quiet(self) -> Quiet:
        def quiet(tags: Tags[str]) -> bool:
            return self._seen == self.collections.revocations and self._enabled.isdisjoint(tags)

        return quiet

    def _recorder(self, action: str, quiet: Quiet) -> Callable[[RecordWrite], Awaitable[None]]:
        async def record(e: RecordWrite) -> None:
            if e.tx.autocommit:
                # Judged not audited (`quiet`): the write is its own transaction. Should the
                # collection have been turned on since, the entry follows in a transaction of
                # its own after the commit (a crash in between loses it).
                await e.next()
                if not quiet(e.tags()):
                    params = await self._params(action, e, self._passwords_set(e))
                    e.tx.after_commit(lambda: self._write_committed(e.collection.id, params))
                return
            if self._seen != self.collections.revocations:
                await self._load(e.tx)
            if e.collection.id not in self._enabled:
                await e.next()
                return
            passwords = self._passwords_set(e)
            await e.next()
            await e.tx.execute(self._insert, await self._params(action, e, passwords))

        return record

    async def _write_committed(self, cid: str, params: tuple[Any, ...]) -> None:
        async with self.db.transaction() as tx:
            if self._seen != self.collections.revocations:
                await self._load(tx)
            if cid in self._enabled:
                await tx.execute(self._insert, params)

    @staticmethod
    def _passwords_set(e: RecordWrite) -> frozenset[str]:
        """The password fields the write sets, seen before it runs: they hold a new hash then
        (an update leaves out the ones it keeps) and are blanked once written."""
        if e.old is not None and e.old is e.record:  # a delete
            return frozenset()
        return frozenset(name for name in _secrets(e.collection)[1] if e.record.get(name))

    async def _params(self, action: str, e: RecordWrite, passwords: frozenset[str]) -> tuple[Any, ...]:
        c = e.collection
        new, old = e.record, e.old or {}
        before, after = _changes(
            None if action == "create" else _without_id(old),
            None if action == "delete" else _without_id(new),
            _secrets(c)[0],
        )
        for name in passwords:  # blanked once written: the snapshot says they were set
            if before is not None:
                before[name] = REDACTED
            if after is not None:
                after[name] = REDACTED
        return await self._entry(c.id, c.name, str(new.get("id") or old.get("id") or ""), action, before, after)

    async def _entry(
        self, cid: str, name: str, rid: str, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> tuple[Any, ...]:
        """The parameters of one entry's INSERT, the actor read now."""
        who = actors.current(*await self._proxy())
        return (
            times.now(), cid, name, rid, action, who.type, who.id, who.collection, who.ip, who.user_agent[:512],
            None if before is None else deepjson.dumps(before).decode(),
            None if after is None else deepjson.dumps(after).decode(),
        )  # fmt: skip

    async def _proxy(self) -> tuple[tuple[str, ...], bool]:
        """The trusted proxy settings (which headers carry the client IP)."""
        settings = self.settings.cached(self.collections.version)
        if settings is None:
            settings = await self.settings.get(self.collections.version)
        proxy = settings.get("trustedProxy") or {}
        return tuple(proxy.get("headers") or ()), bool(proxy.get("useLeftmostIP", False))

    async def _job(self, e: JobRun) -> None:
        with actors.acting(actors.Actor("job", e.name)):
            await e.next()

    # ----- schema and settings changes, around their requests ---------------------------------
    async def _on(self, which: str) -> bool:
        if self._seen != self.collections.revocations:
            await self._load(self.db)
        return bool(getattr(self, which))

    def _schema(self) -> dict[str, dict[str, Any]]:
        return {c.id: {**c.to_api(), **_collection_secrets(c)} for c in self.collections.all()}

    async def _schema_change(self, e: RequestEvent) -> None:
        """Collections created, changed or deleted by the request (an import may do all three)."""
        if not await self._on("with_schema"):
            await e.next()
            return
        before = self._schema()
        await e.next()
        if not _succeeded(e):
            return
        await self.collections.refresh()
        after = self._schema()
        entries = []
        for cid in sorted(before.keys() | after.keys()):
            old, new = before.get(cid), after.get(cid)
            if old is not None and new is not None and deepjson.equal(old, new):
                continue
            action = "create" if old is None else "delete" if new is None else "update"
            secret = frozenset(k for k in (*(old or {}), *(new or {})) if k.endswith(SECRET_SUFFIXES))
            b, a = _changes(old, new, secret)
            entries.append(await self._entry("", SCHEMA, cid, action, b, a))
        await self._write(entries)

    async def _settings_change(self, e: RequestEvent) -> None:
        if not await self._on("with_settings"):
            await e.next()
            return
        before = _settings_view(await self.settings.get(self.collections.version))
        await e.next()
        if not _succeeded(e):
            return
        after = _settings_view(await self.settings.current())
        if not deepjson.equal(before, after):
            secret = frozenset(".".join(path) for path in settings_model.SECRETS)
            b, a = _changes(before, after, secret)
            await self._write([await self._entry("", SETTINGS, SETTINGS_ID, "update", b, a)])

    async def _write(self, entries: list[tuple[Any, ...]]) -> None:
        """Entries of a change that has committed, in a transaction of their own."""
        if entries:
            async with self.db.transaction() as tx:
                for params in entries:
                    await tx.execute(self._insert, params)

    # ----- the superuser API -------------------------------------------------------------------
    async def config(self) -> dict[str, Any]:
        await self._load(self.db)
        names = sorted(c.name for cid in self._enabled if (c := self.collections.get(cid)) is not None)
        return {"collections": names, "schema": self.with_schema, "settings": self.with_settings,
                "retentionDays": self.retention_days}  # fmt: skip

    async def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set what `body` gives: `collections` (names or ids: the audited ones, replacing the
        list), `schema` and `settings` (booleans: collection and settings changes audited too),
        `retentionDays` (0 keeps entries for ever)."""
        await self._load(self.db)
        enabled, days = set(self._enabled), self.retention_days
        flags = {"schema": self.with_schema, "settings": self.with_settings}
        errors: dict[str, Any] = {}
        unknown = object()
        if (raw := body.get("collections", unknown)) is not unknown:
            if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
                errors["collections"] = FieldError("validation_invalid_value", "Must be a list of collection names or ids.")
            else:
                enabled = set()
                for name in raw:
                    c = self.collections.get(name)
                    if c is None or c.is_view:
                        errors["collections"] = FieldError(
                            "validation_invalid_value", f'"{name[:100]}" is not a collection whose records can be written.'
                        )
                        break
                    enabled.add(c.id)
        if (raw := body.get("retentionDays", unknown)) is not unknown:
            if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_RETENTION_DAYS:
                errors["retentionDays"] = FieldError(
                    "validation_invalid_value", f"Must be a whole number of days from 0 to {MAX_RETENTION_DAYS}."
                )
            else:
                days = raw
        for key in flags:
            if (raw := body.get(key, unknown)) is not unknown:
                if isinstance(raw, bool):
                    flags[key] = raw
                else:
                    errors[key] = FieldError("validation_invalid_value", "Must be true or false.")
        if errors:
            raise BadRequest(SAVE_FAILED, errors)
        d = self.db.dialect
        params = (orjson.dumps(sorted(enabled)).decode(), days, int(flags["schema"]), int(flags["settings"]))
        async with self.db.transaction() as tx:
            await tx.execute(sql.upsert_config(d), params)
            await tx.execute(system.bump_revocations(d))  # every process reloads its copy
        self.db.bump_generation()
        await self.collections.refresh()
        return await self.config()

    async def list(
        self, page: int, per_page: int, sort: str, filter_text: str, skip_total: bool
    ) -> tuple[list[dict[str, Any]], int]:
        d = self.db.dialect
        try:
            compiled = compile_filter(d, TABLE, filter_text, rule=False) if filter_text.strip() else None
            order = [(s.expr.name, s.descending) for s in parse_sort(sort)]
        except (FilterError, Unsupported, FilterSyntaxError, AttributeError) as exc:
            raise BadRequest("Invalid filter or sort.") from exc
        if any(name not in SORTABLE for name, _ in order):
            raise BadRequest("Invalid filter or sort.")
        where = compiled.render(d, 1) if compiled else ""
        params = compiled.params(RequestInfo()) if compiled else []
        n = len(params)
        query = sql.list_entries(d, where, order, d.placeholder(n + 1), d.placeholder(n + 2))
        # An offset past any table but within a 64-bit integer: a huge `page` is an empty page,
        # as for PocketBase's lists, rather than an integer the database refuses.
        rows = await self.db.fetch_all(query, (*params, per_page, min((page - 1) * per_page, 2**62)))
        total = -1
        if not skip_total:
            row = await self.db.fetch_one(sql.count_entries(d, where), params)
            total = int(row[0]) if row else 0
        return [_public(r) for r in rows], total

    async def get(self, text: str) -> dict[str, Any]:
        row = None
        if text.isascii() and text.isdecimal() and len(text) <= 18:
            row = await self.db.fetch_one(sql.select_entry(self.db.dialect), (int(text),))
        if row is None:
            raise NotFound("The audit entry does not exist.")
        return _public(row)

    async def prune(self) -> int:
        """Entries older than the retention (none when it is 0)."""
        await self._load(self.db)
        if self.retention_days <= 0:
            return 0
        cutoff = times.format_datetime(datetime.now(UTC) - timedelta(days=self.retention_days))
        removed = await self.db.execute(sql.prune(self.db.dialect), (cutoff,))
        if removed:
            log.info("audit: %d entr%s older than %d days removed", removed, "y" if removed == 1 else "ies",
                     self.retention_days)  # fmt: skip
        return removed


def _secrets(c: Collection) -> tuple[frozenset[str], tuple[str, ...]]:
    """The columns an entry redacts, and the password fields among them; cached on the
    collection object (rebuilt whenever the schema changes), as its codec is."""
    cached = c.__dict__.get("_audit_secrets")
    if cached is None:
        cached = c.__dict__["_audit_secrets"] = (
            raw_never_shown(c), tuple(f.name for f in c.fields if is_password(f))
        )
    return cached


def _without_id(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != "id"}  # the entry's `record` holds it


def _changes(
    old: dict[str, Any] | None, new: dict[str, Any] | None, secret: frozenset[str]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """`before` and `after` of an entry: everything on create (`old` None) and delete (`new`
    None), the keys whose value differs on update; `secret` keys as REDACTED at most."""
    if old is None or new is None:
        values = new if old is None else old
        shown = {k: _shown(k, v, secret) for k, v in (values or {}).items()}
        return (None, shown) if old is None else (shown, None)
    keys = [k for k in {**old, **new} if not deepjson.equal(old.get(k), new.get(k))]
    return {k: _shown(k, old.get(k), secret) for k in keys}, {k: _shown(k, new.get(k), secret) for k in keys}


def _succeeded(e: RequestEvent) -> bool:
    return e.response is not None and 200 <= int(e.response.status_code) < 300


def _collection_secrets(c: Collection) -> dict[str, Any]:
    """An auth collection's secrets (left out of `to_api`), under path keys, so that a change
    of one is recorded (redacted)."""
    out: dict[str, Any] = {}
    for key in TOKEN_OPTIONS:
        section = c.auth.get(key)
        if isinstance(section, dict) and "secret" in section:
            out[f"{key}.secret"] = section["secret"]
    oauth2 = c.auth.get("oauth2")
    for p in (oauth2.get("providers") if isinstance(oauth2, dict) else None) or []:
        if isinstance(p, dict) and p.get("clientSecret"):
            out[f"oauth2.{p.get('name', '')}.clientSecret"] = p["clientSecret"]
    return out


def _settings_view(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings as the API shows them, and their secrets under path keys (`smtp.password`)."""
    out = settings_model.public(settings)
    for path in settings_model.SECRETS:
        node: Any = settings
        for part in path:
            node = node.get(part, "") if isinstance(node, dict) else ""
        out[".".join(path)] = node
    return out


def _shown(name: str, value: Any, secret: frozenset[str]) -> Any:
    """A value as the entry keeps it: secrets (hashes, tokenKey, password fields) never."""
    if name in secret:
        return REDACTED if value else ""
    return value


def _json(value: Any) -> Any:
    if value is None:
        return None
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _public(r: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(r[0])}
    for i, name in enumerate(sql.ENTRY_COLUMNS[:-2], start=1):
        out[name] = str(r[i])
    out["before"], out["after"] = _json(r[-2]), _json(r[-1])
    return out
