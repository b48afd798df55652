"""Database and Redis outages, black-box through the ASGI app (issue 9, item 4).

PostgreSQL and Redis are reached through a TCP proxy the test controls (tests/support/tcp_proxy.py):
the shared servers are never stopped. Checked: every route answers PocketBase's envelope with 503
and Retry-After during the outage, the log stays small (no tracebacks), the next request after
the server is back succeeds without a restart, a hung server is a 503 within the time limits, a
transaction cut by a lost connection leaves nothing behind, SQLite's write lock held by another
process is a 503 that does not stall reads, and a Redis outage never turns requests into 5xx.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest

from hearth.config import Config
from hearth.ratelimit.counters import RedisCounters
from tests.conftest import OPEN, PG_ADMIN_URL, Api, start_api, unique
from tests.support.realtime import next_chunk
from tests.support.tcp_proxy import TcpProxy

UNAVAILABLE = {"status": 503, "message": "The database is unavailable. Try again later.", "data": {}}
REDIS_URL = os.environ.get("HEARTH_TEST_REDIS", "redis://127.0.0.1:6379/0")
WAIT = 1.0  # HEARTH_DB_TIMEOUT in these tests
QUERY = 2.0  # HEARTH_DB_QUERY_TIMEOUT


def report(line: str) -> None:
    """Measurements, printed for `pytest -s` (and kept in the report of the outage work)."""
    print(f"\n[outage] {line}")


class LogCount(logging.Handler):
    """Every record at WARNING or above, from any logger, while installed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def tracebacks(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.exc_info]

    def lines(self) -> list[str]:
        return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records]


@pytest.fixture
def logs() -> Iterator[LogCount]:
    handler = LogCount()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_DB_TIMEOUT", str(WAIT))
    monkeypatch.setenv("HEARTH_DB_QUERY_TIMEOUT", str(QUERY))


def _pg_addr() -> tuple[str, int]:
    u = urlsplit(PG_ADMIN_URL)
    return u.hostname or "127.0.0.1", u.port or 5432


@pytest.fixture
async def pg_db(pg_database: str | None) -> AsyncIterator[str]:
    """A database of its own (name only), dropped afterwards."""
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    admin = await asyncpg.connect(PG_ADMIN_URL)
    name = f"hearth_outage_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    with TcpProxy(*_pg_addr()) as proxy:
        yield proxy


def proxied_url(proxy: TcpProxy, dbname: str) -> str:
    u = urlsplit(PG_ADMIN_URL)
    user = f"{u.username}@" if u.username else ""
    return f"postgresql://{user}127.0.0.1:{proxy.port}/{dbname}"


@pytest.fixture
async def pg_api(
    pg_db: str, pg_proxy: TcpProxy, tmp_path: Path, short_timeouts: None
) -> AsyncIterator[Api]:
    # No job worker: the log tests count exactly the failed calls the requests make (the worker's
    # own outage is test_the_job_worker_heals_after_an_outage).
    config = Config(data_dir=tmp_path, db_url=proxied_url(pg_proxy, pg_db), jobs=0)
    async for api in start_api(config, "postgres"):
        yield api


@pytest.fixture
async def pg_api_with_jobs(pg_db: str, pg_proxy: TcpProxy, tmp_path: Path, short_timeouts: None) -> AsyncIterator[Api]:
    config = Config(data_dir=tmp_path, db_url=proxied_url(pg_proxy, pg_db))
    async for api in start_api(config, "postgres"):
        yield api


@pytest.fixture
async def sqlite_api(tmp_path: Path, short_timeouts: None) -> AsyncIterator[Api]:
    async for api in start_api(Config(data_dir=tmp_path), "sqlite"):
        yield api


async def notes(api: Api) -> str:
    name = unique("notes")
    await api.create_collection(
        {"name": name, "type": "base", **OPEN, "fields": [{"name": "title", "type": "text"}]}
    )
    return name


async def titles(api: Api, name: str) -> list[str]:
    r = await api.client.get(f"/api/collections/{name}/records", params={"perPage": 500})
    assert r.status_code == 200, r.text
    return sorted(x["title"] for x in r.json()["items"])


def assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, (r.request.method, r.request.url, r.status_code, r.text)
    assert r.json() == UNAVAILABLE
    assert r.headers["retry-after"] == "5"


async def every_route(api: Api, name: str, rid: str, stream: bool = True) -> list[httpx.Response]:
    """One request per area of the API, as the SDK would send them (`stream`: the realtime
    connection too, which the ASGI test client can only take when it is refused)."""
    c, su = api.client, api.su()
    users = "/api/collections/users"
    sse = [await c.get("/api/realtime")] if stream else []
    return sse + [
        await c.get("/api/health"),
        await c.get("/api/collections", headers=su),
        await c.post("/api/collections", json={"name": unique("x"), "type": "base"}, headers=su),
        await c.get("/api/collections/meta/scaffolds", headers=su),
        await c.get(f"/api/collections/{name}/records"),
        await c.get(f"/api/collections/{name}/records/{rid}"),
        await c.post(f"/api/collections/{name}/records", json={"title": "during"}),
        await c.patch(f"/api/collections/{name}/records/{rid}", json={"title": "during"}),
        await c.delete(f"/api/collections/{name}/records/{rid}"),
        await c.post(f"{users}/auth-with-password", json={"identity": "a@b.co", "password": "x" * 10}),
        await c.post("/api/collections/_superusers/auth-refresh", headers=su),
        await c.post(f"{users}/request-otp", json={"email": "a@b.co"}),
        await c.get(f"{users}/auth-methods"),
        await c.get("/api/settings", headers=su),
        await c.patch("/api/settings", json={"meta": {"appName": "X"}}, headers=su),
        await c.post(
            "/api/batch",
            json={"requests": [{"method": "POST", "url": f"/api/collections/{name}/records", "body": {}}]},
            headers=su,
        ),
        await c.post("/api/realtime", json={"clientId": "x" * 40, "subscriptions": [name]}),
        await c.post("/api/files/token", headers=su),
        await c.get("/api/hearth/api-keys", headers=su),
    ]


async def until_ok(api: Api, name: str, limit: float = 10.0) -> tuple[float, int]:
    """Seconds until a list answers 200 again, and how many requests were refused meanwhile."""
    start = time.monotonic()
    refused = 0
    while True:
        r = await api.client.get(f"/api/collections/{name}/records")
        if r.status_code == 200:
            return time.monotonic() - start, refused
        assert_unavailable(r)
        refused += 1
        assert time.monotonic() - start < limit, "did not heal"
        await asyncio.sleep(0.02)


# ----- PostgreSQL ---------------------------------------------------------------------------------


async def test_postgres_outage_is_a_quiet_503_everywhere_and_heals(
    pg_api: Api, pg_proxy: TcpProxy, logs: LogCount
) -> None:
    api = pg_api
    name = await notes(api)
    r = await api.client.post(f"/api/collections/{name}/records", json={"title": "before"})
    assert r.status_code == 200
    rid = r.json()["id"]
    await api.client.patch("/api/settings", json={"batch": {"enabled": True}}, headers=api.su())

    pg_proxy.cut()
    for r in await every_route(api, name, rid):
        assert_unavailable(r)
    logs.records.clear()
    start = time.monotonic()
    for i in range(200):
        path = f"/api/collections/{name}/records" + ("" if i % 2 else f"/{rid}")
        assert_unavailable(await api.client.get(path))
    elapsed = time.monotonic() - start
    warnings = [r for r in logs.records if r.levelno >= logging.WARNING]
    report(f"postgres refused: 200 requests in {elapsed:.2f} s, {len(warnings)} log lines: {logs.lines()}")
    assert len(warnings) <= 2 and not logs.tracebacks

    pg_proxy.restore()
    healed, refused = await until_ok(api, name)
    report(f"postgres back: first 200 after {healed * 1000:.0f} ms ({refused} refused after restore)")
    assert refused == 0  # lost connections were noticed, not handed out
    for r in await every_route(api, name, rid, stream=False):
        assert r.status_code < 500, (r.request.url, r.text)
    assert not logs.tracebacks
    # After the outage: the POST created "during", the batch "", the PATCH and DELETE hit `rid`.
    assert await titles(api, name) == ["", "during"]


