"""`json` fields: any JSON value, limited by the size of its encoding."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from hearth._util import deepjson
from hearth.errors import FieldError
from hearth.schema.fields.base import JSON, MAX_SAFE_INT, Field, json_number, opt_int
from hearth.schema.fields.text import check_range

DEFAULT_MAX_SIZE = 1 << 20  # bytes, when maxSize is 0
# Deepest nesting a value may have: SQLite's JSON functions (which filters on the field use)
# stop at 1000 levels. PocketBase itself stops at its JSON decoder's 10000.
MAX_DEPTH = 1000
_JSON_START = frozenset('0123456789-"[{')


def _loads(text: str | bytes) -> tuple[bool, Any]:
    try:
        return True, orjson.loads(text)
    except orjson.JSONDecodeError:
        return False, None


def _normalize(value: Any) -> Any:
    """Integral floats as ints, at every level (Go re-encodes decoded numbers as `3`, not `3.0`).

    A copy, built without recursion: the value is request data and may nest ~1000 levels."""
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any]] = [(value, holder, 0)]
    while stack:
        node, parent, key = stack.pop()
        if isinstance(node, float):
            parent[key] = json_number(node)
        elif isinstance(node, list):
            items: list[Any] = [None] * len(node)
            parent[key] = items
            stack.extend((v, items, i) for i, v in enumerate(node))
        elif isinstance(node, dict):
            members = dict.fromkeys(node)  # keeps the key order
            parent[key] = members
            stack.extend((v, members, k) for k, v in node.items())
        else:
            parent[key] = node
    return holder[0]


class JSONField(Field):
    type: ClassVar[str] = "json"
    option_defaults: ClassVar[dict[str, Any]] = {"maxSize": 0}

    @property
    def max_size(self) -> int:
        size = int(self.options["maxSize"])
        return size if size > 0 else DEFAULT_MAX_SIZE

    def normalize_options(self) -> dict[str, FieldError]:
        self.options["maxSize"] = opt_int(self.options["maxSize"])
        err = check_range(self.options["maxSize"], 0, MAX_SAFE_INT)
        return {"maxSize": err} if err else {}

    @property
    def storage(self) -> str:
        return JSON

    def zero(self) -> Any:
        return None

    def from_db(self, raw: Any) -> Any:
        # Both SQLite (JSON column) and asyncpg (jsonb) hand back the JSON text.
        if raw is None:
            return None
        if isinstance(raw, str | bytes):
            ok, value = _loads(raw)
            return _normalize(value) if ok else raw
        return _normalize(raw)

    def prepare(self, raw: Any) -> Any:
        # A string that is itself JSON (an array, object, number, quoted string, true/false/null)
        # is taken as that value; any other string is stored as a JSON string.
        if isinstance(raw, str):
            if raw in ("null", "true", "false") or (raw and raw[0] in _JSON_START):
                ok, value = _loads(raw)
                if ok:
                    return _normalize(value)
            return raw
        return _normalize(raw)

    def is_blank(self, value: Any) -> bool:
        # 0 and false are values here; only null, "", [] and {} count as empty.
        return value is None or (isinstance(value, str | list | dict) and len(value) == 0)

    def encoded_size(self, value: Any) -> int:
        try:
            return len(deepjson.dumps(value))
        except TypeError:
            return 0

    def validate(self, value: Any) -> FieldError | None:
        if deepjson.depth(value, MAX_DEPTH) > MAX_DEPTH:
            return FieldError(
                "validation_json_depth_limit",
                f"The maximum allowed JSON nesting depth is {MAX_DEPTH}.",
                {"maxDepth": MAX_DEPTH},
            )
        limit = self.max_size
        if self.encoded_size(value) > limit:
            return FieldError(
                "validation_json_size_limit",
                f"The maximum allowed JSON size is {limit} bytes.",
                {"maxSize": limit},
            )
        if self.required and self.is_blank(value):
            return FieldError("validation_required", "Cannot be blank.")
        return None

    def example(self) -> Any:
        return {"any": ["JSON", 1, True]}

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        # Any JSON value (null when unset): there is no narrower truth to tell.
        schema: dict[str, Any] = {"description": "Any JSON value; null when unset."}
        if write:
            schema["description"] = (
                f"Any JSON value, at most {self.max_size} bytes encoded and {MAX_DEPTH} levels deep."
            )
            if self.required:
                schema["not"] = {"enum": [None, "", [], {}]}
        return schema
