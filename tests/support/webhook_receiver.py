"""A tiny HTTP/1.1 receiver on loopback for webhook tests: records every request and answers
what `respond` says (status, body)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Receiver:
    """Records every request; `respond(request)` says what to answer (status, body)."""

    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    respond: Callable[[Received], tuple[int, bytes]] = lambda r: (200, b"ok")
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                method, path, _ = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    k, _, v = h.decode().partition(":")
                    headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                request = Received(method, path, headers, body)
                self.requests.append(request)
                status, out = self.respond(request)
                head = (
                    f"HTTP/1.1 {status} X\r\ncontent-length: {len(out)}\r\ncontent-type: text/plain\r\n\r\n"
                )
                writer.write(head.encode() + out)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def bodies(self) -> list[Any]:
        return [r.json() for r in self.requests]


async def running_receiver() -> AsyncIterator[Receiver]:
    """For a fixture: a started receiver, stopped after."""
    r = Receiver()
    await r.start()
    yield r
    await r.stop()
