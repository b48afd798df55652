"""Real restarts and kills under load (issue 13, "Faults survived"): PostgreSQL restarted and
stopped, Redis SIGKILLed, one of two `hearth serve` instances SIGKILLed or frozen (SIGSTOP) in
the middle of a write, while client threads keep creating, reading and listing records and SSE
subscribers listen.

Each test owns its servers (tests/support/own_servers.py: a throwaway PostgreSQL cluster, a
throwaway redis-server); the shared servers on 5432 and 6379 are never touched. Checked: every
failed request is PocketBase's 503 envelope (no 500, no request longer than the client timeout,
no traceback in the server logs), the service heals by itself, no acknowledged write is lost,
and realtime subscribers get events again. The figures are printed (`pytest -s`) and recorded in
docs/faults.md ("Real restarts and kills").
"""

from __future__ import annotations

import json
import os
import random
import signal
import string
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import OPEN
from tests.e2e.conftest import ADMIN, Server, hearth_cli, start_server, stop_server, superuser_token
from tests.e2e.test_realtime import Stream
from tests.support.own_servers import PgCluster, RedisServer

CLIENT_TIMEOUT = 10.0  # no request may take longer (HEARTH_DB_TIMEOUT=1, HEARTH_DB_QUERY_TIMEOUT=2)
RECOVER_FIRST = 5.0  # seconds after the server is back: the first request succeeds within this
RECOVER_STEADY = 10.0  # ... and every request from this on


def report(line: str) -> None:
    print(f"\n[faults] {line}")


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_DB_TIMEOUT", "1")
    monkeypatch.setenv("HEARTH_DB_QUERY_TIMEOUT", "2")


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[PgCluster]:
    with PgCluster() as cluster:
        yield cluster


@pytest.fixture
def pg(pg_cluster: PgCluster) -> PgCluster:
    """The module's own cluster, running (a test may have left it stopped) and emptied."""
    if not (pg_cluster.data / "postmaster.pid").exists():
        pg_cluster.start()
    pg_cluster.sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return pg_cluster


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


def new_id() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=15))


# ----- load --------------------------------------------------------------------------------------
@dataclass
class Outcome:
    start: float
    end: float
    op: str
    url: str
    status: int  # 0: no HTTP answer (see `error`)
    error: str = ""  # the exception, or what is wrong with an error answer


def check_answer(r: httpx.Response) -> str:
    """Empty for a 2xx or a clean 503 (PocketBase's envelope with a message), else what is wrong
    with it."""
    if r.status_code < 300:
        return ""
    try:
        body = r.json()
    except ValueError:
        return f"{r.status_code} not JSON: {r.text[:200]}"
    if r.status_code != 503:
        return f"{r.status_code}: {r.text[:200]}"
    if not (
        isinstance(body, dict)
        and set(body) == {"status", "message", "data"}
        and body["status"] == 503
        and isinstance(body["message"], str)
        and body["message"]
        and body["data"] == {}
    ):
        return f"503 not PocketBase's envelope: {r.text[:200]}"
    return ""


