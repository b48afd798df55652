"""Identifiers of the filter language → SQL columns or request-time values.

`@request.*` and macros never become SQL text: they become parameters whose values are read
from the request when the compiled filter runs, so one compiled form serves every request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hearth._util.times import format_datetime
from hearth.rules.context import RequestInfo
from hearth.schema.collection import Collection
from hearth.schema.fields.base import BOOL, JSON, NUMBER, TEXT


class Unsupported(Exception):
    """A valid construct this engine does not evaluate yet (the caller falls back safely)."""


class UnknownIdentifier(Exception):
    pass


Getter = Callable[[RequestInfo], Any]


@dataclass(frozen=True, slots=True)
class ColumnRef:
    """A column of the collection's table; `storage` drives comparisons and coercion."""

    column: str
    storage: str


@dataclass(frozen=True, slots=True)
class ValueRef:
    """A value known only at request time (or a constant)."""

    get: Getter
    kind: str = TEXT  # TEXT | NUMBER | BOOL | "null" | "any"


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


class Resolver:
    """Resolves identifiers against one collection. `allow_hidden` is True for rules."""

    def __init__(self, collection: Collection, allow_hidden: bool, allow_request: bool = True) -> None:
        self.collection = collection
        self.allow_hidden = allow_hidden
        self.allow_request = allow_request

    def resolve(self, name: str) -> ColumnRef | ValueRef:
        lowered = name.lower()
        if lowered in ("true", "false") and name not in self.collection.field_map:
            return ValueRef(lambda _i, v=(lowered == "true"): v, BOOL)
        if lowered == "null" and name not in self.collection.field_map:
            return ValueRef(lambda _i: None, "null")
        if name.startswith("@"):
            return self._resolve_special(name)
        if ":" in name or "." in name:
            base = name.replace(":", ".").split(".", 1)[0]
            if base not in self.collection.field_map and "_via_" not in base:
                raise UnknownIdentifier(name)
            raise Unsupported(name)
        f = self.collection.field_map.get(name)
        if f is None or (f.hidden and not self.allow_hidden) or getattr(f, "is_password", False):
            raise UnknownIdentifier(name)
        if f.storage == JSON:
            raise Unsupported(name)
        return ColumnRef(name, f.storage)

    def _resolve_special(self, name: str) -> ValueRef:
        if name in MACROS:
            fn = MACROS[name]
            return ValueRef(lambda _i: fn(datetime.now(UTC)), NUMBER if name in NUMBER_MACROS else TEXT)
        if not self.allow_request:
            raise UnknownIdentifier(name)
        if name.startswith("@collection."):
            raise Unsupported(name)
        parts = name.split(".")
        if parts[0] != "@request" or len(parts) < 2:
            raise UnknownIdentifier(name)
        if any(":" in p for p in parts):
            raise Unsupported(name)
        head = parts[1]
        if head == "method" and len(parts) == 2:
            return ValueRef(lambda i: i.method)
        if head == "context" and len(parts) == 2:
            return ValueRef(lambda i: i.context)
        if head == "auth" and len(parts) == 3:
            return ValueRef(_auth_getter(parts[2]), "any")
        if head in ("query", "headers") and len(parts) == 3:
            return ValueRef(_mapping_getter(head, parts[2]))
        if head == "body" and len(parts) == 3:
            return ValueRef(_mapping_getter("body", parts[2]), "any")
        if head in ("auth", "body"):
            raise Unsupported(name)
        raise UnknownIdentifier(name)
