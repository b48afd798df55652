"""SQL for the hops of a relation path: one LEFT JOIN per hop, for both dialects.

A filter that walks relations (`author.name`, `coauthors.name`, `comments_via_post.text`,
`@collection.x.y`, `:each`) reads its values from LEFT JOINs placed once per distinct path around
the whole condition, as PocketBase joins them onto its list query; the same hops, joined again
under fresh aliases, enumerate every value of a path for the "all elements" check of plain
operators (hearth.query.compile).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hearth.sql.dialect import Dialect, quote
from hearth.sql.filter import MARK

REL = "rel"  # a single relation: the target row whose id is the previous row's column
REL_MULTI = "rel_multi"  # a multiple relation: one target row per element of the JSON array
BACK = "back"  # a back-relation through a single relation field of the target
BACK_MULTI = "back_multi"  # a back-relation through a multiple relation field of the target
COLLECTION = "collection"  # `@collection.name`: every row of a collection
AUTH = "auth"  # the requester's record (`@request.auth.rel.x`)
EACH = "each"  # the elements of the previous row's JSON array column
PARAM_EACH = "param_each"  # the elements of a JSON array bound as a parameter


@dataclass(frozen=True, slots=True)
class Hop:
    kind: str
    key: str  # identifies the hop after its predecessors (the same path shares one join)
    table: str = ""  # the collection table reached
    column: str = ""  # REL/EACH: column of the previous row; BACK: column of the target row
    getter: Callable[[Any], Any] | None = None  # AUTH: the requester's id; PARAM_EACH: the array
    multi: bool = False  # may yield several rows per record
    target: Any = None  # the Collection reached (its list rule guards client filters)


@dataclass(frozen=True, slots=True)
class Join:
    sql: str  # "LEFT JOIN …" with MARK placeholders
    getters: tuple[Callable[[Any], Any], ...]
    out: str  # what the next hop reads: a table alias, or an element's value for EACH hops


def render(d: Dialect, hop: Hop, prev: str, alias: str) -> Join:
    """The LEFT JOIN for `hop`, reading the previous row `prev`, under `alias`."""
    lat = d.lateral
    table = quote(hop.table) if hop.table else ""
    if hop.kind == REL:
        return Join(f'LEFT JOIN {table} AS {alias} ON {alias}."id" = {prev}.{quote(hop.column)}', (), alias)
    if hop.kind == REL_MULTI:
        item, value = d.json_elements(f"{prev}.{quote(hop.column)}", f"{alias}_je")
        sql = f'LEFT JOIN {lat}{item} ON 1=1 LEFT JOIN {table} AS {alias} ON {alias}."id" = {value}'
        return Join(sql, (), alias)
    if hop.kind == BACK:
        return Join(f'LEFT JOIN {table} AS {alias} ON {alias}.{quote(hop.column)} = {prev}."id"', (), alias)
    if hop.kind == BACK_MULTI:
        item, value = d.json_elements(f"{alias}.{quote(hop.column)}", f"{alias}_je")
        sql = f'LEFT JOIN {table} AS {alias} ON {prev}."id" IN (SELECT {value} FROM {item})'
        return Join(sql, (), alias)
    if hop.kind == COLLECTION:
        return Join(f"LEFT JOIN {table} AS {alias} ON 1=1", (), alias)
    if hop.kind == AUTH:
        assert hop.getter is not None
        return Join(f'LEFT JOIN {table} AS {alias} ON {alias}."id" = {MARK}', (hop.getter,), alias)
    if hop.kind == EACH:
        item, value = d.json_elements(f"{prev}.{quote(hop.column)}", alias)
        return Join(f"LEFT JOIN {lat}{item} ON 1=1", (), value)
    if hop.kind == PARAM_EACH:
        assert hop.getter is not None
        item, value = d.json_param_elements(MARK, alias)
        return Join(f"LEFT JOIN {lat}{item} ON 1=1", (hop.getter,), value)
    raise ValueError(hop.kind)


SEED = "FROM (SELECT 1 AS one) AS __seed"  # one row, so LEFT JOINs keep a row when nothing matches


Extra = Callable[[Hop, str], "tuple[str, tuple[Callable[[Any], Any], ...]] | None"]


def chain(
    d: Dialect,
    hops: tuple[Hop, ...] | list[Hop],
    base: str,
    fresh: Callable[[], str],
    extra: Extra | None = None,
) -> tuple[str, tuple[Callable[[Any], Any], ...], str]:
    """All of `hops` joined from the row `base` under fresh aliases: (joins, getters, last output).

    `extra(hop, alias)` may add a condition to a hop's ON clause."""
    prev = base
    parts: list[str] = []
    getters: list[Callable[[Any], Any]] = []
    for hop in hops:
        join = render(d, hop, prev, fresh())
        parts.append(join.sql)
        getters.extend(join.getters)
        more = extra(hop, join.out) if extra else None
        if more is not None:
            parts.append(f"AND {more[0]}")
            getters.extend(more[1])
        prev = join.out
    return " ".join(parts), tuple(getters), prev


def values_query(sql_joins: str, value: str) -> str:
    """Every value of a path for the current record (one NULL when it reaches nothing)."""
    return f"SELECT {value} AS v {SEED} {sql_joins}"


def scalar_query(sql_joins: str, value: str) -> str:
    """The first value of a single-valued path, as a scalar subquery."""
    return f"(SELECT {value} {SEED} {sql_joins} LIMIT 1)"


def exists_joined(sql_joins: list[str], conditions: list[str]) -> str:
    """The condition over joined rows: some combination of them meets every condition."""
    return f"EXISTS (SELECT 1 {SEED} {' '.join(sql_joins)} WHERE {' AND '.join(conditions)})"
