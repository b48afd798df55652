"""SQLite view queries rewritten for PostgreSQL by `hearth import pocketbase` (hearth.sql.transfer):
only code is rewritten, never a string literal, and calls nested in arguments are rewritten too."""

from __future__ import annotations

import pytest

from hearth.sql.transfer import view_query_for_postgres, view_query_for_sqlite


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        ("SELECT `id`, `a``b` FROM `posts`", 'SELECT "id", "a`b" FROM "posts"'),
        ("SELECT id, IFNULL(title, 'x') AS t FROM p", "SELECT id, COALESCE(title, 'x') AS t FROM p"),
        ("SELECT id, ifnull (a, b) FROM p", "SELECT id, COALESCE (a, b) FROM p"),
        (
            "SELECT id, GROUP_CONCAT(name, ', ') AS n FROM p GROUP BY id",
            "SELECT id, string_agg((name)::text, ', ') AS n FROM p GROUP BY id",
        ),
        (
            "SELECT id, group_concat(DISTINCT IFNULL(tag, '(none)')) FROM p",
            "SELECT id, string_agg(DISTINCT (COALESCE(tag, '(none)'))::text, ',') FROM p",
        ),
        # Literals and longer words are left alone.
        ("SELECT 'IFNULL(a) `x` GROUP_CONCAT(y)' AS s FROM p", "SELECT 'IFNULL(a) `x` GROUP_CONCAT(y)' AS s FROM p"),
        ("SELECT 'it''s', my_ifnull(a), ifnull_x FROM p", "SELECT 'it''s', my_ifnull(a), ifnull_x FROM p"),
        ('SELECT "IFNULL"(a) FROM p', 'SELECT "IFNULL"(a) FROM p'),
        # What has no PostgreSQL spelling here stays as written (PostgreSQL then refuses it).
        ("SELECT strftime('%Y', created) FROM p", "SELECT strftime('%Y', created) FROM p"),
        # An unclosed call is left as it is.
        ("SELECT GROUP_CONCAT(a FROM p", "SELECT GROUP_CONCAT(a FROM p"),
    ],
)
def test_sqlite_spellings_become_postgresqls(sqlite: str, postgres: str) -> None:
    assert view_query_for_postgres(sqlite) == postgres


@pytest.mark.parametrize(
    ("postgres", "sqlite"),
    [
        ("SELECT string_agg((name)::text, ', ') FROM p", "SELECT GROUP_CONCAT((name), ', ') FROM p"),
        ("SELECT string_agg(DISTINCT (tag)::text, ',') FROM p", "SELECT GROUP_CONCAT(DISTINCT (tag)) FROM p"),
        ("SELECT 'string_agg(a, b)', \"x\" FROM p", "SELECT 'string_agg(a, b)', \"x\" FROM p"),
    ],
)
def test_the_way_back_to_sqlite(postgres: str, sqlite: str) -> None:
    assert view_query_for_sqlite(postgres) == sqlite


def test_a_rewritten_query_comes_back_equivalent() -> None:
    query = "SELECT `id`, IFNULL(a, 'x') AS a, GROUP_CONCAT(DISTINCT b) AS b, GROUP_CONCAT(c, '|') AS c FROM t"
    back = view_query_for_sqlite(view_query_for_postgres(query))
    assert back == """SELECT "id", COALESCE(a, 'x') AS a, GROUP_CONCAT(DISTINCT (b)) AS b, GROUP_CONCAT((c), '|') AS c FROM t"""
