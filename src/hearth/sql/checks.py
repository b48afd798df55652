"""A field's checks on a value as stored, in terms SQL can test.

An update that sends one statement instead of reading the record first (hearth.records.service,
`_update_in_one`) must still refuse when a field it leaves alone holds a value its checks no
longer accept (PocketBase re-validates every field of the merged record: a text field made
`required` after a record stored "" refuses an update of any other field). Each field type says
what its `validate` checks (`Field.stored_check`); here that becomes a condition the row must
meet for the UPDATE to touch it. It may refuse more than `validate` would (a NULL, a rare form),
never less: a row it refuses is answered by the two-statement path, which reads the record and
gives the field's own error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hearth.sql.dialect import quote


@dataclass(frozen=True, slots=True)
class StoredCheck:
    """`kind`: "any" (every stored value passes), "text", "number" or "bool". Length and pattern
    limits apply to non-empty texts, number limits to non-zero numbers, as in the fields' own
    checks."""

    kind: str
    required: bool = False  # text: not "", number: not 0, bool: true
    min_chars: int = 0
    max_chars: int | None = None
    max_bytes: int | None = None
    lowercase_alnum: bool = False  # ^[a-z0-9]+$ (the default id pattern)
    single_value: bool = False  # no "[": one id or value as stored, not a JSON list
    minimum: float | None = None
    maximum: float | None = None
    only_int: bool = False


ANY = StoredCheck("any")


def postgres_condition(column: str, check: StoredCheck, param: Callable[[Any], str]) -> str:
    """The condition on `column` (a bare name) under which its stored value passes `check`;
    "" when every value does. `param` adds a parameter and answers its placeholder."""
    c = quote(column)
    if check.kind == "any":
        return ""
    if check.kind == "bool":
        return f"{c} IS TRUE" if check.required else ""
    inner: list[str] = []
    if check.kind == "text":
        if check.min_chars > 0:
            inner.append(f"char_length({c}) >= {param(check.min_chars)}")
        if check.max_chars is not None:
            inner.append(f"char_length({c}) <= {param(check.max_chars)}")
        if check.max_bytes is not None:
            inner.append(f"octet_length({c}) <= {param(check.max_bytes)}")
        if check.lowercase_alnum:
            inner.append(f"{c} ~ '^[a-z0-9]+$'")
        if check.single_value:
            inner.append(f"strpos({c}, '[') = 0")
        blank = f"{c} = ''"
        known = f"{c} IS NOT NULL"
    elif check.kind == "number":
        if check.only_int:
            inner.append(f"{c} = trunc({c})")
        if check.minimum is not None:
            inner.append(f"{c} >= {param(float(check.minimum))}")
        if check.maximum is not None:
            inner.append(f"{c} <= {param(float(check.maximum))}")
        blank = f"{c} = 0"
        # NaN and the infinities are refused by the field (PostgreSQL orders NaN above all).
        known = f"{c} IS NOT NULL AND abs({c}) < 'Infinity'::float8"
    else:
        raise ValueError(f"unknown stored check kind {check.kind!r}")
    rest = " AND ".join(inner)
    if check.required:
        body = f"NOT {blank}" + (f" AND {rest}" if rest else "")
    else:
        body = f"({blank} OR ({rest}))" if rest else ""
    return f"({known} AND {body})" if body else f"({known})"
