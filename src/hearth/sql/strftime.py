"""`strftime(format, [time, modifiers…])` in filters: SQLite's date function, as PocketBase calls it.

SQLite runs its own function. PostgreSQL gets the same computation spelled out: the time value is
parsed as SQLite parses it (an ISO date-time with optional zone, `now`, or a Julian day number),
the modifiers are applied in order, and every `%x` of the format becomes a `to_char`-style
expression. The format and modifiers are literals of the filter, so this happens once, at compile
time; their values are still bound as parameters.

A time value or modifier SQLite rejects makes the result NULL, as in SQLite. A few rarely used
modifiers (`auto`, `julianday`, `subsec`, `ceiling`, `floor`, date/time offsets) are refused on
PostgreSQL (`Unevaluable`) rather than answered differently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hearth.sql.dialect import Dialect
from hearth.sql.typed import Frag, cat

Getter = Callable[[Any], Any]


class Unevaluable(Exception):
    """A valid strftime() this engine does not evaluate on PostgreSQL."""


MAX_ARGS = 10

# SQLite's accepted text time values (lang_datefunc.html#time_values, formats 1-7 with zones).
_TIME_VALUE = (
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(?:(Z|z)|([+-])(\d{2}):(\d{2}))?)?$"
)
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)$"
# PostgreSQL prints years before 1 differently (4714 BC, not -4713): Hearth reads only years
# 1-9999 (SQLite's own upper bound), and shifts that leave them give NULL.
_FIRST_JD = 1721425.5
_IN_RANGE = "BETWEEN timestamp '0001-01-01' AND timestamp '9999-12-31 23:59:59.999'"
_MAX_DAYS = 4_000_000
_SHIFT = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s+(day|hour|minute|second|month|year)s?\s*$", re.IGNORECASE)
_WEEKDAY = re.compile(r"^\s*weekday\s+([0-6])\s*$", re.IGNORECASE)
_START = re.compile(r"^\s*start\s+of\s+(day|month|year)\s*$", re.IGNORECASE)
_REFUSED = re.compile(
    r"^\s*(auto|julianday|subsec|subsecond|ceiling|floor|[+-]?\d+:\d|[+-]\d{4}-)", re.IGNORECASE
)

# `%x` → a to_char pattern, or a function of the timestamp expression.
_PATTERNS = {
    "d": "DD",
    "F": "YYYY-MM-DD",
    "H": "HH24",
    "I": "HH12",
    "j": "DDD",
    "m": "MM",
    "M": "MI",
    "p": "AM",
    "P": "am",
    "R": "HH24:MI",
    "S": "SS",
    "T": "HH24:MI:SS",
    "u": "ID",
    "G": "IYYY",
    "g": "IY",
    "V": "IW",
    "Y": "YYYY",
    "f": "SS.MS",
}
_EXPRESSIONS: dict[str, Callable[[str], str]] = {
    "e": lambda ts: f"lpad(to_char({ts}, 'FMDD'), 2, ' ')",
    "k": lambda ts: f"lpad(to_char({ts}, 'FMHH24'), 2, ' ')",
    "l": lambda ts: f"lpad(to_char({ts}, 'FMHH12'), 2, ' ')",
    "s": lambda ts: f"floor(extract(epoch from {ts}))::bigint::text",
    "w": lambda ts: f"extract(dow from {ts})::int::text",
    # Week of the year, the first Monday (%W) or Sunday (%U) starting week 01.
    "W": lambda ts: (
        f"lpad(((extract(doy from {ts})::int + 6 - (extract(dow from {ts})::int + 6) % 7) / 7)::text, 2, '0')"
    ),
    "U": lambda ts: (
        f"lpad(((extract(doy from {ts})::int + 6 - extract(dow from {ts})::int) / 7)::text, 2, '0')"
    ),
}


def sqlite_call(fmt: Getter, value: Frag | None, modifiers: list[Getter]) -> Frag:
    parts: list[str | Frag] = ["strftime(", Frag("\x00", (fmt,))]
    if value is not None:
        parts += [", ", value]
    for m in modifiers:
        parts += [", ", Frag("\x00", (m,))]
    parts.append(")")
    return cat(*parts)


def _param(get: Getter, cast: str) -> Frag:
    return Frag(f"CAST(\x00 AS {cast})", (get,))


def _parse(value: Frag | None) -> Frag:
    """The time value as a UTC `timestamp` (NULL when SQLite would not read it)."""
    if value is None:
        return Frag("date_trunc('milliseconds', statement_timestamp() AT TIME ZONE 'UTC')")
    v = cat("CAST(", value, " AS text)")
    return cat(
        "(SELECT CASE",
        " WHEN lower(__v.t) = 'now' THEN date_trunc('milliseconds', statement_timestamp() AT TIME ZONE 'UTC')",
        f" WHEN __v.t ~ '{_NUMBER}' THEN CASE WHEN __v.t::float8 >= {_FIRST_JD} AND __v.t::float8 < 5373484.5",
        " THEN timestamp '2000-01-01 12:00:00' + (__v.t::float8 - 2451545.0) * interval '1 day' END",
        " WHEN __m.m IS NULL THEN NULL",
        " WHEN __m.m[1]::int >= 1 AND __m.m[2]::int BETWEEN 1 AND 12 AND __m.m[3]::int BETWEEN 1 AND 31",
        " AND coalesce(__m.m[4]::int, 0) < 24 AND coalesce(__m.m[5]::int, 0) < 60",
        " AND coalesce(__m.m[6]::int, 0) < 60",
        " THEN make_timestamp(__m.m[1]::int, __m.m[2]::int, 1, coalesce(__m.m[4]::int, 0),",
        " coalesce(__m.m[5]::int, 0), 0)",
        " + (__m.m[3]::int - 1) * interval '1 day'",
        " + round(coalesce(__m.m[6]::numeric, 0) + coalesce(('0' || __m.m[7])::numeric, 0), 3)",
        " * interval '1 second'",
        " - CASE WHEN __m.m[9] IS NULL THEN interval '0'",
        " ELSE (CASE WHEN __m.m[9] = '-' THEN -1 ELSE 1 END)",
        " * (__m.m[10]::int * 60 + __m.m[11]::int) * interval '1 minute' END",
        " END",
        " FROM (SELECT ",
        v,
        f" AS t) AS __v, LATERAL (SELECT regexp_match(__v.t, '{_TIME_VALUE}') AS m) AS __m)",
    )


def _shift(ts: str, amount: str, unit: str) -> Frag:
    unit = unit.lower()
    n = float(amount)
    if abs(n) * {"year": 366, "month": 31, "day": 1}.get(unit, 0) > _MAX_DAYS or abs(n) > _MAX_DAYS * 86400:
        return Frag("CAST(NULL AS timestamp)")
    if unit in ("month", "year"):
        if not n.is_integer():
            raise Unevaluable("fractional months or years")
        months = int(n) * (12 if unit == "year" else 1)
        # SQLite moves the month and lets the day overflow into the next one (Jan 31 + 1 month
        # is Mar 3), where PostgreSQL's interval arithmetic would clamp to the month's end.
        return cat(
            f"date_trunc('month', {ts}) + ",
            _param(lambda _i: months, "int"),
            f" * interval '1 month' + ({ts} - date_trunc('month', {ts}))",
        )
    return cat(f"{ts} + ", _param(lambda _i: n, "float8"), f" * interval '1 {unit}'")


def _modify(ts: str, modifier: str) -> Frag | None:
    """The timestamp column `ts` after one modifier; None when SQLite rejects the modifier."""
    if m := _SHIFT.match(modifier):
        return _shift(ts, m.group(1), m.group(2))
    if m := _START.match(modifier):
        return Frag(f"date_trunc('{m.group(1).lower()}', {ts})")
    if m := _WEEKDAY.match(modifier):
        day = int(m.group(1))
        return cat(
            f"{ts} + ((",
            _param(lambda _i: day, "int"),
            f" - extract(dow from {ts})::int + 7) % 7) * interval '1 day'",
        )
    if modifier.strip().lower() in ("utc", "localtime"):
        return Frag(ts)  # Hearth and PocketBase both run in UTC
    if _REFUSED.match(modifier):
        raise Unevaluable(f"modifier {modifier!r}")
    return None


def _format(ts: str, fmt: str) -> Frag | None:
    """The format over the timestamp expression `ts`; None when SQLite rejects the format."""
    parts: list[str | Frag] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            text = "".join(literal)
            parts.append(_param(lambda _i: text, "text"))
            literal.clear()

    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            literal.append(ch)
            i += 1
            continue
        if i + 1 >= len(fmt):
            return None
        spec = fmt[i + 1]
        i += 2
        if spec == "%":
            literal.append("%")
            continue
        if spec == "J":
            raise Unevaluable("%J")
        flush()
        if spec in _PATTERNS:
            parts.append(f"to_char({ts}, '{_PATTERNS[spec]}')")
        elif spec in _EXPRESSIONS:
            parts.append(_EXPRESSIONS[spec](ts))
        else:
            return None
    flush()
    if not parts:
        return Frag("''")
    joined: list[str | Frag] = []
    for n, p in enumerate(parts):
        joined += [" || ", p] if n else [p]
    return cat(*joined)


def postgres_call(fmt: str, value: Frag | None, modifiers: list[str]) -> Frag:
    ts = _parse(value)
    # Each modifier reads the previous timestamp from a one-row subquery; OFFSET 0 keeps the
    # planner from inlining it, which would repeat the parsing in every reference.
    for n, modifier in enumerate(modifiers):
        modified = _modify(f"__s{n}.ts", modifier)
        if modified is None:
            return Frag("CAST(NULL AS text)")
        ts = cat(
            f"(SELECT CASE WHEN __s{n}.ts {_IN_RANGE} THEN ",
            modified,
            " END FROM (SELECT ",
            ts,
            f" AS ts OFFSET 0) AS __s{n})",
        )
    body = _format("__ts.ts", fmt)
    if body is None:
        return Frag("CAST(NULL AS text)")
    return cat(
        "(SELECT CASE WHEN __ts.ts ",
        _IN_RANGE,
        " THEN ",
        body,
        " END FROM (SELECT ",
        ts,
        " AS ts OFFSET 0) AS __ts)",
    )


def postgres_time_text(value: Frag, storage: str) -> Frag:
    """A column as the text `_parse` reads: numbers (Julian days) and booleans (0/1) spelled out."""
    if storage == "text":
        return value
    if storage == "bool":
        return cat("CAST(CAST(", value, " AS int) AS text)")
    return cat("CAST(", value, " AS text)")


def constant(value: Any) -> Getter:
    """A parameter getter that always answers `value`."""
    return lambda _i: value


def call(d: Dialect, fmt: str, value: Frag | None, modifiers: list[str]) -> Frag:
    """strftime() for `d`. `value` is None for the one-argument form (the current time)."""
    if d.name == "sqlite":
        return sqlite_call(constant(fmt), value, [constant(m) for m in modifiers])
    return postgres_call(fmt, value, modifiers)
