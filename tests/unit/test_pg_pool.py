"""Pooled PostgreSQL connections are handed back without asyncpg's reset query (a round trip per
request): what that reset would have cleaned must already be clean."""

from __future__ import annotations

import pytest

from hearth.db.postgres import PostgresDatabase


@pytest.fixture
async def db(pg_database: str | None) -> PostgresDatabase:
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    # One connection: whatever a caller leaves on it, the next caller gets.
    return await PostgresDatabase.connect(pg_database, min_size=1, max_size=1)


async def test_a_closed_listener_leaves_its_connection_listening_to_nothing(db: PostgresDatabase) -> None:
    try:
        pid = (await db.fetch_one("SELECT pg_backend_pid()"))[0]  # type: ignore[index]
        listener = await db.listen("hearth_pool_test", lambda: None)
        await listener.close()
        row = await db.fetch_one("SELECT pg_backend_pid(), count(*) FROM pg_listening_channels()")
        assert row is not None and row[0] == pid and row[1] == 0  # the same connection, listening to nothing
    finally:
        await db.close()


async def test_a_failed_transaction_is_rolled_back_before_the_connection_is_reused(db: PostgresDatabase) -> None:
    try:
        await db.execute("CREATE TEMP TABLE IF NOT EXISTS pool_probe (n int)")
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO pool_probe VALUES (1)")
                raise RuntimeError("a handler failed")
        row = await db.fetch_one("SELECT count(*) FROM pool_probe")
        # Inside the failed transaction, still open, the row would be counted.
        assert row is not None and row[0] == 0
    finally:
        await db.close()
