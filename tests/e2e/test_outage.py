"""Outages with real `hearth serve` processes: PostgreSQL through a TCP proxy the test cuts and
restores (two instances, one with two workers, a realtime stream across them), start-up without
the database, and SQLite's write lock held by another process."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.test_outage import UNAVAILABLE, WriteLock, proxied_url, report
from tests.conftest import OPEN, PG_ADMIN_URL
from tests.e2e.conftest import ADMIN, free_port, hearth_cli, running_server, superuser_token
from tests.e2e.test_realtime import Stream
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_DB_TIMEOUT", "1")
    monkeypatch.setenv("HEARTH_DB_QUERY_TIMEOUT", "2")


@pytest.fixture
def pg_proxy(pg_url: str) -> Iterator[TcpProxy]:
    u = urlsplit(PG_ADMIN_URL)
    with TcpProxy(u.hostname or "127.0.0.1", u.port or 5432) as proxy:
        yield proxy


def server_log(data_dir: Path, url: str) -> str:
    port = url.rsplit(":", 1)[1]
    return (data_dir / f"serve-{port}.log").read_text()


def unavailable(r: httpx.Response) -> bool:
    return r.status_code == 503 and r.json() == UNAVAILABLE and r.headers.get("retry-after") == "5"


def test_postgres_outage_with_real_servers(tmp_path: Path, pg_url: str, pg_proxy: TcpProxy) -> None:
    db_url = proxied_url(pg_proxy, pg_url.rsplit("/", 1)[1])
    assert hearth_cli("superuser", "upsert", *ADMIN, "--db", db_url, "--dir", str(tmp_path)).returncode == 0
    with (
        running_server(tmp_path, db_url=db_url, workers=2) as a,
        running_server(tmp_path, db_url=db_url) as b,
        httpx.Client(timeout=10) as http,
    ):
        su = {"Authorization": superuser_token(b)}
        r = http.post(
            b + "/api/collections",
            json={"name": "notes", "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]},
            headers=su,
        )
        assert r.status_code == 200, r.text
        assert http.post(b + "/api/collections/notes/records", json={"t": "before"}).status_code == 200
        stream = Stream(a)
        try:
            r = http.post(b + "/api/realtime", json={"clientId": stream.client_id, "subscriptions": ["notes"]})
            assert r.status_code == 204, r.text

            pg_proxy.cut()
            start = time.monotonic()
            answers = []
            for i in range(200):
                url = (a, b)[i % 2]
                if i % 4 == 0:
                    answers.append(http.post(url + "/api/collections/notes/records", json={"t": "lost"}))
                elif i % 4 == 1:
                    answers.append(http.get(url + "/api/health"))
                else:
                    answers.append(http.get(url + "/api/collections/notes/records", headers=su))
            outage = time.monotonic() - start
            assert all(unavailable(r) for r in answers), {r.status_code for r in answers}
            logs = server_log(tmp_path, a) + server_log(tmp_path, b)
            warnings = re.findall(r"^\[WARNING\] hearth.*$", logs, re.M)
            report(f"serve, 3 processes: 200 refused requests in {outage:.2f} s, {len(warnings)} warning lines:")
            for line in warnings:
                report(f"    {line}")
            assert "Traceback" not in logs
            assert len(warnings) <= 3 * 2  # at most two per process (first line + one per 10 s)

            pg_proxy.restore()
            start = time.monotonic()
            healed = {}
            while len(healed) < 2:
                for url in (a, b):
                    if url not in healed and http.get(url + "/api/collections/notes/records").status_code == 200:
                        healed[url] = time.monotonic() - start
                assert time.monotonic() - start < 10, "not healed"
                time.sleep(0.01)
            report(
                "serve: healed without restart after "
                + ", ".join(f"{t * 1000:.0f} ms" for t in healed.values())
            )
            # Events written through one instance reach a stream held by the other again.
            sent = time.monotonic()
            assert http.post(b + "/api/collections/notes/records", json={"t": "after"}).status_code == 200
            name, data = stream.next(timeout=5)
            report(f"serve: realtime event across instances {1000 * (time.monotonic() - sent):.0f} ms after the write")
            assert name == "notes" and data["record"]["t"] == "after"
            # Once listening again, NOTIFY wakes the other instance at once (the fallback poll
            # reads the table only every second).
            time.sleep(1.5)
            latencies = []
            for i in range(5):
                sent = time.monotonic()
                assert http.post(b + "/api/collections/notes/records", json={"t": f"n{i}"}).status_code == 200
                name, data = stream.next(timeout=5)
                latencies.append(time.monotonic() - sent)
                assert data["record"]["t"] == f"n{i}"
            report("serve: events after the LISTEN is back: " + ", ".join(f"{t * 1000:.0f}" for t in latencies) + " ms")
            assert sorted(latencies)[2] < 0.5
        finally:
            stream.close()
        items = http.get(a + "/api/collections/notes/records").json()["items"]
        assert sorted(x["t"] for x in items) == ["after", "before", "n0", "n1", "n2", "n3", "n4"]
        logs = server_log(tmp_path, a) + server_log(tmp_path, b)
        assert "Traceback" not in logs
        assert len(re.findall(r"^\[INFO\] hearth.db: database available again", logs, re.M)) >= 2


def test_serve_without_postgres_fails_fast_with_one_line(tmp_path: Path, pg_url: str, pg_proxy: TcpProxy) -> None:
    pg_proxy.cut()
    db_url = proxied_url(pg_proxy, pg_url.rsplit("/", 1)[1])
    start = time.monotonic()
    done = hearth_cli("serve", "--http", f"127.0.0.1:{free_port()}", "--db", db_url, "--dir", str(tmp_path))
    report(f"serve without PostgreSQL: exit {done.returncode} after {time.monotonic() - start:.2f} s: {done.stderr.strip()}")
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr.strip().startswith("Error: cannot connect to PostgreSQL at 127.0.0.1:")
    assert "connection refused" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_sqlite_lock_with_a_real_server(tmp_path: Path) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path) as url, httpx.Client(timeout=10) as http:
        su = {"Authorization": superuser_token(url)}
        r = http.post(
            url + "/api/collections",
            json={"name": "notes", "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]},
            headers=su,
        )
        assert r.status_code == 200, r.text
        lock = WriteLock(tmp_path / "data.db")
        try:
            start = time.monotonic()
            assert unavailable(http.post(url + "/api/collections/notes/records", json={"t": "x"}))
            waited = time.monotonic() - start
            assert http.get(url + "/api/collections/notes/records").status_code == 200
            assert http.get(url + "/api/health").status_code == 200  # reads work: still serving
        finally:
            lock.release()
        assert http.post(url + "/api/collections/notes/records", json={"t": "y"}).status_code == 200
        report(f"serve on SQLite: locked write refused after {waited:.2f} s, next write after release 200")
        assert "Traceback" not in server_log(tmp_path, url)
