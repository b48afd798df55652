"""SQLite called inline on the event loop (see docs/architecture.md for the numbers).

One writer connection guarded by an asyncio lock, and one reader connection for statements
outside transactions. WAL lets readers run beside the writer, also across worker processes.

Writers of several worker processes take turns through an flock on a side file: SQLite's own
busy handler sleeps in steps of milliseconds, which would stall every process's event loop under
write load, while a blocked flock wakes the moment the holder releases it. Write transactions
never wait on anything but SQLite, so the lock is held for well under a millisecond.

A second side file holds a change counter in shared memory: the schema cache of every process
checks it per request for the cost of reading 8 bytes.

Faults (docs/faults.md). A process outside Hearth holding the write lock (a `sqlite3` shell in
BEGIN EXCLUSIVE, a backup tool) is waited for without blocking the event loop: SQLite's own busy
handler gets only a few milliseconds inline, then the attempt is repeated after asyncio sleeps
(with the flock released meanwhile, so other Hearth processes are not stalled behind us) until
HEARTH_DB_TIMEOUT, and then the request answers 503. A full disk, a read-only or vanished file
and I/O errors are 503s too (DatabaseUnavailable), logged once per interval; a failed write
transaction is rolled back whole. Reads go on while writes are refused, and everything heals by
itself once the lock is released or the disk has room again.
"""

from __future__ import annotations

import asyncio
import fcntl
import mmap
import os
import re
import sqlite3
import struct
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from hearth.db import faults, sqlite_console
from hearth.db.after import AfterTransactionCallbacks
from hearth.db.base import ConsoleResult, DatabaseError, Row, UniqueViolation
from hearth.errors import BadRequest, DatabaseUnavailable
from hearth.sql.dialect import SQLITE

T = TypeVar("T")

# SQLite's busy handler sleeps inline, i.e. with the whole event loop stopped: it only gets long
# enough for sub-millisecond contention. Longer waits are asyncio sleeps between attempts.
BUSY_TIMEOUT_MS = 5
SETUP_BUSY_TIMEOUT_MS = 10_000  # opening the file (startup only)
_RETRY_DELAYS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1)  # then 0.1 s until the deadline
_UNIQUE_RE = re.compile(r"UNIQUE constraint failed: (.+)$")

# Result codes that mean "the database file cannot be used right now", not "this statement is
# wrong": locked by another process, disk full, read-only file, I/O error, file gone or damaged.
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)


def _code(exc: BaseException) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def _busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and _code(exc) == sqlite3.SQLITE_BUSY


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, cached_statements=512)
    conn.execute(f"PRAGMA busy_timeout = {SETUP_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


_TOO_DEEP = frozenset({"parser stack overflow", "Expression tree is too large (maximum depth 1000)"})


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, OverflowError):
        return BadRequest()  # an integer beyond SQLite's 64 bits: bad input
    if isinstance(exc, sqlite3.OperationalError) and str(exc) in _TOO_DEEP:
        # A client filter nesting `||` and `&&` groups deeper than this SQLite's parser takes
        # (its stack is a fixed 100 entries before 3.46): the filter's fault, not the server's.
        return BadRequest()
    if isinstance(exc, sqlite3.IntegrityError):
        m = _UNIQUE_RE.search(str(exc))
        if m:
            cols = [part.strip().split(".")[-1] for part in m.group(1).split(",")]
            return UniqueViolation(cols)
    return DatabaseError(str(exc))


class _Conn:
    """Runs statements on one sqlite3 connection, translating engine errors. Used as is inside a
    write transaction (no retries there: the write lock is already held)."""

    def __init__(self, conn: sqlite3.Connection, db: SQLiteDatabase, kind: str) -> None:
        self._conn = conn
        self._db = db
        self._kind = kind

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        try:
            return self._conn.execute(sql, params).fetchone()  # type: ignore[no-any-return]
        except (sqlite3.Error, OverflowError) as exc:
            raise self._db.failure(exc, self._kind) from exc

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except (sqlite3.Error, OverflowError) as exc:
            raise self._db.failure(exc, self._kind) from exc

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except (sqlite3.Error, OverflowError) as exc:
            raise self._db.failure(exc, self._kind) from exc

    async def column_names(self, sql: str) -> list[str]:
        try:
            return _column_names(self._conn, sql)
        except (sqlite3.Error, OverflowError) as exc:
            raise self._db.failure(exc, self._kind) from exc


