"""The filter compiler: SQL text and parameters, per dialect, for the constructs it supports."""

from __future__ import annotations

import pytest

from hearth.query.compile import FilterError, Unsupported, compile_filter
from hearth.query.context import AuthState, RequestInfo
from hearth.schema.collection import Collection
from hearth.schema.form import make_collection
from hearth.sql.dialect import POSTGRES, SQLITE


def posts() -> Collection:
    return make_collection(
        "posts",
        "base",
        [
            {"name": "title", "type": "text"},
            {"name": "views", "type": "number"},
            {"name": "published", "type": "bool"},
            {"name": "author", "type": "relation", "collectionId": "x", "maxSelect": 1},
            {"name": "secret", "type": "text", "hidden": True},
            {"name": "meta", "type": "json"},
        ],
    )


def guest() -> RequestInfo:
    return RequestInfo()


def user(uid: str) -> RequestInfo:
    return RequestInfo(auth=AuthState(posts(), {"id": uid}))


@pytest.mark.parametrize(
    ("text", "sqlite_sql", "sqlite_params", "pg_sql", "pg_params"),
    [
        # Numbers are bound as floats (PocketBase binds float64); SQLite converts "5" itself
        # (NUMERIC affinity), PostgreSQL gets the converted value.
        ("views > 5", '"posts"."views" > ?', [5.0], '("posts"."views" > $1::float8)', [5.0]),
        ('views > "5"', '"posts"."views" > ?', ["5"], '("posts"."views" > $1::float8)', [5.0]),
        # true is PocketBase's 1.
        (
            "published = true",
            '"posts"."published" = ?',
            [1],
            '(("posts"."published")::int = $1::float8)',
            [1.0],
        ),
        (
            "title = 'a' && views < 3",
            '("posts"."title" = ? AND "posts"."views" < ?)',
            ["a", 3.0],
            '(("posts"."title" = $1::text) AND ("posts"."views" < $2::float8))',
            ["a", 3.0],
        ),
        # An explicit % is kept; otherwise the text is wrapped and its wildcards escaped.
        ('title ~ "50%"', '"posts"."title" LIKE ? ESCAPE \'\\\'', ["50%"], None, [True, "50%"]),
        ('title !~ "a_b"', '"posts"."title" NOT LIKE ? ESCAPE \'\\\'', ["%a\\_b%"], None, [True, "%a\\_b%"]),
        (
            "title = null",
            '("posts"."title" = ? OR ("posts"."title" IS NULL))',
            [""],
            '(("posts"."title" = $1::text) OR ("posts"."title" IS NULL))',
            [""],
        ),
        (
            "views > 1 || (views < 0 && published = false)",
            '("posts"."views" > ? OR ("posts"."views" < ? AND "posts"."published" = ?))',
            [1.0, 0.0, 0],
            '(("posts"."views" > $1::float8) OR (("posts"."views" < $2::float8) AND '
            '(("posts"."published")::int = $3::float8)))',
            [1.0, 0.0, 0.0],
        ),
    ],
)
def test_sql_and_params(
    text: str, sqlite_sql: str, sqlite_params: list[object], pg_sql: str | None, pg_params: list[object]
) -> None:
    compiled = compile_filter(SQLITE, posts(), text, rule=False)
    assert compiled is not None
    assert compiled.render(SQLITE, 1) == sqlite_sql
    assert compiled.params(guest()) == sqlite_params
    pg = compile_filter(POSTGRES, posts(), text, rule=False)
    assert pg is not None
    if pg_sql is not None:
        assert pg.render(POSTGRES, 1) == pg_sql
    assert pg.params(guest()) == pg_params


def test_like_on_postgres_folds_ascii_only() -> None:
    pg = compile_filter(POSTGRES, posts(), 'title ~ "É"', rule=False)
    assert pg is not None
    sql = pg.render(POSTGRES, 1)
    assert "ILIKE" not in sql and "translate(" in sql
    assert pg.params(guest()) == [True, "%É%"]


