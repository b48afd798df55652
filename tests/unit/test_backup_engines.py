"""The contract of the backup engines (hearth.backups.engine), over SQLite and PostgreSQL.

- A dump taken while another task writes without pause is the database at one point in time:
  restored on a fresh data directory / a fresh PostgreSQL database, every record it holds is
  complete, the two records of each batch are there together or not at all, and the sequence
  numbers are a prefix (no gap: nothing later without everything earlier).
- The lock excludes a second holder (another process or instance) and says so while held.
- An archive without the engine's database is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import OPEN, Api, start_api
from tests.support.own_database import OwnDatabases, own_databases

from hearth.backups.engine import BackupEngine, BackupRefused
from hearth.config import Config


def payload(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


class Env:
    def __init__(self, dialect: str, api: Api, tmp: Path) -> None:
        self.dialect = dialect
        self.api = api
        self.tmp = tmp
        self.dbs: OwnDatabases | None = None

    @property
    def engine(self) -> BackupEngine:
        engine: BackupEngine = self.api.app.state.hearth.backups.engine
        return engine


@pytest.fixture(params=["sqlite", "postgres"])
async def env(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Env]:
    if request.param == "sqlite":
        async for api in start_api(Config(data_dir=tmp_path / "data"), "sqlite"):
            yield Env("sqlite", api, tmp_path)
        return
    async with own_databases() as dbs:
        url = await dbs.new()
        async for api in start_api(Config(data_dir=tmp_path / "data", db_url=url), "postgres"):
            env = Env("postgres", api, tmp_path)
            env.dbs = dbs
            yield env


async def test_a_dump_under_write_load_restores_to_one_point_in_time(env: Env) -> None:
    api = env.api
    await api.create_collection({"name": "ledger", **OPEN, "fields": [
        {"name": "n", "type": "number"}, {"name": "half", "type": "text"}, {"name": "payload", "type": "text"}]})  # fmt: skip
    r = await api.client.patch("/api/settings", json={"batch": {"enabled": True, "maxRequests": 10}}, headers=api.su())
    assert r.status_code == 200
    stop = asyncio.Event()
    written = 0

    async def writer() -> None:
        nonlocal written
        while not stop.is_set():
            n = written
            body = {"requests": [
                {"method": "POST", "url": "/api/collections/ledger/records", "body": {"n": n, "half": half, "payload": payload(n)}}
                for half in ("a", "b")]}  # fmt: skip
            r = await api.client.post("/api/batch", json=body, headers=api.su())
            assert r.status_code == 200, r.text
            written += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.3)
    dump_dir = env.tmp / "dump"
    dump_dir.mkdir()
    at_start = written
    names = await env.engine.dump(dump_dir)
    at_end = written
    await asyncio.sleep(0.1)
    stop.set()
    await task
    assert at_end > at_start, "the writes went on while the dump ran"

    # Restored on a fresh data directory / a fresh database.
    if env.dialect == "sqlite":
        fresh = Config(data_dir=env.tmp / "fresh")
        fresh.data_dir.mkdir()
        for name in names:
            shutil.copy(dump_dir / name, fresh.data_dir / name)
    else:
        assert env.dbs is not None
        url = await env.dbs.new()
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={url}", str(dump_dir / names[0])], check=True)
        fresh = Config(data_dir=env.tmp / "fresh", db_url=url)
    async for restored in start_api(fresh, env.dialect):
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            r = await restored.client.get("/api/collections/ledger/records",
                                          params={"perPage": 500, "page": page, "sort": "n,half"}, headers=restored.su())  # fmt: skip
            assert r.status_code == 200, r.text
            items += r.json()["items"]
            if page >= r.json()["totalPages"]:
                break
            page += 1
        count = len(items) // 2
        assert at_start <= count <= at_end + 1, (at_start, count, at_end)
        # A prefix of the batches, each whole, each record complete.
        assert [(i["n"], i["half"]) for i in items] == [(n, h) for n in range(count) for h in ("a", "b")]
        assert all(i["payload"] == payload(int(i["n"])) for i in items)
        # And the restored server serves writes.
        r = await restored.client.post("/api/collections/ledger/records", json={"n": -1}, headers=restored.su())
        assert r.status_code == 200, r.text


async def test_the_lock_excludes_another_holder_and_archives_are_checked(env: Env) -> None:
    hearth = env.api.app.state.hearth
    from hearth.app import backup_engine

    other = backup_engine(hearth.config, hearth.db)  # as another process or instance holds it
    assert await env.engine.locked() is False
    assert await env.engine.try_lock() is True
    try:
        assert await other.locked() is True
        assert await other.try_lock() is False
    finally:
        await env.engine.unlock()
    assert await other.locked() is False
    assert await other.try_lock() is True
    await other.unlock()

    with pytest.raises(BackupRefused):
        env.engine.check(["storage/a/b/c.txt"])
    other = "hearth_postgres.dump" if env.dialect == "sqlite" else "data.db"
    with pytest.raises(BackupRefused):
        env.engine.check([other])
    env.engine.check(["data.db" if env.dialect == "sqlite" else "hearth_postgres.dump"])
