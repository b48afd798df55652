"""Realtime over real `hearth serve` processes: the event stream is held by one process while the
subscription and the writes go to another, on SQLite (workers + a second instance) and
PostgreSQL (two instances, one of two workers). Each client sees only what its rules let it see."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import OPEN
from tests.e2e.conftest import ADMIN, hearth_cli, running_server, superuser_token

PW = "Secret-pass-123"


class Stream:
    """An SSE client reading `GET /api/realtime` in a thread."""

    def __init__(self, url: str) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._response = self._client.send(
            self._client.build_request("GET", url + "/api/realtime"), stream=True
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        name, data = self.next()
        assert name == "PB_CONNECT"
        self.client_id: str = data["clientId"]

    def _read(self) -> None:
        name, data = "", ""
        try:
            for line in self._response.iter_lines():
                if line.startswith("event:"):
                    name = line[6:]
                elif line.startswith("data:"):
                    data = line[5:]
                elif line == "" and name:
                    self.events.put((name, json.loads(data)))
                    name, data = "", ""
        except httpx.HTTPError:
            pass

    def next(self, timeout: float = 5) -> tuple[str, Any]:
        return self.events.get(timeout=timeout)

    def none_within(self, seconds: float) -> bool:
        try:
            self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def close(self) -> None:
        self._response.close()
        self._client.close()


# Requests and answers between processes in the event table (record events are addressed to all).
BUS_REQUESTS = "SELECT COUNT(*) FROM _hearth_rt_events WHERE target LIKE 'process:%'"


def sqlite_bus_requests(data_dir: Path) -> Callable[[], int]:
    def count() -> int:
        with closing(sqlite3.connect(data_dir / "data.db")) as conn:
            return int(conn.execute(BUS_REQUESTS).fetchone()[0])

    return count


def postgres_bus_requests(url: str) -> Callable[[], int]:
    async def read() -> int:
        conn = await asyncpg.connect(url)
        try:
            return int(await conn.fetchval(BUS_REQUESTS))
        finally:
            await conn.close()

    return lambda: asyncio.run(read())


def _exercise(a: str, b: str, bus_requests: Callable[[], int] | None = None) -> None:
    """Streams on `a`; subscriptions, logins and writes through `b`. With `bus_requests`: the
    processes run on one machine, so the subscriptions and the OAuth2 redirect must reach the
    stream's process over its socket (hearth.realtime.local_channel), none through the table."""
    http = httpx.Client(base_url=b, limits=httpx.Limits(max_keepalive_connections=0))
    su = {"Authorization": superuser_token(b)}
    name = f"notes_{secrets.token_hex(3)}"
    owner_rule = "owner = @request.auth.id"
    r = http.post(
        "/api/collections",
        json={
            "name": name,
            "type": "base",
            **OPEN,
            "listRule": owner_rule,
            "viewRule": owner_rule,
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
            ],
        },
        headers=su,
    )
    assert r.status_code == 200, r.text
    tokens, ids = {}, {}
    for who in ("ann", "bob"):
        email = f"{who}{secrets.token_hex(3)}@example.com"
        r = http.post(
            "/api/collections/users/records", json={"email": email, "password": PW, "passwordConfirm": PW}
        )
        ids[who] = r.json()["id"]
        tokens[who] = http.post(
            "/api/collections/users/auth-with-password", json={"identity": email, "password": PW}
        ).json()["token"]
    streams = {who: Stream(a) for who in ("ann", "bob", "guest")}
    before = bus_requests() if bus_requests is not None else 0
    try:
        for who, s in streams.items():
            headers = {"Authorization": tokens[who]} if who in tokens else {}
            subs = [f"{name}/*", f"{name}?options=" + json.dumps({"query": {"filter": "title ~ 'keep'"}})]
            r = http.post(
                "/api/realtime", json={"clientId": s.client_id, "subscriptions": subs}, headers=headers
            )
            assert r.status_code == 204, r.text
        # A client cannot switch to someone else once authorized; unknown clients are 404.
        r = http.post(
            "/api/realtime",
            json={"clientId": streams["ann"].client_id, "subscriptions": []},
            headers={"Authorization": tokens["bob"]},
        )
        assert r.status_code == 403
        assert http.post("/api/realtime", json={"clientId": "nope", "subscriptions": []}).status_code == 404
        # A well-formed id of no live process is refused at once, not after a request times out.
        made_up = "Zz9" + secrets.token_hex(20)[:37]
        started = time.monotonic()
        assert http.post("/api/realtime", json={"clientId": made_up, "subscriptions": []}).status_code == 404
        assert time.monotonic() - started < 1.0
        # An id that names a live process but no client of it: that process answers 404.
        sibling = streams["guest"].client_id[:8] + "Q" * 32
        assert http.post("/api/realtime", json={"clientId": sibling, "subscriptions": []}).status_code == 404
        # Ann's note: only Ann hears of it (list rule), on both subscriptions (filter matches).
        r = http.post(f"/api/collections/{name}/records", json={"title": "keep me", "owner": ids["ann"]})
        assert r.status_code == 200, r.text
        note = r.json()["id"]
        got = [streams["ann"].next(), streams["ann"].next()]
        assert {(n, d["action"], d["record"]["id"]) for n, d in got} == {
            (f"{name}/*", "create", note),
            (f"{name}?options=" + json.dumps({"query": {"filter": "title ~ 'keep'"}}), "create", note),
        }
        # A title the filter refuses reaches only the plain subscription.
        http.patch(f"/api/collections/{name}/records/{note}", json={"title": "changed"})
        event, data = streams["ann"].next()
        assert event == f"{name}/*" and data["action"] == "update" and data["record"]["title"] == "changed"
        assert streams["ann"].none_within(0.5)
        # Deleted: the rule is checked on the record as it was.
        assert http.delete(f"/api/collections/{name}/records/{note}").status_code == 204
        event, data = streams["ann"].next()
        assert data["action"] == "delete" and data["record"]["id"] == note
        assert streams["bob"].none_within(0.3) and streams["guest"].none_within(0.1)
        # The OAuth2 popup flow: the provider's redirect reaches the waiting client via `b`.
        s = streams["guest"]
        assert (
            http.post(
                "/api/realtime", json={"clientId": s.client_id, "subscriptions": ["@oauth2"]}
            ).status_code
            == 204
        )
        r = http.get("/api/oauth2-redirect", params={"state": s.client_id, "code": "the-code"})
        assert r.status_code == 307 and r.headers["location"].endswith("oauth2-redirect-success")
        assert s.next() == ("@oauth2", {"state": s.client_id, "code": "the-code"})
        r = http.get("/api/oauth2-redirect", params={"state": s.client_id, "code": "again"})
        assert r.status_code == 307 and r.headers["location"].endswith("oauth2-redirect-failure"), "used once"
        if bus_requests is not None:
            assert bus_requests() == before
    finally:
        for s in streams.values():
            s.close()
        http.close()


