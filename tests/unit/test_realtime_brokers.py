"""The realtime broker contract (hearth.realtime.broker.base), over every implementation: the
database broker on SQLite and on PostgreSQL, and the Redis Streams broker. Each case runs two
brokers on one backend, as two processes would."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tests.support.tcp_proxy import TcpProxy

from hearth.db.base import Database
from hearth.db.postgres import PostgresDatabase
from hearth.db.sqlite import SQLiteDatabase
from hearth.realtime.broker.base import Broker, BrokerUnavailable
from hearth.realtime.broker.database import DatabaseBroker
from hearth.realtime.broker.redis import RedisBroker
from hearth.schema.bootstrap import bootstrap
from hearth.schema.repository import CollectionRepository

REDIS_URL = os.environ.get("HEARTH_TEST_REDIS", "redis://127.0.0.1:6379/0")


@dataclass
class Process:
    """One broker and what its handler received."""

    broker: Broker
    got: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    active: bool = True

    async def handle(self, target: str, payload: dict[str, Any]) -> None:
        self.got.append((target, payload))

    def payloads(self, key: str = "n") -> list[Any]:
        return [p.get(key) for _, p in self.got if key in p]


Make = Callable[[], Process]


async def _databases(kind: str, tmp_path: Path, pg_database: str | None) -> list[Database]:
    if kind == "sqlite":
        return [SQLiteDatabase(tmp_path / "data.db"), SQLiteDatabase(tmp_path / "data.db")]
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    conn = await asyncpg.connect(pg_database)
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await conn.close()
    return [await PostgresDatabase.connect(pg_database), await PostgresDatabase.connect(pg_database)]


@pytest.fixture(params=["sqlite", "postgres", "redis"])
async def pair(
    request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None
) -> AsyncIterator[tuple[Process, Process, Database]]:
    kind = request.param
    dbs = await _databases("sqlite" if kind == "redis" else kind, tmp_path, pg_database)
    await bootstrap(dbs[0], CollectionRepository(dbs[0]))
    processes: list[Process] = []
    prefix = f"hearth-test-{secrets.token_hex(4)}:"
    for db in dbs:
        p = Process(broker=None)  # type: ignore[arg-type]
        if kind == "redis":
            p.broker = RedisBroker(REDIS_URL, p.handle, lambda p=p: p.active, prefix=prefix)
        else:
            p.broker = DatabaseBroker(db, p.handle, lambda p=p: p.active)
        processes.append(p)
    if kind == "redis":
        try:
            await processes[0].broker.redis.ping()  # type: ignore[attr-defined]
        except Exception:
            pytest.skip(f"Redis not reachable at {REDIS_URL} (set HEARTH_TEST_REDIS)")
    for p in processes:
        await p.broker.start()
    try:
        yield processes[0], processes[1], dbs[0]
    finally:
        if kind == "redis":
            await processes[0].broker.redis.delete(prefix + "rt")  # type: ignore[attr-defined]
        for p in processes:
            await p.broker.stop()
        for db in dbs:
            await db.close()


async def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "not delivered in time"
        await asyncio.sleep(0.01)


async def test_every_process_gets_every_event_in_publish_order(pair: tuple[Process, Process, Database]) -> None:
    a, b, _ = pair
    for n in range(30):
        await a.broker.publish("", {"n": n})
    for p in (a, b):
        await eventually(lambda p=p: len(p.payloads()) >= 30)  # type: ignore[misc]
        assert p.payloads() == list(range(30))


async def test_the_target_comes_with_the_event(pair: tuple[Process, Process, Database]) -> None:
    a, b, _ = pair
    await b.broker.publish("process:abc", {"n": 1, "k": "request"})
    await eventually(lambda: bool(a.got))
    assert a.got == [("process:abc", {"n": 1, "k": "request"})]


@pytest.mark.parametrize("kind", ["transaction", "one_statement"])
async def test_an_event_of_a_transaction_exists_only_if_it_commits(
    pair: tuple[Process, Process, Database], kind: str
) -> None:
    """`one_statement`: a write sent without BEGIN/COMMIT on PostgreSQL whose event must be
    published after all (a client connected meanwhile): the event follows its commit."""
    a, b, db = pair
    with pytest.raises(RuntimeError):
        async with getattr(db, kind)() as tx:
            await a.broker.publish("", {"n": "rolled back"}, tx)
            raise RuntimeError("the write failed")
    async with getattr(db, kind)() as tx:
        await a.broker.publish("", {"n": "committed"}, tx)
    await a.broker.publish("", {"n": "after"})
    await eventually(lambda: len(b.payloads()) >= 2)
    await asyncio.sleep(0.2)
    assert b.payloads() == ["committed", "after"]


async def test_a_process_that_catches_up_gets_only_what_follows(pair: tuple[Process, Process, Database]) -> None:
    a, b, _ = pair
    b.active = False  # no clients: events are not for it
    await a.broker.publish("", {"n": "before"})
    await eventually(lambda: a.payloads() == ["before"])
    await b.broker.catch_up()
    b.active = True
    b.broker.wake()
    await a.broker.publish("", {"n": "after"})
    await eventually(lambda: bool(b.payloads()))
    await asyncio.sleep(0.2)
    assert b.payloads() == ["after"]


async def test_a_burst_of_publishes_all_arrive(pair: tuple[Process, Process, Database]) -> None:
    """Concurrent publishers (requests answered at the same moment) lose nothing."""
    a, b, _ = pair
    await asyncio.gather(*(a.broker.publish("", {"n": n}) for n in range(200)))
    await eventually(lambda: len(b.payloads()) >= 200)
    assert sorted(b.payloads()) == list(range(200))


async def test_redis_going_away_refuses_publishes_then_heals(tmp_path: Path) -> None:
    host, _, port = REDIS_URL.split("//")[1].split("/")[0].partition(":")
    proxy = TcpProxy(host, int(port or 6379)).start()
    prefix = f"hearth-test-{secrets.token_hex(4)}:"
    got: list[Any] = []

    async def handle(target: str, payload: dict[str, Any]) -> None:
        got.append(payload["n"])

    url = f"redis://{host}:{proxy.port}/0"
    broker = RedisBroker(url, handle, lambda: True, prefix=prefix, timeout=0.5)
    try:
        try:
            await broker.redis.ping()
        except Exception:
            pytest.skip(f"Redis not reachable at {REDIS_URL} (set HEARTH_TEST_REDIS)")
        await broker.start()
        await broker.publish("", {"n": 1})
        await eventually(lambda: got == [1])
        proxy.cut()
        with pytest.raises(BrokerUnavailable):
            await broker.publish("", {"n": "lost"})
        await asyncio.sleep(1.0)  # the reader fails meanwhile, quietly
        proxy.restore()
        end = time.monotonic() + 10
        while True:  # the first publishes may still meet a dead pooled connection
            try:
                await broker.publish("", {"n": 2})
                break
            except BrokerUnavailable:
                assert time.monotonic() < end, "Redis did not come back"
                await asyncio.sleep(0.1)
        await eventually(lambda: 2 in got, 10)
        assert got[0] == 1 and "lost" not in got
    finally:
        await broker.stop()
        proxy.stop()


async def test_an_event_numbered_first_but_committed_last_is_not_skipped(
    pair: tuple[Process, Process, Database],
) -> None:
    """Two writes publish at once; the first to publish is the last to commit. Readers must
    still get both (on PostgreSQL an event table read "after the last seen number" would skip
    the slow one unless publishers take turns until commit)."""
    a, b, db = pair
    slow_published = asyncio.Event()

    async def slow() -> None:
        async with db.transaction() as tx:
            await a.broker.publish("", {"n": "slow"}, tx)
            slow_published.set()
            await asyncio.sleep(0.3)

    async def quick() -> None:
        await slow_published.wait()
        async with db.transaction() as tx:
            await a.broker.publish("", {"n": "quick"}, tx)

    await asyncio.gather(slow(), quick())
    await eventually(lambda: len(b.payloads()) >= 2, 5)
    assert sorted(b.payloads()) == ["quick", "slow"]


async def test_publishing_never_skips_what_other_processes_published(pair: tuple[Process, Process, Database]) -> None:
    """A process that publishes still receives every event the others published around the same
    time (and its own): its publishing must not move its reading position."""
    a, b, _ = pair
    for n in range(40):
        await asyncio.gather(b.broker.publish("", {"n": f"b{n}"}), a.broker.publish("", {"n": f"a{n}"}))
    expected = sorted([f"a{n}" for n in range(40)] + [f"b{n}" for n in range(40)])
    for p in (a, b):
        await eventually(lambda p=p: len(p.payloads()) >= 80)  # type: ignore[misc]
        assert sorted(p.payloads()) == expected
