"""Resetting one of this process's own TCP connections, known only by the addresses ASGI gives.

granian keeps a connection open until every byte the application handed it is written: a peer
that stops reading (its receive window shut) holds the kernel's send buffer and granian's own
buffers for as long as it stays connected, even after the application's request ends, and granian
has no write timeout. ASGI gives the application no socket, only `scope["client"]` (the peer) and
`scope["server"]` (the address the server listens on). So, to drop such a peer for real, the
connection's file descriptor is found among this process's own (every server worker accepts and
serves its connections itself) by asking each socket for its addresses, and the socket is reset:
SO_LINGER 0 then shutdown. granian then fails its next write and drops the connection; its close
sends an RST and frees the kernel's buffers (see docs/realtime.md).

Never the wrong socket: the addresses are read from the very socket that is reset (a duplicate of
its descriptor, so a descriptor closed and reused meanwhile is not touched), and nothing is reset
unless exactly one socket matches. A server listening on a wildcard address (0.0.0.0, ::) gives
no local address, so then the peer and the local port must single the socket out.

Finding a descriptor costs a few system calls per open descriptor (about 12 ms per 1,000): it is
done only to drop a connection, off the event loop, and requests that arrive together share one
pass (`Cutter`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("hearth")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_FD_DIRS = ("/proc/self/fd", "/dev/fd")


def _ip(value: object) -> Address | None:
    try:
        ip = ipaddress.ip_address(str(value).split("%", 1)[0])
    except ValueError:
        return None
    # A dual-stack socket names an IPv4 peer ::ffff:a.b.c.d; compare it as the IPv4 address.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _port(value: object) -> int | None:
    try:
        port = int(str(value))  # granian gives ports as strings
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


@dataclass(frozen=True, slots=True)
class Connection:
    """A TCP connection as seen from this process: its local and peer addresses. `local_ip` is
    None when the server listens on a wildcard address (any local address matches)."""

    local_ip: Address | None
    local_port: int
    peer_ip: Address
    peer_port: int

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> Connection | None:
        """The connection of an ASGI request; None when the scope does not name one over TCP
        (a Unix socket, a test client)."""
        client, server = scope.get("client"), scope.get("server")
        if not client or not server or len(client) < 2 or len(server) < 2:
            return None
        peer_ip, peer_port = _ip(client[0]), _port(client[1])
        local_ip, local_port = _ip(server[0]), _port(server[1])
        if peer_ip is None or peer_port is None or local_ip is None or local_port is None:
            return None
        return cls(None if local_ip.is_unspecified else local_ip, local_port, peer_ip, peer_port)

    def matches(self, local: tuple[Any, ...], peer: tuple[Any, ...]) -> bool:
        """Whether a socket with these getsockname()/getpeername() addresses is this one."""
        return (
            peer[1] == self.peer_port
            and local[1] == self.local_port
            and _ip(peer[0]) == self.peer_ip
            and (self.local_ip is None or _ip(local[0]) == self.local_ip)
        )


def _descriptors() -> list[int]:
    for path in _FD_DIRS:
        try:
            return [int(name) for name in os.listdir(path)]
        except OSError:
            continue
    return []


def _is_socket(fd: int) -> bool:
    try:
        return os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    except OSError:
        return True  # no /proc (or the descriptor just closed): let the socket calls decide


def _open(fd: int) -> socket.socket | None:
    """A duplicate of `fd` as a connected TCP socket; None if it is anything else."""
    try:
        dup = os.dup(fd)
    except OSError:
        return None
    try:
        sock = socket.socket(fileno=dup)
    except OSError:
        os.close(dup)
        return None
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
        sock.close()
        return None
    return sock


def _addresses(sock: socket.socket) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    try:
        return sock.getsockname(), sock.getpeername()
    except OSError:
        return None  # a listener, or a connection that just ended


def reset(sock: socket.socket) -> None:
    """Abort the connection: with SO_LINGER 0 its close (granian's, once its write fails after
    the shutdown) sends an RST and drops what is unsent instead of waiting to deliver it."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.shutdown(socket.SHUT_RDWR)


def cut(connections: Iterable[Connection]) -> set[Connection]:
    """Reset each of these connections that exactly one of this process's sockets is; returns
    those reset. Blocking: one pass over the process's descriptors."""
    # The connections by their ports, so most sockets are passed over without parsing addresses.
    wanted: dict[tuple[int, int], list[Connection]] = {}
    for c in set(connections):
        wanted.setdefault((c.local_port, c.peer_port), []).append(c)
    # Per connection, the matching sockets by inode: several descriptors of one socket (granian's
    # and a duplicate) are one socket.
    found: dict[Connection, dict[int, socket.socket]] = {}
    held: dict[int, socket.socket] = {}  # our duplicates, by descriptor, kept open until the end
    try:
        for fd in _descriptors():
            # A descriptor closed after the listing may be one of our duplicates by now.
            if not wanted or fd in held or not _is_socket(fd):
                continue
            sock = _open(fd)
            if sock is None:
                continue
            addresses = _addresses(sock)
            candidates = wanted.get((addresses[0][1], addresses[1][1]), []) if addresses else []
            hits = [c for c in candidates if addresses is not None and c.matches(*addresses)]
            if not hits:
                sock.close()
                continue
            held[sock.fileno()] = sock
            inode = os.fstat(sock.fileno()).st_ino
            for c in hits:
                found.setdefault(c, {}).setdefault(inode, sock)
        done: set[Connection] = set()
        for c, socks in found.items():
            if len(socks) != 1:
                log.warning("%d sockets match %s; none is reset", len(socks), c)
                continue
            try:
                reset(next(iter(socks.values())))
                done.add(c)
            except OSError:
                pass  # it ended meanwhile
        return done
    finally:
        for sock in held.values():
            sock.close()  # a duplicate; the connection's own descriptor stays granian's


class Cutter:
    """`cut` off the event loop, one pass at a time: requests made while a pass runs share the
    next one, so dropping many clients at once costs a few passes, not one each."""

    def __init__(self) -> None:
        self._pending: dict[Connection, asyncio.Future[bool]] = {}
        self._running: asyncio.Task[None] | None = None

    async def cut(self, connection: Connection) -> bool:
        """Reset this connection; False if no single socket of this process is it."""
        loop = asyncio.get_running_loop()
        if self._running is not None and self._running.get_loop() is not loop:
            self._pending, self._running = {}, None  # a new event loop (tests): start afresh
        future = self._pending.get(connection)
        if future is None:
            future = self._pending[connection] = loop.create_future()
        if self._running is None or self._running.done():
            self._running = loop.create_task(self._run())
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            try:
                done = await asyncio.to_thread(cut, list(batch))
            except Exception:
                log.exception("resetting %d connection(s) failed", len(batch))
                done = set()
            for connection, future in batch.items():
                if not future.done():
                    future.set_result(connection in done)
