"""DDL for record tables: create, alter and index statements per dialect.

Index predicates are rendered from a parsed index (hearth.schema.indexes.IndexDef; DDL cannot
take bound parameters); their literals were parsed strictly and are re-quoted here, never copied
from user text.

The statements take plain data: names, and the small protocols below, which schema's fields and
parsed indexes meet (sql sits below schema and never imports it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from hearth.sql.dialect import Dialect, quote
from hearth.sql.system import AUTH_ROWS_CHANGED, AUTH_TRIGGER, AUTH_TRUNCATED


class Column(Protocol):
    """A record column as a field describes it (hearth.schema.fields.base.Field)."""

    @property
    def name(self) -> str: ...

    @property
    def storage(self) -> str: ...

    def zero(self) -> Any: ...


class IndexColumn(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def descending(self) -> bool: ...

    @property
    def collate_nocase(self) -> bool: ...


class IndexPredicate(Protocol):
    """`column op literal` or `column IS [NOT] NULL` (value None)."""

    @property
    def column(self) -> str: ...

    @property
    def op(self) -> str: ...

    @property
    def value(self) -> str | float | None: ...


class Index(Protocol):
    """A parsed index definition (hearth.schema.indexes.IndexDef)."""

    @property
    def name(self) -> str: ...

    @property
    def unique(self) -> bool: ...

    @property
    def columns(self) -> Sequence[IndexColumn]: ...

    @property
    def where(self) -> Sequence[IndexPredicate]: ...


def column_def(d: Dialect, f: Column) -> str:
    if f.name == "id":
        return '"id" TEXT PRIMARY KEY NOT NULL'
    return f"{quote(f.name)} {d.column_type(f.storage)} {d.column_default(f.storage, f.zero())}"


def create_table(d: Dialect, table: str, fields: Sequence[Column]) -> list[str]:
    cols = [column_def(d, f) for f in fields]
    extra = d.rowid_column()
    if extra:
        cols.append(extra)
    return [f"CREATE TABLE {quote(table)} ({', '.join(cols)})"]


def auth_change_triggers(d: Dialect, table: str, collection_id: str) -> list[str]:
    """PostgreSQL: the triggers that NOTIFY each change of an auth collection's rows
    (hearth.sql.system AUTH_CHANNEL); none on SQLite, whose processes keep no such cache."""
    if d.name != "postgres":
        return []
    t, cid = quote(table), _literal(collection_id)
    return [
        f"CREATE TRIGGER {AUTH_TRIGGER} AFTER UPDATE ON {t} REFERENCING OLD TABLE AS changed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {AUTH_ROWS_CHANGED}({cid})",
        f"CREATE TRIGGER _hearth_auth_d AFTER DELETE ON {t} REFERENCING OLD TABLE AS changed"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {AUTH_ROWS_CHANGED}({cid})",
        f"CREATE TRIGGER _hearth_auth_t AFTER TRUNCATE ON {t}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {AUTH_TRUNCATED}({cid})",
    ]


def drop_table(table: str) -> str:
    return f"DROP TABLE IF EXISTS {quote(table)}"


def rename_table(old: str, new: str) -> str:
    return f"ALTER TABLE {quote(old)} RENAME TO {quote(new)}"


def add_column(d: Dialect, table: str, f: Column) -> str:
    return f"ALTER TABLE {quote(table)} ADD COLUMN {column_def(d, f)}"


def drop_column(table: str, name: str) -> str:
    return f"ALTER TABLE {quote(table)} DROP COLUMN {quote(name)}"


def rename_column(table: str, old: str, new: str) -> str:
    return f"ALTER TABLE {quote(table)} RENAME COLUMN {quote(old)} TO {quote(new)}"


def fill_converted(d: Dialect, table: str, target: str, source: str, to_multi: bool) -> str:
    src = quote(source)
    expr = d.json_wrap_single(src) if to_multi else d.json_last_text(src)
    return f"UPDATE {quote(table)} SET {quote(target)} = {expr}"


def count_multi_values(d: Dialect, table: str, column: str) -> str:
    """Rows that would lose values if a multi field became single."""
    return f"SELECT COUNT(*) FROM {quote(table)} WHERE {d.json_length(quote(column))} > 1"


def _literal(value: str | float | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() else repr(value)
    return "'" + value.replace("'", "''") + "'"


def create_index(d: Dialect, idx: Index, table: str) -> str:
    cols = []
    for col in idx.columns:
        expr = quote(col.name)
        if col.collate_nocase:
            expr = d.nocase_column(expr)
        if col.descending:
            expr += " DESC"
        cols.append(expr)
    sql = f"CREATE {'UNIQUE ' if idx.unique else ''}INDEX {quote(idx.name)} ON {quote(table)} ({', '.join(cols)})"
    if idx.where:
        preds = []
        for p in idx.where:
            if p.op in ("IS", "IS NOT"):
                preds.append(f"{quote(p.column)} {p.op} NULL")
            else:
                preds.append(f"{quote(p.column)} {p.op} {_literal(p.value)}")
        sql += " WHERE " + " AND ".join(preds)
    return sql


def drop_index(name: str) -> str:
    return f"DROP INDEX IF EXISTS {quote(name)}"


def create_view(name: str, query: str) -> str:
    """A view collection's table is a SQL view over the superuser's SELECT (validated upstream)."""
    return f"CREATE VIEW {quote(name)} AS {query}"


def drop_view(name: str) -> str:
    return f"DROP VIEW IF EXISTS {quote(name)}"


def view_columns(name: str) -> str:
    return f"SELECT * FROM {quote(name)} LIMIT 0"
