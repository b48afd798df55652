"""Throwaway PostgreSQL clusters and Redis servers that a test owns, so it can really stop,
restart and kill them (tests/e2e/test_faults.py). The shared servers on 5432 and 6379 are used by
others and are never touched.

    with PgCluster() as pg:       # initdb in a temp dir, started on a free port
        pg.url                    # postgresql://postgres@127.0.0.1:<port>/postgres
        pg.restart()              # pg_ctl restart -m fast
        pg.stop(); pg.start()     # down for as long as the test likes

    with RedisServer() as redis:  # redis-server --save '' --appendonly no on a free port
        redis.kill()              # SIGKILL
        redis.start()             # again, on the same port

Missing binaries raise (never skip): CI fails on skips, and these tests must run there. PostgreSQL
refuses to run as root, so as root the cluster belongs to the `postgres` OS user (runuser).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Self


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path:
    """The directory of initdb/pg_ctl: HEARTH_TEST_PG_BIN, `pg_config --bindir`, or the newest
    /usr/lib/postgresql/*/bin (Debian keeps them off PATH)."""
    candidates = [os.environ.get("HEARTH_TEST_PG_BIN", "")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    candidates.append(os.path.dirname(shutil.which("initdb") or ""))
    for c in candidates:
        if c and all((Path(c) / tool).exists() for tool in ("initdb", "pg_ctl", "psql")):
            return Path(c)
    raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl, psql) not found; set HEARTH_TEST_PG_BIN")


class _OwnServer:
    """Started on entering a `with` (and cleaned up if it fails to start), closed on leaving."""

    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class PgCluster(_OwnServer):
    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="hearth-pg-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._user: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise RuntimeError("running as root, and runuser is missing: cannot run PostgreSQL")
            self._user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-N"
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
                "max_connections = 100\nshared_buffers = 32MB\nfsync = off\nlogging_collector = off\n"
            )

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [*self._user, str(self.bin / tool), *args], capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {done.stdout}{done.stderr}")

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w", "-t", "30", *args)

    def start(self) -> None:
        self._ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        self._ctl("restart", "-m", mode)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def sql(self, query: str) -> list[str]:
        """Run `query` with psql; one string per row (columns joined by |)."""
        done = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
             "-At", "-v", "ON_ERROR_STOP=1", "-c", query],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"psql {query!r}: {done.stderr}")
        return done.stdout.splitlines()

    def close(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)



class RedisServer(_OwnServer):
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = Path(tempfile.mkdtemp(prefix="hearth-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.dir / "redis.log", "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start: " + (self.dir / "redis.log").read_text())
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: nothing is flushed or closed cleanly."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