async def test_postgres_outage_logs_once_per_interval_and_when_back(
    pg_api: Api, pg_proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    api = pg_api
    name = await notes(api)
    db = api.app.state.hearth.db
    clock = [1000.0]
    db.outage.clock = lambda: clock[0]
    caplog.set_level(logging.INFO, logger="hearth.db")
    pg_proxy.cut()
    for _ in range(3):  # 30 "seconds" of outage, 50 requests in each 10
        for _ in range(50):
            assert_unavailable(await api.client.get(f"/api/collections/{name}/records"))
        clock[0] += 10
    pg_proxy.restore()
    await until_ok(api, name)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "hearth.db"]
    report(f"postgres outage log over 30 s: {lines}")
    assert [level for level, _ in lines] == ["WARNING", "WARNING", "WARNING", "INFO"]
    assert lines[0][1].startswith("database unavailable: ")
    # Each request is one failed call; the realtime listener's reconnect attempts (0.1 s, 0.2 s,
    # 0.4 s … apart, in real time) count too when a request got as far as the schema check.
    counted = [int(n) for n in re.findall(r"\((\d+) failed calls", " ".join(m for _, m in lines[1:]))]
    assert len(counted) == 3 and 50 <= counted[0] <= 56 and counted[1] <= 56, lines
    assert lines[3][1].startswith("database available again after 30.0 s (") and 150 <= counted[2] <= 160


async def test_the_job_worker_heals_after_an_outage(pg_api_with_jobs: Api, pg_proxy: TcpProxy, logs: LogCount) -> None:
    """The worker keeps failing quietly while PostgreSQL is away (no traceback, backing off) and
    runs the jobs once it is back: one due during the outage, one enqueued after."""
    api = pg_api_with_jobs
    h = api.app.state.hearth
    ran: list[str] = []
    h.job_functions.register("outage_job", lambda e: ran.append(e.payload))
    name = await notes(api)
    await h.jobs.enqueue("outage_job", "due during the outage", delay=1.0)
    pg_proxy.cut()
    await asyncio.sleep(3)
    assert ran == []
    pg_proxy.restore()
    await until_ok(api, name)
    await h.jobs.enqueue("outage_job", "after")
    end = time.monotonic() + 15
    while len(ran) < 2 and time.monotonic() < end:
        await asyncio.sleep(0.1)
    assert sorted(ran) == ["after", "due during the outage"]
    assert not logs.tracebacks, logs.lines()


async def test_hung_postgres_answers_503_within_the_time_limits(
    pg_api: Api, pg_proxy: TcpProxy, logs: LogCount
) -> None:
    api = pg_api
    name = await notes(api)
    pg_proxy.hang()
    times = []
    for _ in range(4):
        start = time.monotonic()
        assert_unavailable(await api.client.get(f"/api/collections/{name}/records"))
        times.append(time.monotonic() - start)
    # A pooled connection: the statement timeout; a new one: the connect/acquire timeout.
    report(f"hung postgres: 503 after {', '.join(f'{t:.2f}' for t in times)} s")
    assert max(times) < QUERY + 1.5
    # Concurrent requests are bounded too (the pool's waiters give up after HEARTH_DB_TIMEOUT).
    start = time.monotonic()
    answers = await asyncio.gather(*(api.client.get(f"/api/collections/{name}/records") for _ in range(30)))
    assert all(a.status_code == 503 for a in answers)
    report(f"hung postgres: 30 concurrent requests all 503 within {time.monotonic() - start:.2f} s")
    assert time.monotonic() - start < QUERY + WAIT + 2
    pg_proxy.restore()
    healed, _ = await until_ok(api, name)
    report(f"hung postgres restored: first 200 after {healed * 1000:.0f} ms")
    assert not logs.tracebacks and len(logs.records) <= 3


async def test_postgres_connection_lost_mid_transaction_applies_nothing(
    pg_api: Api, pg_proxy: TcpProxy, logs: LogCount
) -> None:
    api = pg_api
    name = await notes(api)
    await api.client.patch("/api/settings", json={"batch": {"enabled": True}}, headers=api.su())
    marker = f"cut-{secrets.token_hex(4)}"
    pg_proxy.cut_when(marker.encode())
    url = f"/api/collections/{name}/records"
    requests = [{"method": "POST", "url": url, "body": {"title": t}} for t in ("b1", "b2", marker, "b4")]
    r = await api.client.post("/api/batch", json={"requests": requests}, headers=api.su())
    assert pg_proxy.cuts == 1
    assert_unavailable(r)
    pg_proxy.restore()
    await until_ok(api, name)
    assert await titles(api, name) == []  # b1 and b2 were rolled back with the connection
    assert not logs.tracebacks


