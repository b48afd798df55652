"""Backups of a PostgreSQL database: `pg_dump`, and `pg_restore` + `psql` in one transaction.

Dump: `pg_dump --format=custom` reads the whole database in one repeatable-read snapshot, so the
dump is the database at one point in time while writes go on. It goes into the archive as
`hearth_postgres.dump` (PocketBase has no PostgreSQL; the name is Hearth's), restorable by hand
with `pg_restore`. The runtime tables (hearth.sql.backups RUNTIME_TABLES) are left out: Hearth
creates them empty when it starts on a restored database.

Restore: the dump is turned into SQL (`pg_restore -f`) and run by `psql --single-transaction`
between Hearth's own statements (hearth.sql.backups): lock every table, drop everything of the
`public` schema but the runtime tables, recreate it from the dump, move the counters past the
live ones. DDL is transactional in PostgreSQL, so other sessions see the old database until
the COMMIT and the new one after it (statements that need a table wait for the lock meanwhile),
and a failure anywhere rolls it all back. The counters' trigger NOTIFYs every process of every
instance at the commit: each reloads collections and settings and drops its cached auth records.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from hearth.backups.engine import BackupRefused
from hearth.db.postgres import PostgresDatabase
from hearth.sql import backups as sql

log = logging.getLogger("hearth.backups")

DUMP = "hearth_postgres.dump"
SCRIPT = "restore.sql"  # the dump as SQL, written beside it while restoring
TOOLS_DUMP = ("pg_dump",)
TOOLS_RESTORE = ("pg_restore", "psql")


class PostgresBackups:
    def __init__(self, db: PostgresDatabase, url: str) -> None:
        self.db = db
        self.url = url
        self._lock_conn: Any = None

    def missing(self) -> str | None:
        return _missing(TOOLS_DUMP)

    async def dump(self, into: Path) -> list[str]:
        if (missing := self.missing()) is not None:
            raise BackupRefused(missing)
        excluded = [arg for table in sql.RUNTIME_TABLES for arg in ("--exclude-table", f"public.{table}")]
        await _run(
            "pg_dump", "--format=custom", "--no-owner", "--no-privileges", *excluded,
            f"--file={into / DUMP}", f"--dbname={self.url}",
        )  # fmt: skip
        return [DUMP]

    def check(self, names: Collection[str]) -> None:
        if DUMP in names:
            return
        if "data.db" in names:
            raise BackupRefused(
                "The backup holds a SQLite database (data.db): it cannot be restored into PostgreSQL."
            )
        raise BackupRefused(f"The backup has no {DUMP}: it is not a backup of a PostgreSQL database.")

    async def restore(self, source: Path, swap_files: Callable[[], None]) -> None:
        if (missing := _missing(TOOLS_RESTORE)) is not None:
            raise BackupRefused(missing)
        script = source / SCRIPT
        await _run("pg_restore", "--no-owner", "--no-privileges", f"--file={script}", str(source / DUMP))
        await _run(
            "psql", "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction",
            f"--dbname={self.url}", "--command", sql.pg_restore_prepare(), "--file", str(script),
            "--command", sql.pg_restore_finish(),
        )  # fmt: skip
        swap_files()

    async def try_lock(self) -> bool:
        conn = await self.db.acquire()
        try:
            got = bool(await conn.fetchval(sql.pg_try_lock()))
        except BaseException:
            await self.db.release(conn)
            raise
        if not got:
            await self.db.release(conn)
            return False
        self._lock_conn = conn  # a session lock: held by this connection until unlocked
        return True

    async def unlock(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is None:
            return
        try:
            await conn.fetchval(sql.pg_unlock())
        except Exception:
            conn.terminate()  # a lost connection released its session locks with it
        finally:
            await self.db.release(conn)

    async def locked(self) -> bool:
        if self._lock_conn is not None:
            return True
        return bool((await self.db.fetch_one(sql.pg_locked()) or [False])[0])


def _missing(tools: tuple[str, ...]) -> str | None:
    absent = [tool for tool in tools if shutil.which(tool) is None]
    if not absent:
        return None
    return (
        f"{' and '.join(absent)} {'is' if len(absent) == 1 else 'are'} not installed on this server "
        "(PostgreSQL's client tools, needed for backups of a PostgreSQL database)."
    )


async def _run(*argv: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        text = err.decode(errors="replace").strip()
        log.error("%s failed (exit %s): %s", argv[0], proc.returncode, text)
        first = text.splitlines()[0] if text else f"exit status {proc.returncode}"
        raise BackupRefused(f"{argv[0]} failed: {first[:300]}")
