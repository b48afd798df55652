"""A server-sent event stream that really ends when its client is dropped.

granian gives no write timeout, and a peer that stops reading is never dropped by it: `send()`
waits as soon as the kernel's send buffer and granian's few buffered chunks are full, and even
once the application's request ends, granian holds the connection (and those buffers) until every
byte is written, i.e. for as long as the peer stays connected. So:

- a body chunk that granian has not taken after WRITE_TIMEOUT_SECONDS means the peer does not
  read (or is gone without a word): the stream's client is dropped (`Source.drop`, by one watcher per
  process that looks every SWEEP_SECONDS), as it is when
  its queue overflows (hearth.realtime.hub.Client.send);
- a stream still running GRACE_SECONDS after its client was closed (dropped, or the process is
  stopping) is stuck writing, so its connection is reset (hearth.http.sockets); granian then
  drops the connection with its buffers, the stream ends, and the memory it held is handed back
  to the operating system (hearth.http.memory).

A healthy stream ends within moments of the close, and then nothing is looked up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from hearth.http.headers import SECURITY_HEADERS
from hearth.http.memory import Trimmer
from hearth.http.sockets import Connection, Cutter

log = logging.getLogger("hearth.realtime")

# A reading client takes a chunk within moments even on a slow link: the chunk waits only for
# the kernel's buffer to have room, which any reading drains.
WRITE_TIMEOUT_SECONDS = 10.0
GRACE_SECONDS = 2.0
SWEEP_SECONDS = 1.0  # how often stalled writes are looked for

# One each per process: the descriptors a cut looks through and the heap a trim gives back are
# the process's.
_cutter = Cutter()
_trimmer = Trimmer()


class Source(Protocol):
    """What a stream writes (hearth.realtime.hub.Client)."""

    @property
    def ended(self) -> asyncio.Future[None]: ...  # done when the stream must end

    @property
    def closed(self) -> bool: ...  # the stream must end

    def take(self) -> bytes | None: ...  # the next chunk, or None when nothing waits

    def wait(self) -> Awaitable[None]: ...  # done once there is a chunk, or it is closed

    def drop(self) -> None: ...  # its peer does not read

    def close(self) -> None: ...  # its peer is gone


# Every stream sends the same headers: one shared set of tuples, not new ones per client.
_HEADERS = (
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # nginx: do not buffer the stream
    *SECURITY_HEADERS,  # here rather than added by the router: the list is then never regrown
)


S = TypeVar("S", bound=Source)


class EventStream(Response, Generic[S]):
    """`text/event-stream` of `source`'s chunks; `on_end(source)` runs once the stream has ended.

    A bare ASGI response rather than Starlette's StreamingResponse, because an idle stream's
    memory is what bounds how many clients a process holds: that one runs an anyio task group
    with two tasks per stream. Here a stream is its request's own task, waiting on `source`; the
    peer going away is heard by a callback on the server's `receive()` future when it offers one
    (granian does), else by one small task."""

    security_headers = ()  # already in _HEADERS

    def __init__(self, source: S, on_end: Callable[[S], None]) -> None:
        self.source = source
        self.on_end = on_end
        self.status_code = 200
        self.background = None
        self.raw_headers = list(_HEADERS)
        self.cut = False
        self.running = True
        self.scope: Scope | None = None
        self.receive: Receive | None = None
        self.waiting: Any = None  # the server's receive() future our callback is on
        self.writing_since = 0.0  # loop time its current chunk was handed to the server; 0: none

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        source = self.source
        self.scope, self.receive = scope, receive
        source.ended.add_done_callback(self._ended)
        listener = self._listen()
        _writing.add(self)
        _watch_writes(loop)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            while not source.closed:
                chunk = source.take()
                if chunk is None:
                    await source.wait()
                    continue
                self.writing_since = loop.time()
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                self.writing_since = 0.0
                chunk = None  # not kept while the stream waits for the next one
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass  # the peer is gone (the server reports it on a write)
        finally:
            self.running = False
            _writing.discard(self)
            if listener is not None:
                listener.cancel()
            if self.waiting is not None and not self.waiting.done():
                # The server would otherwise hold our callback past the stream (granian drops
                # such references from its own threads at exit, where Python objects must not be).
                self.waiting.remove_done_callback(self._received)
            self.waiting = None
            source.close()
            self.on_end(source)
            if self.cut:
                _trimmer.request()

    def _listen(self) -> asyncio.Task[None] | None:
        """Hear the peer go away: `http.disconnect` from `receive()`."""
        assert self.receive is not None
        waiting = self.receive()
        if isinstance(waiting, asyncio.Future) or hasattr(waiting, "add_done_callback"):
            waiting.add_done_callback(self._received)
            self.waiting = waiting
            return None
        return asyncio.get_running_loop().create_task(self._until_disconnect(waiting))

    def _received(self, waiting: Any) -> None:
        if not self.running or waiting.cancelled():
            return
        try:
            message = waiting.result()
        except Exception:
            message = {"type": "http.disconnect"}  # the server gave up on the connection
        if message.get("type") == "http.disconnect":
            self.source.close()
        else:
            self._listen()  # (a stream has no body to read: nothing else is expected)

    async def _until_disconnect(self, waiting: Awaitable[Message]) -> None:
        assert self.receive is not None
        while (await waiting)["type"] != "http.disconnect":
            waiting = self.receive()
        self.source.close()

    def _ended(self, _: object) -> None:
        if self.running:
            asyncio.get_running_loop().call_later(GRACE_SECONDS, self._cut_if_stuck)

    def _cut_if_stuck(self) -> None:
        if not self.running or self.scope is None:
            return  # a healthy stream ends within moments of the close
        connection = Connection.from_scope(self.scope)
        if connection is None:
            log.warning("a dropped realtime stream has no TCP connection to reset (%s)", self.scope.get("client"))
            return
        self.cut = True  # set first: the stream may end (and trim) before the cut is done
        task = asyncio.get_running_loop().create_task(self._cut(connection))
        _cutting.add(task)
        task.add_done_callback(_cutting.discard)

    @staticmethod
    async def _cut(connection: Connection) -> None:
        if not await _cutter.cut(connection):
            log.warning("the connection of a dropped realtime stream (%s) was not found to reset", connection)


# Streams that are open, for the one watcher per process that drops those whose chunk has waited
# too long (one sweep a second rather than a timer armed and cancelled around every write: a
# fan-out to 1,000 clients is 1,000 writes).
_writing: set[EventStream[Any]] = set()
_watcher: list[asyncio.Task[None]] = []


def _watch_writes(loop: asyncio.AbstractEventLoop) -> None:
    if not _watcher or _watcher[0].done() or _watcher[0].get_loop() is not loop:
        _watcher[:] = [loop.create_task(_sweep())]


async def _sweep() -> None:
    while _writing:
        await asyncio.sleep(SWEEP_SECONDS)
        stalled_before = asyncio.get_running_loop().time() - WRITE_TIMEOUT_SECONDS
        for stream in [s for s in _writing if 0.0 < s.writing_since < stalled_before]:
            stream.source.drop()


_cutting: set[asyncio.Task[None]] = set()  # cuts under way (a task nobody holds may be collected)
