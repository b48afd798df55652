"""Per-dialect SQL differences: placeholders, column types, identifier quoting.

`if dialect == postgres` style branches live here and only here; everything else asks the
dialect object.
"""

from __future__ import annotations

import re
from typing import Any

from hearth.errors import BadRequest
from hearth.sql import locks

# Column kinds ("storage") a field declares; each dialect maps them to its column types.
TEXT = "text"
NUMBER = "number"
BOOL = "bool"
JSON = "json"

# PocketBase's names match Go's `^\w+$`: ASCII letters, digits and "_", a digit first included.
_IDENT_RE = re.compile(r"[A-Za-z0-9_]+")
# PostgreSQL keeps the first 63 bytes of an identifier: longer names that share them are one name.
IDENTIFIER_BYTES = 63


def is_identifier(name: str) -> bool:
    """Whether `name` may be quoted as a table, column or index name (the upstream checks use this)."""
    return _IDENT_RE.fullmatch(name) is not None


def identifier_key(name: str) -> str:
    """What two names must differ in to be distinct objects on both engines (case-insensitive,
    as SQLite compares them, and within PostgreSQL's first 63 bytes)."""
    return name.lower()[:IDENTIFIER_BYTES]


class UnsafeIdentifier(BadRequest):
    """A name that is not a valid identifier reached the SQL layer. Names are validated before
    anything quotes them; should one slip through, the request is refused (400), never a 500."""

    def __init__(self) -> None:
        super().__init__("Invalid collection, field or index name.")


def quote(name: str) -> str:
    """Quote an identifier; anything but `[A-Za-z0-9_]+` is refused (so no quote can break out)."""
    if not isinstance(name, str) or _IDENT_RE.fullmatch(name) is None:
        raise UnsafeIdentifier()
    return f'"{name}"'


class Dialect:
    name = ""
    supports_rowid = True

    def placeholder(self, index: int) -> str:
        raise NotImplementedError

    def column_type(self, storage: str) -> str:
        raise NotImplementedError

    def json_param(self, placeholder: str) -> str:
        return placeholder

    def rowid_column(self) -> str | None:
        """Extra column that keeps insertion order where the engine has no rowid."""
        return None

    def order_by_insertion(self) -> str:
        raise NotImplementedError

    def random_order(self) -> str:
        return "RANDOM()"

    # Conversions used when a select/relation/file field switches between one and many values.
    def json_wrap_single(self, col: str) -> str:
        raise NotImplementedError

    def json_last_text(self, col: str) -> str:
        raise NotImplementedError

    def json_length(self, col: str) -> str:
        raise NotImplementedError

    def nocase_column(self, col: str) -> str:
        raise NotImplementedError

    def json_array_contains(self, col: str, placeholder: str) -> str:
        raise NotImplementedError

    def nocase_equals(self, col: str, placeholder: str) -> str:
        """`col` equals the parameter ignoring case, as a NOCASE index on `col` compares."""
        raise NotImplementedError

    def json_array_contains_any(self, col: str, placeholders: list[str]) -> str:
        raise NotImplementedError

    def json_elements(self, col: str, alias: str) -> tuple[str, str]:
        """A FROM item listing the elements of a JSON array column, and its element expression."""
        raise NotImplementedError

    def json_param_elements(self, placeholder: str, alias: str) -> tuple[str, str]:
        """Like json_elements, for a parameter that always holds a JSON array (placed once)."""
        raise NotImplementedError

    def json_value(self, col: str, path: list[str]) -> str:
        """The JSON value at `path` (validated as \\w+): SQLite's json_extract result, PostgreSQL's
        jsonb (hearth.sql.typed reads its type)."""
        raise NotImplementedError

    def single_length(self, col: str) -> str:
        """`:length` of a single-valued select/relation/file: 0 when blank, else 1."""
        return f"(CASE WHEN {col} = '' OR {col} IS NULL THEN 0 ELSE 1 END)"

    def json_as_text(self, col: str) -> str:
        """A JSON column as its text, compact, as PocketBase compares multi-value fields."""
        raise NotImplementedError

    def bootstrap_lock(self) -> str | None:
        """A statement that serialises start-up migrations between processes, if needed."""
        return None

    # Filter compilation.
    lateral = ""  # before a correlated subquery in FROM

    def bool_param(self, placeholder: str) -> str:
        return placeholder

    def true_literal(self) -> str:
        return "1=1"

    def false_literal(self) -> str:
        return "1=0"

    def column_default(self, storage: str, zero: Any) -> str:
        """A constant DEFAULT clause from the field's zero value (never user input)."""
        if storage == TEXT:
            return "DEFAULT '' NOT NULL"
        if storage == NUMBER:
            return "DEFAULT 0 NOT NULL"
        if storage == BOOL:
            return "DEFAULT FALSE NOT NULL"
        if zero == []:
            return "DEFAULT '[]' NOT NULL"
        if isinstance(zero, dict) and zero == {"lon": 0, "lat": 0}:
            return """DEFAULT '{"lon":0,"lat":0}' NOT NULL"""
        return "DEFAULT NULL"


