"""Realtime behaviour best checked inside one process (the e2e tests cover streams across
processes and instances)."""

from __future__ import annotations

import asyncio

import pytest

from hearth.realtime.hub import IDLE_SECONDS
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
