"""Copy collections, records, settings and logs from one database to another, in one transaction
of the target: an interrupted run leaves the target as it was.

Collections keep their ids and `_collections` rows (field ids, token secrets in the options);
their tables are created through the schema code Hearth serves with (hearth.schema.migrate), so
columns, indexes and PostgreSQL's auth triggers are what Hearth would have made. Records are read
in insertion order in batches and appended in bulk (COPY on PostgreSQL), each value converted to
the target's column type by the field's storage kind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from hearth.db.base import DatabaseError, Row, Transaction, UniqueViolation
from hearth.errors import BadRequest, ValidationFailed
from hearth.schema import migrate
from hearth.schema.builtin import builtin_collections
from hearth.schema.collection import Collection
from hearth.schema.indexes import IndexSyntaxError
from hearth.schema.repository import collection_from_row
from hearth.sql import logs as logs_sql
from hearth.sql import migrations, system, transfer
from hearth.sql.dialect import BOOL, JSON, NUMBER, Dialect
from hearth.transfer.source import TransferError

BATCH = 5000  # rows per read and per COPY, at most
BATCH_BYTES = 32 * 1024 * 1024  # …and about this much text: rows of large editor/JSON values come fewer at a time
FIRST_BATCH = 200  # rows read first, to measure a table's row size
PROGRESS_EVERY = 50_000  # a progress line per this many rows of one table
_START = -(2**63)  # before any rowid

Progress = Callable[[str], None]


class Reader(Protocol):
    """What a source must answer: a Hearth Database, or a read-only PocketBase file."""

    @property
    def dialect(self) -> Dialect: ...

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...


@dataclass
class Counted:
    name: str
    source: int
    target: int = 0
    note: str = ""  # why it was not copied (a view PostgreSQL refused)


@dataclass
class Copied:
    collections: list[Counted] = field(default_factory=list)
    params: int = 0
    logs: Counted | None = None
    warnings: list[str] = field(default_factory=list)


# ----- values ------------------------------------------------------------------------------------
def _json_text(value: Any, compact: bool) -> str | None:
    """JSON text (compacted when `compact`: PostgreSQL's jsonb text has spaces); text that is not
    JSON is kept as a JSON string (SQLite lets a JSON column hold anything)."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            loaded = orjson.loads(value)
        except orjson.JSONDecodeError:
            return orjson.dumps(value).decode()
        return orjson.dumps(loaded).decode() if compact else value
    return orjson.dumps(value).decode()


def _compact_json(value: Any) -> str | None:
    return _json_text(value, compact=True)


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0


def converter(storage: str, zero: Any, target: Dialect, compact: bool = True) -> Callable[[Any], Any]:
    """Source value → the value the target's column takes."""
    pg = target.name == "postgres"
    if storage == NUMBER:
        if pg:
            return lambda v: 0.0 if v is None else float(_number(v))
        return lambda v: 0 if v is None else _number(v)
    if storage == BOOL:
        return lambda v: (str(v).lower() in ("1", "true")) if isinstance(v, str) else bool(v)
    if storage == JSON:
        blank = None if zero is None else orjson.dumps(zero).decode()
        return lambda v: blank if v is None else _json_text(v, compact)
    return lambda v: "" if v is None else v if isinstance(v, str) else str(v)


Column = Callable[[Sequence[Any]], list[Any]]


def column_converter(storage: str, zero: Any, target: Dialect, source: Dialect) -> Column:
    """A whole column of a batch converted at once, the common values without a call each (the
    per-value work is most of an import's own time)."""
    one = converter(storage, zero, target, compact=source.name != "sqlite")
    if storage == NUMBER and target.name == "postgres":
        return lambda col: [v if type(v) is float else one(v) for v in col]
    if storage == NUMBER:
        return lambda col: [v if type(v) is int or type(v) is float else one(v) for v in col]
    if storage == BOOL:
        return lambda col: [v if type(v) is bool else v != 0 if type(v) is int else one(v) for v in col]
    if storage == JSON:
        return lambda col: [one(v) for v in col]
    return lambda col: [v if type(v) is str else one(v) for v in col]


# ----- collections -------------------------------------------------------------------------------
async def read_collections(source: Reader) -> list[tuple[Row, Collection]]:
    rows = await source.fetch_all(system.select_collections(source.dialect))
    out = []
    for row in rows:
        try:
            out.append((row, collection_from_row(row)))
        except (ValueError, KeyError, TypeError) as exc:
            raise TransferError(f"_collections row {row[0]!r} cannot be read: {exc}") from None
    return out


def _collection_values(row: Row) -> tuple[Any, ...]:
    """A source `_collections` row as the target takes it: JSON columns as compact text."""
    values = dict(zip(system.COLLECTION_COLUMNS, row, strict=True))
    values["system"] = bool(values["system"])
    for name in ("fields", "indexes", "options"):
        values[name] = _compact_json(values[name]) or ("[]" if name != "options" else "{}")
    return tuple(values[name] for name in system.COLLECTION_COLUMNS)


_BUILTIN = {(c.name, c.id) for c in builtin_collections()}


async def target_holds_data(target: Reader) -> list[str]:
    """What the target holds besides a freshly bootstrapped Hearth: collections of its own, or
    rows in the built-in ones. Empty when it may be imported into without --force."""
    held = []
    for _row, c in await read_collections(target):
        if (c.name, c.id) not in _BUILTIN:
            held.append(f"collection {c.name}")
        elif not c.is_view and (n := await _count(target, c.name)):
            held.append(f"{n} record(s) in {c.name}")
    return held


async def _count(db: Reader, table: str) -> int:
    row = await db.fetch_one(transfer.count_rows(table))
    return int(row[0]) if row else 0


async def clear_target(tx: Transaction, d: Dialect) -> None:
    """Drop every collection's table or view and row (a fresh bootstrap's built-ins, or what
    --force replaces), and empty the tables whose rows belong to the replaced data."""
    for _row, c in reversed(await read_collections(_TxReader(tx, d))):
        await tx.execute(transfer.drop_any(d, c.name, c.is_view))
        await tx.execute(system.delete_collection(d), (c.id,))
    for table in transfer.CLEARED_BY_FORCE:
        if await tx.fetch_one(transfer.table_exists(d), (table,)):
            await tx.execute(transfer.delete_all(table))


class _TxReader:
    def __init__(self, tx: Transaction, d: Dialect) -> None:
        self.tx, self.dialect = tx, d

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self.tx.fetch_all(sql, params)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self.tx.fetch_one(sql, params)


def _translated_view(row: Row, c: Collection, source: Dialect, target: Dialect) -> tuple[Row, str | None]:
    """A view query with the target engine's spellings (hearth.sql.transfer), in the collection
    and its row alike; the new query, or None when nothing changed."""
    if not c.is_view or source.name == target.name:
        return row, None
    rewrite = transfer.view_query_for_postgres if target.name == "postgres" else transfer.view_query_for_sqlite
    query = rewrite(c.view_query)
    if query == c.view_query:
        return row, None
    c.view_query = query
    values = dict(zip(system.COLLECTION_COLUMNS, row, strict=True))
    options = orjson.loads(_compact_json(values["options"]) or "{}")
    values["options"] = orjson.dumps({**(options if isinstance(options, dict) else {}), "viewQuery": query}).decode()
    return tuple(values[name] for name in system.COLLECTION_COLUMNS), query


async def create_collections(
    tx: Transaction, d: Dialect, collections: list[tuple[Row, Collection]], copied: Copied, progress: Progress,
    source: Dialect,
) -> list[Collection]:  # fmt: skip
    """Tables first, views after (they read the tables), each in a savepoint: a view whose
    SQLite query the target refuses is left out with a warning; a table that cannot be made
    ends the transfer."""
    made: list[Collection] = []
    ordered = [x for x in collections if not x[1].is_view] + [x for x in collections if x[1].is_view]
    for row, c in ordered:
        original = c.view_query
        row, rewritten = _translated_view(row, c, source, d)
        await tx.execute(transfer.savepoint("hearth_transfer"))
        try:
            await migrate.create_collection_table(tx, d, c, lambda: made)
            await tx.execute(system.insert_collection(d), _collection_values(row))
        except (DatabaseError, ValidationFailed, BadRequest, IndexSyntaxError) as exc:
            await tx.execute(transfer.rollback_to("hearth_transfer"))
            reason = _reason(exc)
            if not c.is_view:
                raise TransferError(f"collection {c.name}: its table cannot be created here: {reason}") from None
            note = f"view query refused by {d.name}: {reason}"
            copied.collections.append(Counted(c.name, 0, 0, note))
            copied.warnings.append(
                f"view collection {c.name} was not copied ({note}); rewrite its query for {d.name} and "
                f"create it again: {original}"
            )
            progress(f"  {c.name}: skipped (view query refused)")
            continue
        await tx.execute(transfer.release("hearth_transfer"))
        if rewritten is not None:
            copied.warnings.append(f"view collection {c.name}: its query was rewritten for {d.name}: {rewritten}")
        made.append(c)
    return made


def _reason(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict):
        parts = []
        for name, error in errors.items():
            parts.append(f"{name}: {getattr(error, 'message', error)}")
        if parts:
            return "; ".join(parts)
    return " ".join(str(exc).split()) or type(exc).__name__


# ----- rows --------------------------------------------------------------------------------------
async def copy_rows(
    source: Reader,
    tx: Transaction,
    d: Dialect,
    table: str,
    columns: Sequence[str],
    convert: Sequence[Column],
    insert_sql: str,
    progress: Progress,
    total: int,
) -> None:
    """Every row of `table`, in the source's insertion order, appended to the target's table.
    The next batch is read and converted while the target stores the previous one."""
    select = transfer.select_batch(source.dialect, table, columns)
    last: Any = _START
    done = 0
    reported = 0
    limit = FIRST_BATCH
    writing: asyncio.Task[None] | None = None
    try:
        while True:
            batch = await source.fetch_all(select, (last, limit))
            if not batch:
                break
            last = batch[-1][0]
            by_column = list(zip(*batch, strict=True))[1:]
            if done == 0:
                limit = _batch_rows(by_column, len(batch))
            rows = list(zip(*(conv(col) for conv, col in zip(convert, by_column, strict=True)), strict=True))
            if writing is not None:
                await writing
            writing = asyncio.ensure_future(tx.append_rows(insert_sql, table, columns, rows))
            done += len(rows)
            if done - reported >= PROGRESS_EVERY and done < total:
                reported = done
                progress(f"  {table}: {done:,} / {total:,} rows")
        if writing is not None:
            await writing
    finally:
        if writing is not None and not writing.done():
            writing.cancel()


def _batch_rows(by_column: Sequence[Sequence[Any]], rows: int) -> int:
    """Rows per batch for a table, from the size of its first rows' text."""
    size = sum(len(v) for col in by_column for v in col if isinstance(v, str | bytes))
    per_row = max(1, size // max(1, rows))
    return max(10, min(BATCH, BATCH_BYTES // per_row))


async def copy_records(
    source: Reader, tx: Transaction, d: Dialect, made: list[Collection], copied: Copied, progress: Progress
) -> None:
    for c in made:
        if c.is_view:
            copied.collections.append(Counted(c.name, await _count(source, c.name), await _count(_TxReader(tx, d), c.name)))
            continue
        columns = [f.name for f in c.fields]
        json_columns = [f.name for f in c.fields if f.storage == JSON]
        convert = [column_converter(f.storage, f.zero(), d, source.dialect) for f in c.fields]
        total = await _count(source, c.name)
        try:
            await copy_rows(source, tx, d, c.name, columns, convert, transfer.insert_row(d, c.name, columns, json_columns),
                            progress, total)  # fmt: skip
        except UniqueViolation as exc:
            raise TransferError(
                f"collection {c.name}: its records break the unique index {exc.index or exc.columns} on {d.name} "
                "(it compares differently from SQLite): fix the records or the index in PocketBase, then import again"
            ) from None
        except (DatabaseError, BadRequest) as exc:
            # BadRequest: a value the target cannot hold (PostgreSQL: a NUL character in text, a
            # number out of range); the driver's own error says which.
            raise TransferError(
                f"collection {c.name}: its records cannot be copied: {_reason(exc.__cause__ or exc)}"
            ) from None
        counted = Counted(c.name, total, await _count(_TxReader(tx, d), c.name))
        copied.collections.append(counted)
        progress(f"  {c.name}: {counted.target:,} record(s)")


async def copy_params(source: Reader, tx: Transaction, d: Dialect, copied: Copied) -> None:
    """`_params` rows (the settings): PocketBase encrypts them with PB_ENCRYPTION, which Hearth
    cannot read; such a directory is refused rather than imported without its settings."""
    await tx.execute(transfer.delete_all("_params"))
    for pid, value, created, updated in await source.fetch_all(transfer.select_params(source.dialect)):
        text = value.decode() if isinstance(value, bytes) else value
        if isinstance(text, str):
            try:
                orjson.loads(text)
            except orjson.JSONDecodeError:
                raise TransferError(
                    f"_params {pid!r} is not JSON (PocketBase encrypts its settings when started with "
                    "--encryptionEnv): start PocketBase once without it and save the settings, then import again"
                ) from None
        await tx.execute(system.upsert_param(d), (pid, _compact_json(text), created, updated))
        copied.params += 1


async def copy_logs(source: Reader, tx: Transaction, d: Dialect, progress: Progress) -> Counted:
    """Request logs (`_logs`): auxiliary.db on SQLite, a table of the database on PostgreSQL."""
    for stmt in logs_sql.bootstrap_statements(d):
        await tx.execute(stmt)
    total = await _count(source, logs_sql.TABLE)
    text = column_converter("text", "", d, source.dialect)
    convert = [text, lambda col: [int(_number(v or 0)) for v in col],  # an INTEGER column
               text, column_converter(JSON, {}, d, source.dialect), text]  # fmt: skip
    try:
        await copy_rows(source, tx, d, logs_sql.TABLE, logs_sql.COLUMN_NAMES, convert, logs_sql.insert(d), progress, total)
    except (DatabaseError, BadRequest) as exc:
        raise TransferError(f"the request logs cannot be copied: {_reason(exc.__cause__ or exc)}") from None
    counted = Counted(logs_sql.TABLE, total, await _count(_TxReader(tx, d), logs_sql.TABLE))
    progress(f"  {logs_sql.TABLE}: {counted.target:,} request log entries")
    return counted


async def copy_migrations(source: Reader, tx: Transaction, d: Dialect, leave_out: Sequence[str] = ()) -> int:
    """`_migrations` rows (the migration files applied to this data: PocketBase's pb_migrations
    names, Hearth's files): carried over, so that PocketBase, opening the data again beside its
    pb_migrations/, does not run them a second time."""
    if not await source.fetch_one(transfer.table_exists(source.dialect), ("_migrations",)):
        return 0
    n = 0
    for name, applied in await source.fetch_all(transfer.select_migrations(source.dialect)):
        if name not in leave_out:
            await tx.execute(migrations.mark_applied(d), (name, int(applied)))
            n += 1
    return n
