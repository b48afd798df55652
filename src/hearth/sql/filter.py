"""SQL text for compiled filters: comparisons over columns and bound parameters.

Placeholders are written as a marker and numbered when the fragment is placed into a statement,
so one compiled fragment can sit after any number of other parameters (PostgreSQL's `$n`).
"""

from __future__ import annotations

from hearth.sql.dialect import Dialect, quote

MARK = "\x00"


def column(table: str, name: str) -> str:
    return f"{quote(table)}.{quote(name)}"


def number_marks(d: Dialect, sql: str, start: int) -> str:
    """Replace markers with the dialect's placeholders, the first one being number `start`."""
    if MARK not in sql:
        return sql
    parts = sql.split(MARK)
    out = [parts[0]]
    for i, part in enumerate(parts[1:]):
        out.append(d.placeholder(start + i))
        out.append(part)
    return "".join(out)


def join(op: str, items: list[str]) -> str:
    return "(" + f" {op} ".join(items) + ")"


def order_term(expr: str, descending: bool) -> str:
    return f"{expr} DESC" if descending else expr


def great_circle_km(d: Dialect, lon_a: str, lat_a: str, lon_b: str, lat_b: str) -> str:
    """Great-circle distance in km by the spherical law of cosines, on a sphere of radius 6371
    (PocketBase's geoDistance formula). Rounding can push the cosine just past ±1: the result is
    then NULL, as SQLite's acos() answers (PostgreSQL's would raise).

    The arguments are placed once each, in order (they may be parameters), in an inner SELECT;
    SQLite reads them as they are (text that does not look numeric is NULL to its math functions,
    where a CAST would make it 0), PostgreSQL needs its parameters typed.
    """
    cast = "{}" if d.name == "sqlite" else "CAST({} AS DOUBLE PRECISION)"
    args = ", ".join(
        f"{cast.format(expr)} AS {name}"
        for expr, name in ((lon_a, "lon_a"), (lat_a, "lat_a"), (lon_b, "lon_b"), (lat_b, "lat_b"))
    )
    cosine = (
        "COS(RADIANS(lat_a)) * COS(RADIANS(lat_b)) * COS(RADIANS(lon_b) - RADIANS(lon_a))"
        " + SIN(RADIANS(lat_a)) * SIN(RADIANS(lat_b))"
    )
    return (
        "(SELECT CASE WHEN c BETWEEN -1 AND 1 THEN 6371 * ACOS(c) END"
        f" FROM (SELECT {cosine} AS c FROM (SELECT {args}) AS geo) AS cosine)"
    )