def test_sqlite_realtime_across_processes(tmp_path: Path) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path, workers=2) as a, running_server(tmp_path) as b:
        _exercise(a, b, sqlite_bus_requests(tmp_path))
        _exercise(b, a, sqlite_bus_requests(tmp_path))


def test_postgres_realtime_across_instances(tmp_path: Path, pg_url: str) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--db", pg_url, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path, db_url=pg_url, workers=2) as a, running_server(tmp_path, db_url=pg_url) as b:
        _exercise(a, b, postgres_bus_requests(pg_url))


def test_postgres_realtime_across_instances_through_redis(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HEARTH_REDIS_URL the instances pass events through a Redis stream instead of the
    database: the same behaviour, and the stream holds the traffic."""
    import redis

    url = os.environ.get("HEARTH_TEST_REDIS", "redis://127.0.0.1:6379/0")
    prefix = f"hearth-test-{secrets.token_hex(4)}:"
    r = redis.Redis.from_url(url)
    try:
        r.ping()
    except redis.RedisError:
        pytest.skip(f"Redis not reachable at {url} (set HEARTH_TEST_REDIS)")
    monkeypatch.setenv("HEARTH_REDIS_URL", url)
    monkeypatch.setenv("HEARTH_REDIS_PREFIX", prefix)
    assert hearth_cli("superuser", "upsert", *ADMIN, "--db", pg_url, "--dir", str(tmp_path)).returncode == 0
    try:
        with running_server(tmp_path, db_url=pg_url) as a, running_server(tmp_path, db_url=pg_url) as b:
            _exercise(a, b)
        assert r.xlen(prefix + "rt") > 0
    finally:
        r.delete(prefix + "rt")
        r.close()


def test_realtime_rules_read_the_table_and_follow_the_auth_record(tmp_path: Path) -> None:
    """A rule that joins the collection to itself is checked against the real table, and a
    client whose user is logged out everywhere or deleted stops hearing what only it could."""
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path) as url:
        http = httpx.Client(base_url=url)
        su = {"Authorization": superuser_token(url)}
        name = f"items_{secrets.token_hex(3)}"
        r = http.post(
            "/api/collections",
            json={"name": name, "type": "base", **OPEN, "fields": [{"name": "title", "type": "text"}]},
            headers=su,
        )
        cid = r.json()["id"]
        fields = [
            {"name": "title", "type": "text"},
            {"name": "locked", "type": "bool"},
            {"name": "parent", "type": "relation", "collectionId": cid, "maxSelect": 1},
            {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
        ]
        rule = "parent.locked != true && owner = @request.auth.id"
        r = http.patch(
            f"/api/collections/{cid}", json={"fields": fields, "listRule": rule, "viewRule": rule}, headers=su
        )
        assert r.status_code == 200, r.text
        email = f"u{secrets.token_hex(3)}@example.com"
        user = http.post(
            "/api/collections/users/records", json={"email": email, "password": PW, "passwordConfirm": PW}
        ).json()
        token = http.post(
            "/api/collections/users/auth-with-password", json={"identity": email, "password": PW}
        ).json()["token"]
        locked = http.post(f"/api/collections/{name}/records", json={"title": "p", "locked": True}).json()
        child = http.post(
            f"/api/collections/{name}/records",
            json={"title": "c", "parent": locked["id"], "owner": user["id"]},
        ).json()
        assert (
            http.get(
                f"/api/collections/{name}/records/{child['id']}", headers={"Authorization": token}
            ).status_code
            == 404
        )
        login = {"identity": email, "password": PW}
        token2 = http.post("/api/collections/users/auth-with-password", json=login).json()["token"]
        s, s2 = Stream(url), Stream(url)
        try:
            for stream, tok in ((s, token), (s2, token2)):
                r = http.post(
                    "/api/realtime",
                    json={"clientId": stream.client_id, "subscriptions": [f"{name}/*"]},
                    headers={"Authorization": tok},
                )
                assert r.status_code == 204
            http.patch(f"/api/collections/{name}/records/{child['id']}", json={"title": "secret"})
            assert s.none_within(0.7), "the locked parent hides the child from realtime too"
            http.patch(f"/api/collections/{name}/records/{locked['id']}", json={"locked": False})
            http.patch(f"/api/collections/{name}/records/{child['id']}", json={"title": "visible"})
            for stream in (s, s2):
                _, data = stream.next()
                assert data["record"]["title"] == "visible"
            # One session logged out: its stream is a guest's, the other session's is not.
            assert (
                http.post("/api/collections/users/auth-logout", headers={"Authorization": token}).status_code
                == 204
            )
            http.patch(f"/api/collections/{name}/records/{child['id']}", json={"title": "one session left"})
            assert s2.next()[1]["record"]["title"] == "one session left"
            assert s.none_within(0.5)
            # Logged out everywhere: no stream hears of the user's records any more.
            r = http.post("/api/collections/users/auth-logout?all=1", headers={"Authorization": token2})
            assert r.status_code == 204
            http.patch(f"/api/collections/{name}/records/{child['id']}", json={"title": "after logout"})
            assert s2.none_within(0.7) and s.none_within(0.1)
        finally:
            s.close()
            s2.close()
            http.close()


def test_cascaded_deletes_and_unset_relations_are_events(tmp_path: Path) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path) as url:
        http = httpx.Client(base_url=url)
        su = {"Authorization": superuser_token(url)}
        tags = http.post(
            "/api/collections",
            json={
                "name": f"tags_{secrets.token_hex(3)}",
                "type": "base",
                **OPEN,
                "fields": [{"name": "t", "type": "text"}],
            },
            headers=su,
        ).json()
        posts = http.post(
            "/api/collections",
            json={
                "name": f"posts_{secrets.token_hex(3)}",
                "type": "base",
                **OPEN,
                "fields": [
                    {
                        "name": "main",
                        "type": "relation",
                        "collectionId": tags["id"],
                        "maxSelect": 1,
                        "cascadeDelete": True,
                    },
                    {"name": "extra", "type": "relation", "collectionId": tags["id"], "maxSelect": 5},
                ],
            },
            headers=su,
        ).json()
        a = http.post(f"/api/collections/{tags['name']}/records", json={"t": "a"}).json()["id"]
        b = http.post(f"/api/collections/{tags['name']}/records", json={"t": "b"}).json()["id"]
        cascaded = http.post(f"/api/collections/{posts['name']}/records", json={"main": a}).json()["id"]
        unset = http.post(f"/api/collections/{posts['name']}/records", json={"main": b, "extra": [a]}).json()[
            "id"
        ]
        s = Stream(url)
        try:
            r = http.post(
                "/api/realtime", json={"clientId": s.client_id, "subscriptions": [f"{posts['name']}/*"]}
            )
            assert r.status_code == 204
            assert http.delete(f"/api/collections/{tags['name']}/records/{a}").status_code == 204
            got = set()
            for _ in range(2):
                _, data = s.next()
                got.add((data["action"], data["record"]["id"], tuple(data["record"]["extra"])))
            assert got == {("delete", cascaded, ()), ("update", unset, ())}
        finally:
            s.close()
            http.close()


def test_clients_sharing_a_subscription_each_get_what_their_own_options_and_auth_allow(tmp_path: Path) -> None:
    """The fan-out groups subscriptions that see the same thing (same auth, rule kind and
    options) and checks each group once: members of a group all get the event, and a client
    whose auth or options differ gets its own answer, never a neighbour's."""
    data = tmp_path / "data"
    data.mkdir()
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(data)).returncode == 0
    with running_server(data, "", 1) as url:
        http = httpx.Client(base_url=url)
        su = {"Authorization": superuser_token(url)}
        name = f"notes_{secrets.token_hex(3)}"
        fields = [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]
        rules = {**OPEN, "listRule": "n > 1 || @request.auth.id != ''"}
        r = http.post("/api/collections", json={"name": name, "type": "base", **rules, "fields": fields}, headers=su)
        assert r.status_code == 200, r.text
        email = f"u{secrets.token_hex(3)}@example.com"
        http.post("/api/collections/users/records", json={"email": email, "password": PW, "passwordConfirm": PW})
        token = http.post(
            "/api/collections/users/auth-with-password", json={"identity": email, "password": PW}
        ).json()["token"]
        only_id = f"{name}/*?options=" + json.dumps({"query": {"fields": "id"}})
        plan = {  # who: (subscription, authorized)
            "guest1": (f"{name}/*", False),
            "guest2": (f"{name}/*", False),
            "guest_ids": (only_id, False),
            "user": (f"{name}/*", True),
        }
        streams = {who: Stream(url) for who in plan}
        try:
            for who, (sub, authorized) in plan.items():
                headers = {"Authorization": token} if authorized else {}
                r = http.post(
                    "/api/realtime",
                    json={"clientId": streams[who].client_id, "subscriptions": [sub]},
                    headers=headers,
                )
                assert r.status_code == 204, r.text
            # n = 1: the rule lets only the authorized client see it.
            low = http.post(f"/api/collections/{name}/records", json={"title": "low", "n": 1}).json()["id"]
            event, got = streams["user"].next()
            assert event == f"{name}/*" and got["record"]["id"] == low
            # n = 2: everyone; the `fields` subscriber gets only the id.
            high = http.post(f"/api/collections/{name}/records", json={"title": "high", "n": 2}).json()["id"]
            for who in ("guest1", "guest2", "user"):
                event, got = streams[who].next()
                assert event == f"{name}/*" and got["record"]["id"] == high and got["record"]["title"] == "high"
            event, got = streams["guest_ids"].next()
            assert event == only_id and got["record"] == {"id": high}
            # The guests never saw the first record.
            for who in ("guest1", "guest2", "guest_ids"):
                assert streams[who].none_within(0.2), who
        finally:
            for s in streams.values():
                s.close()
            http.close()


