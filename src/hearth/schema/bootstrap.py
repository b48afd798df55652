"""First start: create Hearth's tables and built-in collections, once, even with many workers."""

from __future__ import annotations

from hearth.db.base import Database
from hearth.schema import migrate
from hearth.schema.builtin import builtin_collections
from hearth.schema.repository import CollectionRepository
from hearth.sql import audit, jobs, system, webhooks


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
