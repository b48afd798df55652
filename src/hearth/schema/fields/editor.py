"""`editor` fields: rich text (HTML) strings limited by byte size."""

from __future__ import annotations

from typing import Any, ClassVar

from hearth.errors import FieldError
from hearth.schema.fields.base import MAX_SAFE_INT, Field, StoredCheck, cast_str, opt_int
from hearth.schema.fields.text import check_range

DEFAULT_MAX_SIZE = 5 << 20  # bytes, when maxSize is 0


class EditorField(Field):
    type: ClassVar[str] = "editor"
    option_defaults: ClassVar[dict[str, Any]] = {"convertURLs": False, "maxSize": 0}

    @property
    def max_size(self) -> int:
        """The effective limit in bytes (also what the body-size limit adds for this field)."""
        size = int(self.options["maxSize"])
        return size if size > 0 else DEFAULT_MAX_SIZE

    def normalize_options(self) -> dict[str, FieldError]:
        self.options["maxSize"] = opt_int(self.options["maxSize"])
        self.options["convertURLs"] = bool(self.options["convertURLs"])
        err = check_range(self.options["maxSize"], 0, MAX_SAFE_INT)
        return {"maxSize": err} if err else {}

    def from_db(self, raw: Any) -> Any:
        return "" if raw is None else str(raw)

    def prepare(self, raw: Any) -> Any:
        return cast_str(raw) or ""

    def validate(self, value: Any) -> FieldError | None:
        text = value if isinstance(value, str) else ""
        if self.required and text == "":
            return FieldError("validation_required", "Cannot be blank.")
        limit = self.max_size
        if len(text.encode()) > limit:
            return FieldError(
                "validation_content_size_limit",
                f"The maximum allowed content size is {limit} bytes.",
                {"maxSize": limit},
            )
        return None

    def stored_check(self) -> StoredCheck | None:
        return StoredCheck("text", required=self.required, max_bytes=self.max_size)

    def example(self) -> Any:
        return "<p>Hello <strong>world</strong></p>"

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "contentMediaType": "text/html"}
        if write:
            schema["description"] = f"HTML, at most {self.max_size} bytes."
            if self.required:
                schema["minLength"] = 1
        return schema
