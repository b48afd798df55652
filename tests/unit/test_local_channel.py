"""The direct channel between the processes of one machine (hearth.realtime.local_channel): two
channels in one process stand for two processes; another user is a real child process run as
`nobody` when the tests run as root."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hearth.realtime.local_channel import AVAILABLE, LocalChannel, NoAnswer, socket_name

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="abstract Unix sockets are Linux's")


class Owner:
    """What a Hub answers, recorded; a request with "wait" is answered once `release` is set."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.release = asyncio.Event()

    async def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        if request.get("wait"):
            await self.release.wait()
        return {"status": 204, "n": request.get("n")}


@pytest.fixture
async def pair() -> AsyncIterator[tuple[LocalChannel, LocalChannel, Owner]]:
    """An asker and an owner (tags of 8 letters, as the Hub's), on a scope of their own."""
    scope = secrets.token_hex(8)
    owner = Owner()
    asker = LocalChannel(scope, "asker" + secrets.token_hex(2)[:3], owner.answer)
    answering = LocalChannel(scope, "owner" + secrets.token_hex(2)[:3], owner.answer)
    await asker.start()
    await answering.start()
    try:
        yield asker, answering, owner
    finally:
        await asker.stop()
        await answering.stop()


async def test_requests_share_one_connection_and_are_answered_in_any_order(
    pair: tuple[LocalChannel, LocalChannel, Owner],
) -> None:
    asker, answering, owner = pair
    held = asyncio.ensure_future(asker.ask(answering.tag, {"n": -1, "wait": True}, 5))
    answers = await asyncio.gather(*(asker.ask(answering.tag, {"n": i}, 5) for i in range(200)))
    assert [a["n"] if a else None for a in answers] == list(range(200))  # not held by the first
    assert not held.done()
    owner.release.set()
    assert await held == {"status": 204, "n": -1}
    assert len(answering._accepted) == 1


async def test_no_socket_under_a_tag_is_none_at_once(pair: tuple[LocalChannel, LocalChannel, Owner]) -> None:
    """Another machine's process, or one that is gone: the Hub then asks through the broker."""
    asker, answering, _ = pair
    started = time.monotonic()
    assert await asker.ask("nobody00", {}, 5) is None
    await answering.stop()
    assert await asker.ask(answering.tag, {}, 5) is None
    assert time.monotonic() - started < 0.5


async def test_no_answer_in_time_or_an_owner_gone_mid_request_is_no_answer(
    pair: tuple[LocalChannel, LocalChannel, Owner],
) -> None:
    asker, answering, owner = pair
    with pytest.raises(NoAnswer):
        await asker.ask(answering.tag, {"wait": True}, 0.2)
    waiting = asyncio.ensure_future(asker.ask(answering.tag, {"wait": True}, 30))
    while len(owner.requests) < 2:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await answering.stop()  # what the owner's death does to its side of the connection
    with pytest.raises(NoAnswer):
        await waiting
    assert time.monotonic() - started < 0.5  # at once, not after the 30 s


async def test_only_the_same_user_is_served_and_asked(pair: tuple[LocalChannel, LocalChannel, Owner]) -> None:
    asker, answering, owner = pair
    answering.uid = os.getuid() + 1  # the asker now runs as another user, for the owner
    with pytest.raises(NoAnswer):
        await asker.ask(answering.tag, {"n": 1}, 2)
    assert owner.requests == []
    answering.uid = asker.uid
    asker.uid = os.getuid() + 1  # and the owner's socket belongs to another user, for the asker
    assert await asker.ask(answering.tag, {"n": 2}, 2) is None
    assert owner.requests == []


CHILD = """
import socket, struct, sys
squat = socket.socket(socket.AF_UNIX)
squat.bind("\\0" + sys.argv[1])
squat.listen()
print("listening", flush=True)
c = socket.socket(socket.AF_UNIX)
c.connect("\\0" + sys.argv[2])
body = b'{"i":1,"q":{"k":"subscribe","c":"x"}}'
c.settimeout(5)
try:
    c.sendall(struct.pack("!I", len(body)) + body)
    got = len(c.recv(100))
except (ConnectionResetError, BrokenPipeError):  # closed with the request unread (or before it was sent)
    got = 0
print("read", got, flush=True)
sys.stdin.read()
"""


def python_for_nobody() -> str | None:
    """An interpreter `nobody` may run (the venv's may live under root's 0700 home)."""
    for exe in dict.fromkeys([sys.executable, "/usr/bin/python3"]):
        try:
            subprocess.run([exe, "-c", ""], user=65534, group=65534, cwd="/", capture_output=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            continue
        return exe
    return None


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run a child as nobody")
async def test_another_local_user_can_neither_send_nor_receive_requests(
    pair: tuple[LocalChannel, LocalChannel, Owner],
) -> None:
    """A process of another user connects to the owner's socket (closed unread), and binds a
    name an asker would use first (the asker does not use it)."""
    asker, answering, owner = pair
    python = python_for_nobody()
    if python is None:
        pytest.skip("no Python that nobody may run")
    squatted = "squat" + secrets.token_hex(2)[:3]
    child = await asyncio.create_subprocess_exec(
        # The names without their leading NUL, which no argument can hold.
        python, "-c", CHILD, socket_name(asker.scope, squatted)[1:], socket_name(asker.scope, answering.tag)[1:],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, user=65534, group=65534, cwd="/",
    )  # fmt: skip
    assert child.stdout is not None and child.stdin is not None
    try:
        assert await asyncio.wait_for(child.stdout.readline(), 10) == b"listening\n"
        assert await asker.ask(squatted, {"k": "subscribe"}, 2) is None
        assert await asyncio.wait_for(child.stdout.readline(), 10) == b"read 0\n"  # closed, no answer
        assert owner.requests == []
    finally:
        child.stdin.close()
        await child.wait()