class SQLiteDialect(Dialect):
    name = "sqlite"

    def placeholder(self, index: int) -> str:
        return "?"

    def column_type(self, storage: str) -> str:
        return {TEXT: "TEXT", NUMBER: "NUMERIC", BOOL: "BOOLEAN", JSON: "JSON"}[storage]

    def order_by_insertion(self) -> str:
        return "_ROWID_"

    def json_wrap_single(self, col: str) -> str:
        return f"CASE WHEN {col} IS NULL OR {col} = '' THEN '[]' ELSE json_array({col}) END"

    def json_last_text(self, col: str) -> str:
        return f"COALESCE(json_extract({col}, '$[#-1]'), '')"

    def json_length(self, col: str) -> str:
        return f"COALESCE(json_array_length({col}), 0)"

    def nocase_column(self, col: str) -> str:
        return f"{col} COLLATE NOCASE"

    def nocase_equals(self, col: str, placeholder: str) -> str:
        return f"{col} = {placeholder} COLLATE NOCASE"

    def json_array_contains(self, col: str, placeholder: str) -> str:
        return f"EXISTS (SELECT 1 FROM json_each({col}) WHERE json_each.value = {placeholder})"

    def json_array_contains_any(self, col: str, placeholders: list[str]) -> str:
        return f"EXISTS (SELECT 1 FROM json_each({col}) WHERE json_each.value IN ({', '.join(placeholders)}))"

    def json_elements(self, col: str, alias: str) -> tuple[str, str]:
        return f"json_each({col}) AS {alias}", f"{alias}.value"

    def json_param_elements(self, placeholder: str, alias: str) -> tuple[str, str]:
        return f"json_each({placeholder}) AS {alias}", f"{alias}.value"

    def json_as_text(self, col: str) -> str:
        return col

    def json_value(self, col: str, path: list[str]) -> str:
        dotted = "$" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path)
        # Text that is not JSON (a view's column, a value nested deeper than SQLite's JSON
        # parser goes) reads as a JSON string, as in PocketBase, instead of failing the query.
        return f"json_extract(CASE WHEN json_valid({col}) THEN {col} ELSE json_quote({col}) END, '{dotted}')"


class PostgresDialect(Dialect):
    name = "postgres"
    supports_rowid = False

    def placeholder(self, index: int) -> str:
        return f"${index}"

    def column_type(self, storage: str) -> str:
        return {TEXT: "TEXT", NUMBER: "DOUBLE PRECISION", BOOL: "BOOLEAN", JSON: "JSONB"}[storage]

    def json_param(self, placeholder: str) -> str:
        return f"{placeholder}::jsonb"

    def rowid_column(self) -> str | None:
        return '"_rowid" BIGINT GENERATED ALWAYS AS IDENTITY'

    def order_by_insertion(self) -> str:
        return '"_rowid"'

    def json_wrap_single(self, col: str) -> str:
        return f"CASE WHEN {col} IS NULL OR {col} = '' THEN '[]'::jsonb ELSE jsonb_build_array({col}) END"

    def json_last_text(self, col: str) -> str:
        return f"COALESCE({col} ->> -1, '')"

    def json_length(self, col: str) -> str:
        return f"COALESCE(jsonb_array_length({col}), 0)"

    def nocase_column(self, col: str) -> str:
        return f"LOWER({col})"

    def nocase_equals(self, col: str, placeholder: str) -> str:
        return f"LOWER({col}) = LOWER({placeholder})"

    def json_array_contains(self, col: str, placeholder: str) -> str:
        return f"{col} @> jsonb_build_array({placeholder}::text)"

    def json_array_contains_any(self, col: str, placeholders: list[str]) -> str:
        return f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({col}) AS e(v) WHERE e.v IN ({', '.join(placeholders)}))"

    def json_elements(self, col: str, alias: str) -> tuple[str, str]:
        return (
            f"jsonb_array_elements_text(CASE WHEN jsonb_typeof({col}) = 'array' THEN {col} ELSE '[]'::jsonb END) AS {alias}(value)",
            f"{alias}.value",
        )

    def json_param_elements(self, placeholder: str, alias: str) -> tuple[str, str]:
        return f"jsonb_array_elements_text({placeholder}::jsonb) AS {alias}(value)", f"{alias}.value"

    def json_value(self, col: str, path: list[str]) -> str:
        # to_jsonb: a view's column may be of any type (jsonb passes through unchanged).
        return f"(to_jsonb({col}) #> '{{{','.join(path)}}}')" if path else f"to_jsonb({col})"

    def json_as_text(self, col: str) -> str:
        # jsonb's text form has spaces after separators; PocketBase compares SQLite's compact form.
        return f"replace(replace({col}::text, '\", \"', '\",\"'), ': ', ':')"

    def bootstrap_lock(self) -> str | None:
        # BEGIN IMMEDIATE serialises SQLite; PostgreSQL needs an explicit lock.
        return locks.xact_lock(locks.BOOTSTRAP)

    lateral = "LATERAL "

    def bool_param(self, placeholder: str) -> str:
        return f"{placeholder}::boolean"


SQLITE = SQLiteDialect()
POSTGRES = PostgresDialect()
