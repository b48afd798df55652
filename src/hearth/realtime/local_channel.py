"""Requests between the processes of one Hearth on one machine, straight over a Unix socket.

A subscription (or an OAuth2 redirect) that reaches a process other than the one holding its
client is a request to that process (hearth.realtime.hub). Through the broker each request and
each answer is an event row written and read by both sides (on PostgreSQL a transaction with an
advisory lock and a NOTIFY each); between the worker processes of one machine this channel
carries them without any database work.

Every Hub listens on a socket named after its Hearth (`scope`: the same data on this machine)
and its tag. An asker connects to the socket of the tag that starts the client id, keeps that
connection, and sends every later request to that process over it, each with a number: answers
come back in any order. When no socket here has that name, the process is another machine's (or
another network namespace's, or gone): `ask` returns None and the Hub uses the broker, as before.

Why these sockets:
- Linux's abstract namespace (a name starting with NUL): nothing on disk is left behind by a
  process killed with -9, there is no directory to create, own or clean, and no 108-byte path
  limit; the name is free again the moment its process exits, so a dead process's name is
  refused at once rather than timing out. The names are per network namespace: containers with
  their own network do not see each other and use the broker, like instances on other machines.
- Only a peer running as the same user is served, and only a listener of the same user is asked
  (SO_PEERCRED, checked on each connection): a request carries the auth (collection, record,
  session) the owner is to apply to its client, so another local user must not be able to send
  one, nor to receive them by binding a name first. An abstract socket has no file permissions
  that could do this.
- Elsewhere than Linux there is no abstract namespace: the channel stays off and the broker
  carries every request.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import struct
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

log = logging.getLogger("hearth.realtime")

Message = dict[str, Any]
# The owner's side: a request in, its answer out (hearth.realtime.hub.Hub._answer).
Answerer = Callable[[Message], Awaitable[Message]]

AVAILABLE = sys.platform.startswith("linux")
BACKLOG = 128  # each other process of this machine connects once, and keeps its connection
MAX_FRAME = 64 << 20  # larger is a peer that is not Hearth's (a larger request goes by the broker)
_HEADER = struct.Struct("!I")  # each frame: its length, then that much JSON
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


class NoAnswer(Exception):
    """The process did not answer in time, or its connection ended first (it stopped or died)."""


def socket_name(scope: str, tag: str) -> str:
    """The abstract socket of the process `tag` of the Hearth `scope` (hashed: the name is
    visible to every local user in /proc/net/unix, and has no use for the path or URL)."""
    return "\0hearth-rt-" + hashlib.sha256(scope.encode()).hexdigest()[:16] + "-" + tag


def peer_uid(sock: Any) -> int:
    """The user id of the process at the other end of a connected Unix socket (for a
    connection accepted: the process that connected; for one made: the one that listens)."""
    _pid, uid, _gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return int(uid)


def encode(message: Message) -> bytes:
    body = orjson.dumps(message)
    return _HEADER.pack(len(body)) + body


async def read_message(reader: asyncio.StreamReader) -> Message:
    """The next frame; IncompleteReadError once the peer closed, ValueError for a frame no
    Hearth writes."""
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if size > MAX_FRAME:
        raise ValueError(f"a frame of {size} bytes")
    message = orjson.loads(await reader.readexactly(size))
    if not isinstance(message, dict):
        raise ValueError("a frame that is not an object")
    return message


class _Connection:
    """One connection to another process's socket, shared by every request to that process."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.waiting: dict[int, asyncio.Future[Message]] = {}
        self._last = 0
        self.task = asyncio.get_running_loop().create_task(self._read(reader))

    @property
    def open(self) -> bool:
        return not self.task.done()

    async def request(self, request: bytes) -> Message:
        """Send `request` (its JSON) and wait for its answer."""
        if not self.open:
            raise NoAnswer()
        self._last += 1
        number = self._last
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.waiting[number] = future
        try:
            # Not drained: requests are small and the owner reads them as they come; one that
            # stopped reading is found out by the timeout.
            self.writer.write(encode({"i": number, "q": orjson.Fragment(request)}))
            return await future
        finally:
            self.waiting.pop(number, None)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                message = await read_message(reader)
                number, answer = message.get("i"), message.get("a")
                future = self.waiting.get(number) if isinstance(number, int) else None
                if future is not None and not future.done():
                    future.set_result(answer if isinstance(answer, dict) else {})
        except (asyncio.IncompleteReadError, OSError, ValueError):
            pass  # the owner stopped or died (its clients' streams ended with it)
        finally:
            self.writer.close()
            for future in self.waiting.values():
                if not future.done():
                    future.set_exception(NoAnswer())  # now, not after the timeout