def _raw_stream(url: str) -> tuple[socket.socket, str]:
    """An SSE connection on a bare socket (closing it really hangs up: no reader thread holds it)
    and its client id."""
    host, port = url.rsplit("/", 1)[-1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(b"GET /api/realtime HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    seen = b""
    while not (found := re.search(rb"data:\{\"clientId\":\"(\w+)\"\}", seen)):
        chunk = sock.recv(4096)
        assert chunk, seen
        seen += chunk
    return sock, found.group(1).decode()


def test_a_client_that_hangs_up_is_forgotten_at_once(tmp_path: Path) -> None:
    """An idle stream whose peer closes the connection ends then, not at the next event or the
    5-minute idle timeout: its id stops being accepted (404) within moments."""
    with running_server(tmp_path) as url:
        streams = [_raw_stream(url) for _ in range(3)]
        for sock, _ in streams[:2]:
            sock.close()
        pending = {cid for _, cid in streams[:2]}
        deadline = time.monotonic() + 5
        with httpx.Client(base_url=url) as http:
            while pending and time.monotonic() < deadline:
                for cid in list(pending):
                    r = http.post("/api/realtime", json={"clientId": cid, "subscriptions": []})
                    if r.status_code == 404:
                        pending.discard(cid)
                time.sleep(0.05)
            assert not pending, "a client that hung up was still known after 5 s"
            r = http.post("/api/realtime", json={"clientId": streams[2][1], "subscriptions": []})
            assert r.status_code == 204, r.text
        streams[2][0].close()
