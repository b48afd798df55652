"""SQLite's comparison rules, as PocketBase relies on them, checked against real databases.

`hearth.filter.values` (Python, for request-time values) and `hearth.sql.typed` (SQL, for columns)
must answer exactly as SQLite does. Every comparison here is asked of the real SQLite, of the
Python model and of PostgreSQL through the emulating SQL, over a grid of mixed-type values.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from typing import Any

import asyncpg
import pytest
from tests.conftest import PG_ADMIN_URL

from hearth.filter import values as V
from hearth.sql import typed as T
from hearth.sql.dialect import POSTGRES, SQLITE
from hearth.sql.filter import number_marks

VALUES: list[Any] = [
    None,
    0,
    1,
    -1,
    2.5,
    10,
    10.0,
    1e20,
    -0.5,
    "",
    "5",
    " 5 ",
    "5x",
    "10.0",
    "abc",
    "Abc",
    "é",
]
VALUES += ["É", "a%b", "a_b", "x\\", "1e2", ".5", "-3"]
OPS = ["=", "<>", "<", "<=", ">", ">=", "IS", "IS NOT"]

# Rows: a TEXT column, a NUMERIC column and a JSON column, as PocketBase declares them.
TEXTS = [None, "", "5", " 5 ", "abc", "Abc", "10", "10.0", "a%b", "É", "é", "x\\", "-3", "1e2"]
NUMBERS = [None, 0, 1, -1, 2.5, 10, -0.5, 1000000, 0.001]
JSONS = [None, "1", "2.5", '"5"', '"abc"', "true", "false", "null", '{"k":1}', "[1,2]", '""', "10"]
ROWS = list(itertools.zip_longest(range(max(len(TEXTS), len(NUMBERS), len(JSONS))), TEXTS, NUMBERS, JSONS))


def _sqlite_compare(op: str, a: Any, b: Any) -> Any:
    return sqlite3.connect(":memory:").execute(f"SELECT ? {op} ?", (a, b)).fetchone()[0]


@pytest.mark.parametrize("op", OPS)
def test_python_model_matches_sqlite_without_affinity(op: str) -> None:
    for a, b in itertools.product(VALUES, VALUES):
        got = V.compare(op, a, b)
        expected = _sqlite_compare(op, a, b)
        assert (None if got is None else int(got)) == expected, (op, a, b)


def test_python_affinities_match_sqlite() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (n NUMERIC, s TEXT)")
    for v in VALUES:
        db.execute("DELETE FROM t")
        db.execute("INSERT INTO t VALUES (?, ?)", (v, v))
        n, s = db.execute("SELECT n, s FROM t").fetchone()
        converted = V.numeric_affinity(v)
        assert converted == n and isinstance(converted, str) == isinstance(n, str), v
        assert V.as_text(v) == s, v


@pytest.mark.parametrize("pattern", ["%a%", "a_b", "%É%", "%é%", "%\\%%", "abc", "ABC", "%5", "x\\", "%"])
def test_python_like_matches_sqlite(pattern: str) -> None:
    db = sqlite3.connect(":memory:")
    for v in VALUES:
        expected = db.execute("SELECT ? LIKE ? ESCAPE '\\'", (v, pattern)).fetchone()[0]
        got = V.like(v, pattern)
        assert (None if got is None else int(got)) == expected, (v, pattern)


# ----- the SQL: SQLite natively against PostgreSQL's emulation ---------------------------------


def _operands(typing: T.Typing) -> dict[str, T.Operand]:
    return {
        "text": typing.column(T.Frag('t."tx"'), T.TEXT, T.TEXT_AFFINITY),
        "num": typing.column(T.Frag('t."nm"'), T.NUM, T.NUMERIC),
        "json": typing.column(T.Frag(_json_value(typing)), T.JSON, None),
        "lower": typing.lower(typing.column(T.Frag('t."tx"'), T.TEXT, T.TEXT_AFFINITY)),
        "blank_num": typing.blank_or(typing.column(T.Frag('t."nm"'), T.NUM, T.NUMERIC)),
    }


def _json_value(typing: T.Typing) -> str:
    return "json_extract(t.\"js\", '$')" if isinstance(typing, T.SQLiteTyping) else 't."js"'


def _conditions(typing: T.Typing) -> list[tuple[str, T.Frag]]:
    cols = _operands(typing)
    out: list[tuple[str, T.Frag]] = []
    for op in OPS:
        for (an, a), (bn, b) in itertools.product(cols.items(), cols.items()):
            out.append((f"{an} {op} {bn}", typing.compare(op, a, b)))
        for (cn, col), v in itertools.product(cols.items(), VALUES):
            for const in (False, True):
                val = T.value(lambda _i, v=v: v, const=const)
                out.append((f"{cn} {op} {v!r} const={const}", typing.compare(op, col, val)))
                out.append((f"{v!r} {op} {cn} const={const}", typing.compare(op, val, col)))
    for (cn, col), v in itertools.product(cols.items(), VALUES):
        for negate in (False, True):
            out.append((f"{cn} ~ {v!r} not={negate}", typing.like(col, T.value(lambda _i, v=v: v), negate)))
    for (an, a), (bn, b) in itertools.product(cols.items(), cols.items()):
        out.append((f"{an} ~ column {bn}", typing.like(a, b, False)))
    return out


def _sqlite_answers() -> dict[str, list[int]]:
    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE t ("id" INTEGER, "tx" TEXT, "nm" NUMERIC, "js" JSON)')
    db.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    answers = {}
    for name, cond in _conditions(T.SQLiteTyping(SQLITE)):
        sql = number_marks(SQLITE, f"SELECT id FROM t WHERE {cond.sql} ORDER BY id", 1)
        answers[name] = [r[0] for r in db.execute(sql, [g(None) for g in cond.getters])]
    return answers


async def _postgres_answers() -> dict[str, list[int]]:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute('CREATE TEMP TABLE t ("id" int, "tx" text, "nm" float8, "js" jsonb)')
        await conn.executemany(
            "INSERT INTO t VALUES ($1, $2, $3, $4::jsonb)",
            [(i, tx, None if nm is None else float(nm), js) for i, tx, nm, js in ROWS],
        )
        answers = {}
        for name, cond in _conditions(T.PostgresTyping(POSTGRES)):
            sql = number_marks(POSTGRES, f"SELECT id FROM t WHERE {cond.sql} ORDER BY id", 1)
            rows = await conn.fetch(sql, *[g(None) for g in cond.getters])
            answers[name] = [r[0] for r in rows]
        return answers
    finally:
        await conn.close()


def test_postgres_emulation_answers_as_sqlite() -> None:
    expected = _sqlite_answers()
    got = asyncio.run(_postgres_answers())
    assert len(expected) > 3000
    wrong = [
        f"{name}: sqlite {expected[name]}, postgres {got[name]}"
        for name in expected
        if expected[name] != got[name]
    ]
    assert not wrong, f"{len(wrong)} of {len(expected)} differ:\n" + "\n".join(wrong[:40])


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("a_b", "%a\\_b%"),  # wildcards escaped when the text has no unescaped %
        ("100%", "100%"),  # an explicit % is the user's pattern
        ("a\\%b", "%a\\%b%"),  # an escaped % does not count as explicit
        (10.0, "%10%"),  # Go's cast.ToString of a float64
        (-0.0, "%-0%"),
        (0.5, "%0.5%"),
        (1e21, "%1000000000000000000000%"),
        (None, "%%"),
    ],
)
def test_like_patterns_are_built_as_pocketbase_builds_them(value: Any, pattern: str) -> None:
    assert V.like_pattern(value) == pattern
