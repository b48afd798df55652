"""Identifiers of the filter language → SQL columns or request-time values.

`@request.*` and macros never become SQL text: they become parameters whose values are read
from the request when the compiled filter runs, so one compiled form serves every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from hearth._util import deepjson
from hearth._util.times import format_datetime
from hearth.filter.values import NUMERIC, TEXT_AFFINITY, go_string, lower_ascii, to_sqlite
from hearth.query.context import RequestInfo
from hearth.schema.collection import Collection
from hearth.schema.fields.base import BOOL, JSON, NUMBER, TEXT, Field
from hearth.schema.indexes import IndexSyntaxError, parse_index
from hearth.schema.system_fields import PLAIN_TABLE
from hearth.sql import joins as J
from hearth.sql.dialect import Dialect, quote
from hearth.sql.filter import MARK as MARK_TEXT
from hearth.sql.strftime import constant


class Unsupported(Exception):
    """A valid construct this engine does not evaluate yet (the caller falls back safely)."""


class UnknownIdentifier(Exception):
    pass


Getter = Callable[[RequestInfo], Any]


@dataclass(frozen=True, slots=True)
class Multi:
    """How to enumerate every value of a multi-valued path: its hops from the record, joined
    again under fresh aliases (`Resolver.subquery`), and the value read from the last one."""

    hops: tuple[J.Hop, ...]
    value: Callable[[str], str]
    getters: tuple[Getter, ...] = ()  # parameters of `value` (it comes first in the subquery)


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A value read from the record: its column, or a path through relations.

    `sql` may hold parameter markers; `getters` supply them, in textual order. In a filter, a path
    reads from the joins the resolver registered (`Resolver.joins`); `multi` is set when the path
    can hold several values per record.
    """

    sql: str
    storage: str  # TEXT | NUMBER | BOOL | "any" (a JSON value)
    getters: tuple[Getter, ...] = ()
    # SQLite's affinity of the expression (a plain column reference has its column's), which
    # decides how the other operand is converted before comparing (hearth.filter.values).
    affinity: str | None = None
    nullable: bool = True
    lower: bool = False  # `:lower`, applied by the compiler with SQLite's ASCII-only folding
    multi: Multi | None = None
    guard: str | None = None  # a condition every comparison on this value also needs
    exact: bool = False  # compared with IS / IS NOT, never with blank fallbacks (like JSON values)


def affinity_of(storage: str) -> str:
    """The affinity of a column holding `storage` (PocketBase's column types on SQLite)."""
    return TEXT_AFFINITY if storage == TEXT else NUMERIC


@dataclass(frozen=True, slots=True)
class ValueRef:
    """A value known only at request time (or a constant)."""

    get: Getter
    kind: str = TEXT  # TEXT | NUMBER | BOOL | "null" | "any" | "literal" (text or number)
    const: bool = False  # the same value for every request


def _macro_values() -> dict[str, Callable[[datetime], Any]]:
    def day_start(n: datetime) -> datetime:
        return n.replace(hour=0, minute=0, second=0, microsecond=0)

    def month_end(n: datetime) -> datetime:
        first_next = (n.replace(day=28) + timedelta(days=4)).replace(day=1)
        return day_start(first_next) - timedelta(milliseconds=1)

    return {
        "@now": lambda n: format_datetime(n),
        "@yesterday": lambda n: format_datetime(n - timedelta(days=1)),
        "@tomorrow": lambda n: format_datetime(n + timedelta(days=1)),
        "@todayStart": lambda n: format_datetime(day_start(n)),
        "@todayEnd": lambda n: format_datetime(day_start(n) + timedelta(days=1, milliseconds=-1)),
        "@monthStart": lambda n: format_datetime(day_start(n).replace(day=1)),
        "@monthEnd": lambda n: format_datetime(month_end(n)),
        "@yearStart": lambda n: format_datetime(day_start(n).replace(month=1, day=1)),
        "@yearEnd": lambda n: format_datetime(
            n.replace(month=12, day=31, hour=23, minute=59, second=59, microsecond=999000)
        ),
        "@second": lambda n: n.second,
        "@minute": lambda n: n.minute,
        "@hour": lambda n: n.hour,
        "@day": lambda n: n.day,
        "@month": lambda n: n.month,
        "@weekday": lambda n: (n.weekday() + 1) % 7,
        "@year": lambda n: n.year,
    }


