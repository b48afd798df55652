"""Outbound HTTP that cannot be pointed at the server's own network (SSRF).

`public(ip)` says whether an address is on the public internet. `GuardedBackend` is an httpcore
network backend that resolves the host itself, refuses the connection unless every address it
resolves to is public, and then connects to one of those very addresses: the check and the
connection see the same answer, so a name that resolves to a public address when checked and a
private one when connecting (DNS rebinding) is refused too. TLS still verifies the URL's host name
(httpcore passes it as the server name). `guarded_client` is an httpx client on that backend.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx


class AddressRefused(Exception):
    """The host resolves to an address that is not public."""


def public(host: str) -> bool:
    """Whether `host` (an IP address, possibly with an IPv6 zone) is a public address."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback or ip.is_unspecified or ip.is_private or ip.is_link_local or ip.is_multicast
        or ip.is_reserved
    )  # fmt: skip


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in seen:
            seen.append(addr)
    return seen


async def refused_reason(host: str, port: int) -> str:
    """Why `host` may not be reached ("" when every address it resolves to is public)."""
    try:
        addrs = await resolve(host, port)
    except OSError as exc:
        return f"the host does not resolve ({exc.strerror or exc})"
    private = [a for a in addrs if not public(a)]
    if private or not addrs:
        return f"the host resolves to a non-public address ({private[0] if private else 'none'})"
    return ""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, allow_private: bool = False) -> None:
        self.allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self.allow_private:
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        addrs = await resolve(host, port)
        private = [a for a in addrs if not public(a)]
        if private or not addrs:
            raise AddressRefused(
                f"{host} resolves to a non-public address ({private[0] if private else 'none'})"
            )
        error: Exception | None = None
        for addr in addrs:  # the addresses just checked, not a second lookup
            try:
                return await self._inner.connect_tcp(addr, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix sockets are not reached")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, allow_private: bool, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # httpx has no public way to give its pool a network backend: the pool is rebuilt with one.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(cafile=_certifi()),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private),
        )


def _certifi() -> str | None:
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


def guarded_client(
    allow_private: bool, timeout: httpx.Timeout, limits: httpx.Limits | None = None
) -> httpx.AsyncClient:
    """An httpx client that refuses non-public addresses at connect time (unless
    `allow_private`) and never follows redirects (a redirect could lead anywhere)."""
    limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
    return httpx.AsyncClient(
        transport=_GuardedTransport(allow_private, limits),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
