"""SQL for moving a whole database between engines (`hearth import pocketbase`, `hearth export
pocketbase`, hearth.transfer): rows read in insertion order, in batches, and Hearth's own tables."""

from __future__ import annotations

from collections.abc import Sequence

from hearth.sql.dialect import Dialect, quote

# Hearth's own tables that `hearth import --force` empties besides dropping every collection: the
# settings, the request logs, logged-out sessions and API keys belong to the replaced data.
CLEARED_BY_FORCE = ("_params", "_logs", "_hearth_revoked", "_hearth_api_keys")


def table_exists(d: Dialect) -> str:
    """One row when the table bound as p1 exists (in the current schema on PostgreSQL)."""
    if d.name == "sqlite":
        return "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?"
    return (
        "SELECT 1 FROM information_schema.tables"
        f" WHERE table_schema = current_schema() AND table_name = {d.placeholder(1)}"
    )


def select_batch(d: Dialect, table: str, columns: Sequence[str], limit: int) -> str:
    """Up to `limit` rows after the insertion position bound as p1, in insertion order (SQLite's
    rowid, Hearth's `_rowid` on PostgreSQL); the position comes first in each row."""
    order = d.order_by_insertion()
    cols = ", ".join(quote(c) for c in columns)
    return f"SELECT {order}, {cols} FROM {quote(table)} WHERE {order} > {d.placeholder(1)} ORDER BY {order} LIMIT {int(limit)}"


def insert_row(d: Dialect, table: str, columns: Sequence[str], json_columns: Sequence[str] = ()) -> str:
    """One row; the JSON columns bound as text."""
    values = ", ".join(
        d.json_param(d.placeholder(i)) if c in json_columns else d.placeholder(i) for i, c in enumerate(columns, 1)
    )
    return f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES ({values})"


def count_rows(table: str) -> str:
    return f"SELECT COUNT(*) FROM {quote(table)}"


def select_params(d: Dialect) -> str:
    return "SELECT id, value, created, updated FROM _params ORDER BY id"


def delete_all(table: str) -> str:
    return f"DELETE FROM {quote(table)}"


def select_migrations(d: Dialect) -> str:
    return "SELECT file, applied FROM _migrations ORDER BY applied, file"


def drop_any(d: Dialect, name: str, view: bool) -> str:
    """A table or view, and on PostgreSQL what depends on it (another view)."""
    cascade = " CASCADE" if d.name == "postgres" else ""
    return f"DROP {'VIEW' if view else 'TABLE'} IF EXISTS {quote(name)}{cascade}"


def savepoint(name: str) -> str:
    return f"SAVEPOINT {quote(name)}"


def rollback_to(name: str) -> str:
    return f"ROLLBACK TO SAVEPOINT {quote(name)}"


def release(name: str) -> str:
    return f"RELEASE SAVEPOINT {quote(name)}"


def sqlite_tables() -> str:
    """The tables of a SQLite file (a PocketBase directory's databases are checked with it)."""
    return "SELECT name FROM sqlite_master WHERE type = 'table'"
