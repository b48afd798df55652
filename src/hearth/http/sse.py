"""A server-sent event stream that really ends when its client is dropped.

granian gives no write timeout, and a peer that stops reading is never dropped by it: `send()`
waits as soon as the kernel's send buffer and granian's few buffered chunks are full, and even
once the application's request ends, granian holds the connection (and those buffers) until every
byte is written, i.e. for as long as the peer stays connected. So:

- a body chunk that granian has not taken after WRITE_TIMEOUT_SECONDS means the peer does not
  read (or is gone without a word): the stream's client is dropped (`on_stall`), as it is when
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
from collections.abc import AsyncIterable, Callable, Mapping

from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from hearth.http.memory import Trimmer
from hearth.http.sockets import Connection, Cutter

log = logging.getLogger("hearth.realtime")

# A reading client takes a chunk within moments even on a slow link: the chunk waits only for
# the kernel's buffer to have room, which any reading drains.
WRITE_TIMEOUT_SECONDS = 10.0
GRACE_SECONDS = 2.0

# One each per process: the descriptors a cut looks through and the heap a trim gives back are
# the process's.
_cutter = Cutter()
_trimmer = Trimmer()


class EventStream(StreamingResponse):
    """`text/event-stream` of `body`. `closed` is set when the stream must end; `on_stall` is
    called when its peer has not taken a chunk for WRITE_TIMEOUT_SECONDS."""

    def __init__(
        self,
        body: AsyncIterable[bytes],
        closed: asyncio.Event,
        on_stall: Callable[[], None],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(body, media_type="text/event-stream", headers=headers)
        self.closed = closed
        self.on_stall = on_stall
        self.cut = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()

        async def send_or_stall(message: Message) -> None:
            timer = loop.call_later(WRITE_TIMEOUT_SECONDS, self.on_stall)
            try:
                await send(message)
            finally:
                timer.cancel()

        watch = loop.create_task(self._cut_when_stuck(scope))
        try:
            await super().__call__(scope, receive, send_or_stall)
        finally:
            watch.cancel()  # the stream ended: nothing to cut
            if self.cut:
                _trimmer.request()

    async def _cut_when_stuck(self, scope: Scope) -> None:
        await self.closed.wait()
        await asyncio.sleep(GRACE_SECONDS)
        # Still here: the stream has not ended (this task is cancelled when it does).
        connection = Connection.from_scope(scope)
        if connection is None:
            log.warning("a dropped realtime stream has no TCP connection to reset (%s)", scope.get("client"))
            return
        self.cut = True  # set first: the stream may end (and this be cancelled) before cut() returns
        if not await _cutter.cut(connection):
            log.warning("the connection of a dropped realtime stream (%s) was not found to reset", connection)
