"""Realtime behaviour best checked inside one process (the e2e tests cover streams across
processes and instances)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from hearth.hooks.catalog import Hooks
from hearth.query.context import AuthState
from hearth.realtime import hub as hub_module
from hearth.realtime.hub import IDLE_SECONDS, Hub
from tests.conftest import Api
from tests.support.realtime import next_chunk


async def test_a_client_sent_nothing_for_five_minutes_is_disconnected_as_in_pocketbase(api: Api) -> None:
    assert IDLE_SECONDS == 300
    hub = api.app.state.hearth.realtime
    idle, busy = await hub.connect(""), await hub.connect("")
    hub.idle_seconds = 0.3
    try:
        await asyncio.sleep(0.4)
        busy.send(b"an event")  # a message resets the clock
        hub._close_idle()  # what the heartbeat does every 30 s
        assert await asyncio.wait_for(next_chunk(idle), 1) is None  # its stream ends
        assert list(busy.pending) == [b"an event"] and not busy.closed
    finally:
        hub.idle_seconds = IDLE_SECONDS
        hub.disconnect(idle)
        hub.disconnect(busy)


async def test_callers_becoming_active_together_share_one_catch_up(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second catch-up running after a first caller registered its request would skip the
    answer to that request (the process then answers 503 after 10 s)."""
    hub = api.app.state.hearth.realtime
    calls = 0
    release = asyncio.Event()

    async def slow_catch_up() -> None:
        nonlocal calls
        calls += 1
        await release.wait()  # a read waiting for a pool connection

    monkeypatch.setattr(hub.bus, "catch_up", slow_catch_up)
    assert not hub.clients and not hub._pending
    waiting = [asyncio.ensure_future(hub._becoming_active()) for _ in range(5)]
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(*waiting)
    assert calls == 1


# Requests and answers between processes on the bus (record events are addressed to everyone).
BUS_REQUESTS = "SELECT COUNT(*) FROM _hearth_rt_events WHERE target LIKE 'process:%'"


@asynccontextmanager
async def other_process(api: Api) -> AsyncIterator[Hub]:
    """A second hub on the same database and machine: for the app's hub, another worker process
    (a tag, a socket and a bus of its own; none of the app's hooks)."""
    h = api.app.state.hearth
    hub = Hub(h.records, h.presenter, Hooks(), scope=h.config.data_identity)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


async def bus_requests(api: Api) -> int:
    row = await api.app.state.hearth.db.fetch_one(BUS_REQUESTS)
    return int(row[0])


async def new_user(api: Api) -> tuple[str, str]:
    """A user's id and token."""
    email = f"{secrets.token_hex(4)}@example.com"
    body = {"email": email, "password": "Secret-pass-123", "passwordConfirm": "Secret-pass-123"}
    r = await api.client.post("/api/collections/users/records", json=body)
    assert r.status_code == 200, r.text
    r = await api.client.post(
        "/api/collections/users/auth-with-password", json={"identity": email, "password": "Secret-pass-123"}
    )
    return r.json()["record"]["id"], r.json()["token"]


async def test_a_request_for_another_process_of_this_machine_goes_over_its_socket_not_the_database(
    api: Api,
) -> None:
    """The answers are the owner's, as through the bus: applied (with the auth the owner reads
    itself), 403, 400, 404, and the OAuth2 redirect; and the bus carries none of it."""
    hub = api.app.state.hearth.realtime
    ann, ann_token = await new_user(api)
    _, bob_token = await new_user(api)
    async with other_process(api) as sibling:
        client = await sibling.connect("127.0.0.1")  # the test client's address
        elsewhere = await sibling.connect("10.0.0.9")
        before = await bus_requests(api)

        async def subscribe(client_id: str, token: str = "", subs: tuple[str, ...] = ("users/*",)) -> Any:
            headers = {"Authorization": token} if token else {}
            body = {"clientId": client_id, "subscriptions": list(subs)}
            return await api.client.post("/api/realtime", json=body, headers=headers)

        r = await subscribe(client.id, ann_token, ("users/*", "@oauth2"))
        assert r.status_code == 204, r.text
        assert set(client.subscriptions) == {"users/*", "@oauth2"}
        assert client.auth.id == ann and client.auth.record is not None
        assert (await subscribe(client.id, bob_token)).status_code == 403
        assert (await subscribe(elsewhere.id)).status_code == 400
        r = await subscribe(sibling.tag + "Q" * 32)
        assert r.status_code == 404 and r.json()["message"] == "Missing or invalid client id."
        r = await api.client.get("/api/oauth2-redirect", params={"state": client.id, "code": "c0de"})
        assert r.status_code == 307 and r.headers["location"].endswith("oauth2-redirect-success")
        assert b'"code":"c0de"' in (await next_chunk(client) or b"")
        assert await bus_requests(api) == before
        assert not hub._pending and sibling.tag in hub.local._peers  # one connection, kept


async def test_without_the_socket_requests_go_through_the_bus_as_before(api: Api) -> None:
    """A process this one cannot reach directly (another machine's, or its socket closed)."""
    async with other_process(api) as sibling:
        client = await sibling.connect("127.0.0.1")
        await sibling.local.stop()
        before = await bus_requests(api)
        r = await api.client.post("/api/realtime", json={"clientId": client.id, "subscriptions": ["users/*"]})
        assert r.status_code == 204, r.text
        assert set(client.subscriptions) == {"users/*"}
        r = await api.client.post("/api/realtime", json={"clientId": sibling.tag + "Q" * 32, "subscriptions": []})
        assert r.status_code == 404
        assert await bus_requests(api) == before + 4  # a request and an answer each


async def test_an_owner_that_dies_does_not_hold_the_asker_past_the_timeout(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request waiting on the owner's socket ends with 503 the moment the owner is gone; the
    next one, finding no socket, goes by the bus and gives up after REQUEST_SECONDS (its row
    stays until the heartbeat removes it)."""
    monkeypatch.setattr(hub_module, "REQUEST_SECONDS", 1.0)
    async with other_process(api) as sibling:
        client = await sibling.connect("127.0.0.1")

        async def stuck(collection_id: str, record_id: str) -> AuthState:
            await asyncio.Event().wait()  # the owner reads the requester's record, and hangs
            raise AssertionError

        monkeypatch.setattr(sibling, "_auth", stuck)
        body = {"clientId": client.id, "subscriptions": ["users/*"]}
        waiting = asyncio.ensure_future(api.client.post("/api/realtime", json=body))
        while not sibling.local._replies:
            await asyncio.sleep(0.01)
        died = time.monotonic()
        await sibling.local.stop()  # what the kernel does to a killed process's sockets
        await sibling.bus.stop()
        assert (await waiting).status_code == 503
        assert time.monotonic() - died < 0.5
        r = await api.client.post("/api/realtime", json=body)
        assert r.status_code == 503
        assert 1.0 <= time.monotonic() - died < 3.0
