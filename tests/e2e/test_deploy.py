"""The deployment of docs/deploy.md, for real: three `hearth serve --workers 1` instances on one
PostgreSQL database with HEARTH_REDIS_URL set, behind a test-owned nginx running
deploy/nginx/hearth.conf (its placeholders filled in), restarted one at a time by
deploy/rolling-restart.sh, under load and with a realtime client connected through nginx.

nginx is /usr/sbin/nginx (`.ci/run` installs it); with HEARTH_REQUIRE_NGINX=1 (CI) a missing nginx
fails the test instead of skipping it. nginx runs as this test's own process (`-p` a temporary
directory, its own pid file, logs and temp paths), never as the system service.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import random
import re
import secrets
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import OPEN
from tests.e2e.conftest import ADMIN, free_port, hearth_cli, superuser_token

ROOT = Path(__file__).resolve().parents[2]
NGINX = Path("/usr/sbin/nginx")
CONF = ROOT / "deploy" / "nginx" / "hearth.conf"
ROLLING_RESTART = ROOT / "deploy" / "rolling-restart.sh"
INSTANCES = 3
FAIL_TIMEOUT = 3  # the upstream's fail_timeout, as docs/deploy.md recommends

# nginx.conf around deploy/nginx/hearth.conf: what a distribution's /etc/nginx/nginx.conf has
# (workers, events, the `include`), with every path in the test's directory.
MAIN_CONF = """\
{user}
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
# Old workers (a reload's) close what they still hold after this long, realtime streams included.
worker_shutdown_timeout 10s;
events {{ worker_connections 1024; }}
http {{
    log_format upstream '$status $request_method $uri upstream=$upstream_addr status=$upstream_status';
    access_log {dir}/access.log upstream;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/hearth.conf;
}}
"""


def render_conf(upstreams: list[str], listen: str) -> str:
    """deploy/nginx/hearth.conf with its placeholders filled in, as docs/deploy.md says."""
    text = CONF.read_text()
    for placeholder in ("@UPSTREAMS@", "@LISTEN@", "@SERVER_NAME@"):
        assert text.count(placeholder) == 1, f"{CONF} must have its {placeholder} placeholder once"
    servers = "\n    ".join(f"server {u} max_fails=1 fail_timeout={FAIL_TIMEOUT}s;" for u in upstreams)
    return (
        text.replace("@UPSTREAMS@", servers).replace("@LISTEN@", listen).replace("@SERVER_NAME@", "localhost")
    )


@dataclass
class Cluster:
    dir: Path
    url: str  # nginx
    instances: list[str]  # HOST:PORT
    env: dict[str, str]
    nginx: subprocess.Popen[bytes]
    nginx_cmd: str
    start_cmd: str
    stop_cmd: str
    drain_cmd: str
    pg_url: str
    restarts: list[str] = field(default_factory=list)  # rolling-restart.sh's report lines

    def rolling_restart(self, *instances: str) -> str:
        """deploy/rolling-restart.sh over `instances` (default: all), as a team would run it."""
        cmd = [
            "bash", str(ROLLING_RESTART), "--url", self.url,
            "--drain", self.drain_cmd, "--stop", self.stop_cmd, "--start", self.start_cmd,
            "--fail-timeout", str(FAIL_TIMEOUT), "--health-timeout", "30", *(instances or self.instances),
        ]  # fmt: skip
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"rolling-restart.sh failed ({r.returncode}): {r.stdout}{r.stderr}"
        self.restarts += [line for line in r.stdout.splitlines() if "restarted in" in line]
        return r.stdout

    def pid(self, instance: str) -> int:
        return int((self.dir / f"hearth-{instance.rpartition(':')[2]}.pid").read_text())

    def log(self, name: str) -> str:
        path = self.dir / name
        return path.read_text() if path.exists() else ""


def _require_nginx() -> None:
    if NGINX.exists():
        return
    message = f"nginx not installed at {NGINX} (.ci/run installs it: apt-get install nginx-light)"
    if os.environ.get("HEARTH_REQUIRE_NGINX") == "1":
        pytest.fail(message + "; HEARTH_REQUIRE_NGINX=1")
    pytest.skip(message + " (set HEARTH_REQUIRE_NGINX=1 to make this an error)")


def _redis_url() -> tuple[str, str]:
    import redis

    url = os.environ.get("HEARTH_TEST_REDIS", "redis://127.0.0.1:6379/0")
    r = redis.Redis.from_url(url)
    try:
        r.ping()
    except redis.RedisError:
        pytest.skip(f"Redis not reachable at {url} (set HEARTH_TEST_REDIS)")
    finally:
        r.close()
    return url, f"hearth-test-{secrets.token_hex(4)}:"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, pg_database: str | None) -> Iterator[Cluster]:
    _require_nginx()
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    import asyncpg
    import redis

    async def fresh_schema() -> None:
        conn = await asyncpg.connect(pg_database)
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.close()

    asyncio.run(fresh_schema())
    redis_url, prefix = _redis_url()
    d = tmp_path_factory.mktemp("deploy")
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "HEARTH_REDIS_URL": redis_url,
        "HEARTH_REDIS_PREFIX": prefix,
    }
    assert hearth_cli("superuser", "upsert", *ADMIN, "--db", pg_database, "--dir", str(d)).returncode == 0
    instances = [f"127.0.0.1:{free_port()}" for _ in range(INSTANCES)]
    # How rolling-restart.sh starts and stops an instance here (systemd units in docs/deploy.md):
    # by pid file, `--stop` returning once the process has exited.
    q = shlex.quote
    serve = f'{q(sys.executable)} -m hearth serve --http "$INSTANCE" --dir {q(str(d))} --db {q(pg_database)} --workers 1'
    start_cmd = f'setsid {serve} >> {q(str(d))}/hearth-"$PORT".log 2>&1 < /dev/null & echo $! > {q(str(d))}/hearth-"$PORT".pid'
    stop_cmd = (
        f'pid=$(cat {q(str(d))}/hearth-"$PORT".pid); kill -TERM "$pid"; '
        'while [ -e /proc/$pid ] && [ "$(sed "s/.*) //" /proc/$pid/stat | cut -d" " -f1)" != Z ]; do sleep 0.05; done'
    )
    # The process group (setsid): SIGUSR2 reaches the workers, as `systemctl kill` sends it.
    drain_cmd = f'env kill -USR2 -- -"$(cat {q(str(d))}/hearth-"$PORT".pid)"'
    listen = f"127.0.0.1:{free_port()}"
    (d / "hearth.conf").write_text(render_conf(instances, listen))
    user = "user root;" if os.geteuid() == 0 else ""
    (d / "nginx.conf").write_text(MAIN_CONF.format(dir=d, user=user))
    nginx_cmd = f"{NGINX} -p {q(str(d))} -c {q(str(d / 'nginx.conf'))}"
    cluster = None
    nginx = None
    try:
        for instance in instances:
            port = instance.rpartition(":")[2]
            subprocess.run(
                ["sh", "-c", start_cmd], env={**env, "INSTANCE": instance, "PORT": port}, check=True
            )
        r = subprocess.run(["sh", "-c", nginx_cmd + " -t"], capture_output=True, text=True)
        assert r.returncode == 0, f"nginx -t refused the configuration: {r.stderr}"
        nginx = subprocess.Popen(
            [*shlex.split(nginx_cmd), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        cluster = Cluster(
            d,
            f"http://{listen}",
            instances,
            env,
            nginx,
            nginx_cmd,
            start_cmd,
            stop_cmd,
            drain_cmd,
            pg_database,
        )
        deadline = time.monotonic() + 30
        for instance in instances:
            while True:
                try:
                    if httpx.get(f"http://{instance}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                log = cluster.log(f"hearth-{instance.rpartition(':')[2]}.log")
                assert time.monotonic() < deadline, f"{instance} did not start: {log}"
                time.sleep(0.05)
        while True:
            try:
                if httpx.get(cluster.url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert nginx.poll() is None and time.monotonic() < deadline, (
                f"nginx did not start: {cluster.log('error.log')}"
            )
            time.sleep(0.05)
        yield cluster
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)
            try:
                nginx.wait(timeout=15)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait()
        for pid_file in d.glob("hearth-*.pid"):
            pid = int(pid_file.read_text())
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        r = redis.Redis.from_url(redis_url)
        keys = list(r.scan_iter(match=prefix + "*"))
        if keys:
            r.delete(*keys)
        r.close()


def _collection(url: str, name: str) -> None:
    r = httpx.post(
        url + "/api/collections",
        json={"name": name, "type": "base", **OPEN,
              "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]},
        headers={"Authorization": superuser_token(url)},
        timeout=10,
    )  # fmt: skip
    assert r.status_code == 200, r.text


@dataclass
class Load:
    """Client threads doing creates, views, lists and updates through nginx until stopped. Every
    answer other than the expected 2xx, and every connection error, is a failure: no retries."""

    url: str
    collection: str
    threads: int = 4
    ops: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    acked: dict[str, int] = field(default_factory=dict)  # record id → last acknowledged `n`
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for i in range(self.threads):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self._workers.append(t)

    def finish(self) -> None:
        self.stop.set()
        for t in self._workers:
            t.join(timeout=30)

    @property
    def total(self) -> int:
        return sum(self.ops.values())

    def _record(self, op: str, failure: str | None) -> None:
        with self.lock:
            self.ops[op] += 1
            if failure is not None:
                self.failures.append(f"{time.strftime('%H:%M:%S')} {op}: {failure}")

    def _run(self, i: int) -> None:
        rng = random.Random(i)
        mine: list[str] = []
        base = f"/api/collections/{self.collection}/records"
        with httpx.Client(base_url=self.url, timeout=httpx.Timeout(15)) as http:
            step = 0
            while not self.stop.is_set():
                step += 1
                op = ("create", "view", "list", "update")[step % 4] if mine else "create"
                try:
                    if op == "create":
                        r = http.post(base, json={"title": f"t{i}-{step}", "n": step})
                        if r.status_code == 200:
                            mine.append(r.json()["id"])
                            with self.lock:
                                self.acked[r.json()["id"]] = step
                    elif op == "view":
                        r = http.get(f"{base}/{rng.choice(mine)}")
                    elif op == "list":
                        r = http.get(base, params={"perPage": 20, "sort": "-n", "filter": f"title ~ 't{i}-'"})
                    else:
                        rid = rng.choice(mine)
                        r = http.patch(f"{base}/{rid}", json={"n": step})
                        if r.status_code == 200:
                            with self.lock:
                                self.acked[rid] = step
                    self._record(op, None if r.status_code == 200 else f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    self._record(op, f"{type(exc).__name__}: {exc}")


def _db_rows(pg_url: str, collection: str) -> dict[str, int]:
    import asyncpg

    async def rows() -> dict[str, int]:
        conn = await asyncpg.connect(pg_url)
        try:
            return {r["id"]: int(r["n"]) for r in await conn.fetch(f'SELECT id, n FROM "{collection}"')}
        finally:
            await conn.close()

    return asyncio.run(rows())


def _upstream_errors(cluster: Cluster) -> list[str]:
    return [line for line in cluster.log("access.log").splitlines() if re.match(r"5\d\d ", line)]


def test_rolling_restart_under_load(cluster: Cluster) -> None:
    name = f"load_{secrets.token_hex(3)}"
    _collection(cluster.url, name)
    load = Load(cluster.url, name)
    load.start()
    try:
        time.sleep(1.0)  # traffic on every instance before the first restart
        before = load.total
        started = time.monotonic()
        cluster.rolling_restart()
        took = time.monotonic() - started
        during = load.total - before
        time.sleep(1.0)  # and after the last one
    finally:
        load.finish()
    rows = _db_rows(cluster.pg_url, name)
    lost = [rid for rid in load.acked if rid not in rows]
    stale = [rid for rid, n in load.acked.items() if rid in rows and rows[rid] != n]
    summary = (
        f"{load.total} requests through nginx ({dict(load.ops)}), {during} of them during the "
        f"{took:.1f} s rolling restart; {len(load.failures)} failed; {len(load.acked)} acknowledged "
        f"creates, {len(lost)} missing from the database, {len(stale)} with a lost acknowledged update; "
        f"restarts: {cluster.restarts[-INSTANCES:]}"
    )
    print(summary)
    assert not load.failures, (
        summary
        + "\nfailures:\n"
        + "\n".join(load.failures[:20])
        + ("\nnginx 5xx:\n" + "\n".join(_upstream_errors(cluster)[:20]))
    )
    assert not lost and not stale, summary
    assert during > 100, summary  # the load really ran while instances restarted
    # Every instance served requests of this test after its restart (none stayed out of rotation).
    used = Counter(re.findall(r"upstream=(\S+)", cluster.log("access.log")))
    assert set(cluster.instances) <= set(used), used


class Subscriber:
    """A realtime client through nginx that behaves like the SDKs: when its stream ends it
    reconnects at once, and on each PB_CONNECT it subscribes again (through nginx)."""

    def __init__(self, url: str, topic: str) -> None:
        self.url, self.topic = url, topic
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connects: list[tuple[float, str]] = []  # (monotonic time, client id)
        self.ends: list[float] = []  # when a stream ended
        self.errors: list[str] = []
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.connected.wait(10), f"no PB_CONNECT through nginx: {self.errors}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._client.stream("GET", self.url + "/api/realtime") as response:
                    if response.status_code != 200:
                        self.errors.append(f"GET /api/realtime: {response.status_code}")
                        time.sleep(0.2)
                        continue
                    name, data = "", ""
                    for line in response.iter_lines():
                        if line.startswith("event:"):
                            name = line[6:]
                        elif line.startswith("data:"):
                            data = line[5:]
                        elif line == "" and name:
                            self._event(name, json.loads(data))
                            name, data = "", ""
            except httpx.HTTPError as exc:
                if self._stop.is_set():
                    return
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self.ends.append(time.monotonic())

    def _event(self, name: str, data: Any) -> None:
        if name == "PB_CONNECT":
            self.connects.append((time.monotonic(), data["clientId"]))
            r = httpx.post(
                self.url + "/api/realtime",
                json={"clientId": data["clientId"], "subscriptions": [self.topic]},
                timeout=10,
            )
            if r.status_code != 204:
                self.errors.append(f"subscribe: {r.status_code} {r.text}")
            self.connected.set()
        elif name == self.topic:
            self.events.put(data)

    def expect(self, record_id: str, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while True:
            data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if data["record"]["id"] == record_id:
                return

    def close(self) -> None:
        self._stop.set()
        self._client.close()


def _what_nginx_saw(cluster: Cluster) -> str:
    """For a failure's message: nginx's answers for /api/realtime and its errors, with the
    restarts' timings (a 502 once came from a subscription during a restart; these tell which
    instance answered what)."""
    access = [line for line in cluster.log("access.log").splitlines() if "/api/realtime" in line]
    errors = [line for line in cluster.log("error.log").splitlines() if "[error]" in line or "[warn]" in line]
    return "\n".join(["access:", *access[-20:], "errors:", *errors[-20:], "restarts:", *cluster.restarts])


def test_realtime_through_nginx_across_restarts(cluster: Cluster) -> None:
    name = f"live_{secrets.token_hex(3)}"
    _collection(cluster.url, name)
    sub = Subscriber(cluster.url, f"{name}/*")
    try:
        # A create through nginx reaches the subscriber (connected through nginx).
        r = httpx.post(f"{cluster.url}/api/collections/{name}/records", json={"title": "via nginx"})
        assert r.status_code == 200, r.text
        sub.expect(r.json()["id"])
        # A create on each instance directly: the stream is held by one of them, so at least two
        # of these events cross from one instance to another (through Redis).
        for instance in cluster.instances:
            r = httpx.post(f"http://{instance}/api/collections/{name}/records", json={"title": instance})
            assert r.status_code == 200, r.text
            sub.expect(r.json()["id"])
        # Restart the instances one at a time (rolling-restart.sh, one instance per run) until the
        # one holding the stream is drained: the stream ends, and the client reconnects through
        # nginx to an instance still in rotation (PB_CONNECT, a new id) and hears of creates again.
        first = sub.connects[-1][1]
        restarted = 0
        for instance in cluster.instances:
            cluster.rolling_restart(instance)
            restarted += 1
            deadline = time.monotonic() + 2
            while len(sub.connects) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            if len(sub.connects) >= 2:
                break
        seen = _what_nginx_saw(cluster)
        assert len(sub.connects) == 2 and sub.connects[-1][1] != first, (sub.connects, sub.errors, seen)
        assert len(sub.ends) == 1, (sub.ends, seen)
        gap = sub.connects[-1][0] - sub.ends[0]
        assert not sub.errors, (sub.errors, seen)
        r = httpx.post(f"{cluster.url}/api/collections/{name}/records", json={"title": "after"})
        assert r.status_code == 200, r.text
        sub.expect(r.json()["id"])
        print(
            f"realtime: the stream's instance was the {restarted}. restarted; the client reconnected "
            f"through nginx {gap:.3f} s after its stream ended; restarts: {cluster.restarts[-restarted:]}"
        )
        assert gap < 2, gap
    finally:
        sub.close()


def test_docs_show_this_configuration() -> None:
    """docs/deploy.md shows deploy/nginx/hearth.conf as it is, and the nginx.conf lines the test
    adds that a team needs too."""
    doc = (ROOT / "docs" / "deploy.md").read_text()
    assert CONF.read_text().rstrip("\n") in doc, "docs/deploy.md must show deploy/nginx/hearth.conf verbatim"
    assert "worker_shutdown_timeout 10s;" in doc and "worker_shutdown_timeout 10s;" in MAIN_CONF
