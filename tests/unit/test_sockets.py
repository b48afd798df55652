"""Resetting one of this process's own TCP connections by the addresses an ASGI scope gives
(hearth.http.sockets), with real sockets: the right one is reset, no other is touched, and an
ambiguous or unknown connection is left alone."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from ipaddress import ip_address

import pytest

from hearth.http.sockets import Connection, Cutter, cut


@contextmanager
def connections(
    family: socket.AddressFamily, listen: str, connect: str, n: int
) -> Iterator[tuple[socket.socket, list[tuple[socket.socket, socket.socket]]]]:
    """A listener on `listen` and `n` (client, accepted) pairs, all held by this process as a
    server worker holds its connections."""
    listener = socket.socket(family)
    if family == socket.AF_INET6:
        listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind((listen, 0))
    listener.listen(n)
    port = listener.getsockname()[1]
    pairs = []
    try:
        for _ in range(n):
            client = socket.create_connection((connect, port))
            pairs.append((client, listener.accept()[0]))
        yield listener, pairs
    finally:
        for client, accepted in pairs:
            client.close()
            accepted.close()
        listener.close()


def scope_of(listener: socket.socket, client: socket.socket) -> dict[str, object]:
    """What granian puts in a scope: the listening address and the peer, ports as strings."""
    host, port = client.getsockname()[:2]
    return {"server": (listener.getsockname()[0], str(listener.getsockname()[1])), "client": (host, str(port))}


def stop_reading(client: socket.socket, accepted: socket.socket) -> None:
    """The peer does not read: what the server sends piles up in its socket until it is full."""
    accepted.setblocking(False)
    try:
        while True:
            accepted.send(b"x" * 65536)
    except BlockingIOError:
        pass
    accepted.setblocking(True)


def assert_reset(client: socket.socket, accepted: socket.socket) -> None:
    """The server side fails its next write (as granian's does) and closes: the peer gets an RST
    (nothing waits for it to read what is still buffered)."""
    with pytest.raises(OSError):
        accepted.send(b"x")
    accepted.close()
    client.settimeout(5)
    with pytest.raises(ConnectionResetError):
        while client.recv(4096):
            pass


def assert_alive(client: socket.socket, accepted: socket.socket) -> None:
    accepted.sendall(b"ping")
    client.settimeout(5)
    assert client.recv(4) == b"ping"


def test_connection_from_scope() -> None:
    c = Connection.from_scope({"server": ("127.0.0.1", "8090"), "client": ("10.0.0.7", "51000")})
    assert c == Connection(ip_address("127.0.0.1"), 8090, ip_address("10.0.0.7"), 51000)
    # A wildcard listener names no local address; a dual-stack one names IPv4 peers as mapped.
    c = Connection.from_scope({"server": ("::", "8090"), "client": ("::ffff:10.0.0.7", "51000")})
    assert c == Connection(None, 8090, ip_address("10.0.0.7"), 51000)
    assert Connection.from_scope({"server": ("0.0.0.0", 1), "client": ("fe80::1%eth0", 2)}) == Connection(
        None, 1, ip_address("fe80::1"), 2
    )
    for scope in (
        {},
        {"server": None, "client": ("1.2.3.4", "1")},
        {"server": ("/tmp/hearth.sock", None), "client": ("1.2.3.4", "1")},  # a Unix socket
        {"server": ("127.0.0.1", "80"), "client": ("testclient", "50000")},
        {"server": ("127.0.0.1", "80"), "client": ("1.2.3.4", "0")},
    ):
        assert Connection.from_scope(scope) is None, scope


@pytest.mark.parametrize(
    ("family", "listen", "connect"),
    [
        (socket.AF_INET, "127.0.0.1", "127.0.0.1"),
        (socket.AF_INET, "0.0.0.0", "127.0.0.1"),
        (socket.AF_INET6, "::1", "::1"),
        (socket.AF_INET6, "::", "::1"),
        (socket.AF_INET6, "::", "127.0.0.1"),  # dual stack: the peer is ::ffff:127.0.0.1
    ],
)
def test_cut_resets_exactly_the_connection_named(family: socket.AddressFamily, listen: str, connect: str) -> None:
    if family == socket.AF_INET6 and not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        ctx = connections(family, listen, connect, 20)
        listener, pairs = ctx.__enter__()
    except OSError as exc:
        pytest.skip(f"cannot listen on {listen}: {exc}")
    try:
        targets = [pairs[3], pairs[11]]
        for pair in targets:
            stop_reading(*pair)
        conns = [Connection.from_scope(scope_of(listener, client)) for client, _ in targets]
        assert None not in conns
        assert cut(c for c in conns if c is not None) == set(conns)
        for client, accepted in targets:
            assert_reset(client, accepted)
        for pair in pairs:
            if pair not in targets:
                assert_alive(*pair)
    finally:
        ctx.__exit__(None, None, None)


def test_an_unknown_or_ended_connection_is_not_found() -> None:
    with connections(socket.AF_INET, "127.0.0.1", "127.0.0.1", 3) as (listener, pairs):
        client, accepted = pairs[0]
        gone = Connection.from_scope(scope_of(listener, client))
        assert gone is not None
        accepted.close()  # the server closed it already: no socket of ours is it any more
        pairs[0] = (client, socket.socket())
        other_port = Connection(gone.local_ip, gone.local_port + 1, gone.peer_ip, gone.peer_port)
        assert cut([gone, other_port]) == set()
        for pair in pairs[1:]:
            assert_alive(*pair)


def test_two_sockets_matching_a_wildcard_listener_are_both_left_alone() -> None:
    """The same peer address on two local addresses of a wildcard listener: a scope cannot tell
    them apart, so neither is reset."""
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    pairs = []
    try:
        peer_port = 0
        for local in ("127.0.0.1", "127.0.0.2"):
            client = socket.socket()
            client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            client.bind(("127.0.0.1", peer_port))
            peer_port = client.getsockname()[1]
            try:
                client.connect((local, port))
            except OSError as exc:
                client.close()
                pytest.skip(f"cannot reach {local}: {exc}")
            pairs.append((client, listener.accept()[0]))
        both = Connection.from_scope({"server": ("0.0.0.0", str(port)), "client": ("127.0.0.1", str(peer_port))})
        assert both is not None
        assert cut([both]) == set()
        one = Connection.from_scope({"server": ("127.0.0.2", str(port)), "client": ("127.0.0.1", str(peer_port))})
        assert one is not None
        stop_reading(*pairs[1])
        assert cut([one]) == {one}
        assert_reset(*pairs[1])
        assert_alive(*pairs[0])
    finally:
        for client, accepted in pairs:
            client.close()
            accepted.close()
        listener.close()


async def test_cutter_shares_passes_between_requests_made_together() -> None:
    with connections(socket.AF_INET, "127.0.0.1", "127.0.0.1", 40) as (listener, pairs):
        targets = pairs[::4]
        for pair in targets:
            stop_reading(*pair)
        conns = [Connection.from_scope(scope_of(listener, client)) for client, _ in targets]
        cutter = Cutter()
        results = await asyncio.gather(*(cutter.cut(c) for c in conns if c is not None))
        assert results == [True] * len(targets)
        for client, accepted in targets:
            assert_reset(client, accepted)
        for pair in pairs:
            if pair not in targets:
                assert_alive(*pair)
