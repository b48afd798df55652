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

from hearth._util.times import format_datetime
from hearth.filter.values import NUMERIC, TEXT_AFFINITY, go_string, lower_ascii, to_sqlite
from hearth.rules.context import RequestInfo
from hearth.schema.collection import Collection
from hearth.schema.fields.base import BOOL, JSON, NUMBER, TEXT, Field
from hearth.sql.dialect import Dialect, quote
from hearth.sql.filter import MARK as MARK_TEXT


class Unsupported(Exception):
    """A valid construct this engine does not evaluate yet (the caller falls back safely)."""


class UnknownIdentifier(Exception):
    pass


Getter = Callable[[RequestInfo], Any]


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A single value read from the record (its column, or a path through relations).

    `sql` may hold parameter markers; `getters` supply them, in textual order.
    """

    sql: str
    storage: str  # TEXT | NUMBER | BOOL | "any" (a JSON value)
    getters: tuple[Getter, ...] = ()
    # SQLite's affinity of the expression (a plain column reference has its column's), which
    # decides how the other operand is converted before comparing (hearth.filter.values).
    affinity: str | None = None
    nullable: bool = True
    lower: bool = False  # `:lower`, applied by the compiler with SQLite's ASCII-only folding


def affinity_of(storage: str) -> str:
    """The affinity of a column holding `storage` (PocketBase's column types on SQLite)."""
    return TEXT_AFFINITY if storage == TEXT else NUMERIC


@dataclass(frozen=True, slots=True)
class JoinedRef:
    """A field of an `@collection.name[:alias]` row, joined once per alias around the whole
    condition (so several comparisons on one alias talk about the same row, as in PocketBase)."""

    sql: str  # the field on the joined row
    storage: str
    table: str  # the collection's table, for the "every row" form of plain operators
    field: str
    affinity: str | None = None


@dataclass(frozen=True, slots=True)
class SetRef:
    """Several values per record (a multi relation, a back-relation, `:each`).

    `source` is a correlated `FROM … WHERE …` clause and `value` the expression of one element.
    """

    source: str
    value: str
    storage: str
    getters: tuple[Getter, ...] = ()
    affinity: str | None = None


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


def _auth_getter(name: str) -> Getter:
    def get(info: RequestInfo) -> Any:
        auth = info.auth
        if auth.record is None:
            return None
        if name == "collectionId":
            return auth.collection.id if auth.collection else ""
        if name == "collectionName":
            return auth.collection.name if auth.collection else ""
        return auth.record.get(name)

    return get


def _mapping_getter(attr: str, key: str) -> Getter:
    def get(info: RequestInfo) -> Any:
        value = getattr(info, attr).get(key)
        if isinstance(value, list):
            raise Unsupported("multi-valued request value")
        return value

    return get


_SEGMENT_RE = re.compile(r"^\w+$")
MAX_PATH_HOPS = 6

Lookup = Callable[[str], "Collection | None"]
# Compiles a rule for a crossed collection: (collection, rule) -> (sql with markers, getters)
RuleCompiler = Callable[["Collection", str], "tuple[str, tuple[Getter, ...]] | None"]


class _Path:
    """FROM items and correlated conditions of a relation path, built hop by hop."""

    def __init__(self) -> None:
        self.froms: list[str] = []
        self.wheres: list[str] = []
        self.getters: list[Getter] = []
        self.multi = False

    def source(self) -> str:
        where = " AND ".join(self.wheres) if self.wheres else "1=1"
        return f"FROM {', '.join(self.froms)} WHERE {where}"


class Resolver:
    """Resolves identifiers against one collection.

    `allow_hidden` is True for rules and superusers. `list_rules` compiles the list rule of every
    collection a client filter crosses (PocketBase ≥ 0.32 ANDs it into relation paths); None in
    rules and for superusers.
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
    ) -> None:
        self.collection = collection
        self.allow_hidden = allow_hidden
        self.allow_request = allow_request
        self.dialect = dialect
        self.lookup = lookup
        self.list_rules = list_rules
        self.auth_collection = auth_collection
        self._aliases = 0
        # `@collection` joins: key ("name" or "name:alias") → (sql alias, table name)
        self.joins: dict[str, tuple[str, str]] = {}

    def resolve(self, name: str) -> ColumnRef | JoinedRef | SetRef | ValueRef:
        lowered = name.lower()
        if lowered in ("true", "false") and name not in self.collection.field_map:
            return ValueRef(lambda _i, v=(lowered == "true"): v, BOOL, const=True)
        if lowered == "null" and name not in self.collection.field_map:
            return ValueRef(lambda _i: None, "null")
        if name.startswith("@"):
            return self._resolve_special(name)
        segments = name.split(".")
        last, sep, modifier = segments[-1].partition(":")
        segments[-1] = last
        if not all(_SEGMENT_RE.match(seg) for seg in segments) or ":" in modifier:
            raise UnknownIdentifier(name)
        return self._resolve_path(name, segments, modifier if sep else None)

    # ----- fields and relation paths ---------------------------------------------------------
    def _field(self, c: Collection, name: str, whole: str) -> Field:
        f = c.field_map.get(name)
        if f is None or (f.hidden and not self.allow_hidden) or getattr(f, "is_password", False):
            raise UnknownIdentifier(whole)
        return f

    def _alias(self) -> str:
        self._aliases += 1
        return f"__r{self._aliases}"

    def _d(self) -> Dialect:
        if self.dialect is None:
            raise Unsupported("relation paths need a dialect")
        return self.dialect

    def _target(self, f: Field, whole: str) -> Collection:
        target = self.lookup(f.options.get("collectionId", "")) if self.lookup else None
        if target is None:
            raise Unsupported(whole) if self.lookup is None else UnknownIdentifier(whole)
        return target

    def _resolve_path(self, whole: str, segments: list[str], modifier: str | None) -> ColumnRef | SetRef:
        if len(segments) > MAX_PATH_HOPS + 1:
            raise UnknownIdentifier(whole)
        return self._walk(_Path(), self.collection, quote(self.collection.name), segments, modifier, whole)

    def _walk(
        self,
        path: _Path,
        current: Collection,
        alias: str,
        segments: list[str],
        modifier: str | None,
        whole: str,
    ) -> ColumnRef | SetRef:
        for i, seg in enumerate(segments):
            last = i == len(segments) - 1
            f = current.field_map.get(seg)
            if f is None and "_via_" in seg:
                current, alias = self._back_hop(path, current, alias, seg, whole)
                if last:
                    if modifier is not None:
                        raise Unsupported(whole)  # e.g. `x_via_y:length` (PocketBase answers 400 too)
                    return self._wrap(path, f'{alias}."id"', TEXT, TEXT_AFFINITY)
                continue
            if last:
                return self._final(current, alias, seg, modifier, whole, path if path.froms else None)
            f = self._field(current, seg, whole)
            if f.type == "relation" and f.storage != JSON and i == len(segments) - 2:
                if segments[-1] == "id" and modifier is None:
                    # `author.id` reads the relation column itself, as PocketBase does (so an
                    # empty relation compares as "", not as a missing row).
                    col = f"{alias}.{quote(f.name)}"
                    if path.froms:
                        return self._wrap(path, col, TEXT, TEXT_AFFINITY)
                    return ColumnRef(col, TEXT, (), TEXT_AFFINITY, False)
            if f.type == "relation":
                current, alias = self._hop(path, alias, f, whole)
                continue
            if f.type in ("json", "geoPoint") and modifier is None:
                expr = self._d().json_value(f"{alias}.{quote(f.name)}", segments[i + 1 :])
                return self._wrap(path, expr, "any", None) if path.froms else ColumnRef(expr, "any")
            raise UnknownIdentifier(whole)
        raise UnknownIdentifier(whole)

    def _hop(self, path: _Path, alias: str, f: Field, whole: str) -> tuple[Collection, str]:
        d = self._d()
        target = self._target(f, whole)
        t = self._alias()
        col = f"{alias}.{quote(f.name)}"
        if f.storage == JSON:
            item, value = d.json_elements(col, self._alias())
            path.froms.append(item)
            path.froms.append(f"{quote(target.name)} AS {t}")
            path.wheres.append(f'{t}."id" = {value}')
            path.multi = True
        else:
            path.froms.append(f"{quote(target.name)} AS {t}")
            path.wheres.append(f'{t}."id" = {col}')
        self._cross(path, target, t)
        return target, t

    def _back_hop(
        self, path: _Path, c: Collection, alias: str, seg: str, whole: str
    ) -> tuple[Collection, str]:
        d = self._d()
        coll_name, _, field_name = seg.rpartition("_via_")
        target = self.lookup(coll_name) if self.lookup else None
        if target is None:
            raise Unsupported(whole) if self.lookup is None else UnknownIdentifier(whole)
        f = target.field_map.get(field_name)
        if f is None or f.type != "relation" or f.options.get("collectionId") != c.id:
            raise UnknownIdentifier(whole)
        t = self._alias()
        path.froms.append(f"{quote(target.name)} AS {t}")
        col = f"{t}.{quote(f.name)}"
        if f.storage == JSON:
            item, value = d.json_elements(col, self._alias())
            path.froms.append(item)
            path.wheres.append(f'{value} = {alias}."id"')
        else:
            path.wheres.append(f'{col} = {alias}."id"')
        path.multi = True
        self._cross(path, target, t)
        return target, t

    def _cross(self, path: _Path, target: Collection, alias: str) -> None:
        """Client filters only see related records the requester may list."""
        if self.list_rules is None:
            return
        compiled = self.list_rules(target, alias)
        if compiled is None:
            return
        sql, getters = compiled
        path.wheres.append(sql)
        path.getters.extend(getters)

    def _wrap(
        self, path: _Path, value: str, storage: str, affinity: str | None, lower: bool = False
    ) -> ColumnRef | SetRef:
        if path.multi:
            if lower:
                raise Unsupported(":lower across a multi-valued path")
            return SetRef(path.source(), value, storage, tuple(path.getters), affinity)
        # A scalar subquery has the affinity of its column, as the column itself would.
        sql = f"(SELECT {value} {path.source()} LIMIT 1)"
        return ColumnRef(sql, storage, tuple(path.getters), affinity, True, lower)

    def _final(
        self, c: Collection, alias: str, name: str, modifier: str | None, whole: str, path: _Path | None
    ) -> ColumnRef | SetRef:
        f = self._field(c, name, whole)
        col = f"{alias}.{quote(name)}"
        valuer = f.type in ("select", "relation", "file")
        multi_field = f.storage == JSON and valuer
        if modifier == "each":
            if not valuer:
                raise UnknownIdentifier(whole)
            if not multi_field:
                # One element: the value itself, read from a JSON array (so without affinity).
                return self._wrap(path, col, TEXT, None) if path else ColumnRef(col, TEXT, nullable=False)
            inner = path or _Path()
            item, value = self._d().json_elements(col, self._alias())
            inner.froms.append(item)
            inner.multi = True
            return self._wrap(inner, value, TEXT, None)
        if modifier == "length":
            if not valuer:
                raise UnknownIdentifier(whole)
            d = self._d()
            expr = d.json_length(col) if multi_field else d.single_length(col)
            return self._wrap(path, expr, NUMBER, None) if path else ColumnRef(expr, NUMBER, nullable=False)
        if modifier not in (None, "lower"):
            raise Unsupported(whole)
        lower = modifier == "lower"
        if f.type == "json":
            expr = self._d().json_value(col, [])
            return self._wrap(path, expr, "any", None, lower) if path else ColumnRef(expr, "any", lower=lower)
        storage, affinity = (TEXT, NUMERIC) if f.storage == JSON else (f.storage, affinity_of(f.storage))
        if f.storage == JSON:
            col = self._d().json_as_text(col)
        if path:
            return self._wrap(path, col, storage, affinity, lower)
        return ColumnRef(col, storage, (), affinity, False, lower)

    def _auth_path(self, whole: str, segments: list[str]) -> ColumnRef | SetRef | ValueRef:
        """`@request.auth.team.owner`: a path that starts at the requester's record. The SQL depends
        on the requester's collection, which is part of the compiled filter's cache key."""
        auth = self.auth_collection
        if auth is None:
            return ValueRef(lambda _i: None, "null")  # guests: every such path is blank
        if any(":" in seg for seg in segments) or not all(_SEGMENT_RE.match(seg) for seg in segments):
            raise Unsupported(whole)
        f = auth.field_map.get(segments[0])
        if f is None or f.type != "relation" or f.storage == JSON:
            raise Unsupported(whole)  # multi relations on the auth record: not evaluated yet
        target = self._target(f, whole)
        t = self._alias()
        path = _Path()
        path.froms.append(f"{quote(target.name)} AS {t}")
        path.wheres.append(f'{t}."id" = {MARK_TEXT}')
        path.getters.append(_auth_getter(f.name))
        self._cross(path, target, t)
        return self._walk(path, target, t, segments[1:], None, whole)

    def _collection_field(self, whole: str) -> JoinedRef:
        parts = whole.split(".")
        if len(parts) != 3 or self.lookup is None:
            raise Unsupported(whole)  # deeper paths from a joined row are not evaluated yet
        key = parts[1]
        coll_name, _, alias = key.partition(":")
        target = self.lookup(coll_name)
        if target is None or not _SEGMENT_RE.match(parts[2]) or (alias and not _SEGMENT_RE.match(alias)):
            raise UnknownIdentifier(whole)
        f = target.field_map.get(parts[2])
        if f is None or getattr(f, "is_password", False) or f.storage == JSON:
            raise (
                UnknownIdentifier(whole)
                if f is None or getattr(f, "is_password", False)
                else Unsupported(whole)
            )
        if key not in self.joins:
            self.joins[key] = (self._alias(), target.name)
        sql_alias, table = self.joins[key]
        return JoinedRef(f"{sql_alias}.{quote(f.name)}", f.storage, table, f.name, affinity_of(f.storage))

    def _resolve_special(self, name: str) -> ColumnRef | JoinedRef | SetRef | ValueRef:
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
        if head == "auth" and 3 < len(parts) <= MAX_PATH_HOPS + 2:
            return self._auth_path(name, parts[2:])
        if head in ("query", "headers") and len(parts) == 3:
            return ValueRef(_mapping_getter(head, parts[2]))
        if head == "body" and len(parts) == 3:
            return ValueRef(_mapping_getter("body", parts[2]), "any")
        if head in ("auth", "body"):
            raise Unsupported(name)
        raise UnknownIdentifier(name)

    def _request_modifier(self, whole: str, parts: list[str], modifier: str) -> ColumnRef | SetRef | ValueRef:
        """`@request.body.x:isset`, `:length`, `:changed` (and `@request.query.x:isset`)."""
        if len(parts) != 3 or parts[1] not in ("body", "query", "headers"):
            raise Unsupported(whole)
        head, key = parts[1], parts[2]
        if modifier == "isset":
            return ValueRef(lambda i: key in getattr(i, head), BOOL)
        if head != "body":
            raise Unsupported(whole)
        if modifier == "length":

            def length(i: RequestInfo) -> int:
                v = i.body.get(key)
                return len(v) if isinstance(v, list) else (1 if v not in (None, "") else 0)

            return ValueRef(length, NUMBER)
        if modifier == "changed":
            return self._changed(whole, key)
        if modifier == "lower":
            # PocketBase lowers the value's text form (Go's cast.ToString), ASCII letters only.
            return ValueRef(lambda i: lower_ascii(go_string(to_sqlite(i.body.get(key)))), TEXT)
        if modifier == "each":
            return self._body_each(whole, key)
        raise Unsupported(whole)

    def _body_each(self, whole: str, key: str) -> SetRef:
        """`@request.body.tags:each`: the submitted values of a select/relation/file field."""
        f = self.collection.field_map.get(key)
        if f is None or f.type not in ("select", "relation", "file"):
            raise UnknownIdentifier(whole)
        d = self._d()

        def items(i: RequestInfo) -> str:
            v = i.body.get(key)
            values = [] if v is None else v if isinstance(v, list) else [v]
            return orjson.dumps(values).decode()

        item, value = d.json_param_elements(MARK_TEXT, self._alias())
        return SetRef(f"FROM {item} WHERE 1=1", value, TEXT, (items,), None)

    def _changed(self, whole: str, key: str) -> ColumnRef:
        """Sent and different from the stored value: a boolean over the record's column."""
        f = self.collection.field_map.get(key)
        if f is None or self.dialect is None:
            raise UnknownIdentifier(whole) if f is None else Unsupported(whole)
        d = self.dialect
        col = f"{quote(self.collection.name)}.{quote(f.name)}"

        def sent(i: RequestInfo) -> bool:
            return key in i.body

        def value(i: RequestInfo) -> Any:
            prepared = f.prepare(i.body.get(key))
            if f.storage == JSON:
                return orjson.dumps(prepared).decode()
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
