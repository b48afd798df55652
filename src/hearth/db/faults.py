"""What the db layer does when the database cannot be used (see docs/faults.md).

Both drivers turn "the server is not there / not answering / refusing / out of room" into
`hearth.errors.DatabaseUnavailable` (a 503 on every route) and report it to one `OutageLog` per
database, which logs the outage once per interval instead of a traceback per request. Errors
that are the statement's fault keep their old translation (UniqueViolation, BadRequest,
DatabaseError) and anything else still reaches the router as a bug (500, traceback).

Time limits, from the environment so that every worker process reads the same ones:

- HEARTH_DB_TIMEOUT (seconds, default 10): the longest a request waits to get at the database:
  a PostgreSQL connection from the pool (opening one included) or SQLite's write lock held by
  another process.
- HEARTH_DB_QUERY_TIMEOUT (seconds, default 30): the longest one PostgreSQL statement may take
  (a server that accepts connections but never answers is a 503 after this, not a hung request),
  and the longest a Hearth session may sit inside a transaction without sending anything before
  the server ends it (its process frozen or cut off: its locks must not hold other instances).
"""

from __future__ import annotations

import logging
import os

from hearth._util.outage import OutageLog

WAIT_ENV = "HEARTH_DB_TIMEOUT"
QUERY_ENV = "HEARTH_DB_QUERY_TIMEOUT"
DEFAULT_WAIT = 10.0
DEFAULT_QUERY = 30.0
CONNECT_TIMEOUT = 5.0  # one connection attempt (at most the wait)

log = logging.getLogger("hearth.db")


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        log.warning("%s=%r is not a number of seconds; using %s", name, raw, default)
        return default
    return value if value > 0 else default


def wait_timeout() -> float:
    return _seconds(WAIT_ENV, DEFAULT_WAIT)


def query_timeout() -> float:
    return _seconds(QUERY_ENV, DEFAULT_QUERY)


def outage_log() -> OutageLog:
    return OutageLog("database", log)


def describe(exc: BaseException) -> str:
    """A one-line reason for logs: the exception's type and text, never a traceback."""
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    return f"{name}: {text}" if text else name
