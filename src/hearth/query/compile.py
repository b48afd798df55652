"""Compile a parsed filter (hearth.filter AST) into a SQL WHERE fragment for one collection.

The result is cached per (collection version, filter text, mode): parsing and compiling cost
nothing for a repeated query shape. Request-dependent values (`@request.*`, macros) become
parameters read by getters at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from hearth.filter import values as V
from hearth.query.context import RequestInfo
from hearth.query.resolve import (
    ColumnRef,
    Getter,
    Lookup,
    Multi,
    Resolver,
    UnknownIdentifier,
    Unsupported,
    ValueRef,
)
from hearth.schema.collection import Collection
from hearth.schema.fields.base import BOOL, NUMBER, TEXT
from hearth.sql import filter as fsql
from hearth.sql import joins as J
from hearth.sql import strftime as strftime_sql
from hearth.sql import typed as T
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


_SQL_OPS = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
_FLIPPED = {">": "<", ">=": "<=", "<": ">", "<=": ">="}

NULL_IDENT = "null"  # the literal `null` (or a path that is blank for guests): PocketBase's NULL
BOOL_IDENT = "bool"  # `true`/`false`: PocketBase's 1/0, a value known not to be blank


@dataclass(frozen=True, slots=True)
class _Side:
    """One operand as PocketBase's `=`/`!=` rules see it (tools/search/filter.go)."""

    operand: T.Operand
    ident: str | None = None  # NULL_IDENT | BOOL_IDENT for identifier literals
    json: bool = False  # a JSON value: compared with IS / IS NOT, never with blank fallbacks
    pattern: bool = False  # the right side of `~` used as the LIKE pattern itself

    @property
    def is_value(self) -> bool:
        return self.operand.kind == T.VALUE


def _go_number(v: Any) -> Any:
    """Request values are bound as Go binds them: every JSON number is a float64."""
    return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _blank(v: Any, ident: str | None) -> bool:
    return ident == NULL_IDENT or (ident is None and v in (None, ""))


def _decide(op: str, a: Any, a_ident: str | None, b: Any, b_ident: str | None) -> bool:
    """`a op b` for two request-time values, exactly as PocketBase's SQL would answer it."""
    a, b = V.to_sqlite(a), V.to_sqlite(b)
    if op in ("=", "!="):
        eq = op == "="
        ea, eb = _blank(a, a_ident), _blank(b, b_ident)
        if ea and eb:
            return eq
        # A blank side reads as '' (`'' = x OR x IS NULL` with a non-blank x is just `'' = x`).
        a2, b2 = ("" if ea else a), ("" if eb else b)
        return bool(V.compare("=" if eq else "IS NOT", a2, b2))
    if op in ("~", "!~"):
        if b_ident == NULL_IDENT:
            return False
        pattern = ("%" + (V.as_text(b) or "") + "%") if b_ident else V.like_pattern(b)
        hit = V.like(a, pattern)
        return bool(hit if op == "~" or hit is None else not hit)
    return bool(V.compare(_SQL_OPS[op], a, b))


