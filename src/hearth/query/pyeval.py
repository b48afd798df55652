"""Rules and filters evaluated in Python over one record's values (realtime events).

`hearth.query.compile` turns a filter into SQL; realtime asks that SQL about one record at a time
(`RecordReads.snapshot_meets`: a SELECT over the record's values as a one-row snapshot), once per
event and group of subscribers. Most rules only compare the record's own fields with request values
(`owner = @request.auth.id`, `status = "published"`): this module answers those in Python, from the
same parsed tree, with the same resolver, reproducing what SQLite (PocketBase's database) answers:
its typing and affinities (`hearth.filter.values`), three-valued logic, and compile.py's forms for
`=`/`!=` (blank and NULL), `~` (LIKE with PocketBase's wrapping), `:lower`, `:length`, and `:each`
on a multiple field (the elements joined once per field around the whole condition, and the
"every element" check of plain operators).

It DECLINES (`predicate` answers None, the caller asks SQL) whenever it is not sure to give SQL's
answer:
- at compile time: relation paths (`author.name`), back-relations (`x_via_y`), `@collection.*`,
  `@request.auth.*` paths through relations or with modifiers, JSON fields and JSON paths,
  geoPoint, a plain operator between two `:each` operands, `:changed`, `@request.body.x:each`,
  functions
  (strftime, geoDistance), the e-mail of an auth collection in a client filter (its visibility
  guard), unknown fields, syntax errors;
- when it runs: a value of an unexpected type for its field (None, NaN, a number as text…), and
  on PostgreSQL, numbers whose text form PostgreSQL writes differently from SQLite (beyond 15
  significant digits, very large or small) and multiple-field values whose JSON text PostgreSQL's
  compact form could alter.

Every answer it gives is checked against the SQL path on SQLite and PostgreSQL by
tests/differential/test_pyeval.py.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any, cast

from hearth._util import deepjson
from hearth.filter import values as V
from hearth.query.compile import BOOL_IDENT, NULL_IDENT, _blank, _decide, _go_number, _ident, literal_ref
from hearth.query.context import RequestInfo
from hearth.query.resolve import ColumnRef, Resolver, UnknownIdentifier, Unsupported, ValueRef
from hearth.schema.collection import Collection
from hearth.schema.fields.base import BOOL, JSON, NUMBER, TEXT, Field
from hearth.sql.dialect import Dialect

__all__ = ["Predicate", "predicate"]

# (record values, request) → True / False, or None when it cannot tell (ask SQL).
Predicate = Callable[[dict[str, Any], RequestInfo], "bool | None"]

# Three-valued results: True, False, None (SQL's NULL). A comparison raises _Decline when a value is
# outside what this module reproduces.
Tri = bool | None
Cond = Callable[[dict[str, Any], RequestInfo], Tri]
Reader = Callable[[dict[str, Any]], Any]
RGetter = Callable[[RequestInfo], Any]

_OPS = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
_VALUERS = ("select", "relation", "file")


class _Decline(Exception):
    """Not something this module reproduces exactly."""


def _and(items: list[Tri]) -> Tri:
    if any(x is False for x in items):
        return False
    return None if any(x is None for x in items) else True


def _or(items: list[Tri]) -> Tri:
    if any(x is True for x in items):
        return True
    return None if any(x is None for x in items) else False


def _not(x: Tri) -> Tri:
    return None if x is None else not x


# ----- operands -------------------------------------------------------------------------------


class _Col:
    """A value of the record, as the snapshot's SQL sees it (SQLite value and affinity)."""

    __slots__ = ("affinity", "elements", "nullable", "read")

    def __init__(
        self,
        read: Reader,
        affinity: str | None,
        nullable: bool = False,
        elements: Callable[[dict[str, Any]], list[Any]] | None = None,
    ) -> None:
        self.read = read
        self.affinity = affinity
        self.nullable = nullable
        # `x:each` on a multiple field: every element (one None for an empty list, as a LEFT JOIN
        # yields); `read` then answers the element of the joined row being tried.
        self.elements = elements