async def test_postgres_acknowledged_writes_survive_a_cut(pg_api: Api, pg_proxy: TcpProxy) -> None:
    """Five writers in a loop; the database goes away after 20 acknowledged writes."""
    api = pg_api
    name = await notes(api)
    url = f"/api/collections/{name}/records"
    results: list[tuple[str, int]] = []
    acknowledged: list[str] = []

    async def writer(w: int) -> None:
        for i in range(30):
            title = f"w{w}-{i:02d}"
            r = await api.client.post(url, json={"title": title})
            results.append((title, r.status_code))
            if r.status_code == 200:
                acknowledged.append(title)
                if len(acknowledged) == 20:
                    pg_proxy.cut()

    await asyncio.gather(*(writer(w) for w in range(5)))
    pg_proxy.restore()
    await until_ok(api, name)
    statuses = sorted({status for _, status in results})
    report(f"writes during a cut: {len(acknowledged)} acknowledged of {len(results)}, statuses {statuses}")
    assert statuses == [200, 503]
    stored = await titles(api, name)
    assert set(acknowledged) <= set(stored)
    # A refused write may exist only if the connection died between the server's commit and
    # its answer: at most one per writer in flight.
    assert len(stored) - len(acknowledged) <= 5


async def test_postgres_terminated_backends_are_replaced(pg_api: Api, pg_db: str, logs: LogCount) -> None:
    """The server ends Hearth's sessions (57P01, as on a restart): the next requests work."""
    api = pg_api
    name = await notes(api)
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            pg_db,
        )
    finally:
        await admin.close()
    assert killed >= 1
    await asyncio.sleep(0.05)
    statuses = [(await api.client.get(f"/api/collections/{name}/records")).status_code for _ in range(20)]
    report(f"after pg_terminate_backend of {killed} sessions: {statuses.count(503)} of 20 requests refused")
    assert set(statuses) <= {200, 503} and statuses[-1] == 200
    assert not logs.tracebacks


async def test_realtime_listen_connection_is_reestablished(pg_api: Api, pg_proxy: TcpProxy) -> None:
    api = pg_api
    hub = api.app.state.hearth.realtime
    client = await hub.connect("127.0.0.1")  # a local client: the bus is active
    try:
        listener = hub.bus._listener
        assert listener is not None and listener.alive()
        pg_proxy.cut()
        await asyncio.sleep(0.2)
        assert not listener.alive()
        pg_proxy.restore()
        start = time.monotonic()
        while not (hub.bus._listener is not None and hub.bus._listener.alive()):
            assert time.monotonic() - start < 5, "LISTEN not re-established"
            await asyncio.sleep(0.05)
        report(f"LISTEN re-established {time.monotonic() - start:.2f} s after the restore")
        # And NOTIFY wakes it: an event published by "another process" reaches the client.
        name = await notes(api)
        r = await api.client.post(
            "/api/realtime", json={"clientId": client.id, "subscriptions": [f"{name}/*"]}
        )
        assert r.status_code == 204
        await api.client.post(f"/api/collections/{name}/records", json={"title": "hello"})
        message = await asyncio.wait_for(next_chunk(client), 3)
        assert message is not None and b"hello" in message
    finally:
        hub.disconnect(client)
        await hub.background.drain()


async def test_startup_with_postgres_unreachable_fails_fast_with_one_reason(
    pg_db: str, pg_proxy: TcpProxy, tmp_path: Path, short_timeouts: None
) -> None:
    from hearth.app import Hearth
    from hearth.errors import DatabaseUnavailable

    pg_proxy.cut()
    h = Hearth(Config(data_dir=tmp_path, db_url=proxied_url(pg_proxy, pg_db)))
    start = time.monotonic()
    with pytest.raises(DatabaseUnavailable) as info:
        await h.start()
    assert time.monotonic() - start < 2
    assert "refused" in info.value.reason.lower() or "connect" in info.value.reason.lower()
    pg_proxy.restore()
    pg_proxy.hang()
    start = time.monotonic()
    with pytest.raises(DatabaseUnavailable):
        await h.start()
    assert time.monotonic() - start < WAIT + 1.5  # the connect timeout, not asyncpg's 60 s


