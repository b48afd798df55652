"""`bool` fields: `required` means "must be true"."""

from __future__ import annotations

from typing import Any, ClassVar

from hearth.errors import FieldError
from hearth.schema.fields.base import BOOL, Field, StoredCheck, cast_bool


class BoolField(Field):
    type: ClassVar[str] = "bool"

    @property
    def storage(self) -> str:
        return BOOL

    def zero(self) -> Any:
        return False

    def to_db(self, value: Any) -> Any:
        return cast_bool(value)

    def from_db(self, raw: Any) -> Any:
        # SQLite gives 0/1, PostgreSQL a bool; text forms are read like input.
        if raw is None:
            return False
        return cast_bool(raw)

    def prepare(self, raw: Any) -> Any:
        return cast_bool(raw)

    def validate(self, value: Any) -> FieldError | None:
        if self.required and not value:
            return FieldError("validation_required", "Cannot be blank.")
        return None

    def example(self) -> Any:
        return True

    def stored_check(self) -> StoredCheck | None:
        return StoredCheck("bool", required=self.required)

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        if write and self.required:
            return {"type": "boolean", "const": True}
        return {"type": "boolean"}
