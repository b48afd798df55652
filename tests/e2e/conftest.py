"""Real `hearth serve` processes for tests that need workers, restarts or several instances."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ADMIN = ("admin@example.com", "adminpass123")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hearth_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hearth", *args], capture_output=True, text=True, timeout=60)


@dataclass
class Server:
    """A `hearth serve` process started by `start_server`."""

    proc: subprocess.Popen[bytes]
    url: str
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


def start_server(
    data_dir: Path,
    db_url: str = "",
    workers: int = 1,
    *extra: str,
    new_session: bool = False,
) -> Server:
    """Start `hearth serve` and wait until it is healthy. `new_session` puts it in a process
    group of its own (signalled as a whole as a terminal or systemd would)."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "hearth",
        "serve",
        "--http",
        f"127.0.0.1:{port}",
        "--dir",
        str(data_dir),
        "--workers",
        str(workers),
        *extra,
    ]
    if db_url:
        cmd += ["--db", db_url]
    log_path = data_dir / f"serve-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=new_session,
        )
    server = Server(proc, f"http://127.0.0.1:{port}", port, log_path)
    try:
        wait_healthy(server.url, proc, log_path, "hearth serve")
    except BaseException:
        stop_server(server)
        raise
    return server


def stop_server(server: Server) -> None:
    server.proc.send_signal(2)
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@contextmanager
def running_server(data_dir: Path, db_url: str = "", workers: int = 1, *extra: str) -> Iterator[str]:
    """Start `hearth serve`, wait until healthy, yield its base URL, stop it with SIGINT."""
    server = start_server(data_dir, db_url, workers, *extra)
    try:
        yield server.url
    finally:
        stop_server(server)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path, what: str) -> None:
    """Poll /api/health until the server answers; fail with its log if it dies or takes >30 s."""
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start: {log_path.read_text()}")
        time.sleep(0.05)


def superuser_token(url: str) -> str:
    r = httpx.post(
        url + "/api/collections/_superusers/auth-with-password",
        json={"identity": ADMIN[0], "password": ADMIN[1]},
    )
    r.raise_for_status()
    return str(r.json()["token"])


@pytest.fixture
async def pg_url(pg_database: str | None) -> str:
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    import asyncpg

    conn = await asyncpg.connect(pg_database)
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await conn.close()
    return pg_database
