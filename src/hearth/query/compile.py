"""Compile a parsed filter (hearth.filter AST) into a SQL WHERE fragment for one collection.

The result is cached per (collection version, filter text, mode): parsing and compiling cost
nothing for a repeated query shape. Request-dependent values (`@request.*`, macros) become
parameters read by getters at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hearth.query.resolve import (
    ColumnRef,
    Getter,
    JoinedRef,
    Lookup,
    Resolver,
    SetRef,
    UnknownIdentifier,
    Unsupported,
    ValueRef,
)
from hearth.rules.context import RequestInfo
from hearth.schema.collection import Collection
from hearth.schema.fields.base import BOOL, NUMBER, TEXT
from hearth.sql import filter as fsql
from hearth.sql.dialect import Dialect, quote

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

    def embed(self, sql: str, getters: tuple[Getter, ...]) -> str:
        """Place SQL that carries its own parameters; call in textual order."""
        self.getters.extend(getters)
        return sql

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
        op, lg, rg = n.op.lstrip("?"), left.get, right.get
        return lambda i: _compare_values(op, lg(i), rg(i))

    def operand(self, n: Any) -> ColumnRef | SetRef | ValueRef:
        kind = type(n).__name__
        if kind == "Identifier":
            try:
                ref = self.resolver.resolve(n.name)
            except UnknownIdentifier as exc:
                raise FilterError(f"unknown field {exc}") from exc
            if not isinstance(ref, ValueRef):
                self.uses_columns = True
            return ref  # type: ignore[return-value]
        if kind == "Literal":
            value = n.value
            lkind = {"number": NUMBER, "bool": BOOL, "null": "null"}.get(getattr(n, "kind", "text"), TEXT)
            return ValueRef(lambda _i, v=value: v, lkind)
        if kind == "FunctionCall":
            return self.function(n)
        raise FilterError("invalid operand")

    def function(self, n: Any) -> ColumnRef:
        """geoDistance(lonA, latA, lonB, latB): kilometres on a sphere of radius 6371 (haversine)."""
        if n.name != "geoDistance":
            raise Unsupported(f"function {n.name}")
        if len(n.args) != 4:
            raise FilterError("geoDistance takes 4 arguments")
        parts: list[str] = []
        getters: list[Getter] = []
        for arg in n.args:
            ref = self.operand(arg)
            if isinstance(ref, ValueRef):
                get = ref.get
                getters.append(lambda i, g=get: _to_number(g(i)) or 0.0)
                parts.append(fsql.MARK)
            elif isinstance(ref, ColumnRef) and ref.storage in (NUMBER, "any"):
                getters.extend(ref.getters)
                parts.append(self.d.json_value_as(ref.sql, NUMBER) if ref.storage == "any" else ref.sql)
            else:
                raise FilterError("geoDistance takes numbers")
        self.uses_columns = True  # evaluated by the database even when all arguments are constants
        return ColumnRef(fsql.haversine_km(*parts), NUMBER, tuple(getters))

    def comparison(self, n: Any) -> str:
        left, right = self.operand(n.left), self.operand(n.right)
        op: str = n.op
        any_of = op.startswith("?")
        op = op.lstrip("?")
        if isinstance(left, ValueRef) and isinstance(right, ValueRef):
            lg, rg = left.get, right.get
            return self.d.bool_param(self.param(lambda i: _compare_values(op, lg(i), rg(i))))
        if isinstance(right, SetRef) and not isinstance(left, SetRef):
            if op in ("~", "!~"):
                raise Unsupported("a multi-valued right side of ~")
            left, right, op = right, left, _FLIPPED.get(op, op)
        if isinstance(left, SetRef):
            if isinstance(right, SetRef):
                raise Unsupported("multi-valued on both sides")
            return self.set_comparison(left, op, right, any_of)
        if isinstance(right, JoinedRef) and not isinstance(left, JoinedRef):
            if op in ("~", "!~"):
                raise Unsupported("@collection on the right of ~")
            left, right, op = right, left, _FLIPPED.get(op, op)
        if isinstance(left, JoinedRef):
            return self.joined_comparison(left, op, right, any_of)
        if isinstance(left, ValueRef):
            if op in ("~", "!~"):
                assert isinstance(right, ColumnRef)
                return self.like_value_column(left, right, op)
            left, right, op = right, left, _FLIPPED.get(op, op)
        assert isinstance(left, ColumnRef)
        col = self.embed(left.sql, left.getters)
        return self.expr_vs(col, left.storage, op, right)

    def joined_comparison(self, ref: JoinedRef, op: str, right: Any, any_of: bool) -> str:
        """On the joined row; plain operators also require every row of the collection to match."""
        if isinstance(right, (SetRef, JoinedRef)):
            raise Unsupported("@collection compared with a multi-valued side")
        cond = self.expr_vs(ref.sql, ref.storage, op, right)
        if any_of:
            return cond
        every = self.resolver._alias()
        cond2 = self.expr_vs(f"{every}.{quote(ref.field)}", ref.storage, op, right)
        return f"({cond} AND NOT EXISTS (SELECT 1 FROM {quote(ref.table)} AS {every} WHERE NOT ({cond2})))"

    def expr_vs(self, col: str, storage: str, op: str, right: ColumnRef | ValueRef) -> str:
        """`col op right` where col is single-valued SQL already placed in the text."""
        if isinstance(right, ColumnRef):
            other = self.embed(right.sql, right.getters)
            if op in ("~", "!~"):
                pattern = f"('%' || {self.d.as_text(other)} || '%')"
                return fsql.like(self.d, self.d.as_text(col), pattern, op == "!~")
            if storage != right.storage or "any" in (storage, right.storage):
                col, other = self.d.as_text(col), self.d.as_text(other)
                storage = TEXT
            if op in ("=", "!=") and storage == TEXT:
                return fsql.text_eq_nullable(col, other, op == "!=")
            return fsql.compare(self.d, col, _COMPARISON_OPS[op], other)
        return self.column_value(storage, col, op, right)

    def set_comparison(self, ref: SetRef, op: str, right: ColumnRef | ValueRef, any_of: bool) -> str:
        """`?op`: some element matches. Plain op: every element matches (and an empty set
        compares as one blank value), as PocketBase's multi-match does."""
        src = self.embed(ref.source, ref.getters)
        cond = self.expr_vs(ref.value, ref.storage, op, right)
        if any_of:
            return f"EXISTS (SELECT 1 {src} AND {cond})"
        src2 = self.embed(ref.source, ref.getters)
        cond2 = self.expr_vs(ref.value, ref.storage, op, right)
        src3 = self.embed(ref.source, ref.getters)
        blank = self.expr_vs("''" if ref.storage == TEXT else "NULL", ref.storage, op, right)
        return (
            f"((EXISTS (SELECT 1 {src} AND {cond}) AND NOT EXISTS (SELECT 1 {src2} AND NOT ({cond2})))"
            f" OR (NOT EXISTS (SELECT 1 {src3}) AND {blank}))"
        )

    def column_value(self, storage: str, col: str, op: str, value: ValueRef) -> str:
        get = value.get
        if op in ("~", "!~"):
            text_col = col if storage == TEXT else self.d.as_text(col)
            return fsql.like(self.d, text_col, self.param(lambda i: _like_pattern(get(i))), op == "!~")
        if value.kind == "null" and op in ("=", "!="):
            return fsql.is_blank(col, op == "!=")
        if storage == "any":
            # A JSON path: compare as the literal's kind.
            kind = value.kind if value.kind in (NUMBER, BOOL) else TEXT
            expr = self.d.json_value_as(col, kind)
            if kind == TEXT:
                if op in ("=", "!="):
                    return fsql.text_eq_nullable(expr, self.param(lambda i: _to_text(get(i))), op == "!=")
                return fsql.compare(self.d, expr, _COMPARISON_OPS[op], self.param(lambda i: _to_text(get(i))))
            storage, col = kind, expr
        if storage == TEXT:
            if op in ("=", "!="):
                return fsql.text_eq_nullable(col, self.param(lambda i: _to_text(get(i))), op == "!=")
            return fsql.compare(self.d, col, _COMPARISON_OPS[op], self.param(lambda i: _to_text(get(i))))
        if storage == NUMBER and value.kind == TEXT:
            probe = value.get(RequestInfo())
            if isinstance(probe, str) and _to_number(probe) is None:
                # A non-numeric text against a number: compare as text, as SQLite would.
                return fsql.compare(
                    self.d, self.d.as_text(col), _COMPARISON_OPS[op], self.param(lambda i: _to_text(get(i)))
                )
        coerce = _coercer(storage)
        ph = self.param(lambda i: coerce(get(i)))
        if storage == BOOL:
            ph = self.d.bool_param(ph)
        return fsql.compare(self.d, col, _COMPARISON_OPS[op], ph)

    def like_value_column(self, value: ValueRef, ref: ColumnRef, op: str) -> str:
        get = value.get
        ph = self.param(lambda i: _to_text(get(i)))
        col = self.embed(ref.sql, ref.getters)
        pattern = f"('%' || {self.d.as_text(col)} || '%')"
        return fsql.like(self.d, ph, pattern, op == "!~")