class Load:
    """Client threads creating (with their own ids), reading back and listing records of
    `collection`, round-robin over the instances in `urls` (a test may replace the list), until
    stopped."""

    def __init__(
        self, urls: list[str], collection: str, threads: int = 4, timeout: float = CLIENT_TIMEOUT
    ) -> None:
        self.urls = list(urls)
        self.timeout = timeout
        self.collection = collection
        self.outcomes: list[Outcome] = []
        self.acked: dict[str, float] = {}  # id -> when answered, creates answered 200
        self.sent: dict[str, float] = {}  # id -> when sent, of those creates
        self.unacked: set[str] = set()  # creates answered otherwise (may or may not have landed)
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]
        for t in self._threads:
            t.start()

    def _run(self, n: int) -> None:
        i = n
        with httpx.Client(timeout=self.timeout) as http:
            while not self._stop.is_set():
                urls = self.urls
                url = urls[i % len(urls)]
                op = ("create", "get", "list")[i % 3]
                i += 1
                base = f"{url}/api/collections/{self.collection}/records"
                rid = ""
                start = time.monotonic()
                try:
                    if op == "create":
                        rid = new_id()
                        r = http.post(base, json={"id": rid, "t": f"load {rid}"})
                    elif op == "get" and self.acked:
                        r = http.get(f"{base}/{random.choice(list(self.acked))}")
                    else:
                        r = http.get(base, params={"perPage": 20, "skipTotal": 1})
                    status, error = r.status_code, check_answer(r)
                except httpx.HTTPError as exc:
                    status, error = 0, type(exc).__name__
                end = time.monotonic()
                with self._lock:
                    self.outcomes.append(Outcome(start, end, op, url, status, error))
                    if rid:
                        if status == 200:
                            self.acked[rid] = end
                            self.sent[rid] = start
                        else:
                            self.unacked.add(rid)
                if status != 200:
                    time.sleep(0.02)  # as a client would: no busy loop against a 503

    def dump(self, path: Path) -> None:
        """Every outcome, for a look after a failure."""
        with self._lock:
            rows = [
                [o.start - self.t0, o.end - self.t0, o.op, o.url, o.status, o.error] for o in self.outcomes
            ]
        path.write_text(json.dumps(rows))

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(CLIENT_TIMEOUT + 5)
            assert not t.is_alive(), "a client thread hung"

    def since(self, t: float, until: float = float("inf")) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if t <= o.start < until]

    def statuses(self, outcomes: list[Outcome]) -> dict[str, int]:
        return dict(Counter(str(o.status) if o.status else o.error for o in outcomes))

    def recovery(self, back: float, until: float = float("inf")) -> tuple[float, float]:
        """Seconds after `back` (the server was up again) until the first request started
        since answered 200, and until every request from then on (to `until`) did."""
        # Only requests that ended before the next fault began (`until`) count here.
        after = sorted((o for o in self.since(back) if o.end < until), key=lambda o: o.start)
        first = next((o.end - back for o in after if o.status == 200), float("inf"))
        failed = [o.end - back for o in after if o.status != 200]
        return first, max(failed, default=0.0)


# ----- realtime ------------------------------------------------------------------------------------
class Subscriber:
    """A realtime client as the SDKs behave: connects (to the first of `urls` that answers),
    subscribes to `topic`, and when its stream ends connects and subscribes again, to the next
    URL if one refuses. Records the `t` of every record event it receives."""

    def __init__(self, urls: list[str], topic: str) -> None:
        self.urls = urls
        self.topic = topic
        self.seen: dict[str, float] = {}
        self.connects: list[tuple[float, str]] = []  # when, where (subscribed)
        self.url = ""
        self.client_id = ""  # of the current connection
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self.wait_connected(1, 15)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            url = self.urls[i % len(self.urls)]
            try:
                self._session(url)
            except (httpx.HTTPError, ValueError, StopIteration):
                i += 1  # refused or cut: try the next URL (with one URL: the same again)
            if not self._stop.is_set():
                time.sleep(0.2)

    def _session(self, url: str) -> None:
        with httpx.Client(timeout=httpx.Timeout(5, read=None)) as http:
            with http.stream("GET", url + "/api/realtime") as r:
                self._response = r
                if r.status_code != 200:
                    raise ValueError(r.status_code)
                events = self._events(r)
                name, data = next(events)
                if name != "PB_CONNECT":
                    raise ValueError(name)
                s = http.post(
                    url + "/api/realtime", json={"clientId": data["clientId"], "subscriptions": [self.topic]}
                )
                if s.status_code != 204:
                    return  # e.g. 503 during an outage: connect again
                with self._cond:
                    self.url, self.client_id = url, data["clientId"]
                    self.connects.append((time.monotonic(), url))
                    self._cond.notify_all()
                for name, data in events:
                    if name == self.topic:
                        with self._cond:
                            self.seen[data["record"]["t"]] = time.monotonic()
                            self._cond.notify_all()

    @staticmethod
    def _events(r: httpx.Response) -> Iterator[tuple[str, Any]]:
        name, data = "", ""
        for line in r.iter_lines():
            if line.startswith("event:"):
                name = line[6:]
            elif line.startswith("data:"):
                data = line[5:]
            elif line == "" and name:
                yield name, json.loads(data)
                name, data = "", ""

    def wait_connected(self, count: int, timeout: float) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.connects) >= count, timeout), (
                "realtime: not (re)connected"
            )

    def missed(self, load: Load) -> list[tuple[float, float]]:
        """When the acknowledged creates whose event this subscriber never got were sent and answered.
        A write's event is published between the two, so a write answered just after a
        (re)subscription may still have published before it: judge by the whole span."""
        return [(load.sent[rid], load.acked[rid]) for rid in self.missed_ids(load)]

    def missed_ids(self, load: Load) -> list[str]:
        with self._cond:
            return [rid for rid in load.acked if f"load {rid}" not in self.seen]

    def wait_for(self, t: str, timeout: float) -> float:
        """When the event of the record with this `t` arrived."""
        with self._cond:
            assert self._cond.wait_for(lambda: t in self.seen, timeout), f"realtime event {t!r} never arrived"
            return self.seen[t]

    def stop(self) -> None:
        """Connect no more (the stream ends when its server stops)."""
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if self._response is not None:
            self._response.close()
        self._thread.join(5)


