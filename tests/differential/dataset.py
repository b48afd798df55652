"""The fixed mixed-type dataset that the differential filter tests load into every server.

Values are hand-picked edge cases: empty strings, unicode, mixed case, LIKE wildcards, quotes and
backslashes, zero/negative/decimal numbers, JSON scalars of every kind, dates on both sides of the
boundaries the macros (@todayStart, @yesterday, @yearStart…) draw, empty multi-selects and
duplicate rows. Dates near "now" are computed once per test session (`build_records(now)`), so all
servers hold the same values.

A second collection, `diff_authors`, is the target of `diff_items.author` (a single relation) and
`diff_items.coauthors` (a multi relation), for filters through relation paths, back-relations and
`@collection.*` joins. It is created and seeded first; its collection id is explicit, so the same
relation field definition works on every server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

COLLECTION = "diff_items"
AUTHORS = "diff_authors"
# Explicit (PocketBase accepts `pbc_` + word characters) so `collectionId` is the same everywhere.
AUTHORS_ID = "pbc_diffauthors01"

OPEN_RULES = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}

FIELDS: list[dict[str, Any]] = [
    {"name": "title", "type": "text"},
    {"name": "body", "type": "editor"},
    {"name": "n", "type": "number"},
    {"name": "price", "type": "number"},
    {"name": "flag", "type": "bool"},
    {"name": "kind", "type": "select", "values": ["a", "b", "c"], "maxSelect": 1},
    {"name": "tags", "type": "select", "values": ["x", "y", "z"], "maxSelect": 3},
    {"name": "meta", "type": "json"},
    {"name": "when", "type": "date"},
    {"name": "email", "type": "email"},
    {"name": "author", "type": "relation", "collectionId": AUTHORS_ID, "maxSelect": 1},
    {"name": "coauthors", "type": "relation", "collectionId": AUTHORS_ID, "maxSelect": 5},
    {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
    {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
]

COLLECTION_BODY: dict[str, Any] = {"name": COLLECTION, "type": "base", **OPEN_RULES, "fields": FIELDS}

# `n` on purpose has the same name as diff_items.n: a path must resolve it on the right table.
AUTHOR_FIELDS: list[dict[str, Any]] = [
    {"name": "name", "type": "text"},
    {"name": "code", "type": "text"},
    {"name": "n", "type": "number"},
    {"name": "active", "type": "bool"},
    {"name": "tier", "type": "select", "values": ["a", "b", "c"], "maxSelect": 1},
    {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
    {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
]

AUTHORS_BODY: dict[str, Any] = {
    "id": AUTHORS_ID,
    "name": AUTHORS,
    "type": "base",
    **OPEN_RULES,
    "fields": AUTHOR_FIELDS,
}

# Collections in creation order (diff_items' relation fields need diff_authors to exist).
COLLECTIONS = (AUTHORS, COLLECTION)

# Fields whose values are set by the server at creation time and so differ between servers.
SERVER_SET = ("created", "updated")


def fmt(dt: datetime) -> str:
    """PocketBase's stored datetime format: `2024-01-01 00:00:00.000Z`."""
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def record_id(i: int) -> str:
    return f"diffrec{i:08d}"  # 15 characters of [a-z0-9]


def author_id(i: int) -> str:
    return f"diffauthor{i:05d}"  # 15 characters of [a-z0-9]


# Case variants, numbers as text, a duplicate name (2 and 11), an all-default row (0), and
# authors nobody points at (9, 10; 11 only as a coauthor).
AUTHOR_ROWS: list[dict[str, Any]] = [
    {},
    {"name": "Alice", "code": "10", "n": 1, "active": True, "tier": "a"},
    {"name": "alice", "code": "2", "n": 2, "tier": "b"},
    {"name": "ALICE", "code": "", "n": -1, "active": True, "tier": "c"},
    {"name": "Bob", "code": "abc", "n": 10, "tier": "a"},
    {"name": "", "code": "0", "n": 0.5, "active": True},
    {"name": "hello", "code": "hello", "n": 1.5, "tier": "b"},
    {"name": "100%", "code": "-3.5", "n": -3.5, "tier": "c"},
    {"name": "it's", "code": "1e1", "n": 100, "active": True},
    {"name": "Ünïcödé", "code": "10", "n": 42, "tier": "a"},
    {"name": "nobody", "n": 7, "active": True},
    {"name": "alice", "code": "2", "n": 2, "tier": "b"},
]


def build_authors() -> list[dict[str, Any]]:
    return [{"id": author_id(i), **row} for i, row in enumerate(AUTHOR_ROWS)]


# diff_items' relations, cycled over the records with coprime periods (13, 11) so most
# author/coauthors combinations occur: empty ones, the author among its coauthors, the same pair in
# both orders, five coauthors, and the all-default author 0.
_AUTHOR_CYCLE: list[int | None] = [None, 1, 2, 3, 1, 4, 5, 6, 7, 8, 0, None, 2]
_COAUTHOR_CYCLE: list[list[int]] = [
    [],
    [1],
    [2, 1],
    [1, 2],
    [3, 4, 5],
    [1, 2, 3, 4, 5],
    [0],
    [6],
    [],
    [11, 2],
    [4, 1, 8],
]


def relations(i: int) -> dict[str, Any]:
    """The `author`/`coauthors` values of record i (record 0 keeps every field at its default)."""
    if i == 0:
        return {}
    author = _AUTHOR_CYCLE[i % len(_AUTHOR_CYCLE)]
    return {
        "author": "" if author is None else author_id(author),
        "coauthors": [author_id(a) for a in _COAUTHOR_CYCLE[i % len(_COAUTHOR_CYCLE)]],
    }


