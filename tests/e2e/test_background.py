"""Cron and durable jobs in real processes: one run per cron tick with several workers and with
two instances on one PostgreSQL database; a worker killed with `kill -9` mid-job and the job
finished by another process; a stopping worker hands its running job back at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.conftest import ADMIN, hearth_cli, start_server, stop_server, superuser_token
from tests.e2e.test_hooks import write

CRON_HOOKS = """
import os

LOG = %r

def setup(app):
    @app.cron("tick", "* * * * *")
    def tick(e):
        with open(LOG, "a") as f:
            f.write(e.payload["tick"] + " " + str(os.getpid()) + "\\n")
"""

JOB_HOOKS = """
import asyncio, os

LOG = %r

def note(text):
    with open(LOG, "a") as f:
        f.write(text + " " + str(os.getpid()) + "\\n")

def setup(app):
    @app.job("slow")
    async def slow(e):
        note("started %%d" %% e.attempt)
        await asyncio.sleep(e.payload["seconds"])
        note("done %%d" %% e.attempt)

    @app.route("POST", "/api/test/enqueue")
    async def enqueue(e):
        body = await e.body()
        job = await app.jobs.enqueue("slow", {"seconds": body["seconds"]}, retries=2, backoff=0.1)
        return {"id": job.id}
"""


@contextmanager
def worker_process(data_dir: Path, db_url: str, *extra: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "hearth", "worker", "--dir", str(data_dir), *extra]
    if db_url:
        cmd += ["--db", db_url]
    log = open(data_dir / f"worker-{time.monotonic_ns()}.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def wait_for(check: object, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_cron_runs_once_per_tick(tmp_path: Path, pg_url: str) -> None:
    """SQLite: `hearth serve --workers 2` and a `hearth worker` on one data directory; PostgreSQL:
    two instances (`--workers 2` each) on one database. Each logs every run of a `* * * * *`
    cron; over the next minute boundary each setup logs that tick exactly once."""
    sqlite_log, pg_log = tmp_path / "sqlite-ticks.log", tmp_path / "pg-ticks.log"
    sqlite_dir, pg_a, pg_b = tmp_path / "sqlite" / "data", tmp_path / "a" / "data", tmp_path / "b" / "data"
    write(sqlite_dir.parent / "hearth_hooks", "tick", CRON_HOOKS % str(sqlite_log))
    for d in (pg_a, pg_b):
        write(d.parent / "hearth_hooks", "tick", CRON_HOOKS % str(pg_log))
        d.mkdir(parents=True)
    sqlite_dir.mkdir(parents=True)
    servers = [start_server(sqlite_dir, "", 2), start_server(pg_a, pg_url, 2), start_server(pg_b, pg_url, 2)]
    try:
        with worker_process(sqlite_dir, ""):
            # The first whole minute every process saw start (a tick just before a process was
            # up is not replayed), and a little after it for the runs to be logged.
            first = (int(time.time()) // 60 + 1) * 60
            wait_for(lambda: time.time() > first + 4, 70, "the minute boundary")
            wait_for(lambda: len(lines(sqlite_log)) >= 1 and len(lines(pg_log)) >= 1, 10, "the runs")
            time.sleep(1)  # a duplicate run would show up by now
    finally:
        for s in servers:
            stop_server(s)
    from datetime import UTC, datetime

    tick = datetime.fromtimestamp(first, UTC).isoformat()
    for log in (sqlite_log, pg_log):
        runs = [t for t, _pid in lines(log)]
        assert runs.count(tick) == 1, (log.name, runs)
        assert len(runs) == len(set(runs)), (log.name, runs)


def _setup_jobs(data_dir: Path, db_url: str, log: Path) -> None:
    write(data_dir.parent / "hearth_hooks", "slow", JOB_HOOKS % str(log))
    data_dir.mkdir(parents=True)
    args = ["--dir", str(data_dir)] + (["--db", db_url] if db_url else [])
    assert hearth_cli("superuser", "upsert", *ADMIN, *args).returncode == 0


def _job(url: str, jid: str) -> dict[str, object]:
    r = httpx.get(f"{url}/api/hearth/jobs/{jid}", headers={"Authorization": superuser_token(url)})
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def _killed_mid_job(tmp_path: Path, db_url: str) -> None:
    log, data = tmp_path / "jobs.log", tmp_path / "site" / "data"
    _setup_jobs(data, db_url, log)
    # The HTTP server runs no jobs here; worker processes do. A short lease: a dead worker's job
    # is taken again after ~2 s.
    env = {"HEARTH_JOB_LEASE": "2"}
    server = start_server(data, db_url, 1, "--jobs", "0")
    try:
        with worker_process(data, db_url, "--jobs", "1", env=env) as first:
            r = httpx.post(server.url + "/api/test/enqueue", json={"seconds": 1.5})
            assert r.status_code == 200, r.text
            jid = r.json()["id"]
            wait_for(lambda: any(w[0] == "started" for w in lines(log)), 15, "the first worker to start the job")
            first.kill()  # kill -9, mid-job
            first.wait()
        assert _job(server.url, jid)["state"] == "running"
        with worker_process(data, db_url, "--jobs", "1", env=env):
            wait_for(lambda: _job(server.url, jid)["state"] == "done", 20, "another worker to finish the job")
        runs = lines(log)
        assert [w[:2] for w in runs] == [["started", "1"], ["started", "2"], ["done", "2"]], runs
        assert runs[0][2] != runs[1][2]  # two processes
        assert _job(server.url, jid)["attempts"] == 2
    finally:
        stop_server(server)


def test_a_worker_killed_mid_job_sqlite(tmp_path: Path) -> None:
    _killed_mid_job(tmp_path, "")


def test_a_worker_killed_mid_job_postgres(tmp_path: Path, pg_url: str) -> None:
    _killed_mid_job(tmp_path, pg_url)


def test_a_stopping_worker_hands_its_job_back(tmp_path: Path, pg_url: str) -> None:
    """SIGTERM: the running job gets the shutdown timeout, then is pending again at once (not
    after its lease) without the attempt counted; the next worker runs it to the end."""
    log, data = tmp_path / "jobs.log", tmp_path / "site" / "data"
    _setup_jobs(data, pg_url, log)
    server = start_server(data, pg_url, 1, "--jobs", "0")
    try:
        with worker_process(data, pg_url, "--jobs", "1", "--shutdown-timeout", "1") as first:
            r = httpx.post(server.url + "/api/test/enqueue", json={"seconds": 4})
            jid = r.json()["id"]
            wait_for(lambda: any(w[0] == "started" for w in lines(log)), 15, "the job to start")
            began = time.monotonic()
            first.send_signal(signal.SIGTERM)
            first.wait(timeout=10)
            assert time.monotonic() - began < 3
        job = _job(server.url, jid)
        assert job["state"] == "pending" and job["attempts"] == 0, job
        with worker_process(data, pg_url, "--jobs", "1"):
            wait_for(lambda: _job(server.url, jid)["state"] == "done", 20, "the job to be finished")
        assert [w[:2] for w in lines(log)] == [["started", "1"], ["started", "1"], ["done", "1"]]
    finally:
        stop_server(server)


def test_worker_command_mistakes_are_one_line(tmp_path: Path) -> None:
    r = hearth_cli("worker", "--dir", str(tmp_path), "--jobs", "0")
    assert r.returncode != 0 and r.stderr.strip().count("\n") == 0 and "--jobs 0" in r.stderr
    r = hearth_cli("worker", "--dir", str(tmp_path), "--jobs", "many")
    assert r.returncode != 0 and r.stderr.strip().count("\n") == 0 and "--jobs" in r.stderr
