"""What one active webhook costs a record write, and how fast the worker delivers.

Run by hand (not CI), about 3 minutes with the defaults:

    .venv/bin/python bench/webhooks.py [--db postgresql://postgres@127.0.0.1:5432/postgres]

Each phase starts `hearth serve --workers 1` (HEARTH_WEBHOOKS_PRIVATE=1: receivers on loopback)
on a fresh data dir (or a fresh PostgreSQL database), creates an open collection and one
endpoint on it, and runs `wrk -t1 -c50 -d10s` POSTing records (a new title per request).

1. The write path (`--jobs 0`: no job runs in the server, so only what a write itself does is
   measured: matching the endpoint and inserting its delivery job in the write's transaction).
   Rounds alternate `off` (the endpoint disabled) and `on` (active, pointing at a closed port);
   the median req/s of each mode and their ratio are printed.
2. Delivery (the default job worker, an endpoint on a fast local receiver answering 204): the
   write rate while deliveries run beside the writes, then the deliveries per second the worker
   reaches draining the backlog once the writes stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import asyncpg
import httpx

SU_EMAIL, SU_PASS = "bench@example.com", "benchpass123"
LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = '{"title":"t' .. counter .. '-' .. math.random(1, 1000000000) .. '"}'
  return wrk.format("POST", "/api/collections/whbench/records", {["Content-Type"] = "application/json"}, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FastReceiver:
    """A tiny HTTP server in a thread of its own, answering 204 to everything, counting."""

    def __init__(self) -> None:
        self.port = free_port()
        self.count = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def _run(self) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while line := await reader.readline():
                    length = 0
                    while (h := await reader.readline()) not in (b"\r\n", b""):
                        if h.lower().startswith(b"content-length:"):
                            length = int(h.split(b":", 1)[1])
                    await reader.readexactly(length)
                    self.count += 1
                    writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                    await writer.drain()
                    del line
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        async def main() -> None:
            await asyncio.start_server(handle, "127.0.0.1", self.port)
            self._ready.set()
            await asyncio.Event().wait()

        asyncio.run(main())


def wrk(port: int, script: Path, duration: str, conns: int) -> float:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{duration}", "--timeout", "5s", "-s", str(script),
         f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m is None or non2xx is not None:
        raise SystemExit(f"wrk failed or got errors:\n{out}")
    return float(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--phase", choices=("write", "delivery", "both"), default="both")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk (apt-get install wrk)")
    if args.phase in ("write", "both"):
        with Server(args, jobs=0) as (c, su, port, tmp):
            write_path(c, su, port, tmp, args)
    if args.phase in ("delivery", "both"):
        with Server(args, jobs=None) as (c, su, port, tmp):
            delivery(c, su, port, tmp, args)
    return 0


class Server:
    """A fresh `hearth serve` (`args.workers`, else 1) and its superuser client, stopped (and its PostgreSQL
    database dropped) on exit."""

    def __init__(self, args: argparse.Namespace, jobs: int | None) -> None:
        self.args, self.jobs = args, jobs

    def __enter__(self) -> tuple[httpx.Client, dict[str, str], int, Path]:
        args = self.args
        hearth = str(Path(sys.executable).with_name("hearth"))
        self.tmp = tmp = Path(tempfile.mkdtemp(prefix="hearth-bench-wh-"))
        db_args: list[str] = []
        self.pg_name = ""
        if args.db:
            self.pg_name = f"hearth_bench_{secrets.token_hex(4)}"
            asyncio.run(_pg(args.db, f'CREATE DATABASE "{self.pg_name}"'))
            db_args = ["--db", args.db.rsplit("/", 1)[0] + "/" + self.pg_name]
        port = free_port()
        env = {**os.environ, "HEARTH_WEBHOOKS_PRIVATE": "1"}
        subprocess.run([hearth, "superuser", "upsert", SU_EMAIL, SU_PASS, "--dir", str(tmp / "data"), *db_args],
                       check=True, capture_output=True, env=env)  # fmt: skip
        jobs = [] if self.jobs is None else ["--jobs", str(self.jobs)]
        self.proc = subprocess.Popen(
            [hearth, "serve", "--http", f"127.0.0.1:{port}", "--workers", str(getattr(args, "workers", 1)), "--dir", str(tmp / "data"),
             *db_args, *jobs],
            stdout=(tmp / "server.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True, env=env,
        )  # fmt: skip
        c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        for _ in range(240):
            try:
                if c.get("/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        token = c.post("/api/collections/_superusers/auth-with-password",
                       json={"identity": SU_EMAIL, "password": SU_PASS}).json()["token"]  # fmt: skip
        su = {"Authorization": token}
        open_rules = {k: "" for k in ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")}
        c.post("/api/collections", headers=su, json={"name": "whbench", "type": "base", **open_rules, "fields": [
            {"name": "title", "type": "text"},
            {"name": "created", "type": "autodate", "onCreate": True},
            {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}]}).raise_for_status()  # fmt: skip
        return c, su, port, tmp

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(30)
        if self.pg_name:
            asyncio.run(_pg(self.args.db, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
        print(f"(server log and scripts in {self.tmp})")


async def _pg(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def write_path(c: httpx.Client, su: dict[str, str], port: int, tmp: Path, args: argparse.Namespace) -> None:
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    hook = c.post("/api/hearth/webhooks", headers=su,
                  json={"url": down, "collection": "whbench", "events": ["create"], "active": False}).json()  # fmt: skip
    script = tmp / "post.lua"
    script.write_text(LUA)
    wrk(port, script, "3s", args.conns)  # warm-up
    results: dict[str, list[float]] = {"off": [], "on": []}
    for i in range(args.rounds):
        for mode in results:
            c.patch(f"/api/hearth/webhooks/{hook['id']}", headers=su, json={"active": mode == "on"}).raise_for_status()
            rps = wrk(port, script, args.duration, args.conns)
            results[mode].append(rps)
            print(f"round {i + 1} {mode:>3}: {rps:8.1f} req/s", flush=True)
    off, on = statistics.median(results["off"]), statistics.median(results["on"])
    # Each round's own ratio as well: the disk and the neighbours drift over a run (PostgreSQL's
    # commit waits for fsync), and a ratio of rounds a few seconds apart cancels that drift.
    paired = statistics.median(b / a for a, b in zip(results["off"], results["on"], strict=True))
    print(f"\nwrite path: off {off:.1f} req/s, on {on:.1f} req/s (medians of {args.rounds}); "
          f"on/off = {on / off:.3f} ({(1 - on / off) * 100:+.1f} % slower); "
          f"median of the rounds' on/off = {paired:.3f} ({(1 - paired) * 100:+.1f} % slower); "
          f"about {(1 / (off * paired) - 1 / off) * 1e6:.0f} µs more per write at saturation\n")  # fmt: skip


def delivery(c: httpx.Client, su: dict[str, str], port: int, tmp: Path, args: argparse.Namespace) -> None:
    receiver = FastReceiver()
    c.post("/api/hearth/webhooks", headers=su, json={"url": f"http://127.0.0.1:{receiver.port}/hook",
           "collection": "whbench", "events": ["create"]}).raise_for_status()  # fmt: skip
    script = tmp / "post.lua"
    script.write_text(LUA)
    during = receiver.count
    rps = wrk(port, script, args.duration, args.conns)
    during = receiver.count - during
    seconds = float(args.duration.rstrip("s"))
    print(f"writes with deliveries running: {rps:.1f} req/s; {during / seconds:.0f} deliveries/s meanwhile")
    start_count, started = receiver.count, time.monotonic()
    last_change, last = started, receiver.count
    while time.monotonic() - last_change < 2.0 and time.monotonic() - started < 120:
        time.sleep(0.2)
        if receiver.count != last:
            last, last_change = receiver.count, time.monotonic()
    drained = receiver.count - start_count
    seconds = max(0.001, last_change - started)
    print(f"backlog drained with no writes: {drained} deliveries in {seconds:.1f} s = {drained / seconds:.0f}/s "
          f"({'cut at 120 s' if time.monotonic() - started >= 120 else 'all'})\n")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
