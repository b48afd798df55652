"""Listing collections (`GET /api/collections`): filter and sort over the `_collections` table."""

from __future__ import annotations

from hearth.errors import BadRequest
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository

SORTABLE = ("id", "name", "type", "system", "created", "updated")


async def select_collections(
    repo: CollectionRepository, page: int, per_page: int, sort: str, filter_text: str, skip_total: bool
) -> tuple[list[Collection], int]:
    items = repo.all()
    if filter_text.strip():
        raise BadRequest()
    for part in reversed([p.strip() for p in sort.split(",") if p.strip()]):
        desc = part.startswith("-")
        key = part.lstrip("+-")
        if key not in SORTABLE:
            raise BadRequest()
        items.sort(key=lambda c, k=key: str(getattr(c, k)), reverse=desc)
    total = len(items)
    start = (page - 1) * per_page
    return items[start : start + per_page], total