def build_records(now: datetime) -> list[dict[str, Any]]:
    """About 50 records; unset fields take the field type's default (empty / 0 / false / null / [])."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ms = timedelta(milliseconds=1)
    year_start = day.replace(month=1, day=1)
    month_start = day.replace(day=1)
    rows: list[dict[str, Any]] = [
        {},  # every field at its default
        {
            "title": "hello",
            "body": "<p>hello</p>",
            "n": 1,
            "price": 1.5,
            "flag": True,
            "kind": "a",
            "tags": ["x"],
            "meta": {"k": 1},
            "when": "2024-01-01 00:00:00.000Z",
            "email": "a@example.com",
        },
        {
            "title": "Hello",
            "body": "<p>Hello <b>world</b></p>",
            "n": -1,
            "price": -0.25,
            "kind": "b",
            "tags": ["x", "y"],
            "meta": {"k": "v"},
            "when": "2024-01-01 00:00:00.001Z",
            "email": "A@Example.com",
        },
        {
            "title": "HELLO world",
            "n": 2,
            "price": 2.5,
            "flag": True,
            "kind": "c",
            "tags": ["y", "x"],
            "meta": {"k": "V"},
            "when": "2023-12-31 23:59:59.999Z",
        },
        # A duplicate of record 1.
        {
            "title": "hello",
            "body": "<p>hello</p>",
            "n": 1,
            "price": 1.5,
            "flag": True,
            "kind": "a",
            "tags": ["x"],
            "meta": {"k": 1},
            "when": "2024-01-01 00:00:00.000Z",
            "email": "a@example.com",
        },
        {
            "title": "100%",
            "body": "<p>100% off</p>",
            "n": 100,
            "price": 0.1,
            "tags": ["x", "y", "z"],
            "meta": [1, 2],
        },
        {"title": "50% off", "n": 50, "price": 0.5, "kind": "b", "meta": []},
        {"title": "a_b", "price": 0, "meta": 0, "email": "user_1@test.io"},
        {"title": "a%b", "n": 3, "meta": 1, "email": "b@example.com"},
        {"title": "aXb", "n": -3, "meta": -1.5, "email": "user+tag@test.io"},
        {"title": "it's", "body": "<p>it's</p>", "meta": "str"},
        {"title": 'say "hi"', "meta": True, "flag": True},
        {"title": "back\\slash", "meta": False, "body": "back\\slash"},
        {"title": "trailing\\", "meta": ""},
        {"title": "héllo ÉCOLE", "meta": {}, "body": "<p>héllo</p>"},
        {"title": "ÉCOLE", "meta": {"k": None}, "kind": "c"},
        {"title": "école", "meta": {"a": {"b": 2}}},
        {"title": "日本語テキスト", "meta": {"k": [1, 2]}, "tags": ["z"]},
        {"title": "10", "n": 10, "price": 10, "meta": "10"},
        {"title": "2", "n": 2, "price": 2, "meta": 2},
        {"title": "-3.5", "n": -3.5, "price": -3.5, "meta": {"k": 2.5}},
        {"title": "true", "flag": True, "meta": "true"},
        {"title": "null", "meta": {"k": "null"}},
        {"title": "  spaced  ", "n": 1000000, "price": 999999.99},
        {"title": "line\nbreak", "tags": ["z"], "meta": {"k": True}},
        {"title": "_", "n": 0.5, "tags": ["z", "x"], "kind": "a"},
        {"title": "%", "n": -0.5, "price": -0.5},
        {"title": "x", "kind": "c", "tags": ["y"], "meta": "x"},
        {"title": "hello world", "body": "<p>x</p>", "flag": True, "email": "hello@world.io"},
        {"title": "tab\there", "n": 7, "price": 7.25},
        {"title": "0", "price": 0.001, "meta": 0.5},
        {"title": "2024-01-01", "when": fmt(day), "email": "dates@test.io"},
        {"title": "a", "when": fmt(day - ms), "kind": "a"},
        {"title": "b", "when": fmt(day + timedelta(days=1) - ms), "kind": "b"},
        {"title": "c", "when": fmt(now - timedelta(days=1, hours=1)), "kind": "c"},
        {"title": "later", "when": fmt(now + timedelta(days=1, hours=1)), "tags": ["x", "z"]},
        {"title": "year start", "when": fmt(year_start)},
        {"title": "before year start", "when": fmt(year_start - ms)},
        {"title": "month start", "when": fmt(month_start)},
        {"title": "an hour ago", "when": fmt(now - timedelta(hours=1)), "flag": True},
        {"title": "leap", "when": "2000-02-29 12:00:00.000Z"},
        {"title": "far future", "when": "2999-12-31 23:59:59.999Z", "n": 9999},
        # Numbers equal to the numeric macros' values at seeding time.
        {"title": "this year", "n": now.year, "price": now.month},
        {"title": "this day", "n": now.day, "price": now.hour},
        {"title": "HeLLo", "body": "HeLLo", "email": "HeLLo@example.com", "kind": "b", "n": 0.1},
        {"title": "hello", "tags": ["y", "z", "x"], "meta": {"k": 1, "a": {"b": 3}}, "n": 1.5},
        {"title": "Ünïcödé", "body": "<p>ÜNÏCÖDÉ</p>", "n": -100, "price": -0.001},
        {"title": "diffrec00000001", "meta": "diffrec00000001"},
        {"title": "<p>hello</p>", "body": "hello", "n": 42},
        {"title": "'quoted'", "body": '"double"', "meta": "'"},
    ]
    return [{"id": record_id(i), **row, **relations(i)} for i, row in enumerate(rows)]
