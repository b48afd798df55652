"""A TCP forwarder the tests control, put between Hearth and PostgreSQL or Redis to simulate
outages without touching the shared servers (they are used by others: never stop them).

    proxy = TcpProxy("127.0.0.1", 5432).start()
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/mydb"
    proxy.cut()              # listener closed, open connections dropped: "connection refused"
    proxy.restore()          # listening and forwarding again, on the same port
    proxy.hang()             # connections accepted and held, nothing forwarded: a hung server
    proxy.cut_when(b"xyz")   # cut the moment a client sends these bytes (they are not forwarded)
    proxy.stop()

It runs its own asyncio loop in a daemon thread, so it works the same for tests that drive an
ASGI app on the test's loop and for tests that talk to a real `hearth serve` process.
Connections held by hang() lost bytes, so restore() closes them rather than resume them.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any


class _Pair:
    """One client connection and, once opened, its upstream connection."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.hung = False

    def abort(self) -> None:
        for w in (self.client, self.upstream):
            if w is not None:
                w.transport.abort()


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = 0
        self.mode = "up"  # up | hang | down
        self.accepted = 0
        self.cuts = 0
        self._marker: bytes | None = None
        self._server: asyncio.base_events.Server | None = None
        self._pairs: set[_Pair] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)

    # ----- control (from any thread) ---------------------------------------------------------
    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def cut(self) -> None:
        """Stop listening and drop every open connection."""
        self._call(self._do(self._cut_now))

    def hang(self) -> None:
        """Accept connections but forward nothing, also on the connections already open."""
        self._call(self._do(self._hang_now))

    def restore(self) -> None:
        self._call(self._restore())

    def cut_when(self, marker: bytes) -> None:
        self._marker = marker

    def connections(self) -> int:
        return len(self._pairs)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._call(self._do(self._cut_now))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()

    def _call(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @staticmethod
    async def _do(fn: Any) -> None:
        fn()

    # ----- on the proxy's loop ----------------------------------------------------------------
    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port, reuse_address=True)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def _cut_now(self) -> None:
        self.mode = "down"
        self.cuts += 1
        self._marker = None
        if self._server is not None:
            self._server.close()
            self._server = None
        for pair in list(self._pairs):
            pair.abort()
        self._pairs.clear()

    def _hang_now(self) -> None:
        self.mode = "hang"
        for pair in self._pairs:
            pair.hung = True

    async def _restore(self) -> None:
        for pair in [p for p in self._pairs if p.hung]:
            pair.abort()
            self._pairs.discard(pair)
        self.mode = "up"
        if self._server is None:
            await self._listen()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        pair = _Pair(writer)
        self._pairs.add(pair)
        try:
            if self.mode == "hang":
                pair.hung = True
                while await reader.read(65536):
                    pass  # swallowed
                return
            try:
                up_reader, pair.upstream = await asyncio.open_connection(*self.upstream)
            except OSError:
                return
            await asyncio.gather(
                self._pipe(reader, pair.upstream, pair, from_client=True),
                self._pipe(up_reader, writer, pair, from_client=False),
            )
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            pair.abort()
            self._pairs.discard(pair)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pair: _Pair, from_client: bool
    ) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if pair.hung or self.mode == "hang":
                    pair.hung = True
                    continue  # a hung server: bytes go nowhere
                if from_client and self._marker is not None and self._marker in data:
                    self._cut_now()
                    return
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            pair.abort()