class _Val:
    """A request-time value (or a constant), as compile.py's `value_side` binds it."""

    __slots__ = ("const", "get", "ident")

    def __init__(self, get: RGetter, ident: str | None, const: bool) -> None:
        self.get = get
        self.ident = ident
        self.const = const


Side = _Col | _Val


def _pg_number_ok(v: int | float) -> bool:
    """Whether PostgreSQL's text of this double is SQLite's text of it (LIKE, :lower)."""
    if isinstance(v, int):
        return abs(v) < 10**15
    if v.is_integer():
        return abs(v) < 1e15
    return 1e-4 <= abs(v) < 1e15 and repr(v) == f"{v:.15g}"


def _reader(f: Field, modifier: str | None, postgres: bool) -> Reader:
    """How to read `f` (with a resolved `modifier`: None, "lower", "length" or "each") from the
    record's values: as the codec binds it and the snapshot's CAST makes of it."""
    name = f.name
    zero = f.zero()
    to_db = f.to_db
    storage = f.storage
    if storage == JSON:
        if f.type not in _VALUERS:
            raise _Decline(name)

        def items(values: dict[str, Any]) -> list[str]:
            v = to_db(values.get(name, zero))
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise _Decline(name)
            if postgres and any(":" in x or any(ord(ch) < 0x20 for ch in x) for x in v):
                raise _Decline(name)  # jsonb's text form is compacted by replace(): keep clear of it
            return v

        if modifier == "length":
            return lambda values: len(items(values))
        if modifier == "each":
            return items
        return lambda values: deepjson.dumps(items(values), sort_keys=True).decode()

    if storage == TEXT:
        # Text kinds store the value as it is; a single select/relation/file reads a string
        # without "[" as itself too (its to_db would decode a JSON array from one with "[").
        plain = type(f).to_db is Field.to_db
        single = f.type in _VALUERS

        def text(values: dict[str, Any]) -> str:
            v = values.get(name, zero)
            if type(v) is str and (plain or (single and "[" not in v)):
                return v
            v = to_db(v)
            if not isinstance(v, str):
                raise _Decline(name)
            return v

        if modifier == "length":
            return lambda values: 0 if text(values) == "" else 1
        return text

    if storage == NUMBER:

        def number(values: dict[str, Any]) -> int | float:
            v = to_db(values.get(name, zero))
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise _Decline(name)
            if isinstance(v, float) and not math.isfinite(v):
                raise _Decline(name)
            if postgres and not _pg_number_ok(v):
                raise _Decline(name)
            return v

        return number

    if storage == BOOL:

        def flag(values: dict[str, Any]) -> int:
            v = to_db(values.get(name, zero))
            if not isinstance(v, bool):
                raise _Decline(name)
            return 1 if v else 0

        return flag
    raise _Decline(name)


