"""A gate for the requests of one process: closed, it holds new requests and waits for those in
flight to end, so that work done while it is closed (a restore switching the data) is seen by
each request wholly or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

log = logging.getLogger("hearth")


class RequestGate:
    def __init__(self) -> None:
        self.inflight = 0
        self._open = asyncio.Event()
        self._open.set()
        self._idle: asyncio.Event | None = None

    async def enter(self) -> None:
        while not self._open.is_set():
            await self._open.wait()
        self.inflight += 1

    def leave(self) -> None:
        self.inflight -= 1
        if self.inflight == 0 and self._idle is not None:
            self._idle.set()

    @contextlib.asynccontextmanager
    async def closed(self, drain_timeout: float) -> AsyncIterator[None]:
        """Hold new requests, wait up to `drain_timeout` seconds for those in flight, run the
        body, open again."""
        self._open.clear()
        try:
            if self.inflight:
                self._idle = asyncio.Event()
                try:
                    await asyncio.wait_for(self._idle.wait(), drain_timeout)
                except TimeoutError:
                    log.warning("%d request(s) still running after %g s; going on without them", self.inflight, drain_timeout)
                finally:
                    self._idle = None
            yield
        finally:
            self._open.set()
