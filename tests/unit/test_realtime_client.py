"""A realtime client's queue (hearth.realtime.hub.Client): bounded in messages and in bytes, a
client too far behind is dropped once, and nothing is kept for a closed one."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tests.support.realtime import next_chunk

from hearth.http import sse
from hearth.realtime.hub import QUEUE_BYTES, QUEUE_LIMIT, Client


async def test_a_client_too_many_messages_behind_is_dropped_once(caplog: pytest.LogCaptureFixture) -> None:
    c = Client("c1")
    for _ in range(QUEUE_LIMIT):
        c.send(b"m")
    assert not c.closed and c.queued == QUEUE_LIMIT
    with caplog.at_level(logging.WARNING, "hearth.realtime"):
        for _ in range(50):
            c.send(b"m")  # the hub keeps sending until the stream has ended
    assert c.closed
    assert [r.getMessage() for r in caplog.records] == ["realtime client c1 is not reading; disconnecting it"]
    assert c.queued == 0 and await next_chunk(c) is None and not c.pending


async def test_a_client_too_many_bytes_behind_is_dropped() -> None:
    c = Client("c2")
    big = b"x" * (QUEUE_BYTES + 10)
    c.send(big)  # one message larger than the bound is taken when nothing else waits
    assert await next_chunk(c) == big and c.queued == 0
    chunk = b"y" * (QUEUE_BYTES // 4)
    for _ in range(4):
        c.send(chunk)
    assert not c.closed
    assert await next_chunk(c) == chunk  # what the stream takes no longer counts
    c.send(chunk)
    assert not c.closed and c.queued == QUEUE_BYTES
    c.send(b"z")
    assert c.closed and await next_chunk(c) is None


async def test_a_closed_client_keeps_nothing() -> None:
    c = Client("c3")
    c.send(b"a")
    c.close()
    c.send(b"b")
    c.drop()  # already closed: no second close, no log
    c.close()
    assert await next_chunk(c) is None and not c.pending and c.queued == 0


async def test_a_backlog_is_written_in_one_go_and_the_end_comes_after_it() -> None:
    client = Client("c")
    for part in (b"one\n\n", b"two\n\n", b"three\n\n"):
        client.send(part)
    assert await next_chunk(client) == b"one\n\ntwo\n\nthree\n\n"
    assert client.queued == 0
    client.send(b"four\n\n")
    client.close()  # a close racing a send: nothing more is written
    assert await next_chunk(client) is None


async def test_a_waiting_stream_wakes_for_a_message_and_for_the_close() -> None:
    client = Client("w")
    waiting = asyncio.ensure_future(next_chunk(client))
    await asyncio.sleep(0)
    assert not waiting.done()
    client.send(b"one\n\n")
    assert await waiting == b"one\n\n"
    waiting = asyncio.ensure_future(next_chunk(client))
    await asyncio.sleep(0)
    client.close()
    assert await waiting is None and client.ended.done()


async def test_a_stream_whose_write_stalls_drops_its_client_and_one_that_hangs_up_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server side of ASGI stands in for granian here: `send` never finishes for the stalled
    stream, and `receive` answers http.disconnect for the one whose peer hangs up."""
    monkeypatch.setattr(sse, "WRITE_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(sse, "SWEEP_SECONDS", 0.05)
    monkeypatch.setattr(sse, "GRACE_SECONDS", 60)  # no connection to cut here
    ended: list[str] = []
    stalled, healthy, leaving = Client("stalled"), Client("healthy"), Client("leaving")
    hang_up = asyncio.get_running_loop().create_future()
    written: list[bytes] = []

    async def never_done(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body":
            await asyncio.Event().wait()

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body":
            written.append(message["body"])  # type: ignore[arg-type]

    async def quiet() -> dict[str, object]:
        await asyncio.Event().wait()
        return {}

    async def leaves() -> dict[str, object]:
        await hang_up
        return {"type": "http.disconnect"}

    def run(c: Client, snd: object, rcv: object) -> asyncio.Task[None]:
        stream = sse.EventStream(c, lambda src: ended.append(src.id))
        return asyncio.ensure_future(stream({"type": "http"}, rcv, snd))  # type: ignore[arg-type]

    tasks = [run(stalled, never_done, quiet), run(healthy, send, quiet), run(leaving, send, leaves)]
    for c in (stalled, healthy, leaving):
        c.send(b"data:1\n\n")
    await asyncio.sleep(0.05)
    hang_up.set_result(None)
    await asyncio.wait_for(tasks[2], 1)  # heard at once, with nothing to write
    assert ended == ["leaving"] and leaving.closed
    await asyncio.sleep(0.4)
    assert stalled.closed and not healthy.closed  # dropped by the watcher, the reader kept
    healthy.send(b"data:2\n\n")
    await asyncio.sleep(0.05)
    assert written.count(b"data:2\n\n") == 1
    healthy.close()
    await asyncio.wait_for(tasks[1], 1)
    tasks[0].cancel()
