"""SQLite called inline on the event loop (see docs/architecture.md for the numbers).

One writer connection guarded by an asyncio lock, and one reader connection for statements
outside transactions. WAL lets readers run beside the writer, also across worker processes.

Writers of several worker processes take turns through an flock on a side file: SQLite's own
busy handler sleeps in steps of milliseconds, which would stall every process's event loop under
write load, while a blocked flock wakes the moment the holder releases it. Write transactions
never wait on anything but SQLite, so the lock is held for well under a millisecond.

A second side file holds a change counter in shared memory: the schema cache of every process
checks it per request for the cost of reading 8 bytes.
"""

from __future__ import annotations

import asyncio
import fcntl
import mmap
import os
import re
import sqlite3
import struct
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from hearth.db.base import DatabaseError, Row, UniqueViolation
from hearth.errors import BadRequest
from hearth.sql.dialect import SQLITE

BUSY_TIMEOUT_MS = 10_000
_UNIQUE_RE = re.compile(r"UNIQUE constraint failed: (.+)$")


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=512)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, OverflowError):
        return BadRequest()  # an integer beyond SQLite's 64 bits: bad input
    if isinstance(exc, sqlite3.IntegrityError):
        m = _UNIQUE_RE.search(str(exc))
        if m:
            cols = [part.strip().split(".")[-1] for part in m.group(1).split(",")]
            return UniqueViolation(cols)
    return DatabaseError(str(exc))


class _Conn:
    """Runs statements on one sqlite3 connection, translating engine errors."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        try:
            return self._conn.execute(sql, params).fetchone()  # type: ignore[no-any-return]
        except (sqlite3.Error, OverflowError) as exc:
            raise _translate(exc) from exc

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except (sqlite3.Error, OverflowError) as exc:
            raise _translate(exc) from exc

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except (sqlite3.Error, OverflowError) as exc:
            raise _translate(exc) from exc

    async def column_names(self, sql: str) -> list[str]:
        try:
            cur = self._conn.execute(sql)
            names = [d[0] for d in cur.description or ()]
            cur.close()
            return names
        except (sqlite3.Error, OverflowError) as exc:
            raise _translate(exc) from exc


class SQLiteDatabase(_Conn):
    dialect = SQLITE

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._writer_conn = _connect(self.path)
        self._reader_conn = _connect(self.path)
        super().__init__(self._reader_conn)
        self._writer = _Conn(self._writer_conn)
        self._lock = asyncio.Lock()
        self._lock_fd = os.open(self.path + "-hearth.lock", os.O_RDWR | os.O_CREAT, 0o600)
        gen_fd = os.open(self.path + "-hearth.gen", os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(gen_fd).st_size < 8:
            os.ftruncate(gen_fd, 8)
        self._gen = mmap.mmap(gen_fd, 8)
        os.close(gen_fd)

    def generation(self) -> int | None:
        """A counter every process bumps after a schema/settings change (see module doc)."""
        return int(struct.unpack_from("<Q", self._gen, 0)[0])

    def bump_generation(self) -> None:
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            struct.pack_into("<Q", self._gen, 0, struct.unpack_from("<Q", self._gen, 0)[0] + 1)
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement is its own transaction: no BEGIN/COMMIT round trips needed."""
        async with self._lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                return await self._writer.execute(sql, params)
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Conn]:
        async with self._lock:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                try:
                    self._writer_conn.execute("BEGIN IMMEDIATE")
                except (sqlite3.Error, OverflowError) as exc:
                    raise _translate(exc) from exc
                try:
                    yield self._writer
                except BaseException:
                    self._writer_conn.execute("ROLLBACK")
                    raise
                else:
                    try:
                        self._writer_conn.execute("COMMIT")
                    except (sqlite3.Error, OverflowError) as exc:
                        self._writer_conn.execute("ROLLBACK")
                        raise _translate(exc) from exc
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    async def close(self) -> None:
        self._writer_conn.close()
        self._reader_conn.close()
        self._gen.close()
        os.close(self._lock_fd)
