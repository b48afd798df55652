"""strftime() on PostgreSQL (hearth.sql.strftime) against SQLite's own function, case by case.

Every (format, time value, modifiers) triple is asked of SQLite natively and of PostgreSQL
through the emulating SQL; the answers must be identical, NULLs included. Formats use only the
substitutions this machine's SQLite knows (it may be older than PocketBase's).
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from typing import Any

import asyncpg
import pytest
from tests.conftest import PG_ADMIN_URL

from hearth.sql import strftime as S
from hearth.sql.dialect import POSTGRES
from hearth.sql.filter import number_marks
from hearth.sql.typed import Frag

FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%H:%M:%f",
    "%j|%w|%W|%s",
    "week %W of %Y, day %j",
    "100%% %d",
    "%Y-%m",
    "%Q",  # unknown substitution: NULL
    "trailing %",
    "",
]
VALUES: list[Any] = [
    "2026-02-03 14:05:06.789Z",
    "2024-02-29 23:59:59.999Z",
    "2026-01-01",
    "2025-12-31T08:30",
    "2026-02-03 10:00:00-02:30",
    "2026-02-03 10:00:00 +05:45",
    "2026-13-01",
    "2026-2-03",
    "2026-02-03Z",
    "not a date",
    "",
    None,
    2460000.5,
    "2451545",
    1721790.5,  # 0002-01-01 (Hearth on PostgreSQL reads years 1-9999 only)
    -1,
    "9999-12-31 23:00:00",
]
MODIFIERS = [
    [],
    ["+1 month"],
    ["-1 year"],
    ["start of month", "+1 month", "-1 day"],
    ["+1.5 days", "weekday 0"],
    ["start of year", "+36 hours", "-15 minutes", "+30 seconds"],
    ["start of day", "weekday 3"],
    ["bogus"],
    ["start of month", "utc"],
    ["+5000 years"],
    ["-99999999999 days"],
]


def _cases() -> list[tuple[str, Any, list[str]]]:
    return list(itertools.product(FORMATS, VALUES, MODIFIERS))


def _sqlite(cases: list[tuple[str, Any, list[str]]]) -> list[Any]:
    db = sqlite3.connect(":memory:")
    out = []
    for fmt, value, mods in cases:
        marks = ", ".join("?" for _ in range(2 + len(mods)))
        out.append(db.execute(f"SELECT strftime({marks})", (fmt, value, *mods)).fetchone()[0])
    return out


async def _postgres(cases: list[tuple[str, Any, list[str]]]) -> list[Any]:
    """One query per (format, modifiers), over every time value as a column."""
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        answers: dict[tuple[str, Any, tuple[str, ...]], Any] = {}
        values = [None if v is None else str(v) for v in VALUES]
        for fmt, mods in itertools.product(FORMATS, MODIFIERS):
            frag = S.call(POSTGRES, fmt, Frag("t.v"), mods)
            sql = number_marks(POSTGRES, frag.sql, 2)
            rows = await conn.fetch(
                f"SELECT {sql} AS r FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY t.n",
                values,
                *[g(None) for g in frag.getters],
            )
            for value, row in zip(VALUES, rows, strict=True):
                answers[(fmt, repr(value), tuple(mods))] = row["r"]
        return [answers[(fmt, repr(value), tuple(mods))] for fmt, value, mods in cases]
    finally:
        await conn.close()


def test_postgres_strftime_matches_sqlite() -> None:
    cases = _cases()
    expected = _sqlite(cases)
    try:
        got = asyncio.run(_postgres(cases))
    except OSError as exc:  # pragma: no cover - CI requires PostgreSQL (HEARTH_REQUIRE_PG)
        pytest.fail(f"PostgreSQL unreachable: {exc}")
    differ = [
        f"strftime({fmt!r}, {value!r}, {mods}): sqlite {e!r}, postgres {g!r}"
        for (fmt, value, mods), e, g in zip(cases, expected, got, strict=True)
        if e != g
    ]
    assert len(cases) > 1000
    assert sum(e is not None for e in expected) > 300, "the cases must mostly produce dates"
    assert not differ, f"{len(differ)} of {len(cases)} differ:\n" + "\n".join(differ[:40])


def test_refused_modifiers_are_named() -> None:
    with pytest.raises(S.Unevaluable):
        S.call(POSTGRES, "%Y", Frag("'2026-01-01'"), ["subsec"])
    with pytest.raises(S.Unevaluable):
        S.call(POSTGRES, "%J", Frag("'2026-01-01'"), [])
