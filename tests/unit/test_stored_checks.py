"""`Field.stored_check` rendered for PostgreSQL (hearth.sql.checks) against the field's own
`validate`, on values stored in a real table: the SQL condition may refuse more than `validate`
(the update then reads the record and answers with the field's error), never less — a row it
admits must be one `validate` accepts. And it must admit the ordinary valid values, or the
one-statement update would never be used."""

from __future__ import annotations

import math
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hearth.schema.fields.base import Field, OptionError
from hearth.schema.fields.registry import field_from_dict
from hearth.sql.checks import postgres_condition

TEXTS = st.one_of(
    st.sampled_from(["", "abc", "abcdefghijklmno", "ABC", "a-b", "[x]", '["a","b"]', "é" * 4, "日本語テキスト", " "]),
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=20),  # storable
)
NUMBERS = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0, 2.5, 10.0, 1e300, -1e300, math.nan, math.inf, -math.inf, 3.0000001]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-1000, max_value=1000).map(float),
)

FIELDS = st.one_of(
    st.builds(
        lambda req, lo, hi, pk: {"type": "text", "name": "v", "required": req, "min": lo, "max": hi,
                                 **({"pattern": "^[a-z0-9]+$"} if pk else {})},
        st.booleans(), st.integers(0, 5), st.sampled_from([0, 3, 8, 20]), st.booleans(),
    ),  # fmt: skip
    st.builds(
        lambda req, size: {"type": "editor", "name": "v", "required": req, "maxSize": size},
        st.booleans(), st.sampled_from([0, 4, 12, 100]),
    ),  # fmt: skip
    st.builds(
        lambda req, lo, hi, only_int: {"type": "number", "name": "v", "required": req, "min": lo, "max": hi,
                                       "onlyInt": only_int},
        st.booleans(), st.sampled_from([None, -5, 0, 1.5, 10]), st.sampled_from([None, -1, 2, 100]), st.booleans(),
    ),  # fmt: skip
    st.builds(lambda req: {"type": "bool", "name": "v", "required": req}, st.booleans()),
    st.builds(
        lambda req, least: {"type": "relation", "name": "v", "required": req, "maxSelect": 1, "minSelect": least,
                            "collectionId": "pbc_0000000001"},
        st.booleans(), st.sampled_from([0, 1]),
    ),  # fmt: skip
)

COLUMN = {"text": "TEXT", "editor": "TEXT", "relation": "TEXT", "number": "DOUBLE PRECISION", "bool": "BOOLEAN"}


def _values(kind: str, data: st.DataObject) -> list[Any]:
    if kind == "number":
        return [*data.draw(st.lists(NUMBERS, max_size=8)), None, 0.0, 7.0]
    if kind == "bool":
        return [True, False, None]
    return [*data.draw(st.lists(TEXTS, max_size=8)), None, "", "abcdef", "k" * 15]


@pytest.fixture
async def conn(pg_database: str | None) -> Any:
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    c = await asyncpg.connect(pg_database)
    yield c
    await c.close()


async def _admitted(conn: Any, f: Field, values: list[Any]) -> list[tuple[Any, bool]]:
    check = f.stored_check()
    assert check is not None
    params: list[Any] = []

    def param(v: Any) -> str:
        params.append(v)
        return f"${len(params)}"

    cond = postgres_condition("v", check, param) or "TRUE"
    async with conn.transaction():
        # A table name per column type: asyncpg caches a statement's parameter types by its text.
        table = f"stored_{COLUMN[f.type].split()[0].lower()}"
        await conn.execute(f'CREATE TEMP TABLE {table} ("n" int, "v" {COLUMN[f.type]}) ON COMMIT DROP')
        await conn.executemany(f"INSERT INTO {table} VALUES ($1, $2)", list(enumerate(values)))
        rows = await conn.fetch(f'SELECT "n", "v", ({cond}) IS TRUE FROM {table} ORDER BY "n"', *params)
    return [(r[1], r[2]) for r in rows]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=FIELDS, data=st.data())
async def test_a_row_the_condition_admits_passes_the_fields_own_check(conn: Any, spec: dict[str, Any], data: Any) -> None:
    try:
        f = field_from_dict(spec)
    except OptionError:
        assume(False)  # options the collection API refuses (a max below the min)
        return
    for stored, admitted in await _admitted(conn, f, _values(f.type, data)):
        if admitted:
            assert f.validate(f.from_db(stored)) is None, (spec, stored)


async def test_ordinary_valid_values_are_admitted(conn: Any) -> None:
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"type": "text", "name": "id", "required": True, "min": 15, "max": 15, "pattern": "^[a-z0-9]+$",
          "primaryKey": True}, "abcdefghij12345"),
        ({"type": "text", "name": "v", "required": True}, "a title"),
        ({"type": "text", "name": "v"}, ""),
        ({"type": "editor", "name": "v"}, "<p>body</p>"),
        ({"type": "number", "name": "v"}, 950.0),
        ({"type": "number", "name": "v", "min": 1, "max": 10, "onlyInt": True}, 0.0),
        ({"type": "bool", "name": "v"}, False),
        ({"type": "relation", "name": "v", "maxSelect": 1, "collectionId": "pbc_0000000001"}, "zkl7ppyn2mwlu8q"),
    ]  # fmt: skip
    for spec, value in cases:
        f = field_from_dict(spec)
        [(_, admitted)] = await _admitted(conn, f, [value])
        assert admitted, (spec, value)


def test_checks_sql_cannot_state_are_none() -> None:
    assert field_from_dict({"type": "text", "name": "v", "pattern": "^a+$"}).stored_check() is None
    assert field_from_dict({"type": "json", "name": "v"}).stored_check() is None
    assert field_from_dict({"type": "select", "name": "v", "values": ["a"], "maxSelect": 1}).stored_check() is None
    multi = {"type": "relation", "name": "v", "maxSelect": 3, "collectionId": "pbc_0000000001"}
    assert field_from_dict(multi).stored_check() is None