def test_placeholders_number_from_the_given_start() -> None:
    compiled = compile_filter(POSTGRES, posts(), "views > 1 && views < 9", rule=False)
    assert compiled is not None
    assert (
        compiled.render(POSTGRES, 3) == '(("posts"."views" > $3::float8) AND ("posts"."views" < $4::float8))'
    )


def test_request_values_are_parameters_read_per_request() -> None:
    c = posts()
    compiled = compile_filter(SQLITE, c, "author = @request.auth.id", rule=True)
    assert compiled is not None and compiled.uses_columns
    assert "@" not in compiled.render(SQLITE, 1)
    assert compiled.params(user("u1")) == ["u1"]
    assert compiled.params(guest()) == [""]


def test_conditions_without_columns_are_decided_in_python() -> None:
    compiled = compile_filter(SQLITE, posts(), "@request.auth.id != ''", rule=True)
    assert compiled is not None and compiled.decide is not None
    assert compiled.decide(user("u1")) is True
    assert compiled.decide(guest()) is False


def test_hidden_fields_only_in_rules() -> None:
    assert compile_filter(SQLITE, posts(), "secret = 'x'", rule=True) is not None
    with pytest.raises(FilterError):
        compile_filter(SQLITE, posts(), "secret = 'x'", rule=False)


@pytest.mark.parametrize("text", ["nope = 1", "title =", "(views > 1", "@request.nope = 1"])
def test_errors(text: str) -> None:
    with pytest.raises(FilterError):
        compile_filter(SQLITE, posts(), text, rule=False)


@pytest.mark.parametrize("text", ["author.name = 'x'", "@collection.users.id = id"])
def test_valid_but_not_evaluable_here(text: str) -> None:
    # `posts` has no lookup (no repository), so relation targets cannot be resolved.
    with pytest.raises(Unsupported):
        compile_filter(SQLITE, posts(), text, rule=True)


def test_strftime_binds_format_and_modifiers() -> None:
    evil = "%Y' OR 1=1 --"
    for d in (SQLITE, POSTGRES):
        compiled = compile_filter(d, posts(), f"""strftime("{evil}", title, '+1 day') = '2024'""", rule=False)
        assert compiled is not None and "1=1" not in compiled.sql and "+1" not in compiled.sql
    with pytest.raises(Unsupported):  # PostgreSQL refuses what it would answer differently
        compile_filter(POSTGRES, posts(), "strftime('%J', title) = '1'", rule=False)
    for bad in ("strftime(created) = 1", "strftime('%Y', title, 1) = 1", "strftime() = 1", "nope(1) = 1"):
        with pytest.raises(FilterError):
            compile_filter(SQLITE, posts(), bad, rule=False)


def test_values_never_appear_in_sql_text() -> None:
    evil = "x' OR 1=1 --"
    compiled = compile_filter(SQLITE, posts(), f'title = "{evil}"', rule=False)
    assert compiled is not None and evil not in compiled.render(SQLITE, 1)
    assert compiled.params(guest()) == [evil]


def test_any_of_on_a_single_value_is_the_plain_operator() -> None:
    a = compile_filter(SQLITE, posts(), "title ?= 'x'", rule=False)
    b = compile_filter(SQLITE, posts(), "title = 'x'", rule=False)
    assert a is not None and b is not None and a.sql == b.sql


def test_json_paths_and_multi_value_modifiers() -> None:
    c = posts()
    compiled = compile_filter(SQLITE, c, "meta.a.0 = 1", rule=False)
    assert compiled is not None and "'$.a[0]')" in compiled.render(SQLITE, 1)
    pg = compile_filter(POSTGRES, posts(), "meta.a = 'x'", rule=False)
    assert pg is not None and "#> '{a}'" in pg.render(POSTGRES, 1)
    # PocketBase ignores :each and :length on fields that hold one plain value.
    plain = compile_filter(SQLITE, c, "title = 'x'", rule=False)
    each = compile_filter(SQLITE, c, "title:each = 'x'", rule=False)
    assert plain is not None and each is not None and each.sql == plain.sql
