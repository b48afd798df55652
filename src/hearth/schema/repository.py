"""Collections: loaded once, cached per process, and kept coherent across processes.

Every change bumps a counter in `_hearth_state` inside the same transaction. Each request calls
`refresh()`, one indexed single-row read, and reloads when the counter moved, so a change made
through any worker or instance is seen on the very next request everywhere.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson

from hearth._util.tasks import SharedRun
from hearth.db.base import Database, DatabaseError, Executor
from hearth.errors import FieldError, ValidationFailed
from hearth.schema import migrate
from hearth.schema.collection import RULE_NAMES, Collection
from hearth.sql import system

log = logging.getLogger("hearth")

ChangeListener = Callable[[], Awaitable[None] | None]


class CollectionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.version = -1
        self.revocations = 0
        self.realtime_clients = 0
        self._by_key: dict[str, Collection] = {}
        self._ordered: list[Collection] = []
        self._read_version = system.read_version(db.dialect)
        self._generation: int | None = None
        self._reading: SharedRun[bool] = SharedRun()  # the read under way, for its generation

    # ----- reads --------------------------------------------------------------------------
    async def refresh(self) -> bool:
        """Reload when another process (or instance) changed the schema. True if reloaded."""
        gen = self.db.generation()
        if gen is None:
            return await self._read(gen)  # the database must be asked (no change feed now)
        if gen == self._generation and self.version >= 0:
            return False
        # Requests arriving together after the counter moved share one read: 200 requests in
        # flight would otherwise each read the counters (on PostgreSQL, 200 round trips).
        return await self._reading(lambda: self._read(gen), gen)

    async def _read(self, gen: int | None) -> bool:
        counters = {int(r[0]): int(r[1]) for r in await self.db.fetch_all(self._read_version)}
        # Read here, used by the auth service: tokens of logged-out sessions stop working.
        self.revocations = counters.get(system.REVOCATION_COUNTER, 0)
        self.realtime_clients = counters.get(system.REALTIME_CLIENTS, 0)
        version = counters.get(system.SCHEMA_COUNTER, 0)
        reloaded = version != self.version
        if reloaded:
            await self._load(self.db, version)
        # Only now: a read that failed (database unavailable) is tried again by the next request
        # instead of the shared counter looking already seen.
        self._generation = gen
        return reloaded

    async def _load(self, ex: Executor, version: int) -> None:
        rows = await ex.fetch_all(system.select_collections(self.db.dialect))
        ordered = [collection_from_row(r) for r in rows]
        by_key: dict[str, Collection] = {}
        for c in ordered:
            by_key[c.id] = c
            by_key[c.name.lower()] = c
            # Relation paths in filters and rules find their target collections through this.
            c.lookup = self.get
        self._ordered, self._by_key, self.version = ordered, by_key, version

    def get(self, id_or_name: str) -> Collection | None:
        c = self._by_key.get(id_or_name)
        if c is None:
            c = self._by_key.get(id_or_name.lower())
        return c

    def all(self) -> list[Collection]:
        return list(self._ordered)

    def referencing(self, target: Collection) -> list[tuple[Collection, Any]]:
        """(collection, relation field) pairs that point at `target`."""
        out = []
        for c in self._ordered:
            for f in c.fields:
                if f.type == "relation" and f.options.get("collectionId") == target.id:
                    out.append((c, f))
        return out

    def views_reading(self, target: Collection) -> list[Collection]:
        """View collections whose query names `target` (a word match on the SQL)."""
        pattern = re.compile(
            rf"(?<![\w\"`]){re.escape(target.name)}(?![\w\"`])|[\"`]{re.escape(target.name)}[\"`]"
        )
        return [c for c in self._ordered if c.is_view and c.id != target.id and pattern.search(c.view_query)]

    # ----- writes -------------------------------------------------------------------------
    async def _save_row(self, tx: Executor, c: Collection, insert: bool) -> None:
        d = self.db.dialect
        row = collection_row(c)
        if insert:
            await tx.execute(system.insert_collection(d), row)
        else:
            created = system.COLLECTION_COLUMNS.index("created")
            await tx.execute(system.update_collection(d), (*row[1:created], *row[created + 1 :], c.id))

    async def _bump(self, tx: Executor) -> None:
        await tx.execute(system.bump_version(self.db.dialect))

    async def _reload_after(self) -> None:
        self.db.bump_generation()
        self.version = -1
        await self.refresh()

    async def create(self, c: Collection, tx: Executor | None = None) -> None:
        if tx is not None:
            await self._create_in(tx, c)
            return
        async with self.db.transaction() as t:
            await self._create_in(t, c)
        await self._reload_after()

    async def _create_in(self, tx: Executor, c: Collection) -> None:
        await migrate.create_collection_table(tx, self.db.dialect, c, self.all)
        await self._save_row(tx, c, insert=True)
        await self._bump(tx)

    async def update(self, old: Collection, new: Collection) -> None:
        try:
            async with self.db.transaction() as tx:
                # Another process may have changed this collection since we loaded it: the diff
                # would then be computed against a stale definition.
                row = await tx.fetch_one(system.collection_updated(self.db.dialect), (old.id,))
                if row is None or row[0] != old.updated:
                    raise ValidationFailed(
                        {
                            "id": FieldError(
                                "validation_concurrent_change", "The collection was changed meanwhile; retry."
                            )
                        }
                    )
                await migrate.migrate_collection_table(tx, self.db.dialect, old, new, self.all)
                await self._save_row(tx, new, insert=False)
                await self._bump(tx)
        except DatabaseError as exc:
            # E.g. PostgreSQL refusing to drop a column a view reads, or a name the engine's
            # namespace already holds: nothing changed (one transaction). The engine's text is
            # for the log; it is not part of the API.
            log.warning("collection %s not changed: %s", old.name, exc)
            raise ValidationFailed(
                {
                    "fields": FieldError(
                        "validation_schema_change_failed",
                        "The table could not be changed (another database object depends on it or uses the name).",
                    )
                }
            ) from exc
        await self._reload_after()

    async def delete(self, c: Collection) -> None:
        async with self.db.transaction() as tx:
            await migrate.drop_collection_table(tx, c)
            await self.delete_row(tx, c)
            await self._bump(tx)
        await self._reload_after()

    async def run_in_transaction(self, fn: Callable[[Executor], Awaitable[None]]) -> None:
        """Several schema changes as one transaction (collections import)."""
        async with self.db.transaction() as tx:
            await fn(tx)
            await self._bump(tx)
        await self._reload_after()

    async def save_row(self, tx: Executor, c: Collection, insert: bool) -> None:
        await self._save_row(tx, c, insert)

    async def delete_row(self, tx: Executor, c: Collection) -> None:
        await tx.execute(system.delete_collection(self.db.dialect), (c.id,))


# ----- the `_collections` row: PocketBase's columns ------------------------------------------------


def collection_row(c: Collection) -> tuple[Any, ...]:
    """`c` as a row of PocketBase's `_collections` (system.COLLECTION_COLUMNS' order): the five
    rules in columns; `options` holds an auth collection's options (authRule, manageRule and the
    token secrets among them) or a view's query."""
    stored = c.to_storage()
    if c.is_auth:
        options: dict[str, Any] = dict(c.auth)
    elif c.is_view:
        options = {"viewQuery": c.view_query}
    else:
        options = {}
    values = {
        **stored,
        **{name: c.rules.get(name) for name in RULE_NAMES},
        "fields": _json(stored["fields"]),
        "indexes": _json(stored["indexes"]),
        "options": _json(options),
    }
    return tuple(values[name] for name in system.COLLECTION_COLUMNS)


def collection_from_row(row: Sequence[Any]) -> Collection:
    """A `_collections` row, as Hearth or PocketBase wrote it."""
    values = dict(zip(system.COLLECTION_COLUMNS, row, strict=True))
    options = _loaded(values["options"])
    options = options if isinstance(options, dict) else {}
    return Collection.from_storage(
        {
            "id": values["id"],
            "name": values["name"],
            "type": values["type"],
            "system": bool(values["system"]),
            "fields": _loaded(values["fields"]),
            "indexes": _loaded(values["indexes"]),
            "rules": {name: values[name] for name in RULE_NAMES},
            "viewQuery": options.get("viewQuery"),
            "auth": options,
            "created": values["created"],
            "updated": values["updated"],
        }
    )


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _loaded(text: Any) -> Any:
    if text is None or text == "":
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:  # a hand-edited row: never read as "no fields"
        raise ValueError(f"_collections holds a column that is not JSON: {str(text)[:80]!r}") from exc