# ----- SQLite -------------------------------------------------------------------------------------

_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


class WriteLock:
    """Another process holding SQLite's write lock (BEGIN EXCLUSIVE) until released."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        self.proc.wait(5)


async def test_sqlite_write_lock_held_elsewhere_is_a_503_that_heals(
    sqlite_api: Api, tmp_path: Path, logs: LogCount
) -> None:
    api = sqlite_api
    name = await notes(api)
    url = f"/api/collections/{name}/records"
    assert (await api.client.post(url, json={"title": "before"})).status_code == 200
    lock = WriteLock(tmp_path / "data.db")
    try:
        logs.records.clear()
        start = time.monotonic()
        write = asyncio.ensure_future(api.client.post(url, json={"title": "blocked"}))
        # The event loop is not blocked while the write waits: reads are answered meanwhile.
        await asyncio.sleep(0.1)
        reads = []
        for _ in range(5):
            t = time.monotonic()
            r = await api.client.get(url)
            reads.append(time.monotonic() - t)
            assert r.status_code == 200
        assert not write.done() and max(reads) < 0.2
        assert_unavailable(await write)
        waited = time.monotonic() - start
        report(f"sqlite locked: write refused after {waited:.2f} s, reads meanwhile took ≤ {max(reads) * 1000:.1f} ms")
        assert WAIT - 0.1 < waited < WAIT + 1
        # 20 more writes at once: each gives up at its own deadline, not one after the other
        # behind the first (the in-process write queue counts against the same time limit).
        start = time.monotonic()
        answers = await asyncio.gather(*(api.client.post(url, json={"title": f"x{i}"}) for i in range(20)))
        for r in answers:
            assert_unavailable(r)
        queued = time.monotonic() - start
        report(
            f"sqlite locked: 20 concurrent writes refused within {queued:.2f} s; "
            f"{len(logs.records)} log lines for 21 refused writes: {logs.lines()}"
        )
        assert queued < WAIT + 1
        assert len(logs.records) <= 2 and not logs.tracebacks
    finally:
        lock.release()
    r = await api.client.post(url, json={"title": "after"})
    assert r.status_code == 200, r.text
    assert await titles(api, name) == ["after", "before"]


async def test_sqlite_lock_released_while_waiting_lets_the_write_through(sqlite_api: Api, tmp_path: Path) -> None:
    api = sqlite_api
    name = await notes(api)
    lock = WriteLock(tmp_path / "data.db")
    write = asyncio.ensure_future(api.client.post(f"/api/collections/{name}/records", json={"title": "waited"}))
    await asyncio.sleep(WAIT / 3)
    lock.release()
    r = await write
    assert r.status_code == 200, r.text


async def test_sqlite_disk_full_and_read_only_are_503s_without_half_writes(
    sqlite_api: Api, logs: LogCount
) -> None:
    api = sqlite_api
    name = await notes(api)
    url = f"/api/collections/{name}/records"
    db: Any = api.app.state.hearth.db
    await api.client.patch("/api/settings", json={"batch": {"enabled": True}}, headers=api.su())
    pages = db._writer_conn.execute("PRAGMA page_count").fetchone()[0]
    db._writer_conn.execute(f"PRAGMA max_page_count = {pages}")  # the "disk" is full now
    try:
        # The free room left in the file's pages fills up after a few records at most.
        big = "x" * 4000
        answers = [(await api.client.post(url, json={"title": big})).status_code for _ in range(30)]
        assert 503 in answers and set(answers) <= {200, 503}, answers
        kept = await titles(api, name)
        # A batch whose later writes do not fit leaves nothing behind.
        reqs = [{"method": "POST", "url": url, "body": {"title": f"batch{i}-" + big}} for i in range(5)]
        assert_unavailable(await api.client.post("/api/batch", json={"requests": reqs}, headers=api.su()))
        assert await titles(api, name) == kept  # reads go on, and no batch record is there
    finally:
        db._writer_conn.execute("PRAGMA max_page_count = 4294967294")
    assert (await api.client.post(url, json={"title": "room again"})).status_code == 200
    db._writer_conn.execute("PRAGMA query_only = 1")  # a read-only file, as SQLite reports it
    try:
        assert_unavailable(await api.client.post(url, json={"title": "ro"}))
    finally:
        db._writer_conn.execute("PRAGMA query_only = 0")
    assert (await api.client.post(url, json={"title": "ok"})).status_code == 200
    assert not logs.tracebacks
    reasons = " ".join(logs.lines())
    assert "full" in reasons and "readonly" in reasons


# ----- Redis (rate limit and login-attempt counters) ----------------------------------------------


@pytest.fixture
async def redis_proxy() -> AsyncIterator[TcpProxy]:
    u = urlsplit(REDIS_URL)
    probe = RedisCounters(REDIS_URL, prefix="hearth-test-probe:")
    try:
        await probe.redis.ping()
    except Exception:
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set HEARTH_TEST_REDIS)")
    finally:
        await probe.close()
    with TcpProxy(u.hostname or "127.0.0.1", u.port or 6379) as proxy:
        yield proxy


async def test_redis_outage_keeps_limiting_locally_and_never_fails_requests(
    sqlite_api: Api, redis_proxy: TcpProxy, logs: LogCount
) -> None:
    api = sqlite_api
    u = urlsplit(REDIS_URL)
    counters = RedisCounters(
        f"redis://127.0.0.1:{redis_proxy.port}{u.path or '/0'}", prefix=f"hearth-test-{secrets.token_hex(4)}:"
    )
    api.app.rate_limit.counters = counters
    api.app.state.hearth.attempts.counters = counters
    name = await notes(api)
    rule = {"label": f"{name}:list", "maxRequests": 5, "duration": 60, "audience": ""}
    limits = {"enabled": True, "rules": [rule]}
    r = await api.client.patch("/api/settings", json={"rateLimits": limits}, headers=api.su())
    assert r.status_code == 200, r.text
    url = f"/api/collections/{name}/records"
    try:
        assert [(await api.client.get(url)).status_code for _ in range(6)][-1] == 429  # counted in Redis

        for mode in ("cut", "hang"):
            getattr(redis_proxy, mode)()
            logs.records.clear()
            start = time.monotonic()
            statuses = [(await api.client.get(url)).status_code for _ in range(60)]
            elapsed = time.monotonic() - start
            report(f"redis {mode}: 60 requests in {elapsed:.2f} s, statuses {sorted(set(statuses))}, log {logs.lines()}")
            assert all(s < 500 for s in statuses)
            assert 429 in statuses  # still limited, per process
            assert elapsed < 3  # one try waits for Redis, the others count locally at once
            assert len(logs.records) <= 2 and not logs.tracebacks
            # Failed logins per identity are still counted (locally): the 11th attempt is a 429.
            who = {"identity": f"{secrets.token_hex(4)}@example.com", "password": "wrong-password"}
            login = [
                (await api.client.post("/api/collections/users/auth-with-password", json=who)).status_code
                for _ in range(11)
            ]
            assert login == [400] * 10 + [429], login
            redis_proxy.restore()
            counters._down_until = 0  # no need to wait out the retry pause in a test
            await api.client.get(url)
            assert not counters.outage.down
    finally:
        redis_proxy.restore()
        await api.client.patch("/api/settings", json={"rateLimits": {"enabled": False}}, headers=api.su())
        await counters.close()


async def test_shutdown_during_a_postgres_outage_completes(pg_api: Api, pg_proxy: TcpProxy, logs: LogCount) -> None:
    hearth = pg_api.app.state.hearth
    client = await hearth.realtime.connect("127.0.0.1")  # a realtime client to forget on the way out
    pg_proxy.cut()
    hearth.realtime.disconnect(client)  # its row cannot be deleted now: dropped quietly
    start = time.monotonic()
    await hearth.stop()
    report(f"shutdown during an outage: {time.monotonic() - start:.2f} s")
    assert time.monotonic() - start < WAIT + 2
    assert not logs.tracebacks