MACROS = _macro_values()
NUMBER_MACROS = {"@second", "@minute", "@hour", "@day", "@month", "@weekday", "@year"}


def _bindable(value: Any) -> Any:
    """A request value as SQL receives it: objects and arrays as their JSON text (what
    filter.values.to_sqlite makes of them), encoded here because they may nest deeper than
    orjson encodes (a json field of the auth record, a request body)."""
    return deepjson.dumps(value).decode() if isinstance(value, dict | list) else value


def _auth_getter(name: str) -> Getter:
    def get(info: RequestInfo) -> Any:
        auth = info.auth
        if auth.record is None:
            return None
        if name == "collectionId":
            return auth.collection.id if auth.collection else ""
        if name == "collectionName":
            return auth.collection.name if auth.collection else ""
        return _bindable(auth.record.get(name))

    return get


def _mapping_getter(attr: str, key: str) -> Getter:
    def get(info: RequestInfo) -> Any:
        # An array is compared as its JSON text, as PocketBase binds it (`@request.body.j =
        # '[1,2]'`). Raising here, when the request runs, used to be a 500.
        return _bindable(getattr(info, attr).get(key))

    return get


_SEGMENT_RE = re.compile(r"^\w+$")
_VIA_RE = re.compile(r"^(\w+)_via_(\w+)$")
MAX_PATH_HOPS = 6

Lookup = Callable[[str], "Collection | None"]
# Compiles a rule for a crossed collection: (collection, alias) -> (sql with markers, getters)
RuleCompiler = Callable[["Collection", str], "tuple[str, tuple[Getter, ...]] | None"]


def _split(name: str) -> tuple[list[str], str | None]:
    """`a.b.c:mod` → (["a", "b", "c"], "mod")."""
    segments = name.split(".")
    last, sep, modifier = segments[-1].partition(":")
    segments[-1] = last
    if not all(_SEGMENT_RE.match(seg) for seg in segments) or ":" in modifier:
        raise UnknownIdentifier(name)
    return segments, (modifier if sep else None)


def _unique_on(c: Collection, column: str) -> bool:
    """A single-column unique index on `column` (a back-relation through it has one row)."""
    for sql in c.indexes:
        try:
            idx = parse_index(sql)
        except IndexSyntaxError:
            continue
        if idx.unique and len(idx.columns) == 1 and idx.columns[0].name == column and not idx.where:
            return True
    return False


def _column(name: str) -> Callable[[str], str]:
    return lambda alias: f"{alias}.{quote(name)}"


def _itself(value: str) -> str:
    return value


