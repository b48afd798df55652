"""A PostgreSQL on this machine, named by a loopback TCP address, reached over its Unix socket.

Each statement is a round trip to the server. Over loopback TCP every send and receive crosses
the whole TCP stack on both sides; over the server's Unix socket it does not. Measured with the
bench (docs/performance.md, 2026-12-07): Hearth's CPU per request in process 15-20 % lower for an
update (two statements) and ~10 % for a GET, and the update workload 0.94x -> 1.12x of
PocketBase's rate in two sittings of the same hour.

So a DSN whose host is `localhost`, `127.0.0.1` or `::1` is tried over the socket file of the
same port in the usual directories first, and kept only when that connection reaches the same
server (its postmaster start time, database and user match the TCP connection's). Anything else
keeps the DSN as given: another host, a DSN naming its own `host`/`hostaddr` parameter, TLS asked
for (`sslmode`, `ssl`, certificates), a socket refused by pg_hba.conf (`local` lines often use
`peer`), no socket file, or `HEARTH_PG_SOCKET=0`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from urllib.parse import parse_qsl, urlencode, urlsplit

import asyncpg

from hearth.sql.system import PG_SERVER_IDENTITY

log = logging.getLogger("hearth.db")

ENV = "HEARTH_PG_SOCKET"  # "0": always the DSN as given
SOCKET_DIRS = ("/var/run/postgresql", "/run/postgresql", "/tmp")  # Debian/Ubuntu, then source builds
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_KEEP_TCP = frozenset({"host", "hostaddr", "sslmode", "ssl", "sslcert", "sslkey", "sslrootcert", "sslcrl"})
PROBE_TIMEOUT = 2.0  # seconds for each probe connection


def socket_dsn(dsn: str, dirs: tuple[str, ...] = SOCKET_DIRS) -> str | None:
    """`dsn` over the Unix socket of the same port, when it names this machine by a loopback
    address and a socket file is there; None when it must stay as given."""
    try:
        parts = urlsplit(dsn)
        host, port = parts.hostname, parts.port or 5432
    except ValueError:
        return None
    if parts.scheme not in ("postgres", "postgresql") or host not in LOOPBACK or "," in parts.netloc:
        return None
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k in _KEEP_TCP for k, _ in query):
        return None
    for d in dirs:
        try:
            if stat.S_ISSOCK(os.stat(f"{d}/.s.PGSQL.{port}").st_mode):
                break
        except OSError:
            continue
    else:
        return None
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@" if userinfo else ""  # no host: urlunsplit would drop the "//"
    return f"{parts.scheme}://{netloc}{parts.path}?{urlencode([*query, ('host', d), ('port', str(port))])}"


async def nearest(dsn: str) -> str:
    """The DSN to use: over the socket when it reaches the same server as `dsn`, else `dsn`."""
    if os.environ.get(ENV, "").strip() == "0":
        return dsn
    local = socket_dsn(dsn)
    if local is None:
        return dsn
    try:
        over_tcp, over_socket = await asyncio.gather(_identity(dsn), _identity(local))
    except Exception as exc:  # refused, timed out, auth method of `local` lines: keep TCP
        log.debug("PostgreSQL socket not used: %s", exc)
        return dsn
    if over_tcp != over_socket:
        log.debug("PostgreSQL socket not used: it reaches another server")
        return dsn
    log.info("PostgreSQL on this machine: reached over its Unix socket (%s=0 keeps TCP)", ENV)
    return local


async def _identity(dsn: str) -> tuple[str, ...]:
    conn = await asyncpg.connect(dsn, timeout=PROBE_TIMEOUT)
    try:
        row = await conn.fetchrow(PG_SERVER_IDENTITY, timeout=PROBE_TIMEOUT)
    finally:
        await conn.close(timeout=PROBE_TIMEOUT)
    return tuple(str(v) for v in row) if row is not None else ()