class LocalChannel:
    """This process's socket (answering with `answer`) and its connections to the others'."""

    def __init__(self, scope: str, tag: str, answer: Answerer) -> None:
        self.scope = scope
        self.tag = tag
        self._answer = answer
        self.uid = os.getuid() if AVAILABLE else -1  # the only user served and asked
        self._server: asyncio.AbstractServer | None = None
        self._accepted: set[asyncio.StreamWriter] = set()
        self._replies: set[asyncio.Task[None]] = set()
        self._peers: dict[str, _Connection] = {}
        self._connecting: dict[str, asyncio.Future[_Connection | None]] = {}

    async def start(self) -> None:
        """Listen; without the socket (not Linux, or the name taken) the other processes of this
        machine reach this one through the broker, as other machines do."""
        if not AVAILABLE or self._server is not None:
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(socket_name(self.scope, self.tag))
            sock.listen(BACKLOG)
            sock.setblocking(False)
            self._server = await asyncio.start_unix_server(self._serve, sock=sock)
        except OSError as exc:
            sock.close()
            log.warning("realtime: no direct channel to this process (%s); requests come by the broker", exc)

    async def stop(self) -> None:
        """Stop listening and end every connection: requests still waiting on either side end
        now (an asker answers 503, as for a process that stopped)."""
        if self._server is not None:
            self._server.close()  # the name is free again at once
            self._server = None
        for writer in list(self._accepted):
            writer.close()
        tasks = [*self._replies, *(c.task for c in self._peers.values())]
        self._peers.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ----- asking ----------------------------------------------------------------------------
    async def ask(self, tag: str, request: Message, timeout: float) -> Message | None:
        """The answer of the process `tag` of this machine to `request`, or None when no process
        here listens under that tag (the broker's turn). NoAnswer when it does not answer
        within `timeout` seconds, or its connection ends first."""
        if not AVAILABLE:
            return None
        body = orjson.dumps(request)
        if len(body) > MAX_FRAME - 64:  # with its envelope, more than the owner reads
            return None
        connection = await self._connection(tag)
        if connection is None:
            return None
        try:
            return await asyncio.wait_for(connection.request(body), timeout)
        except TimeoutError:
            raise NoAnswer() from None

    async def _connection(self, tag: str) -> _Connection | None:
        connection = self._peers.get(tag)
        if connection is not None and connection.open:
            return connection
        # A burst of requests for a process not connected yet makes one connection.
        pending = self._connecting.get(tag)
        if pending is None:
            pending = self._connecting[tag] = asyncio.ensure_future(self._connect(tag))
            pending.add_done_callback(lambda _: self._connecting.pop(tag, None))
        return await asyncio.shield(pending)

    async def _connect(self, tag: str) -> _Connection | None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            # A local connect completes or fails at once: refused when nobody listens under the
            # name, EAGAIN when its backlog is full (the broker then carries this request).
            sock.connect(socket_name(self.scope, tag))
            uid = peer_uid(sock)
            if uid != self.uid:
                log.warning("realtime: the socket of process %s belongs to uid %d; not using it", tag, uid)
                sock.close()
                return None
            reader, writer = await asyncio.open_unix_connection(sock=sock)
        except OSError:
            sock.close()
            return None
        connection = self._peers[tag] = _Connection(reader, writer)
        connection.task.add_done_callback(lambda _: self._forget(tag, connection))
        return connection

    def _forget(self, tag: str, connection: _Connection) -> None:
        if self._peers.get(tag) is connection:
            del self._peers[tag]

    # ----- answering -------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            uid = peer_uid(writer.get_extra_info("socket"))
        except (AttributeError, OSError):  # gone already
            uid = -1
        if uid != self.uid:
            log.warning("realtime: refused a connection to the direct channel from uid %d", uid)
            writer.close()
            return
        self._accepted.add(writer)
        try:
            while True:
                message = await read_message(reader)
                # Each answered on its own: one waiting for the database does not hold the rest.
                task = asyncio.get_running_loop().create_task(self._reply(writer, message))
                self._replies.add(task)
                task.add_done_callback(self._replies.discard)
        except (asyncio.IncompleteReadError, OSError, ValueError):
            pass  # the asker stopped or died
        finally:
            self._accepted.discard(writer)
            writer.close()

    async def _reply(self, writer: asyncio.StreamWriter, message: Message) -> None:
        request = message.get("q")
        answer = await self._answer(request if isinstance(request, dict) else {})
        if not writer.is_closing():
            writer.write(encode({"i": message.get("i"), "a": answer}))