class _Builder:
    def __init__(self, d: Dialect, c: Collection, resolver: Resolver) -> None:
        self.d = d
        self.c = c
        self.resolver = resolver
        self.postgres = d.name == "postgres"
        # `:each` joins: field → slot, each slot's element reader, and the combination being tried
        # (evaluation never awaits, so one list per compiled predicate is enough).
        self.slots: dict[str, int] = {}
        self.items: list[Callable[[dict[str, Any]], list[str]]] = []
        self.joined: list[Any] = []

    # ----- operands ----------------------------------------------------------------------------
    def operand(self, n: Any) -> ValueRef | tuple[ColumnRef, _Col]:
        kind = type(n).__name__
        if kind == "Literal":
            return literal_ref(n)
        if kind != "Identifier":
            raise _Decline("function")  # strftime, geoDistance: evaluated by the database
        try:
            ref = self.resolver.resolve(n.name)
        except (UnknownIdentifier, Unsupported) as exc:
            raise _Decline(str(exc)) from exc
        if isinstance(ref, ValueRef):
            return ref
        return ref, self.column(n, ref)

    def column(self, n: Any, ref: ColumnRef) -> _Col:
        """A plain field of the record (one segment): anything else reads other rows."""
        if len(n.path) != 1 or n.name.startswith("@"):
            raise _Decline(n.name)
        if ref.getters or ref.guard or ref.exact or ref.storage == "any":
            raise _Decline(n.name)
        f = self.c.field_map.get(n.path[0])
        if f is None:
            raise _Decline(n.name)
        modifier = n.modifier
        if modifier in ("each", "length") and f.type not in _VALUERS:
            modifier = None  # ignored on fields holding one value (as the resolver does)
        if modifier == "each" and f.storage == JSON:
            return self.each(n, f, ref)
        if ref.multi is not None or ref.nullable:
            raise _Decline(n.name)
        if modifier not in (None, "lower", "length", "each"):
            raise _Decline(n.name)
        # What the resolver made of it must be what we read.
        expected = (
            NUMBER if modifier == "length" else TEXT if f.storage == JSON or modifier == "each" else f.storage
        )
        if ref.storage != expected or ref.lower != (modifier == "lower"):
            raise _Decline(n.name)
        read = _reader(f, None if modifier == "lower" else modifier, self.postgres)
        if ref.lower:
            base = read

            def lowered(values: dict[str, Any]) -> str | None:
                text = V.as_text(base(values))
                return None if text is None else V.lower_ascii(text)

            return _Col(lowered, None)  # LOWER() has no affinity
        return _Col(read, ref.affinity)

    def each(self, n: Any, f: Field, ref: ColumnRef) -> _Col:
        """`tags:each`: compile.py LEFT JOINs the elements once per field around the whole
        condition (the record matches when some combination of joined elements does); the value
        of the row being tried is in `self.joined`, slot by field."""
        if (
            ref.multi is None
            or not ref.nullable
            or ref.storage != TEXT
            or ref.affinity is not None
            or ref.lower
        ):
            raise _Decline(n.name)
        items = cast(Callable[[dict[str, Any]], list[str]], _reader(f, "each", self.postgres))
        if f.name not in self.slots:
            self.slots[f.name] = len(self.slots)
            self.items.append(items)
            self.joined.append(None)
        slot, joined = self.slots[f.name], self.joined
        return _Col(lambda _v: joined[slot], None, True, lambda v: _or_null(items(v)))

    def side(self, ref: ValueRef | tuple[ColumnRef, _Col]) -> Side:
        if isinstance(ref, tuple):
            return ref[1]
        get = ref.get
        ident = _ident(ref)
        if ref.kind == "null":
            return _Val(lambda _i: None, NULL_IDENT, True)
        if ref.kind == "any":
            return _Val(lambda i: V.to_sqlite(_go_number(get(i))), ident, False)
        if ref.kind == "literal":
            return _Val(lambda i: V.to_sqlite(get(i)), ident, True)
        return _Val(lambda i: V.to_sqlite(get(i)), ident, ref.const)

    # ----- expressions -------------------------------------------------------------------------
    def node(self, n: Any) -> Cond:
        kind = type(n).__name__
        if kind in ("And", "Or"):
            parts = [self.node(x) for x in n.items]
            combine = _and if kind == "And" else _or
            return lambda v, i: combine([p(v, i) for p in parts])
        if kind == "Comparison":
            return self.comparison(n)
        raise _Decline("invalid expression")

    def comparison(self, n: Any) -> Cond:
        any_of = n.op.startswith("?")
        op: str = n.op.lstrip("?")
        if type(n.right).__name__ == "FunctionCall" or type(n.left).__name__ == "FunctionCall":
            raise _Decline("function")
        left, right = self.operand(n.left), self.operand(n.right)
        if isinstance(left, ValueRef) and isinstance(right, ValueRef):
            lg, rg = left.get, right.get
            li, ri = _ident(left), _ident(right)
            return lambda _v, i: _decide(op, lg(i), li, rg(i), ri)
        a, b = self.side(left), self.side(right)
        cond = self.condition(op, a, b)
        lm = isinstance(a, _Col) and a.elements is not None
        rm = isinstance(b, _Col) and b.elements is not None
        if any_of or not (lm or rm):
            return cond
        if lm and rm:
            raise _Decline("every element of two multi-valued operands")
        every = self.every(op, a, b, lm)
        return lambda v, i: _and([cond(v, i), every(v, i)])

    def every(self, op: str, a: Side, b: Side, left_multi: bool) -> Cond:
        """Plain operators on `x:each` also need no element to fail (a NULL answer is no
        failure): compile.py's NOT EXISTS over the elements, enumerated again."""
        multi = a if left_multi else b
        assert isinstance(multi, _Col) and multi.elements is not None
        elements = multi.elements
        current: list[Any] = [None]
        element = _Col(lambda _v: current[0], None, True)
        other = b if left_multi else a
        inner = self.condition(op, element, other) if left_multi else self.condition(op, other, element)

        def every(v: dict[str, Any], i: RequestInfo) -> Tri:
            for e in elements(v):
                current[0] = e
                if inner(v, i) is False:
                    return False
            return True

        return every

    def condition(self, op: str, a: Side, b: Side) -> Cond:
        """compile.py's `_Compiler.condition`, for SQLite's typing (one side at least a column)."""
        if op in ("~", "!~"):
            if (isinstance(b, _Val) and b.ident == NULL_IDENT) or (
                isinstance(a, _Val) and a.ident == NULL_IDENT
            ):
                return lambda _v, _i: None
            return _like(a, b, op == "!~")
        if op not in ("=", "!="):
            return _compare(_OPS[op], a, b)
        eq = op == "="
        if isinstance(a, _Val) and not isinstance(b, _Val):
            a, b = b, a
        if not isinstance(b, _Val):
            # Two columns: blank and NULL are the same value (and the affinities are lost).
            return _compare("=" if eq else "IS NOT", _blank_or(a), _blank_or(b))
        assert isinstance(a, _Col)
        col, value = a, b
        if value.ident == NULL_IDENT:
            return _blank_test(col, eq)
        if value.ident == BOOL_IDENT or value.const:
            if value.const and _blank(value.get(None), None):  # type: ignore[arg-type]
                return _blank_test(col, eq)
            return _compare("=" if eq else "IS NOT", col, value)
        # A request-time value: blank ("" or missing) compares as '', and as NULL too for a
        # nullable column (`:each` elements).
        get = value.get
        filled = _Val(lambda i: "" if _blank(get(i), None) else get(i), None, False)
        direct = _compare("=" if eq else "IS NOT", col, filled)
        if not col.nullable:
            return direct
        read = col.read

        def null_too(v: dict[str, Any], i: RequestInfo) -> bool:
            return bool(_blank(get(i), None)) and read(v) is None

        if eq:
            return lambda v, i: _or([direct(v, i), null_too(v, i)])
        return lambda v, i: _and([direct(v, i), not null_too(v, i)])


