"""Backups of a SQLite database: SQLite's online backup API, both ways.

Dump: `sqlite3.Connection.backup` copies the live file page by page in one step, inside one read
transaction, so the copy is the database at one commit while other connections go on writing
(WAL); never a file copy of a live WAL database, which can tear. Written under PocketBase's names
(`data.db`, `auxiliary.db` when that file exists).

Restore: the backup is prepared in a scratch copy (the live runtime tables and counters put in),
then copied *into* the live file through the same API while Hearth's cross-process writer lock
(the flock every write transaction takes before BEGIN IMMEDIATE) is held. The copy is one write
transaction of the destination: every other connection, in this process or another, reads the
old pages or the new ones, never a mix, and no Hearth write is lost in between (they wait for
the flock). The restored counters are past the live ones, so each process reloads its cached
collections and settings at its next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

from hearth.backups.engine import BackupRefused
from hearth.sql import backups as sql
from hearth.sql.dialect import SQLITE

DATA = "data.db"
AUXILIARY = "auxiliary.db"
BUSY_MS = 30_000  # the copy into the live file waits this long for readers' locks (WAL: rarely)


class SQLiteBackups:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.auxiliary = path.parent / AUXILIARY
        self._writer_lock = str(path) + "-hearth.lock"  # hearth.db.sqlite's writer flock
        self._lock_path = str(path) + "-hearth.backup"
        self._lock_fd: int | None = None

    def missing(self) -> str | None:
        return None  # the sqlite3 module is all it takes

    async def dump(self, into: Path) -> list[str]:
        return await asyncio.to_thread(self._dump, into)

    def _dump(self, into: Path) -> list[str]:
        names = [DATA]
        _copy(str(self.path), str(into / DATA))
        with _connection(into / DATA) as conn:
            # The copy's realtime presence belongs to processes that will not run where it is restored.
            if conn.execute(sql.table_exists(SQLITE), ("_hearth_rt_clients",)).fetchone():
                conn.execute(sql.forget_rt_clients("main"))
                conn.execute(sql.zero_rt_clients("main"))
        if self.auxiliary.is_file():
            _copy(str(self.auxiliary), str(into / AUXILIARY))
            names.append(AUXILIARY)
        return names

    def check(self, names: Collection[str]) -> None:
        if DATA not in names:
            raise BackupRefused(f"The backup has no {DATA}: it is not a backup of a SQLite data directory.")

    async def restore(self, source: Path, swap_files: Callable[[], None]) -> None:
        await asyncio.to_thread(self._restore, source, swap_files)

    def _restore(self, source: Path, swap_files: Callable[[], None]) -> None:
        scratch = source / DATA
        _check_hearth(scratch)
        with _connection(scratch) as conn:
            page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        with _connection(self.path) as live:
            live_page_size = live.execute("PRAGMA page_size").fetchone()[0]
        if page_size != live_page_size:
            # A WAL database's page size cannot change by a copy into it.
            with _connection(scratch) as conn:
                conn.execute(f"PRAGMA page_size = {int(live_page_size)}")
                conn.execute("VACUUM")
        fd = os.open(self._writer_lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # every Hearth writer of every process waits from here
            with _connection(scratch) as conn:
                _keep_live_runtime(conn, str(self.path))
                with _connection(self.path) as live:
                    conn.backup(live)
            aux = source / AUXILIARY
            if aux.is_file():
                with _connection(aux) as conn, _connection(self.auxiliary) as live:
                    conn.backup(live)
            swap_files()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    async def try_lock(self) -> bool:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    async def unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    async def locked(self) -> bool:
        if self._lock_fd is not None:
            return True
        if not await self.try_lock():
            return True
        await self.unlock()
        return False


@contextlib.contextmanager
def _connection(path: Path | str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        yield conn
    finally:
        conn.close()


def _copy(source: str, target: str) -> None:
    with _connection(source) as src, _connection(target) as dst:
        src.backup(dst)  # one step: one read transaction, the source at one commit
        dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file for the archive


def _check_hearth(path: Path) -> None:
    try:
        with _connection(path) as conn:
            ok = conn.execute("PRAGMA quick_check").fetchone()
            tables = {r[0] for r in conn.execute(sql.sqlite_tables())}
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"The backup's {DATA} is not a readable SQLite database.") from exc
    if not ok or ok[0] != "ok":
        raise BackupRefused(f"The backup's {DATA} is damaged (quick_check failed).")
    if not {"_hearth_state", "_collections", "_params"} <= tables:
        raise BackupRefused(
            f"The backup's {DATA} is not a Hearth database (a PocketBase data directory's database "
            "cannot be restored into Hearth)."
        )


def _keep_live_runtime(conn: sqlite3.Connection, live: str) -> None:
    """In the scratch copy: the live runtime tables (realtime presence and events, jobs, the
    webhook outbox) instead of the backup's, the AUTOINCREMENT counters never behind the live
    ones, and the schema/revocation counters past the live values. Run with the writer flock
    held, so nothing of the live tables changes until the copy is in."""
    conn.execute("ATTACH DATABASE ? AS live", (live,))
    try:
        conn.execute("BEGIN IMMEDIATE")
        for table in sql.RUNTIME_TABLES:
            here = conn.execute(sql.table_exists(SQLITE, "main"), (table,)).fetchone()
            there = conn.execute(sql.table_exists(SQLITE, "live"), (table,)).fetchone()
            if not (here and there):
                continue
            conn.execute(sql.clear_table("main", table))
            conn.execute(sql.copy_table("live", "main", table))
            row = conn.execute(sql.sqlite_sequence_of("live"), (table,)).fetchone()
            if row is not None:
                for statement in sql.set_sqlite_sequence("main"):
                    conn.execute(statement, (int(row[0]), table))
        live_counters = dict(conn.execute(sql.state_counters("live")).fetchall())
        for counter, value in live_counters.items():
            conn.execute(sql.move_state_past("main"), (counter, int(value)))
        conn.execute(sql.recount_rt_clients("main"))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("DETACH DATABASE live")
