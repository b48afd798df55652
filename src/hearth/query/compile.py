"""Compile a parsed filter (hearth.filter AST) into a SQL WHERE fragment for one collection.

The result is cached per (collection version, filter text, mode): parsing and compiling cost
nothing for a repeated query shape. Request-dependent values (`@request.*`, macros) become
parameters read by getters at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hearth.query.resolve import ColumnRef, Getter, Resolver, UnknownIdentifier, Unsupported, ValueRef
from hearth.rules.context import RequestInfo
from hearth.schema.collection import Collection
from hearth.schema.fields.base import BOOL, NUMBER, TEXT
from hearth.sql import filter as fsql
from hearth.sql.dialect import Dialect

__all__ = ["CompiledFilter", "FilterError", "Unsupported", "compile_filter"]


class FilterError(Exception):
    """The filter is malformed or names something unknown (a 400 for clients)."""


@dataclass(slots=True)
class CompiledFilter:
    sql: str  # with fsql.MARK placeholders
    getters: list[Getter] = field(default_factory=list)
    # False when only request values are compared: the answer is the same for every row, and
    # `decide` computes it without the database.
    uses_columns: bool = True
    decide: Callable[[RequestInfo], bool] | None = None
    _rendered: dict[int, str] = field(default_factory=dict)

    def render(self, d: Dialect, start: int) -> str:
        sql = self._rendered.get(start)
        if sql is None:
            sql = self._rendered[start] = fsql.number_marks(d, self.sql, start)
        return sql

    def params(self, info: RequestInfo) -> list[Any]:
        return [g(info) for g in self.getters]


_COMPARISON_OPS = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


def _to_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip()) if v.strip() else 0.0
        except ValueError:
            return None
    return None if v is not None else 0.0


def _to_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _to_bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.lower() in ("1", "true", "t")
    return bool(v)


def _coercer(storage: str) -> Callable[[Any], Any]:
    if storage == NUMBER:
        return _to_number
    if storage == BOOL:
        return _to_bool
    return _to_text


def _like_pattern(v: Any) -> str:
    text = _to_text(v)
    if "%" in text.replace("\\%", ""):
        return text
    escaped = text.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
    return f"%{escaped}%"


def _compare_values(op: str, a: Any, b: Any) -> bool:
    """Both sides known at request time (e.g. `@request.auth.id != ""`)."""
    if op in ("=", "!="):
        eq = (
            _to_text(a) == _to_text(b)
            if not (isinstance(a, int | float) and isinstance(b, int | float))
            else a == b
        )
        return eq if op == "=" else not eq
    if op in ("~", "!~"):
        hit = _to_text(b).strip("%").lower() in _to_text(a).lower()
        return hit if op == "~" else not hit
    na, nb = _to_number(a), _to_number(b)
    if na is not None and nb is not None:
        x, y = na, nb
    else:
        x, y = _to_text(a), _to_text(b)  # type: ignore[assignment]
    return {">": x > y, ">=": x >= y, "<": x < y, "<=": x <= y}[op]  # type: ignore[operator]


class _Compiler:
    def __init__(self, d: Dialect, c: Collection, resolver: Resolver) -> None:
        self.d = d
        self.c = c
        self.resolver = resolver
        self.getters: list[Getter] = []
        self.uses_columns = False

    def param(self, getter: Getter) -> str:
        self.getters.append(getter)
        return fsql.MARK

    def node(self, n: Any) -> str:
        kind = type(n).__name__
        if kind == "And":
            return fsql.join("AND", [self.node(x) for x in n.items])
        if kind == "Or":
            return fsql.join("OR", [self.node(x) for x in n.items])
        if kind == "Comparison":
            return self.comparison(n)
        raise FilterError("invalid expression")

    def decider(self, n: Any) -> Callable[[RequestInfo], bool]:
        """The same condition as a Python predicate (only when no column is involved)."""
        kind = type(n).__name__
        if kind in ("And", "Or"):
            parts = [self.decider(x) for x in n.items]
            if kind == "And":
                return lambda i: all(p(i) for p in parts)
            return lambda i: any(p(i) for p in parts)
        left, right = self.operand(n.left), self.operand(n.right)
        assert isinstance(left, ValueRef) and isinstance(right, ValueRef)
        op, lg, rg = n.op, left.get, right.get
        return lambda i: _compare_values(op, lg(i), rg(i))

    def operand(self, n: Any) -> ColumnRef | ValueRef:
        kind = type(n).__name__
        if kind == "Identifier":
            try:
                ref = self.resolver.resolve(n.name)
            except UnknownIdentifier as exc:
                raise FilterError(f"unknown field {exc}") from exc
            if isinstance(ref, ColumnRef):
                self.uses_columns = True
            return ref
        if kind == "Literal":
            value = n.value
            lkind = {"number": NUMBER, "bool": BOOL, "null": "null"}.get(getattr(n, "kind", "text"), TEXT)
            return ValueRef(lambda _i, v=value: v, lkind)
        if kind == "FunctionCall":
            raise Unsupported(f"function {n.name}")
        raise FilterError("invalid operand")

    def comparison(self, n: Any) -> str:
        op: str = n.op
        if op.startswith("?"):
            raise Unsupported("any-of operators need multi-valued paths")
        left, right = self.operand(n.left), self.operand(n.right)
        if isinstance(left, ValueRef) and isinstance(right, ValueRef):
            lg, rg = left.get, right.get
            return self.d.bool_param(self.param(lambda i: _compare_values(op, lg(i), rg(i))))
        if isinstance(left, ValueRef):
            # Normalise to column-first; flip the direction of ordering operators.
            flipped = {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(op, op)
            if op in ("~", "!~"):
                return self.like_value_column(left, right, op)  # type: ignore[arg-type]
            left, right, op = right, left, flipped
        assert isinstance(left, ColumnRef)
        col = fsql.column(self.c.name, left.column)
        if isinstance(right, ColumnRef):
            other = fsql.column(self.c.name, right.column)
            if op in ("~", "!~"):
                pattern = f"('%' || {self.d.as_text(other)} || '%')"
                return fsql.like(self.d, self.d.as_text(col), pattern, op == "!~")
            if left.storage != right.storage:
                col, other = self.d.as_text(col), self.d.as_text(other)
            if op in ("=", "!=") and left.storage == TEXT and right.storage == TEXT:
                return fsql.text_eq_nullable(col, other, op == "!=")
            return fsql.compare(self.d, col, _COMPARISON_OPS[op], other)
        return self.column_value(left, col, op, right)

    def column_value(self, ref: ColumnRef, col: str, op: str, value: ValueRef) -> str:
        if op in ("~", "!~"):
            get = value.get
            text_col = col if ref.storage == TEXT else self.d.as_text(col)
            return fsql.like(self.d, text_col, self.param(lambda i: _like_pattern(get(i))), op == "!~")
        if value.kind == "null" and op in ("=", "!="):
            return fsql.is_blank(col, op == "!=")
        get = value.get
        if ref.storage == TEXT:
            if op in ("=", "!="):
                return fsql.text_eq_nullable(col, self.param(lambda i: _to_text(get(i))), op == "!=")
            return fsql.compare(self.d, col, _COMPARISON_OPS[op], self.param(lambda i: _to_text(get(i))))
        if ref.storage == NUMBER and value.kind == TEXT:
            probe = value.get(RequestInfo())
            if isinstance(probe, str) and _to_number(probe) is None:
                # A non-numeric text against a number: compare as text, as SQLite would.
                return fsql.compare(
                    self.d, self.d.as_text(col), _COMPARISON_OPS[op], self.param(lambda i: _to_text(get(i)))
                )
        coerce = _coercer(ref.storage)
        ph = self.param(lambda i: coerce(get(i)))
        if ref.storage == BOOL:
            ph = self.d.bool_param(ph)
        return fsql.compare(self.d, col, _COMPARISON_OPS[op], ph)

    def like_value_column(self, value: ValueRef, ref: ColumnRef, op: str) -> str:
        col = fsql.column(self.c.name, ref.column)
        pattern = f"('%' || {self.d.as_text(col)} || '%')"
        get = value.get
        return fsql.like(self.d, self.param(lambda i: _to_text(get(i))), pattern, op == "!~")


_CACHE_LIMIT = 512


def compile_filter(d: Dialect, c: Collection, text: str, *, rule: bool) -> CompiledFilter | None:
    """`text` → WHERE fragment, or None for an empty filter. Raises FilterError/Unsupported."""
    from hearth.filter import FilterSyntaxError, parse_filter

    # Cached on the collection object, which is rebuilt whenever the schema changes.
    cache: dict[tuple[str, str, bool], CompiledFilter | None] = c.__dict__.setdefault("_filters", {})
    key = (d.name, text, rule)
    if key in cache:
        return cache[key]
    try:
        tree = parse_filter(text)
    except FilterSyntaxError as exc:
        raise FilterError(str(exc)) from exc
    compiled = None
    if tree is not None:
        compiler = _Compiler(d, c, Resolver(c, allow_hidden=rule, allow_request=True))
        sql = compiler.node(tree)
        decide = None if compiler.uses_columns else compiler.decider(tree)
        compiled = CompiledFilter(sql, compiler.getters, compiler.uses_columns, decide)
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = compiled
    return compiled
