"""Pieces every area uses: the error envelope, responses, parameters, schemas inferred from values."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
Operation = dict[str, Any]

ERROR_REF = {"$ref": "#/components/schemas/Error"}
SECURITY_SCHEME = "pocketbaseToken"

# What each error status means across the API (the envelope is the same for all).
_ERROR_TEXT = {
    400: "Invalid request: a bad parameter or body (`data` holds the errors by field).",
    401: "A valid auth token is required.",
    403: "The requester is not allowed to do this.",
    404: "Not found (or hidden by the API rule).",
    413: "The request body is too large.",
    429: "Too many requests (rate limits, when enabled in settings).",
}


def error_schema() -> Schema:
    """PocketBase's error envelope."""
    return {
        "type": "object",
        "properties": {
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "message": {"type": "string"},
            "data": {
                "type": "object",
                "description": "Errors by field name: `{code, message}` (params may follow), or "
                "nested by index for list values and batch requests; `{}` when there are none.",
                "additionalProperties": {"type": "object"},
            },
        },
        "required": ["status", "message", "data"],
        "additionalProperties": False,
    }


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: Schema, example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def ok(schema: Schema, description: str = "OK", example: Any = None) -> dict[str, Any]:
    return {"200": {"description": description, "content": json_content(schema, example)}}


def no_content(description: str = "Done (no body).") -> dict[str, Any]:
    return {"204": {"description": description}}


def errors(*codes: int) -> dict[str, Any]:
    """Error responses in the envelope; 429 is added to every operation by the document."""
    return {
        str(code): {"description": _ERROR_TEXT[code], "content": json_content(ERROR_REF)}
        for code in codes
    }


def body(schema: Schema, required: bool = True, example: Any = None) -> dict[str, Any]:
    return {"required": required, "content": json_content(schema, example)}


def query(name: str, schema: Schema, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def path(name: str, description: str, schema: Schema | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema or {"type": "string", "minLength": 1},
        "description": description,
    }


PAGE = query("page", {"type": "integer", "minimum": 1, "default": 1}, "The page (1-based).")
PER_PAGE = query(
    "perPage",
    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 30},
    "Items per page (at most 1000; more is read as 1000).",
)
SORT = query("sort", {"type": "string"}, "Comma-separated fields, `-` before a field for descending "
             "order; `@random` and `@rowid` too. Example: `-created,id`.")  # fmt: skip
FILTER = query("filter", {"type": "string"}, "A filter expression, e.g. `title ~ \"abc\" && created > "
               "\"2024-01-01\"` (PocketBase's filter syntax).")  # fmt: skip
EXPAND = query("expand", {"type": "string"}, "Relation fields to expand (up to 6 levels, "
               "comma-separated, dotted for nested: `author,comments_via_post.user`).")  # fmt: skip
FIELDS = query("fields", {"type": "string"}, "Comma-separated fields to return (`*`, dotted paths "
               "into `expand`, `:excerpt(200,true)`); absent fields are then left out.")  # fmt: skip
SKIP_TOTAL = query("skipTotal", {"type": "boolean"}, "Skip the count query: `totalItems` and "
                   "`totalPages` are then -1 (faster).")  # fmt: skip


def page_of(item: Schema) -> Schema:
    """The list envelope PocketBase answers lists with."""
    counter = {"type": "integer", "minimum": -1}
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": item},
            "page": {"type": "integer", "minimum": 1},
            "perPage": {"type": "integer", "minimum": 1},
            "totalItems": counter,
            "totalPages": counter,
        },
        "required": ["items", "page", "perPage", "totalItems", "totalPages"],
        "additionalProperties": False,
    }


def closed(properties: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    """An object with exactly these properties (all required unless `required` says)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
        **extra,
    }


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
NUMBER: Schema = {"type": "number"}
STRINGS: Schema = {"type": "array", "items": {"type": "string"}}


def infer(value: Any) -> Schema:
    """The schema of a value's shape (settings, option defaults): objects closed over their keys,
    lists by their first item (an empty list says nothing of its items)."""
    if isinstance(value, bool):
        return dict(BOOLEAN)
    if isinstance(value, int):
        return dict(INTEGER)
    if isinstance(value, float):
        return dict(NUMBER)
    if isinstance(value, str):
        return dict(STRING)
    if isinstance(value, list):
        return {"type": "array", "items": infer(value[0])} if value else {"type": "array"}
    if isinstance(value, dict):
        return closed({k: infer(v) for k, v in value.items()})
    return {}


def partial(schema: Schema) -> Schema:
    """The schema with nothing required at any depth (a PATCH body)."""
    out = {k: v for k, v in schema.items() if k != "required"}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: partial(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = partial(out["items"])
    return out
