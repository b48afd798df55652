"""Comparisons with SQLite's typing, as SQL for each dialect.

PocketBase's filter answers are SQLite's answers (see `hearth.filter.values`). On SQLite the
comparison is written as it is and SQLite applies its own rules. On PostgreSQL every operand is
split into a numeric part and a text part (at most one of them non-NULL for a given row), and the
comparison is spelled out: numbers compare as numbers, text as bytes, a number is less than any
text, NULL compares as NULL. The column's affinity converts the other operand first, as SQLite
does. Static kinds let the common cases (`owner = $1`, `n > $1`) stay plain, index-friendly SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from hearth.filter import values as V
from hearth.sql.dialect import Dialect
from hearth.sql.filter import MARK

Getter = Callable[[Any], Any]

NUM = "num"  # a number (or NULL)
TEXT = "text"  # text (or NULL)
JSON = "json"  # a JSON value: NULL, a number or text (SQLite's json_extract result)
VALUE = "value"  # a request-time value: its type is known when the request runs
SPLIT = "split"  # PostgreSQL only: explicit numeric and text parts

NUMERIC = V.NUMERIC
TEXT_AFFINITY = V.TEXT_AFFINITY

_OPS = {"=", "<>", "<", "<=", ">", ">=", "IS", "IS NOT"}


@dataclass(frozen=True, slots=True)
class Frag:
    """SQL text with parameter markers, and the getters for them in textual order."""

    sql: str
    getters: tuple[Getter, ...] = ()


def cat(*parts: str | Frag) -> Frag:
    sql: list[str] = []
    getters: list[Getter] = []
    for p in parts:
        if isinstance(p, Frag):
            sql.append(p.sql)
            getters.extend(p.getters)
        else:
            sql.append(p)
    return Frag("".join(sql), tuple(getters))


@dataclass(frozen=True, slots=True)
class Operand:
    kind: str
    expr: Frag | None = None
    affinity: str | None = None
    nullable: bool = True
    get: Getter | None = None  # VALUE: the SQLite-typed value (None, int, float or str)
    const: bool = False  # VALUE: `get` ignores the request
    vtype: str | None = None  # VALUE: NUM or TEXT when the value is always of that type (or NULL)
    # SPLIT parts (PostgreSQL): numeric, text, and the numeric part read as text.
    n: Frag | None = None
    t: Frag | None = None
    ntext: Frag | None = None


def value(get: Getter, *, const: bool = False, vtype: str | None = None) -> Operand:
    return Operand(VALUE, get=lambda i: V.to_sqlite(get(i)), const=const, vtype=vtype)


def _lower_value(a: Operand) -> Operand:
    get = a.get
    assert get is not None

    def lowered(i: Any) -> str | None:
        text = V.as_text(get(i))
        return None if text is None else V.lower_ascii(text)

    return replace(a, get=lowered, affinity=None, vtype=TEXT)


def _const_result(op: str, order: int) -> bool:
    """`a op b` for non-NULL a, b where `order` is -1, 0 or 1."""
    return {
        "=": order == 0,
        "IS": order == 0,
        "<>": order != 0,
        "IS NOT": order != 0,
        "<": order < 0,
        "<=": order <= 0,
        ">": order > 0,
        ">=": order >= 0,
    }[op]


class Typing:
    """Builds typed operands and comparisons for one dialect."""

    def __init__(self, d: Dialect) -> None:
        self.d = d

    # ----- operands --------------------------------------------------------------------------
    def column(self, expr: Frag, kind: str, affinity: str | None, nullable: bool = True) -> Operand:
        """`kind` is NUM, TEXT or JSON; a boolean column is NUM (0/1)."""
        return Operand(kind, expr, affinity, nullable)

    def bool_column(self, expr: Frag, affinity: str | None, nullable: bool = True) -> Operand:
        return Operand(NUM, expr, affinity, nullable)

    def lower(self, a: Operand) -> Operand:
        raise NotImplementedError

    def number(self, a: Operand) -> Frag:
        """A column operand's numeric value as SQLite's math functions read it (numeric-looking
        text included, NULL for other text), for function arguments."""
        raise NotImplementedError

    def blank_or(self, a: Operand) -> Operand:
        """COALESCE(a, ''): NULL becomes the empty text; the affinity is lost."""
        raise NotImplementedError

    # ----- conditions ------------------------------------------------------------------------
    def compare(self, op: str, a: Operand, b: Operand) -> Frag:
        raise NotImplementedError

    def like(self, a: Operand, b: Operand, negate: bool, contains: bool = True) -> Frag:
        """`a LIKE b`; a column `b` is wrapped in `%…%` unless `contains` is False (PocketBase
        uses such a right side as the pattern itself when it carries bound values)."""
        raise NotImplementedError

    def is_null(self, a: Operand, negate: bool = False) -> Frag:
        raise NotImplementedError

    def constant(self, truth: bool) -> Frag:
        return Frag("(1=1)" if truth else "(1=0)")

    def null_condition(self) -> Frag:
        """A condition that is NULL (neither true nor false, also when negated)."""
        return Frag("(NULL)")

    def param(self, get: Getter) -> Frag:
        return Frag(MARK, (get,))


class SQLiteTyping(Typing):
    """SQLite applies its own typing rules: the SQL is written as it is."""

    def _sql(self, a: Operand) -> Frag:
        if a.kind == VALUE:
            assert a.get is not None
            return self.param(a.get)
        assert a.expr is not None
        return a.expr

    def lower(self, a: Operand) -> Operand:
        if a.kind == VALUE:
            return _lower_value(a)
        return Operand(TEXT, cat("LOWER(", self._sql(a), ")"), None, a.nullable)

    def number(self, a: Operand) -> Frag:
        return self._sql(a)

    def blank_or(self, a: Operand) -> Operand:
        if a.kind == VALUE:
            get = a.get
            assert get is not None
            return replace(a, get=lambda i: "" if get(i) is None else get(i))
        return Operand(a.kind, cat("COALESCE(", self._sql(a), ", '')"), None, False)

    def compare(self, op: str, a: Operand, b: Operand) -> Frag:
        assert op in _OPS
        sql_op = "!=" if op == "<>" else op
        return cat(self._sql(a), f" {sql_op} ", self._sql(b))

    def like(self, a: Operand, b: Operand, negate: bool, contains: bool = True) -> Frag:
        kw = " NOT LIKE " if negate else " LIKE "
        if b.kind == VALUE:
            get = b.get
            assert get is not None
            pattern = self.param(lambda i: V.like_pattern(get(i)))
        elif contains:
            pattern = cat("('%' || ", self._sql(b), " || '%')")
        else:
            pattern = self._sql(b)
        return cat(self._sql(a), kw, pattern, " ESCAPE '\\'")

    def is_null(self, a: Operand, negate: bool = False) -> Frag:
        return cat("(", self._sql(a), " IS NOT NULL)" if negate else " IS NULL)")


_NUMERIC_RE = "'^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$'"
_UPPER = "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"
_LOWER = "'abcdefghijklmnopqrstuvwxyz'"


class PostgresTyping(Typing):
    """PostgreSQL: SQLite's rules spelled out over numeric/text parts."""

    def bool_column(self, expr: Frag, affinity: str | None, nullable: bool = True) -> Operand:
        return Operand(NUM, cat("(", expr, ")::int"), affinity, nullable)

    # ----- the split form --------------------------------------------------------------------
    def _split(self, a: Operand) -> Operand:
        if a.kind == SPLIT:
            return a
        if a.kind == NUM:
            assert a.expr is not None
            return Operand(
                SPLIT, affinity=a.affinity, nullable=a.nullable, n=a.expr, ntext=self._num_text(a.expr)
            )
        if a.kind == TEXT:
            return Operand(SPLIT, affinity=a.affinity, nullable=a.nullable, t=a.expr)
        if a.kind == JSON:
            assert a.expr is not None
            j = a.expr
            n = cat(
                "(CASE jsonb_typeof(",
                j,
                ") WHEN 'number' THEN (",
                j,
                " #>> '{}')::float8",
                " WHEN 'boolean' THEN (CASE WHEN ",
                j,
                " = 'true'::jsonb THEN 1 ELSE 0 END) END)",
            )
            t = cat(
                "(CASE jsonb_typeof(",
                j,
                ") WHEN 'string' THEN ",
                j,
                " #>> '{}'",
                " WHEN 'object' THEN ",
                self._compact(j),
                " WHEN 'array' THEN ",
                self._compact(j),
                " END)",
            )
            ntext = cat(
                "(CASE WHEN jsonb_typeof(",
                j,
                ") = 'boolean' THEN ",
                n,
                "::int::text ELSE ",
                j,
                " #>> '{}' END)",
            )
            return Operand(SPLIT, affinity=a.affinity, nullable=True, n=n, t=t, ntext=ntext)
        assert a.kind == VALUE and a.get is not None
        get = a.get
        if a.const:
            v = get(None)
            if v is None:
                return Operand(SPLIT, nullable=True)
            if isinstance(v, str):
                return Operand(SPLIT, nullable=False, t=cat(self.param(lambda _i: v), "::text"))
            f = float(v)
            return Operand(
                SPLIT,
                nullable=False,
                n=cat(self.param(lambda _i: f), "::float8"),
                ntext=cat(self.param(lambda _i: V.as_text(v)), "::text"),
            )

        def num(i: Any) -> float | None:
            v = get(i)
            return float(v) if isinstance(v, int | float) else None

        if a.vtype == TEXT:
            return Operand(SPLIT, t=cat(self.param(get), "::text"))

        def text(i: Any) -> str | None:
            v = get(i)
            return v if isinstance(v, str) else None

        def number_text(i: Any) -> str | None:
            v = get(i)
            return V.as_text(v) if isinstance(v, int | float) else None

        n = cat(self.param(num), "::float8")
        if a.vtype == NUM:
            return Operand(SPLIT, n=n, ntext=cat(self.param(number_text), "::text"))
        return Operand(
            SPLIT, n=n, t=cat(self.param(text), "::text"), ntext=cat(self.param(number_text), "::text")
        )

    def number(self, a: Operand) -> Frag:
        # Math functions read numeric-looking text as its number, as SQLite's do.
        return self._split(self._to_numeric(a)).n or Frag("NULL::float8")

    def _compact(self, j: Frag) -> Frag:
        # jsonb's text form has spaces after separators; SQLite's JSON text is compact.
        return cat("replace(replace((", j, ")::text, '\", \"', '\",\"'), ': ', ':')")

    def _num_text(self, n: Frag) -> Frag:
        # Whole numbers read as integers (a NUMERIC column stores 10.0 as the integer 10).
        return cat(
            "(CASE WHEN ",
            n,
            " = trunc(",
            n,
            ") AND abs(",
            n,
            ") < 1e15 THEN trunc(",
            n,
            ")::bigint::text ELSE (",
            n,
            ")::text END)",
        )

    def _text_of(self, a: Operand) -> Frag | None:
        s = self._split(a)
        parts = [p for p in (s.t, s.ntext) if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else cat("COALESCE(", parts[0], ", ", parts[1], ")")

    # ----- affinity --------------------------------------------------------------------------
    def _to_numeric(self, a: Operand) -> Operand:
        if a.kind == NUM:
            return a
        if a.kind == VALUE:
            get = a.get
            assert get is not None
            return replace(
                a, get=lambda i: V.numeric_affinity(get(i)), vtype=a.vtype if a.vtype == NUM else None
            )
        s = self._split(a)
        if s.t is None:
            return s
        t = s.t
        numeric = cat("(", t, f") ~ {_NUMERIC_RE}")
        as_num = cat("(CASE WHEN ", numeric, " THEN trim(", t, ")::float8 END)")
        n = as_num if s.n is None else cat("COALESCE(", s.n, ", ", as_num, ")")
        ntext = cat("(CASE WHEN ", numeric, " THEN ", self._num_text(as_num), " END)")
        if s.ntext is not None:
            ntext = cat("COALESCE(", s.ntext, ", ", ntext, ")")
        return Operand(
            SPLIT,
            affinity=None,
            nullable=s.nullable,
            n=n,
            ntext=ntext,
            t=cat("(CASE WHEN NOT ", numeric, " THEN ", t, " END)"),
        )

    def _to_text(self, a: Operand) -> Operand:
        if a.kind == TEXT:
            return a
        if a.kind == VALUE:
            get = a.get
            assert get is not None
            return replace(a, get=lambda i: V.as_text(get(i)), vtype=TEXT)
        return Operand(TEXT, self._text_of(a) or Frag("NULL::text"), None, a.nullable)

    def _apply_affinity(self, a: Operand, b: Operand) -> tuple[Operand, Operand]:
        if a.affinity == NUMERIC and b.affinity != NUMERIC:
            return a, self._to_numeric(b)
        if b.affinity == NUMERIC and a.affinity != NUMERIC:
            return self._to_numeric(a), b
        if a.affinity == TEXT_AFFINITY and b.affinity is None:
            return a, self._to_text(b)
        if b.affinity == TEXT_AFFINITY and a.affinity is None:
            return self._to_text(a), b
        return a, b

    # ----- operands --------------------------------------------------------------------------
    def lower(self, a: Operand) -> Operand:
        if a.kind == VALUE:
            return _lower_value(a)
        text = self._text_of(a)
        if text is None:
            return Operand(TEXT, Frag("NULL::text"), None, True)
        return Operand(TEXT, cat("translate(", text, f", {_UPPER}, {_LOWER})"), None, a.nullable)

    def blank_or(self, a: Operand) -> Operand:
        if a.kind == VALUE:
            get = a.get
            assert get is not None
            return replace(a, get=lambda i: "" if get(i) is None else get(i), affinity=None)
        if a.kind == TEXT:
            assert a.expr is not None
            return Operand(TEXT, cat("COALESCE(", a.expr, ", '')") if a.nullable else a.expr, None, False)
        if a.kind == NUM and not a.nullable:
            return replace(a, affinity=None)
        s = self._split(a)
        null = " AND ".join(f"{p.sql} IS NULL" for p in (s.n, s.t) if p is not None)
        getters = tuple(g for p in (s.n, s.t) if p is not None for g in p.getters)
        blank = Frag(f"(CASE WHEN {null} THEN '' END)", getters) if null else Frag("''")
        t = blank if s.t is None else cat("COALESCE(", s.t, ", ", blank, ")")
        return Operand(SPLIT, affinity=None, nullable=False, n=s.n, t=t, ntext=s.ntext)

    # ----- conditions ------------------------------------------------------------------------
    def null_condition(self) -> Frag:
        return Frag("(NULL::boolean)")

    def is_null(self, a: Operand, negate: bool = False) -> Frag:
        s = self._split(a)
        parts = [p for p in (s.n, s.t) if p is not None]
        if not parts:
            return self.constant(not negate)
        cond = cat(*[x for i, p in enumerate(parts) for x in ((" AND " if i else ""), p, " IS NULL")])
        return cat("NOT (", cond, ")") if negate else cat("(", cond, ")")

    def compare(self, op: str, a: Operand, b: Operand) -> Frag:
        assert op in _OPS
        a, b = self._apply_affinity(a, b)
        A, B = self._split(a), self._split(b)
        is_op = op in ("IS", "IS NOT")
        sql_op = {"IS": "IS NOT DISTINCT FROM", "IS NOT": "IS DISTINCT FROM"}.get(op, op)
        branches: list[tuple[Frag, Frag, Frag]] = []  # (left part, right part, result)
        if A.n is not None and B.n is not None:
            branches.append((A.n, B.n, cat(A.n, f" {sql_op} ", B.n)))
        if A.t is not None and B.t is not None:
            collate = ' COLLATE "C"' if op in ("<", "<=", ">", ">=") else ""
            branches.append((A.t, B.t, cat(A.t, f" {sql_op} ", B.t, collate)))
        if A.n is not None and B.t is not None:
            branches.append((A.n, B.t, self.constant(_const_result(op, -1))))
        if A.t is not None and B.n is not None:
            branches.append((A.t, B.n, self.constant(_const_result(op, 1))))
        a_parts = [p for p in (A.n, A.t) if p is not None]
        b_parts = [p for p in (B.n, B.t) if p is not None]
        if len(a_parts) == 1 and len(b_parts) == 1:
            left, right, result = branches[0]
            same_class = (A.n is not None) == (B.n is not None)
            if same_class:
                return cat("(", result, ")")
            if is_op:
                both_null = cat("(", left, " IS NULL AND ", right, " IS NULL)")
                return both_null if op == "IS" else cat("NOT ", both_null)
            return cat(
                "(CASE WHEN ", left, " IS NULL OR ", right, " IS NULL THEN NULL ELSE ", result, " END)"
            )
        if not branches:
            if is_op:
                # One side is always NULL.
                cond = self.is_null(B if not a_parts else A)
                return cond if op == "IS" else cat("NOT ", cond)
            return Frag("(NULL::boolean)")
        out: list[str | Frag] = ["(CASE"]
        for left, right, result in branches:
            out += [" WHEN ", left, " IS NOT NULL AND ", right, " IS NOT NULL THEN ", result]
        if is_op:
            both_null = cat(self.is_null(A), " AND ", self.is_null(B))
            out += [" ELSE ", both_null if op == "IS" else cat("NOT (", both_null, ")")]
        out.append(" END)")
        return cat(*out)

    def like(self, a: Operand, b: Operand, negate: bool, contains: bool = True) -> Frag:
        text = self._text_of(a)
        if text is None:
            return Frag("(NULL::boolean)")
        left = cat("translate(", text, f", {_UPPER}, {_LOWER})")
        if b.kind == VALUE:
            get = b.get
            assert get is not None

            def pattern(i: Any) -> str:
                return V.lower_ascii(V.like_pattern(get(i)))

            def usable(i: Any) -> bool:
                p = pattern(i)
                return (len(p) - len(p.rstrip("\\"))) % 2 == 0  # a trailing escape matches nothing

            cond = cat(
                "(",
                self.param(usable),
                "::boolean AND ",
                left,
                " LIKE ",
                self.param(lambda i: pattern(i) if usable(i) else ""),
                "::text ESCAPE '\\')",
            )
        else:
            other = self._text_of(b)
            if other is None:
                return Frag("(NULL::boolean)")
            lowered = cat("translate(", other, f", {_UPPER}, {_LOWER})")
            if contains:
                cond = cat("(", left, " LIKE ('%' || ", lowered, " || '%') ESCAPE '\\')")
            else:
                # A pattern ending in a lone escape matches nothing in SQLite (PostgreSQL raises).
                odd_escape = cat("(length(", other, ") - length(rtrim(", other, ", '\\'))) % 2 = 1")
                cond = cat(
                    "(CASE WHEN ",
                    odd_escape,
                    " THEN false ELSE ",
                    left,
                    " LIKE ",
                    lowered,
                    " ESCAPE '\\' END)",
                )
        return cat("(NOT ", cond, ")") if negate else cond


def typing_for(d: Dialect) -> Typing:
    return PostgresTyping(d) if d.name == "postgres" else SQLiteTyping(d)
