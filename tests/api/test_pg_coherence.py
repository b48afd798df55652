"""Two Hearth instances on one PostgreSQL database learn of each other's schema changes without
reading the counters on every request: a trigger NOTIFYs, each instance LISTENs. When the
listening connection is lost, every request reads the counters again (never stale), and the
instance listens again once it can."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from hearth.config import Config
from tests.conftest import OPEN, Api, start_api, unique


@pytest.fixture
async def two(pg_database: str | None, tmp_path: Path) -> AsyncIterator[tuple[Api, Api]]:
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    conn = await asyncpg.connect(pg_database)
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await conn.close()
    async for a in start_api(Config(data_dir=tmp_path / "a", db_url=pg_database), "postgres"):
        async for b in start_api(Config(data_dir=tmp_path / "b", db_url=pg_database), "postgres"):
            yield a, b


async def _until(check: object, seconds: float) -> float:
    start = time.monotonic()
    while True:
        if await check():  # type: ignore[operator]
            return time.monotonic() - start
        assert time.monotonic() - start < seconds, "not seen in time"
        await asyncio.sleep(0.01)


async def test_a_rule_changed_through_one_instance_is_enforced_by_the_other(
    two: tuple[Api, Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hearth.db import postgres

    monkeypatch.setattr(postgres, "STATE_MAX_STALE", 60.0)  # only the NOTIFY can tell b in time
    a, b = two
    a.token = b.token  # b's start upserted the superuser again: a's token is a stale one
    name = unique("coh")
    await a.create_collection({"name": name, "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]})
    r = await a.client.post(f"/api/collections/{name}/records", json={"t": "x"})
    assert r.status_code == 200

    async def b_lists_one() -> bool:
        r = await b.client.get(f"/api/collections/{name}/records")
        return r.status_code == 200 and r.json()["totalItems"] == 1

    await _until(b_lists_one, 5)
    db_b = b.app.state.hearth.db
    assert db_b.generation() is not None  # listening: no counter read per request
    # Every LISTEN of the process (realtime events, state changes…) shares one pool connection.
    assert len(db_b._listeners) >= 2 and len({id(x._conn) for x in db_b._listeners}) == 1
    # Superusers only, through a: b refuses guests as soon as the NOTIFY arrives.
    r = await a.client.patch(f"/api/collections/{name}", json={"listRule": None}, headers=a.su())
    assert r.status_code == 200

    async def b_refuses() -> bool:
        return (await b.client.get(f"/api/collections/{name}/records")).status_code == 403

    took = await _until(b_refuses, 2)
    assert took < 1.0

    # The listening connection is cut: b reads the counters on every request meanwhile, so a
    # change through a is enforced by b's very next request; then b listens again.
    admin = await asyncpg.connect(db_b.pool._connect_args[0])
    try:
        listener = db_b._state.listener
        pid = listener._conn.get_server_pid()
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        for _ in range(100):
            if not listener.alive():
                break
            await asyncio.sleep(0.02)
        assert db_b.generation() is None
        r = await a.client.patch(f"/api/collections/{name}", json={"listRule": ""}, headers=a.su())
        assert r.status_code == 200
        assert await b_lists_one()  # no wait: read on the request itself
    finally:
        await admin.close()

    async def listening_again() -> bool:
        return db_b.generation() is not None

    await _until(listening_again, 10)
    r = await a.client.patch(f"/api/collections/{name}", json={"listRule": None}, headers=a.su())
    assert r.status_code == 200
    await _until(b_refuses, 2)