class _Compiler:
    def __init__(self, d: Dialect, c: Collection, resolver: Resolver) -> None:
        self.d = d
        self.c = c
        self.t = T.typing_for(d)
        self.resolver = resolver
        self.getters: list[Getter] = []
        self.uses_columns = False

    def param(self, getter: Getter) -> str:
        self.getters.append(getter)
        return fsql.MARK

    def place(self, frag: T.Frag) -> str:
        """Place SQL that carries its own parameters; call in textual order."""
        self.getters.extend(frag.getters)
        return frag.sql

    def node(self, n: Any) -> str:
        kind = type(n).__name__
        if kind == "And" or kind == "Or":
            # `a && (b && (c && …))` as one flat list: every SQL parenthesis costs SQLite's parser
            # stack (a fixed 100 entries before 3.46), and PocketBase takes such filters 150 deep.
            items: list[Any] = []
            stack = list(reversed(n.items))
            while stack:
                x = stack.pop()
                if type(x).__name__ == kind:
                    stack.extend(reversed(x.items))
                else:
                    items.append(x)
            return fsql.join("AND" if kind == "And" else "OR", [self.node(x) for x in items])
        if kind == "Comparison":
            return self.place(self.comparison(n))
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
        return self._value_decider(n.op.lstrip("?"), left, right)

    def _value_decider(self, op: str, left: ValueRef, right: ValueRef) -> Callable[[RequestInfo], bool]:
        lg, rg = left.get, right.get
        li, ri = _ident(left), _ident(right)
        return lambda i: _decide(op, lg(i), li, rg(i), ri)

    def operand(self, n: Any) -> ColumnRef | ValueRef:
        kind = type(n).__name__
        if kind == "Identifier":
            try:
                ref = self.resolver.resolve(n.name)
            except UnknownIdentifier as exc:
                raise FilterError(f"unknown field {exc}") from exc
            if not isinstance(ref, ValueRef):
                self.uses_columns = True
            return ref
        if kind == "Literal":
            return literal_ref(n)
        if kind == "FunctionCall":
            return self.function(n)
        raise FilterError("invalid operand")

    def function(self, n: Any, like: bool = False) -> ColumnRef:
        """A function call. On the right of `~` (`like`), PocketBase wraps every bound argument
        as it wraps a `~` value (`%…%`, escaped), and then uses the result as the pattern itself."""
        self.uses_columns = True  # evaluated by the database even when all arguments are constants
        if n.name == "geoDistance":
            return self.geo_distance(n, like)
        if n.name == "strftime":
            return self.strftime(n, like)
        raise FilterError(f"unknown function {n.name}")

    def argument(self, node: Any, like: bool) -> ColumnRef | ValueRef:
        ref = self.operand(node)
        if like and isinstance(ref, ValueRef) and _bound(ref):
            get = ref.get
            return ValueRef(lambda i: V.like_pattern(get(i)), TEXT, ref.const)
        return ref

    def geo_distance(self, n: Any, like: bool = False) -> ColumnRef:
        """geoDistance(lonA, latA, lonB, latB): kilometres on a sphere of radius 6371."""
        if len(n.args) != 4:
            raise FilterError("geoDistance takes 4 arguments")
        parts: list[str] = []
        getters: list[Getter] = []
        for arg in n.args:
            if _kind(arg) not in ("Identifier", "number"):
                raise FilterError("geoDistance takes identifiers and numbers")
            ref = self.argument(arg, like)
            if isinstance(ref, ValueRef):
                get = ref.get
                getters.append(_number_getter(get))
                parts.append(fsql.MARK)
            elif ref.multi is None:
                number = self.t.number(self.column_side(ref.sql, ref.getters, ref, ref.nullable).operand)
                getters.extend(number.getters)
                parts.append(number.sql)
            else:
                raise Unsupported("geoDistance over a multi-valued path")
        return ColumnRef(fsql.great_circle_km(self.d, *parts), NUMBER, tuple(getters), None, True, exact=True)

    def strftime(self, n: Any, like: bool = False) -> ColumnRef:
        """strftime(format, [time, modifiers…]): SQLite's date formatting (hearth.sql.strftime)."""
        args = n.args
        if not 1 <= len(args) <= strftime_sql.MAX_ARGS:
            raise FilterError(f"strftime takes 1 to {strftime_sql.MAX_ARGS} arguments")
        if _kind(args[0]) != "text" or any(_kind(a) != "text" for a in args[2:]):
            raise FilterError("strftime's format and modifiers must be text literals")
        fmt = args[0].value
        modifiers = [a.value for a in args[2:]]
        if like:
            fmt, modifiers = V.like_pattern(fmt), [V.like_pattern(m) for m in modifiers]
        value: T.Frag | None = None
        multi = None
        if len(args) > 1:
            if _kind(args[1]) not in ("Identifier", "text", "number"):
                raise FilterError("strftime's time value must be a field, a text or a number")
            ref = self.argument(args[1], like)
            value = self.time_value(ref)
            if isinstance(ref, ColumnRef) and ref.multi is not None:
                inner = ref.multi
                multi = Multi(
                    inner.hops,
                    lambda a: (
                        self.call_strftime(
                            fmt, self.time_value(replace(ref, sql=inner.value(a))), modifiers
                        ).sql
                    ),
                    self.call_strftime(fmt, T.Frag("NULL"), modifiers).getters + inner.getters,
                )
        frag = self.call_strftime(fmt, value, modifiers)
        return ColumnRef(frag.sql, TEXT, frag.getters, None, True, multi=multi)

    def call_strftime(self, fmt: str, value: T.Frag | None, modifiers: list[str]) -> T.Frag:
        try:
            return strftime_sql.call(self.d, fmt, value, modifiers)
        except strftime_sql.Unevaluable as exc:
            raise Unsupported(f"strftime: {exc}") from exc

    def time_value(self, ref: ColumnRef | ValueRef) -> T.Frag:
        """The time value as strftime() reads it: SQLite's own value, PostgreSQL's text form."""
        sqlite = self.d.name == "sqlite"
        if isinstance(ref, ValueRef):
            get = ref.get
            if sqlite:
                return T.Frag(fsql.MARK, (lambda i: V.to_sqlite(_go_number(get(i))),))
            return T.Frag(fsql.MARK, (lambda i: _time_text(get(i)),))
        if ref.lower or (ref.storage == "any" and not sqlite):
            raise Unsupported("strftime over a JSON value or :lower")
        frag = T.Frag(ref.sql, ref.getters)
        return frag if sqlite else strftime_sql.postgres_time_text(frag, ref.storage)

    # ----- typed operands --------------------------------------------------------------------
    def column_side(self, sql: str, getters: tuple[Getter, ...], ref: ColumnRef, nullable: bool) -> _Side:
        frag = T.Frag(sql, tuple(getters))
        if ref.storage == "any":
            op = self.t.column(frag, T.JSON, None, True)
        elif ref.storage == BOOL:
            op = self.t.bool_column(frag, ref.affinity, nullable)
        else:
            op = self.t.column(frag, T.NUM if ref.storage == NUMBER else T.TEXT, ref.affinity, nullable)
        if ref.lower:
            return _Side(self.t.lower(op))
        return _Side(op, json=ref.storage == "any" or ref.exact)

    def value_side(self, ref: ValueRef) -> _Side:
        get = ref.get
        ident = _ident(ref)
        if ref.kind == "null":
            return _Side(T.value(lambda _i: None, const=True), NULL_IDENT)
        if ref.kind == "any":
            return _Side(T.value(lambda i: _go_number(get(i))), ident)
        if ref.kind == "literal":
            return _Side(T.value(get, const=True), ident)
        # Booleans (`true`, `:isset`) are 1/0; macros and `:length` numbers; the rest text.
        vtype = T.TEXT if ref.kind == TEXT else T.NUM
        return _Side(T.value(get, const=ref.const, vtype=vtype), ident)

    def side(self, ref: ColumnRef | ValueRef) -> _Side:
        if isinstance(ref, ValueRef):
            return self.value_side(ref)
        return self.column_side(ref.sql, ref.getters, ref, ref.nullable)

    # ----- comparisons -----------------------------------------------------------------------
    def comparison(self, n: Any) -> T.Frag:
        op: str = n.op
        any_of = op.startswith("?")
        op = op.lstrip("?")
        left = self.operand(n.left)
        pattern = op in ("~", "!~") and type(n.right).__name__ == "FunctionCall"
        right = self.function(n.right, like=True) if pattern else self.operand(n.right)
        if isinstance(left, ValueRef) and isinstance(right, ValueRef):
            decide = self._value_decider(op, left, right)
            return T.Frag(self.d.bool_param(fsql.MARK), (decide,))
        right_side = self.side(right)
        if pattern and isinstance(right, ColumnRef) and right.getters:
            right_side = replace(right_side, pattern=True)
        cond = self.condition(op, self.side(left), right_side)
        lm = left.multi if isinstance(left, ColumnRef) else None
        rm = right.multi if isinstance(right, ColumnRef) else None
        if not any_of and (lm or rm):
            cond = T.cat("(", cond, " AND ", self.every(op, left, lm, right, rm), ")")
        for ref in (left, right):
            if isinstance(ref, ColumnRef) and ref.guard:
                cond = T.cat("(", cond, f" AND {ref.guard})")
        return cond

    def every(
        self,
        op: str,
        left: ColumnRef | ValueRef,
        lm: Multi | None,
        right: ColumnRef | ValueRef,
        rm: Multi | None,
    ) -> T.Frag:
        """Plain operators on a multi-valued path also need no value of it to fail (a NULL
        answer is no failure), as PocketBase's multi-match subqueries check."""
        r = self.resolver

        def values(ref: ColumnRef | ValueRef, m: Multi) -> tuple[T.Frag, str, _Side]:
            assert isinstance(ref, ColumnRef)
            sql, getters = r.subquery(m)
            alias = r.alias()
            return T.Frag(sql, getters), alias, self.column_side(f"{alias}.v", (), ref, True)

        if lm and rm:
            lsrc, la, lside = values(left, lm)
            rsrc, ra, rside = values(right, rm)
            cond = self.condition(op, lside, rside)
            return T.cat(
                "NOT EXISTS (SELECT 1 FROM (",
                lsrc,
                f") AS {la} LEFT JOIN (",
                rsrc,
                f") AS {ra} ON 1=1",
                " WHERE NOT (",
                cond,
                "))",
            )
        ref, m, other = (left, lm, right) if lm else (right, rm, left)
        assert m is not None
        src, alias, element = values(ref, m)
        # The other operand loses its JSON-ness here, as in PocketBase's subquery.
        other_side = replace(self.side(other), json=False)
        cond = self.condition(op, element, other_side) if lm else self.condition(op, other_side, element)
        return T.cat("NOT EXISTS (SELECT 1 FROM (", src, f") AS {alias} WHERE NOT (", cond, "))")

    def condition(self, op: str, a: _Side, b: _Side) -> T.Frag:
        """`a op b` with PocketBase's rules (one side at least is a column)."""
        t = self.t
        if op in ("~", "!~"):
            if b.ident == NULL_IDENT or a.ident == NULL_IDENT:
                return t.null_condition()
            return t.like(a.operand, b.operand, op == "!~", contains=not b.pattern)
        if op not in ("=", "!="):
            return t.compare(_SQL_OPS[op], a.operand, b.operand)
        eq = op == "="
        if a.json or b.json:
            return t.compare("IS" if eq else "IS NOT", a.operand, b.operand)
        if a.is_value and not b.is_value:
            a, b = b, a
        if not b.is_value:
            # Two columns: blank and NULL are the same value (and the affinities are lost).
            return t.compare("=" if eq else "IS NOT", t.blank_or(a.operand), t.blank_or(b.operand))
        col, value = a.operand, b.operand
        if b.ident == NULL_IDENT:
            return self.blank_test(col, eq)
        if b.ident == BOOL_IDENT or value.const:
            assert value.get is not None
            if value.const and _blank(value.get(None), None):
                return self.blank_test(col, eq)
            return t.compare("=" if eq else "IS NOT", col, value)
        # A request-time value: blank ("" or missing) compares as `col = '' OR col IS NULL`.
        get = value.get
        assert get is not None
        filled = T.Operand(T.VALUE, get=lambda i: "" if _blank(get(i), None) else get(i))
        direct = t.compare("=" if eq else "IS NOT", col, filled)
        if not col.nullable:
            return direct
        blank = t.param(lambda i: _blank(get(i), None))
        null_too = T.cat(
            "(", T.Frag(self.d.bool_param(blank.sql), blank.getters), " AND ", t.is_null(col), ")"
        )
        if eq:
            return T.cat("(", direct, " OR ", null_too, ")")
        return T.cat("(", direct, " AND NOT ", null_too, ")")

    def blank_test(self, col: T.Operand, eq: bool) -> T.Frag:
        """`col = ''` or NULL (PocketBase's form for a blank right side)."""
        t = self.t
        empty = T.value(lambda _i: "", const=True)
        if eq:
            return T.cat("(", t.compare("=", col, empty), " OR ", t.is_null(col), ")")
        return T.cat("(", t.compare("IS NOT", col, empty), " AND ", t.is_null(col, negate=True), ")")


