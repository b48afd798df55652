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


def select_batch(d: Dialect, table: str, columns: Sequence[str]) -> str:
    """Up to p2 rows after the insertion position bound as p1, in insertion order (SQLite's
    rowid, Hearth's `_rowid` on PostgreSQL); the position comes first in each row."""
    order = d.order_by_insertion()
    cols = ", ".join(quote(c) for c in columns)
    return (
        f"SELECT {order}, {cols} FROM {quote(table)} WHERE {order} > {d.placeholder(1)}"
        f" ORDER BY {order} LIMIT {d.placeholder(2)}"
    )


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


# ----- view queries: SQLite's spellings PostgreSQL has under another name -------------------------
_WORD = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def _skip_quoted(sql: str, i: int) -> int:
    """The index after the literal or quoted name starting at sql[i] ('…', "…", doubled quotes
    inside)."""
    quote_char = sql[i]
    j = i + 1
    while j < len(sql):
        if sql[j] == quote_char:
            if j + 1 < len(sql) and sql[j + 1] == quote_char:
                j += 2
                continue
            return j + 1
        j += 1
    return j


def _call_args(sql: str, open_at: int) -> tuple[list[str], int] | None:
    """The top-level arguments of the call whose "(" is at `open_at`, and the index after ")"."""
    depth, start, args, i = 0, open_at + 1, [], open_at
    while i < len(sql):
        ch = sql[i]
        if ch in "'\"`":
            i = _skip_quoted(sql, i)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(sql[start:i])
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append(sql[start:i])
            start = i + 1
        i += 1
    return None


def _word_at(query: str, i: int) -> tuple[str, int, int]:
    """The word starting at `i`, the index after it, and the index of the next non-space."""
    j = i
    while j < len(query) and query[j] in _WORD:
        j += 1
    k = j
    while k < len(query) and query[k].isspace():
        k += 1
    return query[i:j], j, k


def view_query_for_postgres(query: str) -> str:
    """A view query written for SQLite with the spellings PostgreSQL has under another name
    rewritten, outside string literals: `name` quoting, IFNULL → COALESCE, GROUP_CONCAT →
    string_agg. Anything else is left as written (PostgreSQL then says what it refuses)."""
    out: list[str] = []
    i = 0
    while i < len(query):
        ch = query[i]
        if ch in "'\"":
            end = _skip_quoted(query, i)
            out.append(query[i:end])
            i = end
            continue
        if ch == "`":
            end = _skip_quoted(query, i)
            out.append('"' + query[i + 1 : end - 1].replace("``", "`").replace('"', '""') + '"')
            i = end
            continue
        if ch.isalpha() and (i == 0 or query[i - 1] not in _WORD):
            word, j, k = _word_at(query, i)
            if word.lower() == "ifnull" and k < len(query) and query[k] == "(":
                out.append("COALESCE")
                i = j
                continue
            if word.lower() == "group_concat" and k < len(query) and query[k] == "(":
                call = _call_args(query, k)
                if call is not None and 1 <= len(call[0]) <= 2:
                    args, after = call
                    value = view_query_for_postgres(args[0].strip())
                    distinct = ""
                    if value[:9].lower() == "distinct ":
                        distinct, value = "DISTINCT ", value[9:].strip()
                    sep = view_query_for_postgres(args[1].strip()) if len(args) == 2 else "','"
                    out.append(f"string_agg({distinct}({value})::text, {sep})")
                    i = after
                    continue
            out.append(word)
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def view_query_for_sqlite(query: str) -> str:
    """The way back for an exported view (`hearth export pocketbase`): `string_agg(x::text, sep)`,
    as view_query_for_postgres writes GROUP_CONCAT, becomes GROUP_CONCAT again; PostgreSQL's
    double-quoted names and COALESCE are SQLite's too. Anything else is left as written."""
    out: list[str] = []
    i = 0
    while i < len(query):
        ch = query[i]
        if ch in "'\"`":
            end = _skip_quoted(query, i)
            out.append(query[i:end])
            i = end
            continue
        if ch.isalpha() and (i == 0 or query[i - 1] not in _WORD):
            word, j, k = _word_at(query, i)
            if word.lower() == "string_agg" and k < len(query) and query[k] == "(":
                call = _call_args(query, k)
                if call is not None and len(call[0]) == 2:
                    (value, sep), after = call
                    value = value.strip()
                    distinct = ""
                    if value[:9].lower() == "distinct ":
                        distinct, value = "DISTINCT ", value[9:].strip()
                    if value.lower().endswith("::text"):
                        value = value[:-6].strip()
                    sep = view_query_for_sqlite(sep.strip())
                    # SQLite's DISTINCT aggregates take one argument: its default separator is ','.
                    tail = "" if distinct and sep == "','" else f", {sep}"
                    out.append(f"GROUP_CONCAT({distinct}{view_query_for_sqlite(value)}{tail})")
                    i = after
                    continue
            out.append(word)
            i = j
            continue
        out.append(ch)
        i += 1
    return "".join(out)
