"""A restore through the API under real `hearth serve` processes: SQLite with two workers and a
second instance on the same data directory; PostgreSQL with two instances on a database of the
test's own (sharing the data directory, as instances on one machine may). While it runs, readers
on every process get all old or all restored answers (the request gate spans the processes of
one data directory). After the restore every process serves the restored data (its caches reloaded: a
collection created after the backup is gone everywhere, the records are the backup's), the
realtime streams of every process ended (their SDKs reconnect), and `canBackup` is true again
everywhere.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import OPEN
from tests.e2e.conftest import ADMIN, hearth_cli, running_server, superuser_token
from tests.support.own_database import own_databases


@pytest.fixture
async def own_pg() -> AsyncIterator[str]:
    async with own_databases() as dbs:
        yield await dbs.new()


async def _stream_until_closed(url: str, connected: asyncio.Event) -> None:
    async with httpx.AsyncClient(timeout=None) as client, client.stream("GET", url + "/api/realtime") as r:
        async for line in r.aiter_lines():
            if line.startswith("data:"):
                connected.set()


async def _exercise(a: str, b: str) -> None:
    su = {"Authorization": superuser_token(a)}
    # No keep-alive: each request may reach any worker.
    async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0), timeout=30) as http:
        notes = "notes_" + secrets.token_hex(3)
        r = await http.post(a + "/api/collections", json={"name": notes, **OPEN, "fields": [{"name": "n", "type": "number"}]},
                            headers=su)  # fmt: skip
        assert r.status_code == 200, r.text
        for i in range(10):
            assert (await http.post(f"{a}/api/collections/{notes}/records", json={"n": i})).status_code == 200
        assert (await http.post(a + "/api/backups", json={"name": "e2e.zip"}, headers=su)).status_code == 204
        for i in range(10, 15):
            assert (await http.post(f"{b}/api/collections/{notes}/records", json={"n": i})).status_code == 200
        later = "later_" + secrets.token_hex(3)
        assert (await http.post(b + "/api/collections", json={"name": later, **OPEN}, headers=su)).status_code == 200
        for url in (a, b, a, b):  # every process has loaded the later schema
            assert (await http.get(f"{url}/api/collections/{later}/records")).status_code == 200

        events = [asyncio.Event(), asyncio.Event()]
        streams = [asyncio.create_task(_stream_until_closed(url, e)) for url, e in zip((a, b), events, strict=True)]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 10)

        # Readers on every process while it runs: each answer all old or all restored.
        seen: set[tuple[int, int]] = set()
        done = asyncio.Event()

        async def reader(url: str) -> None:
            while not done.is_set():
                r = await http.get(f"{url}/api/collections/{notes}/records", params={"sort": "n"})
                assert r.status_code == 200, r.text
                seen.add((r.json()["totalItems"], len(r.json()["items"])))

        readers = [asyncio.create_task(reader(url)) for url in (a, b, a, b)]
        await asyncio.sleep(0.1)
        assert (await http.post(a + "/api/backups/e2e.zip/restore", headers=su)).status_code == 204
        deadline = asyncio.get_running_loop().time() + 30
        while not (await http.get(b + "/api/health", headers=su)).json()["data"]["canBackup"]:
            assert asyncio.get_running_loop().time() < deadline, "the restore did not end"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)
        done.set()
        await asyncio.gather(*readers)
        assert seen == {(15, 15), (10, 10)}, seen
        # Any process, any worker: the restored data.
        for url in (a, b) * 4:
            assert (await http.get(f"{url}/api/collections/{later}/records")).status_code == 404
            r = await http.get(f"{url}/api/collections/{notes}/records", params={"sort": "n"})
            assert r.status_code == 200 and [i["n"] for i in r.json()["items"]] == list(range(10)), r.text
        await asyncio.wait_for(asyncio.gather(*streams), 10)  # every stream ended
        for url in (a, b):
            assert (await http.get(url + "/api/health", headers=su)).json()["data"]["canBackup"] is True
            assert (await http.post(f"{url}/api/collections/{notes}/records", json={"n": 99})).status_code == 200


async def test_restore_under_sqlite_workers_and_instances(tmp_path: Path) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path, workers=2) as a, running_server(tmp_path) as b:
        await _exercise(a, b)


async def test_restore_under_postgres_instances(tmp_path: Path, own_pg: str) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--db", own_pg, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path, db_url=own_pg) as a, running_server(tmp_path, db_url=own_pg) as b:
        await _exercise(a, b)
