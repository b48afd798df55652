"""SQL for the audit trail (`_hearth_audit`: one row per committed record change) and its
switch (`_hearth_audit_config`: one row, the audited collections and the retention).

The entry columns carry the names the API and its filter use (camelCase, quoted), so a filter
compiled against the table's description (hearth.audit.service.TABLE) reads them directly.
`created` is PocketBase's datetime text (it compares as it sorts); `before`/`after` are JSON.
"""

from __future__ import annotations

from hearth.sql.dialect import Dialect, quote

TABLE = "_hearth_audit"
# Written per entry, in this order; `id` is the table's own integer key (insertion order).
ENTRY_COLUMNS = (
    "created", "collectionRef", "collection", "record", "action",
    "actorType", "actorId", "actorCollection", "ip", "userAgent", "before", "after",
)  # fmt: skip
SELECTED = ", ".join(quote(c) for c in ("id", *ENTRY_COLUMNS))


def bootstrap_statements(d: Dialect) -> list[str]:
    # The table's own integer key (SQLite's rowid), growing with time. Every index costs each
    # audited write a page per commit (SQLite) and one more B-tree to update: the key and one
    # index (a record's history) only. Not AUTOINCREMENT (one more page per commit): pruning
    # deletes the oldest entries, so an id is given again only if every entry was pruned.
    ident = "INTEGER PRIMARY KEY" if d.name == "sqlite" else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    text = ", ".join(f'"{c}" TEXT NOT NULL DEFAULT \'\'' for c in ENTRY_COLUMNS[:-2])
    json = d.column_type("json")
    return [
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id {ident}, {text}, \"before\" {json}, \"after\" {json})",
        # A record's history is the question most often asked. (`created` has no index: ids grow
        # with it, so pruning finds its boundary through the key; see `prune`.)
        f'CREATE INDEX IF NOT EXISTS idx_{TABLE}_record ON {TABLE} ("record")',
        # `with_schema`, `with_settings`: 0/1, whether collection and settings changes are audited.
        "CREATE TABLE IF NOT EXISTS _hearth_audit_config (id INTEGER PRIMARY KEY,"
        " collections TEXT NOT NULL, retention_days INTEGER NOT NULL,"
        " with_schema INTEGER NOT NULL DEFAULT 0, with_settings INTEGER NOT NULL DEFAULT 0)",
    ]


def insert_entry(d: Dialect) -> str:
    p = d.placeholder
    n = len(ENTRY_COLUMNS)
    values = [p(i) for i in range(1, n - 1)] + [d.json_param(p(n - 1)), d.json_param(p(n))]
    return f"INSERT INTO {TABLE} ({', '.join(quote(c) for c in ENTRY_COLUMNS)}) VALUES ({', '.join(values)})"


def select_entry(d: Dialect) -> str:
    return f"SELECT {SELECTED} FROM {TABLE} WHERE id = {d.placeholder(1)}"


def list_entries(d: Dialect, where: str, order: list[tuple[str, bool]], limit_ph: str, offset_ph: str) -> str:
    """A page of entries: `where` from a compiled filter, `order` (column, descending) pairs
    checked by the caller; newest first after them (ids grow with time)."""
    sql = f"SELECT {SELECTED} FROM {TABLE}"
    if where:
        sql += f" WHERE {where}"
    terms = [f"{TABLE}.{quote(name)}{' DESC' if desc else ''}" for name, desc in order]
    terms.append(f"{TABLE}.id DESC")
    return sql + f" ORDER BY {', '.join(terms)} LIMIT {limit_ph} OFFSET {offset_ph}"


def count_entries(d: Dialect, where: str) -> str:
    return f"SELECT COUNT(*) FROM {TABLE}" + (f" WHERE {where}" if where else "")


def prune(d: Dialect) -> str:
    """Entries written before p1 (a datetime text): those below the first id written at p1 or
    later, found by walking the key from the oldest (as many rows as are pruned), every entry
    when there is none."""
    return (
        f"DELETE FROM {TABLE} WHERE id < COALESCE("
        f"(SELECT id FROM {TABLE} WHERE created >= {d.placeholder(1)} ORDER BY id LIMIT 1),"
        f" (SELECT MAX(id) + 1 FROM {TABLE}))"
    )


def select_config(d: Dialect) -> str:
    return "SELECT collections, retention_days, with_schema, with_settings FROM _hearth_audit_config WHERE id = 1"


def upsert_config(d: Dialect) -> str:
    p = d.placeholder
    return (
        "INSERT INTO _hearth_audit_config (id, collections, retention_days, with_schema, with_settings)"
        f" VALUES (1, {p(1)}, {p(2)}, {p(3)}, {p(4)}) ON CONFLICT (id) DO UPDATE SET"
        " collections = excluded.collections, retention_days = excluded.retention_days,"
        " with_schema = excluded.with_schema, with_settings = excluded.with_settings"
    )
