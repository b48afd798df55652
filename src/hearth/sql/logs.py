"""SQL for request logs (`_logs`): PocketBase's table, written in batches, listed, pruned by age.

On SQLite the table lives in its own file, `auxiliary.db` beside `data.db`, created exactly as
PocketBase creates it (same columns, defaults and indexes), so a PocketBase directory's logs show
in Hearth and PocketBase reads Hearth's. On PostgreSQL it is a table of the same database with the
same columns (`data` as jsonb, `created` as PocketBase's datetime text, so filters compare it as
they do on SQLite) and an identity `_rowid` for the insertion order SQLite's rowid gives.
"""

from __future__ import annotations

from hearth.sql.dialect import Dialect

TABLE = "_logs"
COLUMN_NAMES = ("id", "level", "message", "data", "created")
COLUMNS = ", ".join(COLUMN_NAMES)


def bootstrap_statements(d: Dialect) -> list[str]:
    if d.name == "sqlite":
        # PocketBase's own DDL (its `DEFAULT ""` spelled with single quotes: the same default,
        # and valid where SQLite refuses double-quoted strings).
        return [
            "CREATE TABLE IF NOT EXISTS `_logs` ("
            "`id` TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,"
            " `level` INTEGER DEFAULT 0 NOT NULL,"
            " `message` TEXT DEFAULT '' NOT NULL,"
            " `data` JSON DEFAULT '{}' NOT NULL,"
            " `created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL)",
            "CREATE INDEX IF NOT EXISTS idx_logs_level on `_logs` (`level`)",
            "CREATE INDEX IF NOT EXISTS idx_logs_message on `_logs` (`message`)",
            "CREATE INDEX IF NOT EXISTS idx_logs_created_hour on `_logs` (strftime('%Y-%m-%d %H:00:00', `created`))",
        ]
    return [
        "CREATE TABLE IF NOT EXISTS _logs (id TEXT PRIMARY KEY NOT NULL, level INTEGER NOT NULL DEFAULT 0,"
        " message TEXT NOT NULL DEFAULT '', data JSONB NOT NULL DEFAULT '{}',"
        " created TEXT NOT NULL, _rowid BIGINT GENERATED ALWAYS AS IDENTITY)",
        "CREATE INDEX IF NOT EXISTS idx_logs_level ON _logs (level)",
        "CREATE INDEX IF NOT EXISTS idx_logs_created ON _logs (created)",
        "CREATE INDEX IF NOT EXISTS idx_logs_rowid ON _logs (_rowid)",
    ]


def insert(d: Dialect) -> str:
    p = d.placeholder
    return f"INSERT INTO _logs ({COLUMNS}) VALUES ({p(1)}, {p(2)}, {p(3)}, {d.json_param(p(4))}, {p(5)})"


def select_one(d: Dialect) -> str:
    return f"SELECT {COLUMNS} FROM _logs WHERE id = {d.placeholder(1)}"


def select_page(where: str, order: str, limit_ph: str, offset_ph: str) -> str:
    """`where` and `order` are compiled from the filter language (hearth.query)."""
    cond = f" WHERE {where}" if where else ""
    return f"SELECT {COLUMNS} FROM _logs{cond} ORDER BY {order} LIMIT {limit_ph} OFFSET {offset_ph}"


def count(where: str) -> str:
    return "SELECT COUNT(*) FROM _logs" + (f" WHERE {where}" if where else "")


def stats(d: Dialect, where: str) -> str:
    """Entries per hour (`YYYY-MM-DD HH:00:00`), oldest first. SQLite's expression is the one
    PocketBase indexes; PostgreSQL cuts the same text."""
    hour = "strftime('%Y-%m-%d %H:00:00', created)" if d.name == "sqlite" else "substr(created, 1, 13) || ':00:00'"
    cond = f" WHERE {where}" if where else ""
    return f"SELECT {hour} AS date, COUNT(id) AS total FROM _logs{cond} GROUP BY 1 ORDER BY 1"


def prune(d: Dialect) -> str:
    """Entries created at or before p1 (PocketBase's datetime text) are removed."""
    return f"DELETE FROM _logs WHERE created <= {d.placeholder(1)}"