# ----- SQLite's comparisons -------------------------------------------------------------------


def _value_of(s: Side, v: dict[str, Any], i: RequestInfo) -> Any:
    return s.read(v) if isinstance(s, _Col) else s.get(i)


def _affinity(s: Side) -> str | None:
    return s.affinity if isinstance(s, _Col) else None


def _apply(affinity: str | None, other: str | None, x: Any) -> Any:
    """SQLite's rule: a NUMERIC side converts the other (TEXT or none) side; a TEXT side converts
    a side without affinity."""
    if affinity == V.NUMERIC and other != V.NUMERIC:
        return V.numeric_affinity(x)
    if affinity == V.TEXT_AFFINITY and other is None:
        return V.as_text(x)
    return x


def _compare(op: str, a: Side, b: Side) -> Cond:
    aa, ba = _affinity(a), _affinity(b)

    def cond(v: dict[str, Any], i: RequestInfo) -> Tri:
        x, y = _value_of(a, v, i), _value_of(b, v, i)
        return V.compare(op, _apply(ba, aa, x), _apply(aa, ba, y))

    return cond


def _blank_or(s: Side) -> Side:
    """COALESCE(x, ''): NULL reads as ''; the affinity is lost."""
    if isinstance(s, _Col):
        read = s.read

        def coalesced(v: dict[str, Any]) -> Any:
            x = read(v)
            return "" if x is None else x

        return _Col(coalesced, None)
    get = s.get
    return _Val(lambda i: "" if get(i) is None else get(i), s.ident, s.const)


