"""`select` fields, and the single/multi value machinery shared with relation and file."""

from __future__ import annotations

from typing import Any, ClassVar

from hearth.errors import FieldError
from hearth.schema.fields.base import JSON, MAX_SAFE_INT, TEXT, Field, opt_int, opt_str_list, unique_strings
from hearth.schema.fields.text import check_range


class MultiValueField(Field):
    """A field holding one string (maxSelect <= 1) or a list of unique strings.

    Single-valued fields keep the LAST of several submitted values, as PocketBase does
    (`color: ["red","blue"]` stores "blue").
    """

    modifiers: ClassVar[frozenset[str]] = frozenset({"+", "^", "-"})

    @property
    def max_select(self) -> int:
        """The effective limit: maxSelect 0 (PocketBase's default) means 1."""
        return max(int(self.options["maxSelect"]), 1)

    @property
    def is_multiple(self) -> bool:
        return int(self.options["maxSelect"]) > 1

    @property
    def storage(self) -> str:
        return JSON if self.is_multiple else TEXT

    def zero(self) -> Any:
        return [] if self.is_multiple else ""

    def to_db(self, value: Any) -> Any:
        return self.prepare(value)

    def from_db(self, raw: Any) -> Any:
        # SQLite/PostgreSQL give JSON text for multi columns; a column written while the field
        # was single-valued (or the other way round) reads the same way.
        if raw is None:
            return self.zero()
        if type(raw) is str and "[" not in raw and not self.is_multiple:
            return raw  # one id or value, as stored: what `prepare` would make of it (read per row)
        return self.prepare(raw)

    def prepare(self, raw: Any) -> Any:
        values = unique_strings(raw)
        if self.is_multiple:
            return values
        if not values:
            return ""
        # PocketBase normalises a single value once more when it is set, so the last of
        # `['["a"]', '["a"]']` (a form field sent twice) is read as the JSON list it spells: "a".
        again = unique_strings(values[-1])
        return again[-1] if again else ""

    def apply_modifier(self, current: Any, modifier: str, raw: Any) -> Any:
        existing, given = unique_strings(current), unique_strings(raw)
        if modifier == "+":
            combined = existing + given
        elif modifier == "^":
            combined = given + existing
        elif modifier == "-":
            combined = [v for v in existing if v not in given]
        else:
            combined = given
        return self.prepare(combined)

    def values_of(self, value: Any) -> list[str]:
        return unique_strings(value)

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        item = self.item_schema(write)
        if not self.is_multiple:
            return item if self.required or not write else {"anyOf": [{"const": ""}, item]}
        schema: dict[str, Any] = {"type": "array", "items": item}
        if write:
            schema.update(uniqueItems=True, maxItems=self.max_select)
            minimum = max(self.min_select, 1 if self.required else 0)
            if minimum:
                schema["minItems"] = minimum
        return schema

    def example(self) -> Any:
        one = self.item_example()
        return [one] if self.is_multiple else one

    def item_example(self) -> str:
        return "abc123def456ghi"

    def item_schema(self, write: bool) -> dict[str, Any]:
        """One value (a select's value, a record id, a file name)."""
        return {"type": "string", "minLength": 1} if write else {"type": "string"}

    @property
    def min_select(self) -> int:
        return 0

    def too_many(self) -> FieldError:
        return FieldError(
            "validation_too_many_values",
            f"Select no more than {self.max_select}.",
            {"maxSelect": self.max_select},
        )


class SelectField(MultiValueField):
    type: ClassVar[str] = "select"
    option_defaults: ClassVar[dict[str, Any]] = {"maxSelect": 0, "values": []}

    def normalize_options(self) -> dict[str, FieldError]:
        self.options["values"] = opt_str_list(self.options["values"])
        self.options["maxSelect"] = opt_int(self.options["maxSelect"])
        errors: dict[str, FieldError] = {}
        if not self.options["values"]:
            errors["values"] = FieldError("validation_required", "Cannot be blank.")
        limit = min(len(self.options["values"]) or 1, MAX_SAFE_INT)
        if err := check_range(self.options["maxSelect"], 0, limit):
            errors["maxSelect"] = err
        return errors

    def item_example(self) -> str:
        values = self.options["values"]
        return str(values[0]) if values else ""

    def item_schema(self, write: bool) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.options["values"])} if write else {"type": "string"}

    def validate(self, value: Any) -> FieldError | None:
        values = unique_strings(value)
        if not values:
            return FieldError("validation_required", "Cannot be blank.") if self.required else None
        if len(values) > self.max_select:
            return self.too_many()
        allowed = self.options["values"]
        for item in values:
            if item not in allowed:
                return FieldError("validation_invalid_value", f"Invalid value {item}.", {"value": item})
        return None