class Resolver:
    """Resolves identifiers against one collection.

    `allow_hidden` is True for rules and superusers. `list_rules` compiles the list rule of every
    collection a client filter joins (PocketBase ≥ 0.32 requires each joined row to be visible);
    None in rules and for superusers.

    `joined=True` (filters): relation paths register LEFT JOINs in `joins`, one per distinct path,
    which the compiler places around the whole condition. `joined=False` (sort): a path is a
    correlated scalar subquery.
    """

    def __init__(
        self,
        collection: Collection,
        allow_hidden: bool,
        allow_request: bool = True,
        *,
        dialect: Dialect | None = None,
        lookup: Lookup | None = None,
        list_rules: RuleCompiler | None = None,
        auth_collection: Collection | None = None,
        joined: bool = True,
        base_alias: str = "",
    ) -> None:
        self.collection = collection
        self.allow_hidden = allow_hidden
        self.allow_request = allow_request
        self.dialect = dialect
        self.lookup = lookup
        self.list_rules = list_rules
        self.auth_collection = auth_collection
        self.joined = joined
        self.base = quote(base_alias or collection.name)
        self._aliases = 0
        # path key → join; in registration order (a join reads only earlier ones)
        self.joins: dict[tuple[str, ...], J.Join] = {}
        # conditions on joined rows (the list rules of the collections they belong to)
        self.guards: list[tuple[str, tuple[Getter, ...]]] = []

    def resolve(self, name: str) -> ColumnRef | ValueRef:
        lowered = name.lower()
        if lowered in ("true", "false") and name not in self.collection.field_map:
            return ValueRef(constant(lowered == "true"), BOOL, const=True)
        if lowered == "null" and name not in self.collection.field_map:
            return ValueRef(lambda _i: None, "null")
        if name.startswith("@"):
            return self._resolve_special(name)
        segments, modifier = _split(name)
        return self._walk([], self.collection, segments, modifier, name)

    def alias(self) -> str:
        self._aliases += 1
        return f"__r{self._aliases}"

    # ----- joins -----------------------------------------------------------------------------
    def _d(self) -> Dialect:
        if self.dialect is None:
            raise Unsupported("relation paths need a dialect")
        return self.dialect

    def _register(self, hops: list[J.Hop]) -> str:
        """Join `hops` once (a shared prefix is joined once) and return the last hop's output."""
        d = self._d()
        prev = self.base
        key: tuple[str, ...] = ()
        for hop in hops:
            key += (hop.key,)
            join = self.joins.get(key)
            if join is None:
                join = self.joins[key] = J.render(d, hop, prev, self.alias())
                self._guard(hop, join.out)
            prev = join.out
        return prev

    def _guard(self, hop: J.Hop, alias: str) -> None:
        """A client filter only matches through joined rows the requester may list (or none)."""
        if self.list_rules is None or hop.target is None:
            return
        compiled = self.list_rules(hop.target, alias)
        if compiled is not None:
            sql, getters = compiled
            self.guards.append((f'({alias}."id" IS NULL OR {sql})', getters))

    def subquery(self, m: Multi) -> tuple[str, tuple[Getter, ...]]:
        """Every value of the path for the current record, under fresh aliases (column `v`)."""
        joins, getters, last = J.chain(self._d(), m.hops, self.base, self.alias)
        return J.values_query(joins, m.value(last)), (*m.getters, *getters)

    def _scalar(self, hops: list[J.Hop], value: Callable[[str], str]) -> tuple[str, tuple[Getter, ...]]:
        """A single-valued path as a scalar subquery (sorting); hidden rows read as NULL."""

        def visible(hop: J.Hop, alias: str) -> tuple[str, tuple[Getter, ...]] | None:
            if self.list_rules is None or hop.target is None:
                return None
            return self.list_rules(hop.target, alias)

        joins, getters, last = J.chain(self._d(), hops, self.base, self.alias, visible)
        return J.scalar_query(joins, value(last)), getters

    def _value(
        self,
        hops: list[J.Hop],
        value: Callable[[str], str],
        storage: str,
        affinity: str | None,
        *,
        lower: bool = False,
        nullable: bool = False,
        guard: Callable[[str], str] | None = None,
    ) -> ColumnRef:
        """The value `value(row)` at the end of `hops` (the record itself when there are none)."""
        if not hops:
            row = self.base
            return ColumnRef(value(row), storage, (), affinity, nullable, lower, None, guard and guard(row))
        multi = any(h.multi for h in hops)
        if not self.joined:
            if multi:
                raise Unsupported("a multi-valued path outside a filter")
            sql, getters = self._scalar(hops, value)
            return ColumnRef(sql, storage, getters, affinity, True, lower)
        row = self._register(hops)
        mm = Multi(tuple(hops), value) if multi else None
        return ColumnRef(value(row), storage, (), affinity, True, lower, mm, guard and guard(row))

    # ----- fields and relation paths ---------------------------------------------------------
    def _field(self, c: Collection, name: str, whole: str) -> Field:
        f = c.field_map.get(name)
        if f is None or (f.hidden and not self.allow_hidden) or getattr(f, "is_password", False):
            raise UnknownIdentifier(whole)
        return f

    def _target(self, f: Field, whole: str) -> Collection:
        target = self.lookup(f.options.get("collectionId", "")) if self.lookup else None
        if target is None:
            raise Unsupported(whole) if self.lookup is None else UnknownIdentifier(whole)
        return target

    def _walk(
        self,
        hops: list[J.Hop],
        current: Collection,
        segments: list[str],
        modifier: str | None,
        whole: str,
    ) -> ColumnRef:
        if len(segments) > MAX_PATH_HOPS + 1:
            raise UnknownIdentifier(whole)
        for i, seg in enumerate(segments):
            if i == len(segments) - 1:
                return self._final(hops, current, seg, modifier, whole)
            f = current.field_map.get(seg)
            if f is None:
                hop, current = self._back_hop(current, seg, whole)
                hops = [*hops, hop]
                continue
            f = self._field(current, seg, whole)
            if f.type == "relation":
                if f.storage != JSON and i == len(segments) - 2 and segments[-1] == "id" and modifier is None:
                    # `author.id` reads the relation column itself, as PocketBase does (so an
                    # empty relation compares as "", not as a missing row).
                    return self._final(hops, current, seg, None, whole)
                target = self._target(f, whole)
                multi = f.storage == JSON
                kind = J.REL_MULTI if multi else J.REL
                hops = [*hops, J.Hop(kind, f"{kind}:{f.name}", target.name, f.name, None, multi, target)]
                current = target
                continue
            if f.type in ("json", "geoPoint"):
                path = segments[i + 1 :]
                if modifier is not None:
                    # PocketBase reads `data.x:length` as the key "x:length" inside the JSON
                    # value (NULL unless such a key exists), not as a modifier.
                    path = [*path[:-1], f"{path[-1]}:{modifier}"]
                return self._json_path(hops, f.name, path)
            raise UnknownIdentifier(whole)
        raise UnknownIdentifier(whole)

    def _json_path(self, hops: list[J.Hop], name: str, path: list[str]) -> ColumnRef:
        """`data.a.b`: a value inside a JSON (or geoPoint) field."""
        json_value = self._d().json_value
        return self._value(hops, lambda a: json_value(f"{a}.{quote(name)}", path), "any", None, nullable=True)

    def _back_hop(self, c: Collection, seg: str, whole: str) -> tuple[J.Hop, Collection]:
        match = _VIA_RE.match(seg)
        target = self.lookup(match.group(1)) if match and self.lookup else None
        if match is None or target is None:
            raise Unsupported(whole) if match and self.lookup is None else UnknownIdentifier(whole)
        f = target.field_map.get(match.group(2))
        if f is None or f.type != "relation" or f.options.get("collectionId") != c.id:
            raise UnknownIdentifier(whole)
        if f.hidden and not self.allow_hidden:
            raise UnknownIdentifier(whole)
        many = f.storage == JSON
        kind = J.BACK_MULTI if many else J.BACK
        # Several rows point at one record unless the field is unique.
        multi = many or not _unique_on(target, f.name)
        return J.Hop(kind, f"{kind}:{target.name}.{f.name}", target.name, f.name, None, multi, target), target

    def _final(
        self, hops: list[J.Hop], c: Collection, name: str, modifier: str | None, whole: str
    ) -> ColumnRef:
        f = self._field(c, name, whole)
        if modifier is not None and c.__dict__.get(PLAIN_TABLE):
            raise Unsupported(whole)
        col = _column(name)
        valuer = f.type in ("select", "relation", "file")
        multi_field = f.storage == JSON and valuer
        if modifier in ("each", "length") and not valuer:
            modifier = None  # PocketBase ignores them on fields that hold one value
        if modifier in ("isset", "changed"):
            # Only meaningful on @request.body; on a record's field PocketBase reads the field
            # (a multi-value one as its stored JSON, without any-of/all-of matching).
            if multi_field:
                d = self._d()
                return self._value(hops, lambda a: d.json_as_text(col(a)), TEXT, None)
            modifier = None
        if modifier == "each":
            if not multi_field:
                # One element: the value itself, read from a JSON array (so without affinity).
                return self._value(hops, col, TEXT, None)
            each = J.Hop(J.EACH, f"each:{name}", column=name, multi=True)
            return self._value([*hops, each], _itself, TEXT, None)
        if modifier == "length":
            d = self._d()
            length = d.json_length if multi_field else d.single_length
            return self._value(hops, lambda a: length(col(a)), NUMBER, None)
        if modifier not in (None, "lower"):
            raise Unsupported(whole)
        lower = modifier == "lower"
        if f.type == "json":
            d = self._d()
            return self._value(
                hops, lambda a: d.json_value(col(a), []), "any", None, lower=lower, nullable=True
            )
        guard = None
        if name == "email" and c.is_auth and not self.allow_hidden:
            # Clients match e-mails only where their owners made them visible.
            guard = lambda a: f'{a}."emailVisibility" = TRUE'  # noqa: E731
        if f.storage == JSON:
            d = self._d()
            return self._value(
                hops, lambda a: d.json_as_text(col(a)), TEXT, NUMERIC, lower=lower, guard=guard
            )
        return self._value(hops, col, f.storage, affinity_of(f.storage), lower=lower, guard=guard)

    def _auth_path(self, whole: str, segments: list[str], modifier: str | None) -> ColumnRef | ValueRef:
        """`@request.auth.team.owner`: a path that starts at the requester's record. The SQL depends
        on the requester's collection, which is part of the compiled filter's cache key."""
        auth = self.auth_collection
        if auth is None:
            return ValueRef(lambda _i: None, "null")  # guests: every such path is blank
        if not all(_SEGMENT_RE.match(seg) for seg in segments):
            raise UnknownIdentifier(whole)
        hop = J.Hop(J.AUTH, f"auth:{auth.name}", auth.name, getter=_auth_getter("id"), target=auth)
        return self._walk([hop], auth, segments, modifier, whole)

    def _collection_field(self, whole: str) -> ColumnRef:
        """`@collection.name[:alias].field…`: every row of another collection, joined once per
        alias around the whole condition."""
        parts = whole.split(".")
        if len(parts) < 3 or self.lookup is None:
            raise UnknownIdentifier(whole) if self.lookup is not None else Unsupported(whole)
        coll_name, sep, alias = parts[1].partition(":")
        target = self.lookup(coll_name)
        if target is None or (sep and not _SEGMENT_RE.match(alias)):
            raise UnknownIdentifier(whole)
        segments, modifier = _split(".".join(parts[2:]))
        hop = J.Hop(J.COLLECTION, f"collection:{target.name}:{alias}", target.name, multi=True, target=target)
        return self._walk([hop], target, segments, modifier, whole)

    def _resolve_special(self, name: str) -> ColumnRef | ValueRef:
        if name in MACROS:
            fn = MACROS[name]
            return ValueRef(lambda _i: fn(datetime.now(UTC)), NUMBER if name in NUMBER_MACROS else TEXT)
        if not self.allow_request:
            raise UnknownIdentifier(name)
        if name.startswith("@collection."):
            return self._collection_field(name)
        parts = name.split(".")
        if parts[0] != "@request" or len(parts) < 2:
            raise UnknownIdentifier(name)
        last, sep, modifier = parts[-1].partition(":")
        if any(":" in p for p in parts[:-1]):
            raise Unsupported(name)
        auth_path = parts[1] == "auth" and bool(sep or len(parts) > 3)
        if auth_path and len(parts) <= MAX_PATH_HOPS + 3:
            return self._auth_path(name, [*parts[2:-1], last], modifier if sep else None)
        if sep:
            parts[-1] = last
            return self._request_modifier(name, parts, modifier)
        head = parts[1]
        if head == "method" and len(parts) == 2:
            return ValueRef(lambda i: i.method)
        if head == "context" and len(parts) == 2:
            return ValueRef(lambda i: i.context)
        if head == "auth" and len(parts) == 3:
            text = parts[2] in ("id", "collectionId", "collectionName")
            return ValueRef(_auth_getter(parts[2]), TEXT if text else "any")
        if head in ("query", "headers") and len(parts) == 3:
            return ValueRef(_mapping_getter(head, parts[2]))
        if head == "body" and len(parts) == 3:
            return ValueRef(_mapping_getter("body", parts[2]), "any")
        if head in ("auth", "body"):
            raise Unsupported(name)
        raise UnknownIdentifier(name)

    def _request_modifier(self, whole: str, parts: list[str], modifier: str) -> ColumnRef | ValueRef:
        """`@request.body.x:isset`, `:length`, `:changed` (and `@request.query.x:isset`)."""
        if parts[1] == "body" and len(parts) > 3 and modifier == "length":
            raise UnknownIdentifier(whole)  # `@request.body.data.x:length`: PocketBase refuses it
        if len(parts) != 3 or parts[1] not in ("body", "query", "headers"):
            raise Unsupported(whole)
        head, key = parts[1], parts[2]
        if modifier == "isset":
            return ValueRef(lambda i: key in getattr(i, head), BOOL)
        if head != "body":
            raise Unsupported(whole)
        if modifier == "length":
            # Only a select/relation/file field has a length (PocketBase: "doesn't support
            # multivalue operations" for json, text, number, … and an invalid sequence for
            # names that are no field).
            f = self.collection.field_map.get(key)
            if f is None or f.type not in ("select", "relation", "file"):
                raise UnknownIdentifier(whole)

            def length(i: RequestInfo) -> int:
                v = i.body.get(key)
                return len(v) if isinstance(v, list) else (1 if v not in (None, "") else 0)

            return ValueRef(length, NUMBER)
        if modifier == "changed":
            return self._changed(whole, key)
        if modifier == "lower":
            # PocketBase lowers the value's text form (Go's cast.ToString), ASCII letters only.
            return ValueRef(lambda i: lower_ascii(go_string(to_sqlite(_bindable(i.body.get(key))))), TEXT)
        if modifier == "each":
            return self._body_each(whole, key)
        raise Unsupported(whole)

    def _body_each(self, whole: str, key: str) -> ColumnRef:
        """`@request.body.tags:each`: the submitted values of a select/relation/file field."""
        f = self.collection.field_map.get(key)
        if f is None or f.type not in ("select", "relation", "file"):
            raise UnknownIdentifier(whole)

        def items(i: RequestInfo) -> str:
            v = i.body.get(key)
            values = [] if v is None else v if isinstance(v, list) else [v]
            # A nested item can match nothing: its JSON text keeps the array flat, so the SQL's
            # JSON functions never meet a nesting they refuse.
            return orjson.dumps([_bindable(x) for x in values]).decode()

        hop = J.Hop(J.PARAM_EACH, f"body_each:{key}", getter=items, multi=f.storage == JSON)
        return self._value([hop], _itself, TEXT, None)

    def _changed(self, whole: str, key: str) -> ColumnRef:
        """Sent and different from the stored value: a boolean over the record's column."""
        f = self.collection.field_map.get(key)
        if f is None or self.dialect is None:
            raise UnknownIdentifier(whole) if f is None else Unsupported(whole)
        d = self.dialect
        col = f"{self.base}.{quote(f.name)}"

        def sent(i: RequestInfo) -> bool:
            return key in i.body

        def value(i: RequestInfo) -> Any:
            prepared = f.prepare(i.body.get(key))
            if f.storage == JSON:
                return deepjson.dumps(prepared).decode()
            if f.storage == TEXT:
                return "" if prepared is None else str(prepared)
            return prepared

        if f.storage == JSON:
            differs = f"NOT ({d.json_as_text(col)} = {MARK_TEXT})"
        elif f.storage == TEXT:
            differs = f"NOT (COALESCE({col}, '') = COALESCE({MARK_TEXT}, ''))"
        elif f.storage == BOOL:
            differs = f"NOT ({col} = {d.bool_param(MARK_TEXT)})"
        else:
            differs = f"NOT ({col} = {MARK_TEXT})"
        sql = f"({d.bool_param(MARK_TEXT)} AND {differs})"
        return ColumnRef(sql, BOOL, (sent, value), None, False)