def literal_ref(n: Any) -> ValueRef:
    """A literal of the filter language as a value (the SQL compiler and hearth.query.pyeval)."""
    lkind = getattr(n, "kind", "text")
    if lkind == "number":
        number = float(n.raw)  # PocketBase binds every number literal as a float64 (and -0 stays -0)
        return ValueRef(lambda _i: number, "literal")
    if lkind == "null":
        return ValueRef(lambda _i: None, "null")
    if lkind == "bool":
        truth = bool(n.value)
        return ValueRef(lambda _i: truth, BOOL, const=True)
    text = n.value
    return ValueRef(lambda _i: text, "literal")


def _ident(ref: ValueRef) -> str | None:
    if ref.kind == "null":
        return NULL_IDENT
    if ref.kind == BOOL:
        return BOOL_IDENT
    return None


def _to_number(v: Any) -> float | None:
    """A request value as SQLite's math functions read it (NULL unless it looks numeric)."""
    v = V.numeric_affinity(V.to_sqlite(v))
    return float(v) if isinstance(v, int | float) else None


def _number_getter(get: Getter) -> Getter:
    return lambda i: _to_number(get(i))


def _time_text(v: Any) -> str | None:
    """A request value as the text PostgreSQL's strftime() parses (numbers: Julian days)."""
    v = V.to_sqlite(_go_number(v))
    return None if v is None else V.go_string(v) if isinstance(v, float) else str(v)


