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


async def test_a_one_statement_write_commits_alone_and_allows_no_second_write(db: PostgresDatabase) -> None:
    """db.one_statement(): no BEGIN/COMMIT around the write; its callbacks follow its outcome."""
    from hearth.db.base import UniqueViolation

    try:
        await db.execute("CREATE TEMP TABLE IF NOT EXISTS one_probe (n int PRIMARY KEY)")
        seen: list[str] = []

        async def committed() -> None:
            # The row is there for anyone once the callback runs (the pool's one connection).
            row = await db.fetch_one("SELECT count(*) FROM one_probe")
            seen.append(f"committed {row[0] if row else None}")

        async def rolled_back() -> None:
            seen.append("rolled back")

        async with db.one_statement() as tx:
            tx.after_commit(committed)
            tx.after_rollback(rolled_back)
            assert tx.autocommit and not tx._conn.is_in_transaction()  # type: ignore[attr-defined]
            assert await tx.execute("INSERT INTO one_probe VALUES (1)") == 1
            with pytest.raises(RuntimeError, match="not be atomic"):
                await tx.execute("INSERT INTO one_probe VALUES (2)")  # refused before it is sent
        assert seen == ["committed 1"]

        seen.clear()
        with pytest.raises(UniqueViolation):
            async with db.one_statement() as tx:
                tx.after_commit(committed)
                tx.after_rollback(rolled_back)
                await tx.execute("INSERT INTO one_probe VALUES (1)")
        assert seen == ["rolled back"]
        assert [tuple(r) for r in await db.fetch_all("SELECT n FROM one_probe")] == [(1,)]
    finally:
        await db.close()
