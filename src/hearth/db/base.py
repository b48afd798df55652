"""The database seam: one small interface over SQLite (inline) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from hearth.sql.dialect import Dialect

Row = Sequence[Any]


class UniqueViolation(Exception):
    """A write broke a unique constraint. `columns` names the columns when the engine tells."""

    def __init__(self, columns: list[str], index: str = "") -> None:
        super().__init__(f"unique violation on {columns or index}")
        self.columns = columns
        self.index = index


class DatabaseError(Exception):
    """Any other engine error, with the engine's text kept for logs only."""


@dataclass
class ConsoleResult:
    """What a superuser's SQL statement gave (`POST /api/sql`): its result columns (name, type as
    the engine names it, "" when it cannot tell) and at most the asked number of rows, or, for a
    statement without a result, the rows it changed."""

    columns: list[tuple[str, str]]
    rows: list[Sequence[Any]]
    affected: int


class ConsoleError(Exception):
    """The engine refused a console statement; the message is the engine's own text."""


class Executor(Protocol):
    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...

    async def column_names(self, sql: str) -> list[str]:
        """The result column names of a query, without running it for rows."""
        ...


AfterTransaction = Callable[[], Awaitable[None]]


class Transaction(Executor, Protocol):
    """An open write transaction."""

    # True for `Database.one_statement()` on PostgreSQL: each statement commits on its own, so
    # at most one writing statement (`execute`) may be sent; a second one raises before it runs.
    autocommit: bool

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """`sql` once per parameter row, sent together (one round trip on PostgreSQL)."""
        ...

    async def write_returning(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """A writing statement that answers the row it wrote (`RETURNING`), None when it wrote
        none; it counts as the one write of a one-statement transaction."""
        ...

    async def append_rows(
        self, insert_sql: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Rows added to `table` in bulk: PostgreSQL COPYs them into `columns` (about a quarter
        less work per row than as many INSERTs, request logs measured); SQLite runs `insert_sql`
        (the same columns as parameters) once per row."""
        ...

    def after_commit(self, callback: AfterTransaction) -> None:
        """Run `callback` once the transaction committed (its locks released), in the order
        added; a failing callback is logged and the others still run."""
        ...

    def after_rollback(self, callback: AfterTransaction) -> None:
        """Run `callback` if the transaction is rolled back instead."""
        ...


class Database(Executor, Protocol):
    @property
    def dialect(self) -> Dialect: ...

    # Statements outside a transaction each check a connection out of a pool (PostgreSQL): a
    # write that reads first saves a checkout by reading on its own `one_statement()`. False
    # on SQLite, where reads have a connection of their own and a write transaction holds the
    # writer lock of every process from BEGIN on.
    pooled: bool

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    def one_statement(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction for work that writes with one statement at most, sent with `execute`
        (reads may come before it; the work must not fail after it). PostgreSQL sends the
        statement in autocommit: one round trip instead of BEGIN, the statement and COMMIT
        (see hearth.db.postgres `_OneStatement` for why that keeps every guarantee). SQLite
        opens its usual transaction: BEGIN costs no round trip there, and its reads are only
        safe from other writers while the write lock is held."""
        ...

    def generation(self) -> int | None:
        """A cheap cross-process change counter, or None when the database must be asked."""
        ...

    def bump_generation(self) -> None: ...

    def usage(self) -> tuple[int, int, int]:
        """This process's connections: (open, in use now, most it may open); for metrics."""
        ...

    async def configuration_warnings(self) -> list[str]:
        """What in the database server's configuration works against Hearth, one line each
        (`hearth serve` prints them at start)."""
        ...

    def exclusive(self, key: int) -> AbstractAsyncContextManager[None]:
        """Held by one process of every instance at a time (hearth.sql.locks names the keys),
        for work longer than one transaction; waits for it without blocking the event loop."""
        ...

    async def console(self, sql: str, max_rows: int, timeout: float) -> ConsoleResult:
        """Run a superuser's SQL as written (several statements: the last one's result), on a
        connection of its own, cut off after `timeout` seconds (ConsoleError)."""
        ...

    async def close(self) -> None: ...