class _Tx(_Conn, AfterTransactionCallbacks):
    """The statements of one write transaction, and what to run once it is over."""

    autocommit = False

    async def write_returning(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self.fetch_one(sql, params)

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except (sqlite3.Error, OverflowError) as exc:
            raise self._db.failure(exc, self._kind) from exc

    async def append_rows(
        self, insert_sql: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        await self.execute_many(insert_sql, rows)


class _Transaction:
    """`async with db.transaction() as tx`: this process's writer turn, then BEGIN IMMEDIATE with
    the cross-process flock held, COMMIT (or ROLLBACK on an exception), the locks released, and
    then the transaction's after-commit (or after-rollback) callbacks. A class rather than an
    @asynccontextmanager: it is on every write's path."""

    __slots__ = ("_db", "_tx")

    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db
        self._tx: _Tx | None = None

    async def __aenter__(self) -> _Tx:
        db = self._db
        deadline = time.monotonic() + db.wait_timeout
        await db._writer_turn(deadline)
        try:
            await db._retrying(db._begin, "write", False, deadline)
        except BaseException:
            db._lock.release()
            raise
        self._tx = _Tx(db._writer_conn, db, "write")
        return self._tx

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db, tx = self._db, self._tx
        assert tx is not None
        try:
            if exc_type is not None:
                db._rollback()
            else:
                try:
                    db._writer_conn.execute("COMMIT")
                except (sqlite3.Error, OverflowError) as error:
                    db._rollback()
                    raise db.failure(error, "write") from error
        except BaseException:
            fcntl.flock(db._lock_fd, fcntl.LOCK_UN)
            db._lock.release()
            await tx.rolled_back()
            raise
        fcntl.flock(db._lock_fd, fcntl.LOCK_UN)
        db._lock.release()
        if exc_type is not None:
            await tx.rolled_back()
            return
        db._ok("write")
        await tx.committed()  # with every lock released: reactions may write again


def _column_names(conn: sqlite3.Connection, sql: str) -> list[str]:
    cur = conn.execute(sql)
    names = [d[0] for d in cur.description or ()]
    cur.close()
    return names


class SQLiteDatabase:
    dialect = SQLITE
    pooled = False  # db.base.Database.pooled

    def __init__(self, path: str | Path, *, wait_timeout: float | None = None) -> None:
        self.path = str(path)
        self.wait_timeout = wait_timeout if wait_timeout is not None else faults.wait_timeout()
        self.outage = faults.outage_log()
        try:
            self._writer_conn = _connect(self.path)
            self._reader_conn = _connect(self.path)
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"{self.path}: {faults.describe(exc)}") from exc
        self._writer = _Conn(self._writer_conn, self, "write")
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

    def usage(self) -> tuple[int, int, int]:
        """Two connections: the reader, used inline (never busy between two awaits), and the
        writer, in use while this process holds the write lock."""
        return 2, 1 if self._lock.locked() else 0, 2

    async def configuration_warnings(self) -> list[str]:
        return []  # Hearth opens the file with the settings it needs (WAL, busy timeout)

    def bump_generation(self) -> None:
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            struct.pack_into("<Q", self._gen, 0, struct.unpack_from("<Q", self._gen, 0)[0] + 1)
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    # ----- failures -------------------------------------------------------------------------
    def failure(self, exc: Exception, kind: str) -> Exception:
        """What to raise for `exc`: DatabaseUnavailable (logged once per interval) when the file
        cannot be used now, else the statement's own error."""
        if isinstance(exc, sqlite3.Error) and _code(exc) in _UNAVAILABLE_CODES:
            reason = faults.describe(exc)
            if _busy(exc):
                reason += f" (another process held the write lock for {self.wait_timeout:g} s)"
            self.outage.failed(reason, kind)
            return DatabaseUnavailable(reason)
        return _translate(exc)

    def _ok(self, kind: str) -> None:
        if self.outage.down:
            self.outage.ok(kind)

    async def _retrying(self, attempt: Callable[[], T], kind: str, locked: bool, deadline: float = 0.0) -> T:
        """Run `attempt` until it is not refused as busy, waiting with asyncio sleeps (the flock
        taken around each try when `locked`) until `deadline` (time.monotonic(); by default the
        wait timeout after the first refusal). The caller reports success (`_ok`) once the whole
        operation worked."""
        tries = 0
        while True:
            if locked:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                result = attempt()
            except (sqlite3.Error, OverflowError) as exc:
                error: Exception = exc
            else:
                return result
            finally:
                if locked:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            now = time.monotonic()
            if not deadline:
                deadline = now + self.wait_timeout
            if not _busy(error) or now >= deadline:
                raise self.failure(error, kind) from error
            delay = _RETRY_DELAYS[tries] if tries < len(_RETRY_DELAYS) else _RETRY_DELAYS[-1]
            tries += 1
            await asyncio.sleep(min(delay, max(0.0, deadline - now)))

    # ----- reads (outside transactions) -----------------------------------------------------
    # The first try runs inline, as before any of this existed; only a failure goes through
    # `_retrying` (the hot path costs one attribute test more).
    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        conn = self._reader_conn
        try:
            row = conn.execute(sql, params).fetchone()
        except (sqlite3.Error, OverflowError) as exc:
            if not _busy(exc):
                raise self.failure(exc, "read") from exc
            row = await self._retrying(lambda: conn.execute(sql, params).fetchone(), "read", False)
        if self.outage.down:
            self.outage.ok("read")
        return row  # type: ignore[no-any-return]

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        conn = self._reader_conn
        try:
            rows = conn.execute(sql, params).fetchall()
        except (sqlite3.Error, OverflowError) as exc:
            if not _busy(exc):
                raise self.failure(exc, "read") from exc
            rows = await self._retrying(lambda: conn.execute(sql, params).fetchall(), "read", False)
        if self.outage.down:
            self.outage.ok("read")
        return rows

    async def column_names(self, sql: str) -> list[str]:
        conn = self._reader_conn
        names = await self._retrying(lambda: _column_names(conn, sql), "read", False)
        self._ok("read")
        return names

    # ----- writes ---------------------------------------------------------------------------
    async def _writer_turn(self, deadline: float) -> None:
        """Take this process's writer connection. Writes queue here while another process holds
        the write lock; the queue counts against the same time limit, so twenty queued writes
        all answer after the wait timeout, not one after another."""
        if not self._lock.locked():
            await self._lock.acquire()
            return
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await self._lock.acquire()
        except TimeoutError:
            reason = (
                self.outage.reason
                if self.outage.down
                else f"writes waited {self.wait_timeout:g} s for their turn (a slow write transaction)"
            )
            self.outage.failed(reason, "write")
            raise DatabaseUnavailable(reason) from None

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement is its own transaction: no BEGIN/COMMIT round trips needed."""
        conn = self._writer_conn
        deadline = time.monotonic() + self.wait_timeout
        await self._writer_turn(deadline)
        try:
            count = await self._retrying(lambda: conn.execute(sql, params).rowcount, "write", True, deadline)
        finally:
            self._lock.release()
        self._ok("write")
        return count

    def _begin(self) -> None:
        """BEGIN IMMEDIATE with the flock held; the flock stays held when it succeeds."""
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            self._writer_conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            raise

    def _rollback(self) -> None:
        # SQLite may have rolled back by itself (disk full, I/O error): nothing left to undo.
        if self._writer_conn.in_transaction:
            try:
                self._writer_conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def one_statement(self) -> _Transaction:
        """A real transaction (db.base.Database.one_statement: BEGIN IMMEDIATE is free here, and
        the reads before the write must hold the write lock with it)."""
        return _Transaction(self)

    @asynccontextmanager
    async def exclusive(self, key: int) -> AsyncIterator[None]:
        """db.base.Database.exclusive: an flock on a side file of the database, tried between
        asyncio sleeps (a blocking flock would stop the event loop)."""
        fd = os.open(f"{self.path}-hearth.{key}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.05)
            yield
        finally:
            os.close(fd)  # releases the lock

    async def console(self, sql: str, max_rows: int, timeout: float) -> ConsoleResult:
        """db.base.Database.console: see hearth.db.sqlite_console."""
        return await asyncio.to_thread(sqlite_console.run, self.path, sql, max_rows, timeout)

    async def close(self) -> None:
        self._writer_conn.close()
        self._reader_conn.close()
        self._gen.close()
        os.close(self._lock_fd)