def delivered(http: httpx.Client, write_to: str, sub: Subscriber, collection: str, timeout: float) -> float:
    """Write a marker record through `write_to` (retrying 503s) and return how long until `sub`
    received its event."""
    t = f"marker {new_id()}"
    start = time.monotonic()
    while True:
        r = http.post(f"{write_to}/api/collections/{collection}/records", json={"t": t})
        if r.status_code == 200:
            break
        assert r.status_code == 503 and not check_answer(r), r.text
        assert time.monotonic() - start < timeout, "marker write kept failing"
        time.sleep(0.1)
    return sub.wait_for(t, timeout - (time.monotonic() - start)) - start


# ----- set-up --------------------------------------------------------------------------------------
def prepare(data_dir: Path, db_url: str) -> None:
    done = hearth_cli("superuser", "upsert", *ADMIN, "--db", db_url, "--dir", str(data_dir))
    assert done.returncode == 0, done.stderr


def create_notes(url: str) -> None:
    r = httpx.post(
        url + "/api/collections",
        json={"name": "notes", "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]},
        headers={"Authorization": superuser_token(url)},
    )
    assert r.status_code == 200, r.text


def stored_ids(pg: PgCluster) -> set[str]:
    return set(pg.sql("SELECT id FROM notes"))


def check_logs(servers: list[Server]) -> None:
    for s in servers:
        log = s.log()
        assert "Traceback" not in log and "[ERROR]" not in log, log[-5000:]


def assert_clean(load: Load, allowed_errors: frozenset[str] = frozenset()) -> None:
    bad = [o for o in load.outcomes if o.error and o.error not in allowed_errors]
    assert not bad, Counter(o.error for o in bad).most_common(5)
    slowest = max(o.end - o.start for o in load.outcomes)
    assert slowest < CLIENT_TIMEOUT


def lost_writes(load: Load, pg: PgCluster) -> tuple[int, int]:
    """(acknowledged creates missing from the database, unacknowledged creates that landed)."""
    ids = stored_ids(pg)
    return len(set(load.acked) - ids), len(load.unacked & ids)


def kill_group(server: Server) -> None:
    """SIGKILL the whole instance (granian's main process and its workers), as an OOM kill of its
    container would. (Its sockets close with it: PostgreSQL rolls back its transactions at once.
    A machine that vanishes leaves them open: see the frozen instance below.)"""
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait()


# ----- (a) PostgreSQL restarted and stopped mid-load ----------------------------------------------------
def test_postgres_restart_and_stop_mid_load(tmp_path: Path, pg: PgCluster) -> None:
    prepare(tmp_path, pg.url)
    a = start_server(tmp_path, pg.url)
    b = start_server(tmp_path, pg.url)
    subs: list[Subscriber] = []
    load: Load | None = None
    try:
        create_notes(a.url)
        subs = [Subscriber([a.url], "notes"), Subscriber([b.url], "notes")]
        load = Load([a.url, b.url], "notes")
        time.sleep(1)
        events: list[tuple[str, float, float]] = []  # what, PostgreSQL away from, back at

        down = time.monotonic()
        pg.restart("fast")
        events.append(("pg_ctl restart -m fast", down, time.monotonic()))
        time.sleep(2)

        # Immediate: every backend killed without a checkpoint, as in a crash; the start replays
        # the WAL. Acknowledged commits must survive that too.
        down = time.monotonic()
        pg.stop("immediate")
        time.sleep(3)
        pg.start()
        events.append(("pg_ctl stop -m immediate, 3 s, start", down, time.monotonic()))
        time.sleep(2)
        load.stop()

        with httpx.Client(timeout=CLIENT_TIMEOUT) as http:
            latency = [delivered(http, w, s, "notes", 10) for w, s in ((b.url, subs[0]), (a.url, subs[1]))]
        lost, landed = lost_writes(load, pg)

        report(f"(a) {len(load.outcomes)} requests, {len(load.acked)} acknowledged creates, 2 instances")
        for n, (what, away, back) in enumerate(events):
            first, steady = load.recovery(back, events[n + 1][1] if n + 1 < len(events) else float("inf"))
            during = load.statuses(load.since(away, back))
            report(
                f"(a) {what}: PostgreSQL away {back - away:.2f} s; during: {during}; after it was back: "
                f"first 200 after {first:.2f} s, all 200 after {steady:.2f} s"
            )
            assert first < RECOVER_FIRST and steady < RECOVER_STEADY
        report(f"(a) all requests by status: {load.statuses(load.outcomes)}")
        report(f"(a) slowest request {max(o.end - o.start for o in load.outcomes):.2f} s")
        report(f"(a) writes lost {lost}; unacknowledged creates that landed anyway {landed}")
        report(
            "(a) realtime after recovery: "
            + ", ".join(
                f"{s.url} reconnected {len(s.connects) - 1}x, event after {t * 1000:.0f} ms"
                for s, t in zip(subs, latency, strict=True)
            )
        )
        # The database broker writes a record's event with the record: none may be missing.
        missed = [len(s.missed(load)) for s in subs]
        report(f"(a) record events missed by the two subscribers: {missed[0]}, {missed[1]}")
        assert_clean(load)
        assert lost == 0
        assert missed == [0, 0]
        check_logs([a, b])
    finally:
        if load is not None:
            load.stop()
            load.dump(tmp_path / "outcomes.json")
        for s in subs:
            s.stop()
        stop_server(a)
        stop_server(b)
        for s in subs:
            s.close()


# ----- (b) Redis SIGKILLed mid-load ---------------------------------------------------------------------
def test_redis_killed_mid_load(
    tmp_path: Path, pg: PgCluster, redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTH_REDIS_URL", redis.url)
    prepare(tmp_path, pg.url)
    a = start_server(tmp_path, pg.url)
    # Its URL written differently, B is not A's sibling for the direct channel between the
    # processes of one machine (hearth.realtime.local_channel): a request from one to the other
    # goes through Redis, as between machines.
    b = start_server(tmp_path, pg.url + "?application_name=hearth-b")
    subs: list[Subscriber] = []
    load: Load | None = None
    try:
        create_notes(a.url)
        # Rate limits on (far above this load), so every request counts in Redis too.
        rules = [{"label": "/api/", "audience": "", "duration": 10, "maxRequests": 1_000_000}]
        r = httpx.patch(
            a.url + "/api/settings",
            json={"rateLimits": {"enabled": True, "rules": rules}},
            headers={"Authorization": superuser_token(a.url)},
        )
        assert r.status_code == 200, r.text
        subs = [Subscriber([b.url], "notes"), Subscriber([a.url], "notes")]
        with httpx.Client(timeout=CLIENT_TIMEOUT) as http:
            before = delivered(http, a.url, subs[0], "notes", 10)
            load = Load([a.url, b.url], "notes")
            time.sleep(1)
            away = time.monotonic()
            redis.kill()
            time.sleep(0.5)
            # A subscription sent to the other instance than its stream's must go through Redis:
            # a clean 503 while Redis is away, a 204 once it is back.
            stream = Stream(b.url)
            try:
                start = time.monotonic()
                r = http.post(
                    a.url + "/api/realtime", json={"clientId": stream.client_id, "subscriptions": ["notes"]}
                )
                cross = (r.status_code, check_answer(r), time.monotonic() - start)
                time.sleep(2.5)
                redis.start()
                back = time.monotonic()
                # An event written on A reaches the subscriber on B (and the other way round).
                after = [delivered(http, w, s, "notes", 15) for w, s in ((a.url, subs[0]), (b.url, subs[1]))]
                healed = time.monotonic() - back
                r = http.post(
                    a.url + "/api/realtime", json={"clientId": stream.client_id, "subscriptions": ["notes"]}
                )
                cross_after = r.status_code
            finally:
                stream.close()
            time.sleep(1)
            load.stop()
        lost, landed = lost_writes(load, pg)
        during = load.statuses(load.since(away, back))
        first, steady = load.recovery(back)
        report(f"(b) {len(load.outcomes)} requests, {len(load.acked)} acknowledged creates, 2 instances")
        report(
            f"(b) Redis SIGKILLed for {back - away:.2f} s; during: {during}; after: first 200 after {first:.2f} s, all 200 after {steady:.2f} s"
        )
        report(f"(b) all requests by status: {load.statuses(load.outcomes)}")
        report(
            f"(b) cross-instance event A->B {before * 1000:.0f} ms before; after Redis is back: A->B {after[0]:.2f} s, B->A {after[1]:.2f} s (both within {healed:.2f} s of the restart)"
        )
        report(
            f"(b) subscription across instances while Redis is away: {cross[0]} {cross[1] or 'clean'} "
            f"in {cross[2] * 1000:.0f} ms; after: {cross_after}"
        )
        report(f"(b) writes lost {lost}; unacknowledged creates that landed anyway {landed}")
        report("(b) subscribers reconnected: " + ", ".join(f"{len(s.connects) - 1}x" for s in subs))
        # Events of writes made while Redis was away are dropped (the writes stand): only those
        # may be missing.
        missed = [s.missed(load) for s in subs]
        report(
            f"(b) record events missed by the two subscribers: {len(missed[0])}, {len(missed[1])} (writes during the outage)"
        )
        assert_clean(load)
        assert lost == 0
        # (An entry added just before the kill and not yet read dies with Redis too.)
        assert all(sent <= back + healed and acked >= away - 1 for m in missed for sent, acked in m)
        assert cross[0] == 503 and not cross[1] and cross[2] < 3 and cross_after == 204
        check_logs([a, b])
    finally:
        if load is not None:
            load.stop()
            load.dump(tmp_path / "outcomes.json")
        for s in subs:
            s.stop()
        stop_server(a)
        stop_server(b)
        for s in subs:
            s.close()


# ----- (c) one of two instances SIGKILLed ---------------------------------------------------------------
STALE_SECONDS = 120  # hearth.realtime.hub: a process row nobody vouched for this long is removed
HEARTBEAT_SECONDS = 30  # ... by the next heartbeat of any live process


def test_instance_killed_mid_load(tmp_path: Path, pg: PgCluster) -> None:
    b_started = time.monotonic()  # its first heartbeat, 30 s from now, removes the dead row
    b = start_server(tmp_path, pg.url)
    try:
        prepare(tmp_path, pg.url)
        a = start_server(tmp_path, pg.url, 1, new_session=True)  # the victim: its own process group
    except BaseException:
        stop_server(b)
        raise
    subs: list[Subscriber] = []
    load: Load | None = None
    try:
        create_notes(a.url)
        # Two clients of A (they fail over to B, as behind a load balancer), one of B.
        subs = [
            Subscriber([a.url, b.url], "notes"),
            Subscriber([a.url, b.url], "notes"),
            Subscriber([b.url], "notes"),
        ]
        dead_client = subs[0].client_id
        dead_row = "process:" + dead_client[:8]
        load = Load([a.url, b.url], "notes")
        time.sleep(1)
        rows_before = pg.sql("SELECT id FROM _hearth_rt_clients ORDER BY id")
        assert dead_row in rows_before
        killed = time.monotonic()
        kill_group(a)
        load.urls = [b.url]  # the load balancer notices

        # A subscription request naming a client of the dead instance, sent to B while A's row
        # still says it has clients: B asks A over the bus and must give up in bounded time.
        ask: list[tuple[int, str, float]] = []

        def ask_dead() -> None:
            start = time.monotonic()
            try:
                r = httpx.post(
                    b.url + "/api/realtime",
                    json={"clientId": dead_client, "subscriptions": ["notes"]},
                    timeout=30,
                )
                ask.append((r.status_code, check_answer(r), time.monotonic() - start))
            except httpx.HTTPError as exc:
                ask.append((0, type(exc).__name__, time.monotonic() - start))

        asker = threading.Thread(target=ask_dead)
        asker.start()
        with httpx.Client(timeout=CLIENT_TIMEOUT) as http:
            for s in subs[:2]:
                s.wait_connected(2, 10)
            reconnect = max(s.connects[-1][0] for s in subs[:2]) - killed
            assert all(s.url == b.url for s in subs)
            latency = [delivered(http, b.url, s, "notes", 10) for s in subs]
        asker.join(30)
        load.stop()
        rows_after = pg.sql("SELECT id FROM _hearth_rt_clients ORDER BY id")

        # Until it is removed the dead row only makes writers publish events (as B's own clients
        # do anyway). It is removed once nobody vouched for it for STALE_SECONDS, by the next
        # heartbeat of a live process: the test ages it rather than wait two minutes.
        pg.sql(
            f"UPDATE _hearth_rt_clients SET created = created - {STALE_SECONDS + 1} WHERE id = '{dead_row}'"
        )
        deadline = b_started + HEARTBEAT_SECONDS + 10
        while dead_row in pg.sql("SELECT id FROM _hearth_rt_clients") and time.monotonic() < deadline:
            time.sleep(0.2)
        rows_cleaned = pg.sql("SELECT id FROM _hearth_rt_clients ORDER BY id")
        cleaned = time.monotonic() - b_started
        counted = pg.sql("SELECT version FROM _hearth_state WHERE id = 3")

        on_b = load.since(killed + 0.5)  # after the in-flight requests to A ended
        assert all(o.url == b.url for o in on_b)
        before = [o.end - o.start for o in load.since(0, killed) if o.url == b.url]
        after = [o.end - o.start for o in on_b]
        lost, landed = lost_writes(load, pg)
        at_kill = [o for o in load.outcomes if o.url == a.url and o.status != 200]
        missed = [s.missed(load) for s in subs]
        report(f"(c) {len(load.outcomes)} requests, {len(load.acked)} acknowledged creates")
        report(
            f"(c) requests to A cut by the kill: {load.statuses(at_kill)}; to B after it: {load.statuses(on_b)}"
        )
        report(
            f"(c) B's latency before / after the kill: median {sorted(before)[len(before) // 2] * 1000:.0f} / "
            f"{sorted(after)[len(after) // 2] * 1000:.0f} ms, max {max(before) * 1000:.0f} / {max(after) * 1000:.0f} ms"
        )
        report(
            f"(c) A's SSE clients subscribed on B {reconnect:.2f} s after the kill; events after: "
            + ", ".join(f"{t * 1000:.0f} ms" for t in latency)
        )
        report(
            "(c) record events missed: A's clients "
            + ", ".join(str(len(m)) for m in missed[:2])
            + f" (written between the kill and their reconnection), B's client {len(missed[2])}"
        )
        report(f"(c) subscription naming a client of the dead instance, sent to B: {ask}")
        report(
            f"(c) realtime process rows before {len(rows_before)}, after the kill {len(rows_after)}, "
            f"after B's heartbeat ({cleaned:.0f} s after B started) {len(rows_cleaned)}; counted {counted}"
        )
        report(f"(c) writes lost {lost}; unacknowledged creates that landed anyway {landed}")
        assert lost == 0
        assert all(o.status == 200 for o in on_b), load.statuses(on_b)
        bad = [o for o in load.outcomes if o.error and not (o.url == a.url and o.status == 0)]
        assert not bad, bad[:5]
        assert not missed[2]
        assert all(sent <= killed + reconnect and acked >= killed - 1 for m in missed[:2] for sent, acked in m)
        assert len(ask) == 1 and ask[0][0] == 503 and not ask[0][1] and ask[0][2] < 12, ask
        assert dead_row in rows_after and dead_row not in rows_cleaned
        assert counted == [str(len(rows_cleaned))]
        check_logs([b])
    finally:
        if load is not None:
            load.stop()
            load.dump(tmp_path / "outcomes.json")
        for s in subs:
            s.stop()
        if a.proc.poll() is None:
            stop_server(a)
        stop_server(b)
        for s in subs:
            s.close()


# ----- (d) one of two instances frozen in the middle of a write --------------------------------------------
PUBLISH_LOCK = 80900002  # hearth.sql.system.rt_publish_lock: every write takes it while someone listens


def test_instance_frozen_mid_write(tmp_path: Path, pg: PgCluster) -> None:
    """SIGSTOP of an instance while it holds a transaction's locks: a paused VM or a network
    partition looks the same to PostgreSQL (the socket stays open, nothing is sent). The
    survivor's writes must not wait for it for good."""
    prepare(tmp_path, pg.url)
    a = start_server(tmp_path, pg.url + "?application_name=hearth-frozen", 1, new_session=True)
    b = start_server(tmp_path, pg.url)
    subs: list[Subscriber] = []
    loads: list[Load] = []
    try:
        create_notes(a.url)
        subs = [Subscriber([b.url], "notes")]  # someone listens: every write publishes
        loads.append(Load([a.url], "notes", threads=3, timeout=3))
        time.sleep(1)
        # Stop A the moment one of its transactions holds the publish lock.
        holding = (
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s USING (pid)"
            f" WHERE s.application_name = 'hearth-frozen' AND l.locktype = 'advisory'"
            f" AND l.objid = {PUBLISH_LOCK} AND l.granted"
        )
        tries = 0
        while True:
            tries += 1
            os.killpg(a.proc.pid, signal.SIGSTOP)
            if pg.sql(holding) != ["0"]:
                break
            os.killpg(a.proc.pid, signal.SIGCONT)
            assert tries < 500, "instance A never held the publish lock"
            time.sleep(0.005)
        frozen = time.monotonic()
        loads.append(Load([b.url], "notes", threads=3))
        time.sleep(3.5)
        for load in loads:
            load.stop()

        load_a, load_b = loads
        first, steady = load_b.recovery(frozen)
        writes = [o for o in load_b.outcomes if o.op == "create"]
        lost = [lost_writes(load, pg) for load in loads]
        report(f"(d) A stopped (SIGSTOP) holding the realtime publish lock, after {tries} tries")
        report(
            f"(d) the survivor B: {len(load_b.outcomes)} requests {load_b.statuses(load_b.outcomes)}, "
            f"creates {load_b.statuses(writes)}; first 200 after {first:.2f} s, all 200 after {steady:.2f} s"
        )
        slowest = max(o.end - o.start for o in writes)
        report(f"(d) B's slowest create {slowest:.2f} s (behind the frozen transaction's lock)")
        report(f"(d) requests to the frozen A: {load_a.statuses(load_a.since(frozen))}")
        report(
            f"(d) writes lost (A, B) {[x[0] for x in lost]}; unacknowledged that landed {[x[1] for x in lost]}"
        )
        with httpx.Client(timeout=CLIENT_TIMEOUT) as http:
            latency = delivered(http, b.url, subs[0], "notes", 10)
        report(f"(d) B's subscriber: an event {latency * 1000:.0f} ms after its write, A still frozen")
        assert_clean(load_b)
        assert steady < 2 + 2  # the frozen transaction ends after HEARTH_DB_QUERY_TIMEOUT (2 s) idle
        assert [x[0] for x in lost] == [0, 0]
        check_logs([b])
    finally:
        for load in loads:
            load.stop()
            load.dump(tmp_path / f"outcomes-{loads.index(load)}.json")
        for s in subs:
            s.stop()
        if a.proc.poll() is None:
            kill_group(a)
        stop_server(b)
        for s in subs:
            s.close()
