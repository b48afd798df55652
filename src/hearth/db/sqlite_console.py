"""A superuser's SQL on SQLite (`POST /api/sql`): on a connection of its own, in a thread.

Not on the event loop as Hearth's own statements are: a console query may run for minutes, and
it is cut off with `interrupt()` from a timer. Its writes take SQLite's own locks (busy_timeout)
rather than Hearth's write flock: they are "unguarded", as in PocketBase, and a long write makes
Hearth's writers wait (and answer 503 after HEARTH_DB_TIMEOUT) until it ends.

Python's sqlite3 does not expose a result column's declared type, so every type is "".
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from hearth.db.base import ConsoleError, ConsoleResult

BUSY_TIMEOUT_S = 5.0


def statements(sql: str) -> list[str]:
    """`sql` cut at each `;` that ends a complete statement (not one inside a literal, a comment
    or a trigger body); what is left after the last is a statement too, unless blank."""
    out: list[str] = []
    start = 0
    for at, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : at + 1]):
            out.append(sql[start : at + 1])
            start = at + 1
    if sql[start:].strip():
        out.append(sql[start:])
    return [s for s in out if s.strip().strip(";").strip()] or [sql]


def run(path: str, sql: str, max_rows: int, timeout: float) -> ConsoleResult:
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    timer = threading.Timer(timeout, conn.interrupt)
    timer.start()
    try:
        result = ConsoleResult([], [], 0)
        for statement in statements(sql):
            cur = conn.execute(statement)
            if cur.description:
                rows: list[Any] = cur.fetchmany(max_rows)
                result = ConsoleResult([(d[0], "") for d in cur.description], rows, 0)
            else:
                result = ConsoleResult([], [], max(cur.rowcount, 0))
            cur.close()
        return result
    except sqlite3.Error as exc:
        message = "interrupted: the query ran longer than allowed" if "interrupted" in str(exc) else str(exc)
        raise ConsoleError(message) from exc
    finally:
        timer.cancel()
        conn.close()
