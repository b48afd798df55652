"""Listing collections (`GET /api/collections`): filter and sort over the `_collections` table.

The filter language is the same one records use; `_collections` is described to the compiler as a
collection whose fields are its columns.
"""

from __future__ import annotations

from hearth.errors import BadRequest
from hearth.filter import FilterSyntaxError, parse_sort
from hearth.query.compile import FilterError, Unsupported, compile_filter
from hearth.query.context import RequestInfo
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository
from hearth.schema.system_fields import table_model
from hearth.sql import system

_TABLE = table_model(
    "_collections",
    [("id", "text"), ("name", "text"), ("type", "text"), ("system", "bool"), ("created", "text"), ("updated", "text")],
)


async def select_collections(
    repo: CollectionRepository, page: int, per_page: int, sort: str, filter_text: str, skip_total: bool
) -> tuple[list[Collection], int]:
    d = repo.db.dialect
    try:
        compiled = compile_filter(d, _TABLE, filter_text, rule=False) if filter_text.strip() else None
        order = [(s.expr.name, s.descending) for s in parse_sort(sort)]
    except (FilterError, Unsupported, FilterSyntaxError, AttributeError) as exc:
        raise BadRequest() from exc
    if any(name not in _TABLE.field_map for name, _ in order):
        raise BadRequest()
    where = compiled.render(d, 1) if compiled else ""
    params = compiled.params(RequestInfo()) if compiled else []
    n = len(params)
    sql = system.list_collections(d, where, order, d.placeholder(n + 1), d.placeholder(n + 2))
    rows = await repo.db.fetch_all(sql, (*params, per_page, (page - 1) * per_page))
    items = []
    for (collection_id,) in rows:
        c = repo.get(str(collection_id))
        if c is not None:
            items.append(c)
    total = -1
    if not skip_total:
        row = await repo.db.fetch_one(system.count_collections(d, where), params)
        total = int(row[0]) if row else 0
    return items, total