def _bound(ref: ValueRef) -> bool:
    """Whether PocketBase binds the value as a parameter (`true`, `false`, `null` are SQL words)."""
    return not (ref.kind == "null" or (ref.kind == BOOL and ref.const))


def _kind(node: Any) -> str:
    """A function argument's token kind, as PocketBase checks them: identifier, text or number."""
    name = type(node).__name__
    return getattr(node, "kind", "text") if name == "Literal" else name


_CACHE_LIMIT = 512


def compile_filter(
    d: Dialect,
    c: Collection,
    text: str,
    *,
    rule: bool,
    lookup: Lookup | None = None,
    auth_collection: Collection | None = None,
    alias: str = "",
) -> CompiledFilter | None:
    """`text` → WHERE fragment, or None for an empty filter. Raises FilterError/Unsupported.

    `alias` names the record's row when it is not the collection's table (a realtime snapshot).

    `rule=True` is for API rules and superusers: hidden fields are visible and related
    collections are joined as they are. Client filters (`rule=False`) see only what the requester
    may list in every collection a relation path crosses.
    """
    from hearth.filter import FilterSyntaxError, parse_filter

    # Cached on the collection object, which is rebuilt whenever the schema changes.
    cache: dict[tuple[str, str, bool, str, str], CompiledFilter | None] = c.__dict__.setdefault(
        "_filters", {}
    )
    # Paths through the requester's record (`@request.auth.team.owner`) compile per auth collection.
    auth_key = auth_collection.id if auth_collection is not None and "@request.auth." in text else ""
    key = (d.name, text, rule, auth_key, alias)
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
            base_alias=alias,
        )
        compiler = _Compiler(d, c, resolver)
        sql = compiler.node(tree)
        getters = compiler.getters
        if resolver.joins:
            # Relation paths read from LEFT JOINs placed once around the whole condition, as
            # PocketBase joins them onto its query: the record matches when some combination of
            # joined rows does (the one-row seed keeps a row when nothing is joined).
            joins = [j.sql for j in resolver.joins.values()]
            sql = J.exists_joined(joins, [f"({sql})", *(g for g, _ in resolver.guards)])
            getters = [
                *(g for j in resolver.joins.values() for g in j.getters),
                *getters,
                *(g for _, gs in resolver.guards for g in gs),
            ]
        decide = None if compiler.uses_columns else compiler.decider(tree)
        compiled = CompiledFilter(sql, getters, compiler.uses_columns, decide)
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
        joined=False,
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
            if c.is_view and not d.supports_rowid:
                # A PostgreSQL view has no insertion order column (SQLite's views answer
                # `_rowid_`): no order, rather than a query the database refuses (a 500).
                continue
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
