"""First start: create Hearth's tables and built-in collections, once, even with many workers."""

from __future__ import annotations

import logging

import orjson

from hearth.db.base import Database, Executor
from hearth.schema import migrate
from hearth.schema.builtin import builtin_collections
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository, collection_row
from hearth.sql import audit, jobs, system, webhooks
from hearth.sql.dialect import Dialect

log = logging.getLogger("hearth")


async def bootstrap(db: Database, collections: CollectionRepository) -> None:
    d = db.dialect
    async with db.transaction() as tx:
        lock = d.bootstrap_lock()
        if lock:
            await tx.execute(lock)
        for stmt in [*system.bootstrap_statements(d), *jobs.bootstrap_statements(d), *webhooks.bootstrap_statements(d),
                     *audit.bootstrap_statements(d)]:
            await tx.execute(stmt)
        await tx.execute(system.init_state(d))
        if "data" in {str(r[0]) for r in await tx.fetch_all(system.collections_columns(d))}:
            await _rewrite_legacy_collections(tx, d)
        row = await tx.fetch_one(system.select_collections(d) + " LIMIT 1")
        if row is None:
            for c in builtin_collections():
                await migrate.create_collection_table(tx, d, c)
                await collections.save_row(tx, c, insert=True)
            await tx.execute(system.bump_version(d))
        elif (unwatched := system.auth_tables_unwatched(d)) is not None:
            # A database made before auth records were cached: their tables get the triggers.
            for table, cid in await tx.fetch_all(unwatched):
                await migrate.watch_auth_table(tx, d, str(table), str(cid))
    db.bump_generation()
    await collections.refresh()


async def _rewrite_legacy_collections(tx: Executor, d: Dialect) -> None:
    """A data directory of an earlier Hearth kept each collection as one JSON `data` column; its
    rows move into PocketBase's layout, in the bootstrap's transaction (all or nothing)."""
    rows = await tx.fetch_all(system.select_legacy_collections(d))
    await tx.execute(system.collections_table(d, system.LEGACY_NEW_TABLE))
    insert = system.insert_collection(d, system.LEGACY_NEW_TABLE)
    for (data,) in rows:
        await tx.execute(insert, collection_row(Collection.from_storage(orjson.loads(data))))
    for stmt in system.replace_legacy_collections(d):
        await tx.execute(stmt)
    log.info("_collections: %d collection(s) rewritten into PocketBase's layout", len(rows))