_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">="}


_CACHE_LIMIT = 512


def compile_filter(
    d: Dialect,
    c: Collection,
    text: str,
    *,
    rule: bool,
    lookup: Lookup | None = None,
    auth_collection: Collection | None = None,
) -> CompiledFilter | None:
    """`text` → WHERE fragment, or None for an empty filter. Raises FilterError/Unsupported.

    `rule=True` is for API rules and superusers: hidden fields are visible and related
    collections are joined as they are. Client filters (`rule=False`) see only what the requester
    may list in every collection a relation path crosses.
    """
    from hearth.filter import FilterSyntaxError, parse_filter

    # Cached on the collection object, which is rebuilt whenever the schema changes.
    cache: dict[tuple[str, str, bool, str], CompiledFilter | None] = c.__dict__.setdefault("_filters", {})
    # Paths through the requester's record (`@request.auth.team.owner`) compile per auth collection.
    auth_key = auth_collection.id if auth_collection is not None and "@request.auth." in text else ""
    key = (d.name, text, rule, auth_key)
    if key in cache:
        return cache[key]
    try:
        tree = parse_filter(text)
    except FilterSyntaxError as exc:
        raise FilterError(str(exc)) from exc
    compiled = None
    if tree is not None:
        find = lookup or getattr(c, "lookup", None)
        resolver = Resolver(
            c,
            allow_hidden=rule,
            allow_request=True,
            dialect=d,
            lookup=find,
            list_rules=None if rule else _list_rule_joiner(d, find),
            auth_collection=auth_collection if auth_key else None,
        )
        compiler = _Compiler(d, c, resolver)
        sql = compiler.node(tree)
        if resolver.joins:
            # `@collection` rows are joined once per alias around the whole condition; the
            # one-row seed keeps the condition alive when a joined collection is empty.
            joins = " ".join(
                f"LEFT JOIN {quote(table)} AS {alias} ON 1=1" for alias, table in resolver.joins.values()
            )
            sql = f"EXISTS (SELECT 1 FROM (SELECT 1 AS one) AS __seed {joins} WHERE {sql})"
        decide = None if compiler.uses_columns else compiler.decider(tree)
        compiled = CompiledFilter(sql, compiler.getters, compiler.uses_columns, decide)
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = compiled
    return compiled


