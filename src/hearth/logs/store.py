"""Where request logs are kept: PocketBase's `auxiliary.db` on SQLite, a `_logs` table on PostgreSQL.

SQLite: the file gets its own connections (hearth.db.sqlite: WAL, the cross-process flock of
*that* file, busy waits as asyncio sleeps), so writing logs never takes the main database's write
lock and several worker processes write side by side. PostgreSQL: the table sits in the same
database as the records (its own table, written through the same pool).

Listing, viewing and the hourly stats read through the filter language: `_logs` is described to
the compiler as a collection whose fields are its columns (as `GET /api/collections` does for
`_collections`), so `data.status >= 400` is a JSON path on both dialects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from hearth.config import Config
from hearth.db.base import Database
from hearth.errors import BadRequest, NotFound
from hearth.filter import FilterSyntaxError
from hearth.query.compile import FilterError, Unsupported, compile_filter, compile_sort
from hearth.query.context import RequestInfo
from hearth.schema.system_fields import table_model
from hearth.sql import logs as sql

AUX_FILE = "auxiliary.db"  # PocketBase's name for the database beside data.db

# PocketBase's filterable fields: id, created, level, message and any `data.*` path.
_TABLE = table_model(
    sql.TABLE, [("id", "text"), ("created", "text"), ("level", "number"), ("message", "text"), ("data", "json")]
)

Row = tuple[str, int, str, str, str]  # id, level, message, data (JSON text), created


class LogStore:
    def __init__(self, db: Database, own: bool) -> None:
        self.db = db
        self._own = own  # the auxiliary database is closed with the store

    @classmethod
    async def open(cls, config: Config, main: Database) -> LogStore:
        if main.dialect.name == "sqlite":
            from hearth.db.sqlite import SQLiteDatabase

            store = cls(SQLiteDatabase(config.data_dir / AUX_FILE), own=True)
        else:
            store = cls(main, own=False)
        d = store.db.dialect
        try:
            async with store.db.transaction() as tx:
                lock = d.bootstrap_lock()  # PostgreSQL: processes starting together take turns
                if lock:
                    await tx.execute(lock)
                for stmt in sql.bootstrap_statements(d):
                    await tx.execute(stmt)
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def waiting(self) -> bool:
        """The shared database is in an outage: writes wait until the calls of requests and
        background work find it back (each failed write would count as one more failed call in
        the outage log). The auxiliary database is tried each round: nothing else would heal it."""
        outage = getattr(self.db, "outage", None)
        return not self._own and outage is not None and bool(outage.down)

    async def write(self, rows: Sequence[Row]) -> None:
        async with self.db.transaction() as tx:
            await tx.append_rows(sql.insert(self.db.dialect), sql.TABLE, sql.COLUMN_NAMES, rows)

    async def prune(self, before: str) -> int:
        return await self.db.execute(sql.prune(self.db.dialect), (before,))

    async def close(self) -> None:
        if self._own:
            await self.db.close()

    # ----- reads ------------------------------------------------------------------------------
    def _where(self, text: str, message: str = "") -> tuple[str, list[Any]]:
        d = self.db.dialect
        try:
            compiled = compile_filter(d, _TABLE, text, rule=True) if text.strip() else None
        except (FilterError, Unsupported, FilterSyntaxError) as exc:
            raise BadRequest(message) from exc
        if compiled is None:
            return "", []
        return compiled.render(d, 1), compiled.params(RequestInfo())

    async def page(
        self, *, filter_text: str, sort: str, page: int, per_page: int, skip_total: bool
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of entries and the total (-1 with `skip_total`); no sort: oldest first (the
        insertion order, as PocketBase)."""
        d = self.db.dialect
        where, params = self._where(filter_text)
        try:
            order = compile_sort(d, _TABLE, sort, superuser=True)
        except (FilterError, Unsupported) as exc:
            raise BadRequest() from exc
        n = len(params)
        order_sql = order.render(d, n + 1)
        order_params = order.params(RequestInfo())
        m = n + len(order_params)
        stmt = sql.select_page(where, order_sql, d.placeholder(m + 1), d.placeholder(m + 2))
        # An offset past any table, but within a 64-bit integer (a huge `page` is no error).
        rows = await self.db.fetch_all(stmt, (*params, *order_params, per_page, min((page - 1) * per_page, 2**62)))
        total = -1
        if not skip_total:
            row = await self.db.fetch_one(sql.count(where), params)
            total = int(row[0]) if row else 0
        return [_entry(r) for r in rows], total

    async def get(self, log_id: str) -> dict[str, Any]:
        row = await self.db.fetch_one(sql.select_one(self.db.dialect), (log_id,))
        if row is None:
            raise NotFound()
        return _entry(row)

    async def stats(self, filter_text: str) -> list[dict[str, Any]]:
        where, params = self._where(filter_text, "Invalid filter format.")
        rows = await self.db.fetch_all(sql.stats(self.db.dialect, where), params)
        return [{"total": int(total), "date": f"{date}.000Z"} for date, total in rows if date]


def _entry(row: Sequence[Any]) -> dict[str, Any]:
    log_id, level, message, data, created = row
    if isinstance(data, str | bytes):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:  # a row written by something else: shown, not a 500
            data = {}
    return {"id": log_id, "created": created, "data": data, "message": message, "level": int(level)}
