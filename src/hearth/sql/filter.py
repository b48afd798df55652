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


def haversine_km(lon_a: str, lat_a: str, lon_b: str, lat_b: str) -> str:
    """Great-circle distance in km (the same formula and radius as PocketBase's geoDistance).

    The arguments are placed once each, in order (they may be parameters), in an inner SELECT.
    """
    args = ", ".join(
        f"CAST({expr} AS DOUBLE PRECISION) AS {name}"
        for expr, name in ((lon_a, "lon_a"), (lat_a, "lat_a"), (lon_b, "lon_b"), (lat_b, "lat_b"))
    )
    a = (
        "POWER(SIN(RADIANS(lat_b - lat_a) / 2), 2)"
        " + COS(RADIANS(lat_a)) * COS(RADIANS(lat_b)) * POWER(SIN(RADIANS(lon_b - lon_a) / 2), 2)"
    )
    return f"(SELECT 6371 * 2 * ASIN(SQRT({a})) FROM (SELECT {args}) AS geo)"