def _list_rule_joiner(
    d: Dialect, lookup: Lookup | None
) -> Callable[[Collection, str], tuple[str, tuple[Getter, ...]] | None]:
    def join(target: Collection, alias: str) -> tuple[str, tuple[Getter, ...]] | None:
        list_rule = target.rules.get("listRule")
        if list_rule is None:
            raise UnknownIdentifier(f"{target.name} (superusers only)")
        if not list_rule.strip():
            return None
        compiled = compile_filter(d, target, list_rule, rule=True, lookup=lookup)
        if compiled is None:
            return None
        return f'{alias}."id" IN (SELECT "id" FROM {quote(target.name)} WHERE {compiled.sql})', tuple(
            compiled.getters
        )

    return join


@dataclass(slots=True)
class CompiledSort:
    sql: str  # ORDER BY terms with fsql.MARK placeholders ("" for none)
    getters: list[Getter] = field(default_factory=list)

    def render(self, d: Dialect, start: int) -> str:
        return fsql.number_marks(d, self.sql, start)

    def params(self, info: RequestInfo) -> list[Any]:
        return [g(info) for g in self.getters]


def compile_sort(d: Dialect, c: Collection, text: str, *, superuser: bool) -> CompiledSort:
    """`-views,author.name,@random` → ORDER BY terms. Raises FilterError for unknown paths."""
    from hearth.filter import FilterSyntaxError, Identifier, parse_sort

    cache: dict[tuple[str, str, bool], CompiledSort] = c.__dict__.setdefault("_sorts", {})
    key = (d.name, text, superuser)
    hit = cache.get(key)
    if hit is not None:
        return hit
    try:
        items = parse_sort(text)
    except FilterSyntaxError as exc:
        raise FilterError(str(exc)) from exc
    find = getattr(c, "lookup", None)
    resolver = Resolver(
        c,
        allow_hidden=superuser,
        dialect=d,
        lookup=find,
        list_rules=None if superuser else _list_rule_joiner(d, find),
    )
    terms: list[str] = []
    getters: list[Getter] = []
    for item in items:
        if not isinstance(item.expr, Identifier):
            raise FilterError("sort by a function is not supported")
        name = item.expr.name
        if name == "@random":
            terms.append(d.random_order())
            continue
        if name == "@rowid":
            terms.append(fsql.order_term(d.order_by_insertion(), item.descending))
            continue
        try:
            ref = resolver.resolve(name)
        except UnknownIdentifier as exc:
            raise FilterError(f"unknown field {exc}") from exc
        if not isinstance(ref, ColumnRef):
            raise FilterError(f"cannot sort by {name}")
        getters.extend(ref.getters)
        terms.append(fsql.order_term(ref.sql, item.descending))
    if not terms and not c.is_view:
        terms.append(d.order_by_insertion())
    compiled = CompiledSort(", ".join(terms), getters)
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = compiled
    return compiled
