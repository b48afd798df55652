"""A PocketBase data directory as a source: its files checked, its databases opened read-only."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hearth.db.base import Row
from hearth.sql import transfer
from hearth.sql.dialect import SQLITE, Dialect

DATA_FILE = "data.db"
AUX_FILE = "auxiliary.db"


class TransferError(Exception):
    """Ends an import or export with this one-line message; nothing was committed."""


class ReadOnlySQLite:
    """A SQLite file read through stdlib sqlite3 in read-only mode: the source directory is never
    written (no WAL checkpoint, no lock files beside it, as Hearth's own connections keep)."""

    dialect: Dialect = SQLITE

    def __init__(self, path: Path) -> None:
        self.path = path
        # SQLite makes a WAL database's -shm (and an empty -wal) even for a read-only reader:
        # those it made are removed on close, so the directory is left as it was found.
        self._sides = [p for p in (Path(f"{path}-shm"), Path(f"{path}-wal")) if not p.exists()]
        try:
            self._conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
            self.tables = {str(r[0]) for r in self._conn.execute(transfer.sqlite_tables())}
        except sqlite3.Error as exc:
            raise TransferError(f"{path} is not a readable SQLite database: {exc}") from None

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await asyncio.to_thread(lambda: self._conn.execute(sql, tuple(params)).fetchall())

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        self._conn.close()
        wal = Path(f"{self.path}-wal")
        if wal in self._sides and wal.exists() and wal.stat().st_size > 0:
            return  # written meanwhile by another process: not ours to remove
        for side in self._sides:
            side.unlink(missing_ok=True)


def open_pocketbase_dir(path: Path) -> tuple[ReadOnlySQLite, ReadOnlySQLite | None]:
    """data.db (and auxiliary.db when there is one) of a PocketBase data directory."""
    if not path.exists():
        raise TransferError(f"{path} does not exist: give the PocketBase data directory (pb_data)")
    if not path.is_dir():
        raise TransferError(f"{path} is a file, not a directory: give the PocketBase data directory (pb_data)")
    data = path / DATA_FILE
    if not data.is_file():
        raise TransferError(f"{path} is not a PocketBase data directory: it has no {DATA_FILE}")
    db = ReadOnlySQLite(data)
    missing = {"_collections", "_params"} - db.tables
    if missing:
        db.close()
        raise TransferError(
            f"{data} is not in PocketBase's layout (no {', '.join(sorted(missing))} table); "
            "PocketBase 0.23 or later writes it"
        )
    aux_path = path / AUX_FILE
    aux = ReadOnlySQLite(aux_path) if aux_path.is_file() else None
    if aux is not None and "_logs" not in aux.tables:
        aux.close()
        aux = None
    return db, aux


def pocketbase_code(path: Path) -> list[str]:
    """Warnings for what a PocketBase directory runs that Hearth does not: JS hooks and JS/Go
    migrations, in pb_hooks/ and pb_migrations/ beside pb_data (PocketBase's defaults)."""
    out = []
    for folder, what in (("pb_hooks", "JS hooks"), ("pb_migrations", "migrations")):
        where = path.absolute().parent / folder
        if where.is_dir():
            files = sorted(p.name for p in where.iterdir() if p.is_file())
            if files:
                out.append(
                    f"{where} holds {len(files)} file(s) of {what} that Hearth does not run ({', '.join(files[:10])}"
                    f"{', …' if len(files) > 10 else ''}): port them to Hearth's Python hooks or migrations"
                )
    return out
