"""Record statements for one collection, built once per schema version and reused."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hearth.sql.dialect import JSON, Dialect, quote


def all_of(conditions: Sequence[str]) -> str:
    if len(conditions) == 1:
        return conditions[0]
    return " AND ".join(f"({c})" for c in conditions)


class RecordSQL:
    """Statements of one record table, from plain data: the table name, its columns in order as
    (name, storage kind) and the columns whose unique index is `COLLATE NOCASE` (lookups by
    them ignore case). hearth.records.codec derives these from a Collection."""

    def __init__(
        self, d: Dialect, table: str, columns: Sequence[tuple[str, str]], nocase_unique: Iterable[str] = ()
    ) -> None:
        self.dialect = d
        self.table = quote(table)
        self.columns = [name for name, _ in columns]
        self._json = {name for name, storage in columns if storage == JSON}
        self._storage = dict(columns)
        self._nocase_unique = set(nocase_unique)
        self.select_list = ", ".join(quote(n) for n in self.columns)
        p = d.placeholder
        self.by_id = f'SELECT {self.select_list} FROM {self.table} WHERE "id" = {p(1)}'
        values = ", ".join(self._value(n, i + 1) for i, n in enumerate(self.columns))
        self.insert = f"INSERT INTO {self.table} ({self.select_list}) VALUES ({values})"
        self._insert_if = f"INSERT INTO {self.table} ({self.select_list}) SELECT {values} WHERE "
        self.delete = f'DELETE FROM {self.table} WHERE "id" = {p(1)}'
        self.truncate = f"DELETE FROM {self.table}"
        self.all_ids = f'SELECT "id" FROM {self.table}'
        self._updates: dict[tuple[str, ...], str] = {}
        self._exists: dict[int, str] = {}
        self._by_field: dict[str, str] = {}

    def _value(self, name: str, index: int) -> str:
        ph = self.dialect.placeholder(index)
        return self.dialect.json_param(ph) if name in self._json else ph

    def snapshot_where(self, alias: str, where: str) -> str:
        """Whether a record given as values (one parameter per column, in column order) meets
        `where` (parameters after, compiled with `alias` for the record's row): a rule can be
        checked on a record that is gone or has changed since (realtime events), while joins
        back to the collection's own table still read the table."""
        d = self.dialect
        cols = []
        for i, name in enumerate(self.columns):
            ph = d.placeholder(i + 1)
            storage = self._storage[name]
            # SQLite: a JSON column keeps its text; a CAST to its NUMERIC affinity would not.
            expr = ph if storage == JSON and d.name == "sqlite" else f"CAST({ph} AS {d.column_type(storage)})"
            cols.append(f"{expr} AS {quote(name)}")
        snap = quote(alias)
        return f"WITH {snap} AS (SELECT {', '.join(cols)}) SELECT 1 FROM {snap} WHERE {where} LIMIT 1"

    def update(self, names: tuple[str, ...]) -> str:
        """UPDATE of the given columns; the record id is the last parameter."""
        sql = self._updates.get(names)
        if sql is None:
            sets = ", ".join(f"{quote(n)} = {self._value(n, i + 1)}" for i, n in enumerate(names))
            sql = f'UPDATE {self.table} SET {sets} WHERE "id" = {self.dialect.placeholder(len(names) + 1)}'
            self._updates[names] = sql
        return sql

    def update_returning_old(self, names: tuple[str, ...], where_old: str, where_new: str) -> str:
        """One statement (PostgreSQL) that locks and reads the row, then sets `names`: the values
        are the first parameters, the record id the next; the row must meet `where_old` (its
        parameters follow) as it was, and `where_new` (parameters after those) for the write. It
        answers the row's columns as they were, then as written; no row when it wrote none."""
        p = self.dialect.placeholder
        n = len(names)
        sets = ", ".join(f"{quote(c)} = {self._value(c, i + 1)}" for i, c in enumerate(names))
        old = quote("_hearth_old")
        read = f'SELECT {self.select_list} FROM {self.table} WHERE "id" = {p(n + 1)}'
        if where_old:
            read += f" AND {where_old}"
        before = [f"{old}.{quote(c)}" for c in self.columns]
        after = [f"{self.table}.{quote(c)}" for c in self.columns]
        sql = (
            f"WITH {old} AS ({read} FOR UPDATE OF {self.table}) UPDATE {self.table} SET {sets} "
            f'FROM {old} WHERE {self.table}."id" = {old}."id"'
        )
        if where_new:
            sql += f" AND {where_new}"
        return f"{sql} RETURNING {', '.join(before + after)}"

    def update_where(self, names: tuple[str, ...], where: str) -> str:
        """UPDATE that also requires `where` on the row (parameters after the id)."""
        return f"{self.update(names)} AND {where}"

    def _marks(self, count: int, start: int = 1) -> list[str]:
        return [self.dialect.placeholder(start + i) for i in range(count)]

    def with_ids(self, count: int, where: str = "") -> str:
        """Records whose id is one of `count` parameters (and that meet `where`, parameters after)."""
        sql = f'SELECT {self.select_list} FROM {self.table} WHERE "id" IN ({", ".join(self._marks(count))})'
        return sql + (f" AND {where}" if where else "")

    def referencing_any(self, field: str, multi: bool, count: int, where: str = "") -> str:
        """Records whose relation `field` points at any of `count` ids (back-relations)."""
        marks = self._marks(count)
        col = f"{self.table}.{quote(field)}"
        cond = self.dialect.json_array_contains_any(col, marks) if multi else f"{col} IN ({', '.join(marks)})"
        sql = f"SELECT {self.select_list} FROM {self.table} WHERE {cond}"
        return sql + (f" AND {where}" if where else "")

    def insert_if(self, where: str) -> str:
        """`insert`, writing the row only when `where` holds (its parameters after the columns'):
        a check that joins the write instead of a statement before it."""
        return self._insert_if + where

    def has_ids(self, count: int, start: int) -> str:
        """A condition: each of `count` distinct ids (parameters from `start`) is a record here."""
        marks = ", ".join(self._marks(count, start))
        return f'(SELECT COUNT(*) FROM {self.table} WHERE "id" IN ({marks})) = {count}'

    def existing_ids(self, count: int) -> str:
        sql = self._exists.get(count)
        if sql is None:
            marks = ", ".join(self.dialect.placeholder(i + 1) for i in range(count))
            sql = f'SELECT "id" FROM {self.table} WHERE "id" IN ({marks})'
            self._exists[count] = sql
        return sql

    def by_field(self, field: str) -> str:
        """Lookup by the value of one field (auth identities, e-mails). Exact, as PocketBase
        matches, unless the field's unique index is `COLLATE NOCASE`: then case-insensitive."""
        sql = self._by_field.get(field)
        if sql is None:
            col, ph = quote(field), self.dialect.placeholder(1)
            cond = self.dialect.nocase_equals(col, ph) if field in self._nocase_unique else f"{col} = {ph}"
            sql = f"SELECT {self.select_list} FROM {self.table} WHERE {cond} LIMIT 1"
            self._by_field[field] = sql
        return sql

    def by_id_where(self, where: str) -> str:
        """One record by id (parameter 1) that also meets `where` (parameters from 2)."""
        return f'SELECT {self.select_list} FROM {self.table} WHERE "id" = {self.dialect.placeholder(1)} AND {where}'

    def exists_where(self, where: str) -> str:
        return f'SELECT 1 FROM {self.table} WHERE "id" = {self.dialect.placeholder(1)} AND {where}'

    def select(self, where: str, order: str, limit_ph: str, offset_ph: str) -> str:
        sql = f"SELECT {self.select_list} FROM {self.table}"
        if where:
            sql += f" WHERE {where}"
        if order:
            sql += f" ORDER BY {order}"
        return sql + f" LIMIT {limit_ph} OFFSET {offset_ph}"

    def count(self, where: str) -> str:
        sql = f"SELECT COUNT(*) FROM {self.table}"
        return sql + (f" WHERE {where}" if where else "")
