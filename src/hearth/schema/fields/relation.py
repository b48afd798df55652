"""`relation` fields: record ids of another collection (existence is checked by the service)."""

from __future__ import annotations

from typing import Any, ClassVar

from hearth.errors import FieldError
from hearth.schema.fields.base import StoredCheck, opt_int, unique_strings
from hearth.schema.fields.select import MultiValueField
from hearth.schema.fields.text import check_range


class RelationField(MultiValueField):
    type: ClassVar[str] = "relation"
    option_defaults: ClassVar[dict[str, Any]] = {
        "cascadeDelete": False,
        "collectionId": "",
        "maxSelect": 0,
        "minSelect": 0,
    }

    @property
    def collection_id(self) -> str:
        return str(self.options["collectionId"])

    def normalize_options(self) -> dict[str, FieldError]:
        opts = self.options
        opts["collectionId"] = opts["collectionId"] if isinstance(opts["collectionId"], str) else ""
        opts["cascadeDelete"] = bool(opts["cascadeDelete"])
        opts["minSelect"] = opt_int(opts["minSelect"])
        opts["maxSelect"] = opt_int(opts["maxSelect"])
        errors: dict[str, FieldError] = {}
        # Whether the collection exists (and is not a view, and did not change) needs the
        # schema: the collection service checks that.
        if not opts["collectionId"]:
            errors["collectionId"] = FieldError("validation_required", "Cannot be blank.")
        if err := check_range(opts["minSelect"], 0, None):
            errors["minSelect"] = err
        if opts["minSelect"] > 0 and opts["maxSelect"] == 0:
            errors["maxSelect"] = FieldError("validation_required", "Cannot be blank.")
        elif err := check_range(opts["maxSelect"], opts["minSelect"], None):
            errors["maxSelect"] = err
        return errors

    @property
    def min_select(self) -> int:
        return int(self.options["minSelect"])

    def ids(self, value: Any) -> list[str]:
        """The ids a (prepared) value refers to, for the service's existence check
        (`validation_missing_rel_records`) and for expand."""
        return unique_strings(value)

    def validate(self, value: Any) -> FieldError | None:
        ids = unique_strings(value)
        if not ids:
            return FieldError("validation_required", "Cannot be blank.") if self.required else None
        minimum = int(self.options["minSelect"])
        if minimum > 0 and len(ids) < minimum:
            return FieldError(
                "validation_not_enough_values", f"Select at least {minimum}.", {"minSelect": minimum}
            )
        if len(ids) > self.max_select:
            return self.too_many()
        return None

    def stored_check(self) -> StoredCheck | None:
        if self.is_multiple or int(self.options["minSelect"]) > 1:
            return None  # a JSON list's count: not stated in SQL
        required = self.required or int(self.options["minSelect"]) > 0
        return StoredCheck("text", required=required, single_value=True)
