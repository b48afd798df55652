"""PostgreSQL through an asyncpg pool."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from hearth.db.base import DatabaseError, Row, UniqueViolation
from hearth.errors import BadRequest
from hearth.sql.dialect import POSTGRES

_KEY_RE = re.compile(r"Key \((.+?)\)=")


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, asyncpg.exceptions.DataError):
        # Values PostgreSQL cannot hold (a NUL character in text, numbers out of range): bad input.
        return BadRequest()
    if isinstance(exc, asyncpg.UniqueViolationError):
        detail = getattr(exc, "detail", "") or ""
        m = _KEY_RE.search(detail)
        cols = [c.strip().strip('"') for c in m.group(1).split(",")] if m else []
        return UniqueViolation(cols, getattr(exc, "constraint_name", "") or "")
    return DatabaseError(str(exc))


class _Conn:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        try:
            return await self._conn.fetchrow(sql, *params)  # type: ignore[no-any-return]
        except asyncpg.PostgresError as exc:
            raise _translate(exc) from exc

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return await self._conn.fetch(sql, *params)  # type: ignore[no-any-return]
        except asyncpg.PostgresError as exc:
            raise _translate(exc) from exc

    async def column_names(self, sql: str) -> list[str]:
        try:
            stmt = await self._conn.prepare(sql)
        except asyncpg.PostgresError as exc:
            raise _translate(exc) from exc
        return [a.name for a in stmt.get_attributes()]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            status = await self._conn.execute(sql, *params)
        except asyncpg.PostgresError as exc:
            raise _translate(exc) from exc
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0


class PostgresDatabase(_Conn):
    dialect = POSTGRES

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.pool = pool

    async def listen(self, channel: str, wake: Callable[[], None]) -> Callable[[], Awaitable[None]]:
        """Call `wake` on every NOTIFY on `channel` (a dedicated connection); returns the closer."""
        conn = await self.pool.acquire()

        def on_notify(*_args: Any) -> None:
            wake()

        await conn.add_listener(channel, on_notify)

        async def close() -> None:
            try:
                await conn.remove_listener(channel, on_notify)
            finally:
                await self.pool.release(conn)

        return close

    @classmethod
    async def connect(cls, dsn: str, min_size: int = 2, max_size: int = 10) -> PostgresDatabase:
        pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Conn]:
        async with self.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    yield _Conn(conn)
            except asyncpg.PostgresError as exc:
                raise _translate(exc) from exc

    def generation(self) -> int | None:
        """No shared-memory hint across machines: the repository reads the counter row instead."""
        return None

    def bump_generation(self) -> None:
        return None

    async def close(self) -> None:
        await self.pool.close()