_EMPTY = _Val(lambda _i: "", None, True)


def _blank_test(col: _Col, eq: bool) -> Cond:
    """`col = '' OR col IS NULL`, or `col IS NOT '' AND col IS NOT NULL`."""
    same = _compare("=" if eq else "IS NOT", col, _EMPTY)
    read = col.read
    if eq:
        return lambda v, i: _or([same(v, i), read(v) is None])
    return lambda v, i: _and([same(v, i), read(v) is not None])


def _like(a: Side, b: Side, negate: bool) -> Cond:
    """`a LIKE pattern ESCAPE '\\'`: a value on the right is wrapped as PocketBase wraps it, a
    column as `'%' || b || '%'`."""

    def pattern(v: dict[str, Any], i: RequestInfo) -> Any:
        if isinstance(b, _Val):
            return V.like_pattern(b.get(i))
        text = V.as_text(b.read(v))
        return None if text is None else "%" + text + "%"

    def cond(v: dict[str, Any], i: RequestInfo) -> Tri:
        hit = V.like(_value_of(a, v, i), pattern(v, i))
        return _not(hit) if negate else hit

    return cond


# ----- entry point ----------------------------------------------------------------------------

_CACHE_LIMIT = 512


def predicate(d: Dialect, c: Collection, text: str, *, rule: bool) -> Predicate | None:
    """The filter `text` on `c` as a Python predicate, or None when it is declined (see the module
    docstring). `rule=True` for API rules and superusers' filters (hidden fields visible), as in
    `compile_filter`. Cached on the collection object, which is rebuilt whenever the schema changes.
    """
    cache: dict[tuple[str, str, bool], Predicate | None] = c.__dict__.setdefault("_pyeval", {})
    key = (d.name, text, rule)
    if key in cache:
        return cache[key]
    made = _build(d, c, text, rule)
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = made
    return made


def _build(d: Dialect, c: Collection, text: str, rule: bool) -> Predicate | None:
    from hearth.filter import FilterSyntaxError, parse_filter

    try:
        tree = parse_filter(text)
    except FilterSyntaxError:
        return None
    if tree is None:
        return None
    resolver = Resolver(
        c,
        allow_hidden=rule,
        allow_request=True,
        dialect=d,
        lookup=None,  # anything that needs another collection raises Unsupported: declined
        list_rules=None,
        auth_collection=None,  # `@request.auth.x.y` and `@request.auth.x:mod` are declined below
        base_alias="",
    )
    for ident in _identifiers(tree):
        parts = ident.split(".")
        if parts[0] == "@request" and len(parts) > 1 and parts[1] == "auth":
            if len(parts) != 3 or ":" in parts[2]:
                return None
        elif parts[0] == "@collection":
            return None
    builder = _Builder(d, c, resolver)
    try:
        cond = builder.node(tree)
    except _Decline:
        return None
    if set(resolver.joins) != {(f"each:{name}",) for name in builder.slots}:
        return None  # a join this module does not enumerate

    if not builder.slots:

        def run(values: dict[str, Any], info: RequestInfo) -> bool | None:
            try:
                return cond(values, info) is True
            except _Decline:
                return None

        return run

    items, joined = builder.items, builder.joined

    def run_joined(values: dict[str, Any], info: RequestInfo) -> bool | None:
        """EXISTS over the joined elements: some combination meets the condition."""
        try:
            for combination in itertools.product(*[_or_null(each(values)) for each in items]):
                joined[:] = combination
                if cond(values, info) is True:
                    return True
            return False
        except _Decline:
            return None

    return run_joined


def _or_null(elements: list[str]) -> list[str | None]:
    """The rows a LEFT JOIN of the elements yields: one NULL when there are none."""
    return list(elements) if elements else [None]


def _identifiers(tree: Any) -> list[str]:
    from hearth.filter import walk_identifiers

    return [i.name for i in walk_identifiers(tree)]
