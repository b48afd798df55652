"""View collections: check the SELECT and infer the collection's fields from its result columns."""

from __future__ import annotations

import re
from collections.abc import Callable

from hearth.errors import FieldError
from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field
from hearth.schema.system_fields import ID_FIELD, make_fields

_START_RE = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
_WORD_RE = re.compile(r"[A-Za-z0-9_]+")  # collection names may start with a digit


def check_query(query: str) -> FieldError | None:
    """A single read-only SELECT (PocketBase rejects anything else too)."""
    if not query.strip():
        return FieldError("validation_required", "Cannot be blank.")
    body = query.strip().rstrip(";")
    if not _START_RE.match(body) or ";" in body:
        return FieldError(
            "validation_invalid_view_query", "Invalid query - only a single SELECT statement is allowed."
        )
    return None


def infer_fields(
    columns: list[str], query: str, all_collections: Callable[[], list[Collection]]
) -> list[Field]:
    """`id` is text; a column named like a field of a collection the query mentions copies that
    field's type and options; anything else (aggregates, expressions) is a json field."""
    words = set(_WORD_RE.findall(query))
    sources = [c for c in all_collections() if c.name in words and not c.is_view]
    defs = []
    for name in columns:
        if name == "id":
            defs.append(dict(ID_FIELD))
            continue
        template = next((c.field_map[name] for c in sources if name in c.field_map), None)
        if template is not None and not getattr(template, "is_password", False):
            data = template.to_dict()
            data.pop("id", None)
            data["system"] = False
            if template.type == "text":
                data["primaryKey"] = False
            defs.append(data)
        else:
            defs.append({"name": name, "type": "json"})
    return make_fields(defs)
