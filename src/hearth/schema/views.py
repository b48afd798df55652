"""View collections: check the SELECT and infer the collection's fields from its result columns."""

from __future__ import annotations

import re
from collections.abc import Callable

from hearth.errors import FieldError
from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field
from hearth.schema.secrets import raw_never_shown
from hearth.schema.system_fields import ID_FIELD, make_fields

_START_RE = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
_WORD_RE = re.compile(r"[A-Za-z0-9_]+")  # collection names may start with a digit
# Hearth's own columns of record tables (hearth.sql.dialect), never fields.
INTERNAL_COLUMNS = frozenset({"_rowid"})


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
            # A view's ids are read, never generated: no length or generator (as PocketBase).
            defs.append({**ID_FIELD, "autogeneratePattern": "", "min": 0, "max": 0})
            continue
        if name in INTERNAL_COLUMNS:
            continue  # `SELECT *` on PostgreSQL also reads the insertion-order column
        template = next((c.field_map[name] for c in sources if name in c.field_map), None)
        if template is not None:
            # A password column stays a password field (answered as "", never as its hash).
            data = template.to_dict()
            data.pop("id", None)
            data["system"] = False
            if template.type == "text":
                data["primaryKey"] = False
            defs.append(data)
        else:
            defs.append({"name": name, "type": "json"})
    return make_fields(defs)


def secret_copy_error(
    columns: list[str], query: str, all_collections: Callable[[], list[Collection]]
) -> FieldError | None:
    """A view may show a secret column (a password hash, a tokenKey) only as itself, under its own
    name, where the record codec recognises and withholds it. A query that names one more often
    than it has columns of that name (an alias, an expression, a condition) is refused: the copy
    could not be recognised and would be answered as plain JSON."""
    words = [w.lower() for w in _WORD_RE.findall(query)]
    present = set(words)
    names = {
        name.lower(): name
        for c in all_collections()
        if c.name.lower() in present
        for name in raw_never_shown(c)
    }
    result = [col.lower() for col in columns]
    for key in sorted(names):
        if words.count(key) > result.count(key):
            return FieldError(
                "validation_invalid_view_query",
                f"Invalid query - {names[key]} may only be selected as it is, without alias or expression.",
            )
    return None
