"""`autodate` fields (`created`/`updated`): set by the server, never from input."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from hearth._util.times import now
from hearth.errors import FieldError
from hearth.schema.fields.base import ANY, Field, StoredCheck
from hearth.schema.fields.date import STORED_DATE_SCHEMA, parse_date


class AutodateField(Field):
    type: ClassVar[str] = "autodate"
    option_defaults: ClassVar[dict[str, Any]] = {"onCreate": True, "onUpdate": False}
    has_required: ClassVar[bool] = False
    has_help: ClassVar[bool] = False
    writable: ClassVar[bool] = False

    def normalize_options(self) -> dict[str, FieldError]:
        self.options["onCreate"] = bool(self.options["onCreate"])
        self.options["onUpdate"] = bool(self.options["onUpdate"])
        if self.options["onCreate"] or self.options["onUpdate"]:
            return {}
        err = ("validation_required", "Either onCreate or onUpdate must be enabled.")
        return {"onCreate": FieldError(*err), "onUpdate": FieldError(*err)}

    def stamp(self, *, creating: bool, current: str = "") -> str:
        """The value after a create (`creating=True`) or an update: now, or the current one."""
        if self.options["onCreate"] if creating else self.options["onUpdate"]:
            return now()
        return current

    def from_db(self, raw: Any) -> Any:
        if raw is None:
            return ""
        return parse_date(raw) if isinstance(raw, dt.datetime) else str(raw)

    def prepare(self, raw: Any) -> Any:
        # Submitted values are ignored (PocketBase's setter for autodate is a no-op); the record
        # service assigns the value with `stamp()`.
        return ""

    def validate(self, value: Any) -> FieldError | None:
        return None

    def stored_check(self) -> StoredCheck | None:
        return ANY

    def example(self) -> Any:
        return STORED_DATE_SCHEMA["examples"][0]

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        return {**STORED_DATE_SCHEMA, "readOnly": True}
