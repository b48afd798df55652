"""`?expand=`: attach related records (relations and `x_via_y` back-relations), up to 6 levels.

Every expanded record must pass its own collection's view rule for the requester (with
`@request.context = "expand"`); records that fail are left out, as PocketBase does. Related
records of a whole page are fetched with one query per relation and level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hearth.errors import Forbidden
from hearth.query.context import RequestInfo
from hearth.rules import enforce
from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field

if TYPE_CHECKING:
    from hearth.records.present import RecordPresenter

MAX_DEPTH = 6
MAX_PATHS = 64


def parse_expand(text: str) -> list[list[str]]:
    """The distinct paths of `?expand=`, each cut to MAX_DEPTH levels; empty ones dropped."""
    paths: list[list[str]] = []
    for raw in text.split(",")[:MAX_PATHS]:
        parts = [p.strip() for p in raw.strip().split(".")][:MAX_DEPTH]
        if all(parts) and parts not in paths:
            paths.append(parts)
    return paths


class _Unexpandable(Exception):
    """A path that names no relation at some level reached, or reaches a collection only
    superusers may view: PocketBase drops that whole path (and only it) from the answer."""


@dataclass(frozen=True, slots=True)
class _Relation:
    target: Collection
    field: Field  # the relation field (on the parent for direct, on the target for back-relations)
    back: bool

    @property
    def multi(self) -> bool:
        return self.field.storage == "json"


_LEGACY_BACK = re.compile(r"^(\w+)\((\w+)\)$")


def _relation(svc: RecordPresenter, c: Collection, name: str) -> _Relation | None:
    f = c.field_map.get(name)
    if f is not None:
        if f.type != "relation":
            return None
        target = svc.collections.get(f.options.get("collectionId", ""))
        return _Relation(target, f, back=False) if target is not None else None
    legacy = _LEGACY_BACK.match(name)  # `collection(field)`: the pre-0.23 back-relation spelling
    if legacy is not None:
        coll_name, field_name = legacy.group(1), legacy.group(2)
    elif "_via_" in name:
        coll_name, _, field_name = name.rpartition("_via_")
    else:
        return None
    target = svc.collections.get(coll_name)
    if target is None or target.is_view:
        return None
    back_field = target.field_map.get(field_name)
    if back_field is None or back_field.type != "relation" or back_field.options.get("collectionId") != c.id:
        return None
    return _Relation(target, back_field, back=True)


def _ids(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v]
    return [value] if isinstance(value, str) and value else []


async def expand(
    svc: RecordPresenter, c: Collection, values: list[dict[str, Any]], text: str, info: RequestInfo
) -> list[dict[str, Any]]:
    """Serialise `values` for this requester, with the requested expansions attached."""
    apis = await svc.present(c, values, info.auth)
    paths = parse_expand(text) if text else []
    if paths and values:
        ctx = RequestInfo(info.auth, info.method, info.query, info.headers, info.body, context="expand")
        for path in paths:
            # Each path on its own, into copies: one that fails leaves no trace, and the others
            # still expand (a path sharing a prefix with another merges into it).
            trial = [{**api, "expand": dict(api.get("expand", {}))} for api in apis]
            try:
                await _path(svc, c, values, trial, path, ctx)
            except _Unexpandable:
                continue
            apis[:] = trial
    return apis


async def _path(
    svc: RecordPresenter,
    c: Collection,
    values: list[dict[str, Any]],
    apis: list[dict[str, Any]],
    path: list[str],
    info: RequestInfo,
) -> None:
    name, rest = path[0], path[1:]
    rel = _relation(svc, c, name)
    if rel is None:
        raise _Unexpandable()
    for api in apis:
        api.setdefault("expand", {})
    parent_ids = [v["id"] for v in values]
    wanted = sorted({i for v in values for i in _ids(v.get(rel.field.name))}) if not rel.back else parent_ids
    children = await _fetch(svc, rel, wanted, info)
    if not children:
        return
    child_values = list(children.values())
    presented = await svc.present(rel.target, child_values, info.auth)
    child_apis = {v["id"]: api for v, api in zip(child_values, presented, strict=True)}
    if rest:
        await _path(svc, rel.target, child_values, [child_apis[v["id"]] for v in child_values], rest, info)
    for v, api in zip(values, apis, strict=True):
        if rel.back:
            found = [child_apis[k] for k, cv in children.items() if v["id"] in _ids(cv.get(rel.field.name))]
        else:
            found = [child_apis[i] for i in _ids(v.get(rel.field.name)) if i in child_apis]
        if not found:
            continue
        found = _merged(api["expand"].get(name), found)
        api["expand"][name] = found if (rel.back or rel.multi) else found[0]


def _merged(before: Any, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`found`, each record keeping what an earlier path sharing this prefix expanded in it."""
    earlier = {b["id"]: b for b in (before if isinstance(before, list) else [before]) if isinstance(b, dict)}
    out = []
    for item in found:
        prev = earlier.get(item["id"])
        if prev is not None and (prev.get("expand") or item.get("expand")):
            item = {**item, "expand": _merge_expand(prev.get("expand", {}), item.get("expand", {}))}
        out.append(item)
    return out


def _merge_expand(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if key in out:
            merged = _merged(out[key], value if isinstance(value, list) else [value])
            out[key] = merged if isinstance(value, list) else merged[0]
        else:
            out[key] = value
    return out


async def _fetch(
    svc: RecordPresenter, rel: _Relation, ids: list[str], info: RequestInfo
) -> dict[str, dict[str, Any]]:
    """Related records by id, limited to those the requester may view."""
    d = svc.reads.db.dialect
    try:
        con = enforce.constraint(d, rel.target, rel.target.rules.get("viewRule"), info)
    except Forbidden:  # a null view rule: superusers only; checked even when no id is wanted
        raise _Unexpandable() from None
    if not ids or con.deny:
        return {}
    codec = svc.reads.codec(rel.target)
    where = con.condition.render(d, len(ids) + 1) if con.condition is not None else ""
    if rel.back:
        sql = codec.sql.referencing_any(rel.field.name, rel.multi, len(ids), where)
    else:
        sql = codec.sql.with_ids(len(ids), where)
    rows = await svc.reads.db.fetch_all(sql, (*ids, *con.params(info)))
    return {r["id"]: r for r in (codec.values_from_row(row) for row in rows)}
