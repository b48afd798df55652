"""Client IPs as PocketBase sees them: `RealIP()` (trusted proxy headers) and `isIPInList`."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=1024)  # clients come back: parsing an address costs more than the lookup
def _expanded(text: str) -> str | None:
    """Go's netip.ParseAddr(...).StringExpanded(): IPv6 fully written out, IPv4 as is."""
    try:
        return ipaddress.ip_address(text).exploded
    except ValueError:
        return None


def real_ip(
    headers: Iterable[tuple[bytes, bytes]],
    client: Sequence[object] | None,
    trusted_headers: Sequence[str],
    leftmost: bool,
) -> str:
    """The client IP: the first trusted header holding a valid IP, else the socket peer.

    As PocketBase: the *last* occurrence of a header counts (the one the proxy appended), and in
    a comma list the rightmost valid IP is taken unless `useLeftmostIP` (spoofable behind
    proxies that keep what the client sent).
    """
    if trusted_headers:
        last: dict[bytes, bytes] = {}
        for key, value in headers:
            last[key] = value  # ASGI header names are already lowercase
        for name in trusted_headers:
            raw = last.get(name.lower().encode("latin-1"))
            if not raw:
                continue
            ips = raw.decode("latin-1").split(",")
            for ip in ips if leftmost else reversed(ips):
                found = _expanded(ip.strip())
                if found is not None:
                    return found
    if not client:
        return ""
    host = str(client[0])
    return _expanded(host) or host


@lru_cache(maxsize=256)
def parse_ip_or_subnet(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | IPNetwork | None:
    """An address or a CIDR prefix (Go's ParsePrefix keeps host bits, hence strict=False)."""
    if "/" in value:
        try:
            return ipaddress.ip_network(value, strict=False)
        except ValueError:
            return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def in_list(items: Sequence[str], ip: str) -> bool:
    """PocketBase's isIPInList: `ip` equals one address or falls in one subnet of `items`."""
    if not items or not ip:
        return False
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for item in items:
        parsed = parse_ip_or_subnet(item)
        if isinstance(parsed, ipaddress.IPv4Network | ipaddress.IPv6Network):
            if parsed.version == addr.version and addr in parsed:
                return True
        elif parsed is not None and parsed == addr:
            return True
    return False
