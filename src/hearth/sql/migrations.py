"""SQL for `_migrations`: which migration files have been applied (PocketBase's table and
columns: the file name, and when, in microseconds since the epoch)."""

from __future__ import annotations

from hearth.sql.dialect import Dialect


def bootstrap_statements(d: Dialect) -> list[str]:
    return ["CREATE TABLE IF NOT EXISTS _migrations (file VARCHAR(255) PRIMARY KEY NOT NULL, applied BIGINT NOT NULL)"]


def applied(d: Dialect) -> str:
    return "SELECT file FROM _migrations ORDER BY applied, file"


def mark_applied(d: Dialect) -> str:
    p = d.placeholder
    return f"INSERT INTO _migrations (file, applied) VALUES ({p(1)}, {p(2)}) ON CONFLICT (file) DO NOTHING"


def unmark(d: Dialect) -> str:
    return f"DELETE FROM _migrations WHERE file = {d.placeholder(1)}"
