"""Filter values as PocketBase compares them: with SQLite's types.

PocketBase hands filter operands to SQLite, so its answers follow SQLite's typing: a value is
NULL, a number or text; `true`/`false` are the numbers 1/0; numbers sort before text and never
equal it; a column's affinity converts the other operand before comparing (a number column reads
the text "5" as 5, a text column reads the number 10.0 as "10.0"). Hearth reproduces those rules
on both databases: natively on SQLite, and on PostgreSQL through these functions (for request-time
values) and the SQL in `hearth.sql.typed` (for columns).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

NUMERIC = "numeric"
TEXT_AFFINITY = "text"

# SQLite's test for "a well-formed integer or real literal" when it applies NUMERIC affinity.
_NUMERIC_TEXT = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def looks_numeric(text: str) -> bool:
    return _NUMERIC_TEXT.fullmatch(text) is not None


def to_sqlite(v: Any) -> Any:
    """A request value as PocketBase's driver binds it: bool → 1/0, other scalars as they are.
    Lists and objects are bound as their JSON text."""
    if isinstance(v, bool):
        return 1 if v else 0
    if v is None or isinstance(v, int | float | str):
        return v
    import orjson

    return orjson.dumps(v).decode()


def numeric_affinity(v: Any) -> Any:
    if isinstance(v, str) and looks_numeric(v):
        number = float(v)
        return int(number) if number.is_integer() and abs(number) < 2**63 and "." not in v else number
    return v


def real_text(x: float) -> str:
    """SQLite's text for a REAL ("%!.15g"): 10.0 → "10.0", 1e20 → "1.0e+20"."""
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    text = f"{x:.15g}"
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + (f"e{exponent[0]}{exponent[1:].zfill(2)}" if e else "")


def as_text(v: Any) -> str | None:
    """A value read as text (TEXT affinity, LIKE, LOWER)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, float):
        return real_text(v)
    return str(v)


def go_string(v: Any) -> str:
    """The text PocketBase puts around `%` for `~`: Go's cast.ToString of the bound value."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v == 0 and math.copysign(1.0, v) < 0:
            return "-0"
        if v.is_integer() and abs(v) < 1e21:
            return str(int(v))
        return format(Decimal(repr(v)), "f")
    return str(v)


def _rank(v: Any) -> int:
    return 1 if isinstance(v, int | float) else 2


def compare(op: str, a: Any, b: Any) -> bool | None:
    """SQLite's `a op b` without affinity (both sides already converted). None is SQL NULL.

    `op` is one of = <> < <= > >= IS, IS NOT."""
    if op == "IS":
        if a is None or b is None:
            return a is None and b is None
        op = "="
    elif op == "IS NOT":
        if a is None or b is None:
            return not (a is None and b is None)
        op = "<>"
    if a is None or b is None:
        return None
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        a, b = ra, rb
    elif ra == 2:
        a, b = a.encode(), b.encode()
    if op == "=":
        return bool(a == b)
    if op == "<>":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def lower_ascii(text: str) -> str:
    """SQLite's LOWER() and LIKE fold ASCII letters only."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def like(value: Any, pattern: Any) -> bool | None:
    """SQLite's `value LIKE pattern ESCAPE '\\'` (ASCII case-insensitive)."""
    text, pat = as_text(value), as_text(pattern)
    if text is None or pat is None:
        return None
    regex: list[str] = []
    i = 0
    while i < len(pat):
        ch = pat[i]
        if ch == "\\":
            if i + 1 >= len(pat):
                return False  # a trailing escape matches nothing
            regex.append(re.escape(lower_ascii(pat[i + 1])))
            i += 2
            continue
        regex.append(".*" if ch == "%" else "." if ch == "_" else re.escape(lower_ascii(ch)))
        i += 1
    return re.fullmatch("".join(regex), lower_ascii(text), re.DOTALL) is not None


def like_pattern(v: Any) -> str:
    """The `~` pattern from a bound value: wrapped in `%…%` (with `%` and `_` escaped) unless it
    holds an unescaped `%` already."""
    text = go_string(v)
    if _has_unescaped(text, "%"):
        return text
    return "%" + _escape_unescaped(text, "\\%_") + "%"


def _has_unescaped(text: str, ch: str) -> bool:
    prev = ""
    for c in text:
        if c == ch and prev != "\\":
            return True
        prev = "" if c == "\\" and prev == "\\" else c
    return False


def _escape_unescaped(text: str, chars: str) -> str:
    """Escape each of `chars` not already preceded by a backslash, scanning from the end exactly
    as PocketBase does (a character right after a match is not itself examined)."""
    out: list[str] = []
    match = False
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if match:
            if c != "\\":
                out.append("\\")
            match = False
        elif c in chars:
            match = True
        out.append(c)
        if i == 0 and match:
            out.append("\\")
    return "".join(reversed(out))
