"""Connections kept between uses (hearth/db/lending.py): the lender's bookkeeping with stand-in
connections, then PostgresDatabase on the real server, where a mistake would starve callers,
hand a busy connection to a second caller or hang shutdown."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from hearth.db.lending import Lender
from hearth.db.postgres import PostgresDatabase
from hearth.errors import DatabaseUnavailable


class Conn:
    def __init__(self, n: int) -> None:
        self.n = n
        self.closed = False


class Pool:
    """Stand-in pool: counts what it lent and what came back."""

    def __init__(self) -> None:
        self.made = 0
        self.back: list[Conn] = []

    async def take(self) -> Conn:
        self.made += 1
        return Conn(self.made)

    async def give_back(self, conn: Conn) -> None:
        self.back.append(conn)


def lender(pool: Pool, capacity: int = 2) -> Lender[Conn]:
    return Lender(pool.take, pool.give_back, lambda c: c.closed, capacity)


async def test_a_clean_connection_is_used_again_without_the_pool() -> None:
    pool = Pool()
    lend = lender(pool)
    a = await lend.acquire(1)
    lend.reuse(a)
    assert await lend.acquire(1) is a
    assert pool.made == 1 and lend.held == 1


async def test_a_caller_beyond_capacity_waits_and_is_handed_the_next_clean_connection() -> None:
    pool = Pool()
    lend = lender(pool, capacity=2)
    a, b = await lend.acquire(1), await lend.acquire(1)
    third = asyncio.ensure_future(lend.acquire(5))
    fourth = asyncio.ensure_future(lend.acquire(5))
    await asyncio.sleep(0)
    assert not third.done() and not fourth.done()
    lend.reuse(b)  # handed to the first waiter, in order
    assert await third is b
    await lend.discard(a)  # a slot freed: the next waiter takes a new one from the pool
    c = await fourth
    assert c not in (a, b) and pool.back == [a] and pool.made == 3 and lend.held == 2


async def test_a_wait_that_times_out_raises_and_leaves_the_count_right() -> None:
    pool = Pool()
    lend = lender(pool, capacity=1)
    a = await lend.acquire(1)
    with pytest.raises(TimeoutError):
        await lend.acquire(0.05)
    lend.reuse(a)  # no stale waiter is handed it
    assert lend.idle == 1 and await lend.acquire(1) is a


async def test_a_waiter_cancelled_as_it_is_handed_a_connection_passes_it_on() -> None:
    pool = Pool()
    lend = lender(pool, capacity=1)
    a = await lend.acquire(1)
    waiter = asyncio.ensure_future(lend.acquire(5))
    await asyncio.sleep(0)
    lend.reuse(a)  # the waiter's future now holds `a` ...
    waiter.cancel()  # ... and it is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert lend.idle == 1 and lend.held == 1 and await lend.acquire(1) is a


async def test_a_connection_closed_while_parked_goes_back_to_the_pool() -> None:
    pool = Pool()
    lend = lender(pool)
    a = await lend.acquire(1)
    lend.reuse(a)
    a.closed = True
    b = await lend.acquire(1)
    assert b is not a and pool.back == [a] and lend.held == 1


async def test_close_gives_every_parked_connection_back() -> None:
    pool = Pool()
    lend = lender(pool)
    a, b = await lend.acquire(1), await lend.acquire(1)
    lend.reuse(a)
    lend.reuse(b)
    await lend.close()
    assert pool.back == [a, b] and lend.held == 0


# ----- on the real server -------------------------------------------------------------------


@pytest.fixture
async def db(pg_database: str | None) -> PostgresDatabase:
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    pool = await asyncpg.create_pool(pg_database, min_size=1, max_size=2)
    return PostgresDatabase(pool, wait_timeout=3, query_timeout=10)


async def test_many_callers_share_a_small_pool_without_waiting_for_the_timeout(db: PostgresDatabase) -> None:
    try:
        start = time.monotonic()
        rows = await asyncio.gather(*[db.fetch_one("SELECT $1::int", (i,)) for i in range(200)])
        assert [r[0] for r in rows if r is not None] == list(range(200))
        async with db.transaction() as tx:  # a transaction among single statements
            await tx.execute("SELECT 1")
        assert time.monotonic() - start < 2.5  # a starved caller would wait wait_timeout (3 s)
        assert db.usage()[1] == 0  # nothing counted busy afterwards
    finally:
        await db.close()


async def test_a_statement_cancelled_midway_does_not_leave_its_connection_to_the_next(db: PostgresDatabase) -> None:
    try:
        slow = asyncio.ensure_future(db.fetch_one("SELECT pg_sleep(5)"))
        await asyncio.sleep(0.3)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        # Both connections are usable at once: the cancelled one was reset by the pool, not
        # handed on while its statement was still being cancelled.
        rows = await asyncio.gather(db.fetch_one("SELECT 1"), db.fetch_one("SELECT 2"))
        assert [r[0] for r in rows if r is not None] == [1, 2]
    finally:
        await db.close()


async def test_a_parked_connection_the_server_ended_is_replaced(db: PostgresDatabase, pg_database: str) -> None:
    try:
        row = await db.fetch_one("SELECT pg_backend_pid()")
        assert row is not None
        admin = await asyncpg.connect(pg_database)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", row[0])
        finally:
            await admin.close()
        await asyncio.sleep(0.3)  # the client sees the socket close
        again = await db.fetch_one("SELECT pg_backend_pid()")
        assert again is not None and again[0] != row[0]
    finally:
        await db.close()


async def test_close_returns_promptly_with_parked_connections(db: PostgresDatabase) -> None:
    await asyncio.gather(*[db.fetch_one("SELECT 1") for _ in range(10)])
    start = time.monotonic()
    await db.close()
    assert time.monotonic() - start < 2
    with pytest.raises((DatabaseUnavailable, asyncpg.InterfaceError)):
        await db.fetch_one("SELECT 1")


async def test_every_connection_busy_for_the_wait_timeout_is_a_clean_unavailable(pg_database: str | None) -> None:
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    pool = await asyncpg.create_pool(pg_database, min_size=1, max_size=1)
    db = PostgresDatabase(pool, wait_timeout=0.3, query_timeout=10)
    try:
        slow = asyncio.ensure_future(db.fetch_one("SELECT pg_sleep(1)"))
        await asyncio.sleep(0.1)
        with pytest.raises(DatabaseUnavailable):
            await db.fetch_one("SELECT 1")
        await slow
        assert (await db.fetch_one("SELECT 1")) is not None
    finally:
        await db.close()
