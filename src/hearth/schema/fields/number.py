"""`number` fields: float64 values with optional min/max and an integers-only switch."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from hearth.errors import FieldError
from hearth.schema.fields.base import NUMBER, Field, StoredCheck, cast_float, format_threshold, json_number


def _option_number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return json_number(value)


def _is_integral(value: float | int) -> bool:
    return isinstance(value, int) or value.is_integer()


def _min_error(minimum: float | int) -> FieldError:
    return FieldError(
        "validation_min_number_constraint",
        f"Must be greater or equal than {format_threshold(minimum)}.",
        {"min": minimum},
    )


def _max_error(maximum: float | int) -> FieldError:
    return FieldError(
        "validation_max_number_constraint",
        f"Must be less or equal than {format_threshold(maximum)}.",
        {"max": maximum},
    )


ONLY_INT_ERROR = ("validation_only_int_constraint", "Decimal numbers are not allowed.")


class NumberField(Field):
    type: ClassVar[str] = "number"
    option_defaults: ClassVar[dict[str, Any]] = {"max": None, "min": None, "onlyInt": False}
    modifiers: ClassVar[frozenset[str]] = frozenset({"+", "-"})

    def normalize_options(self) -> dict[str, FieldError]:
        opts = self.options
        opts["min"] = _option_number(opts["min"])
        opts["max"] = _option_number(opts["max"])
        opts["onlyInt"] = bool(opts["onlyInt"])
        minimum, maximum = opts["min"], opts["max"]
        errors: dict[str, FieldError] = {}
        if opts["onlyInt"] and minimum is not None and not _is_integral(minimum):
            errors["min"] = FieldError(*ONLY_INT_ERROR)
        if opts["onlyInt"] and maximum is not None and not _is_integral(maximum):
            errors["max"] = FieldError(*ONLY_INT_ERROR)
        elif minimum is not None and maximum is not None and maximum < minimum:
            errors["max"] = _min_error(minimum)
        return errors

    @property
    def storage(self) -> str:
        return NUMBER

    def zero(self) -> Any:
        return 0

    def to_db(self, value: Any) -> Any:
        return json_number(cast_float(value))

    def from_db(self, raw: Any) -> Any:
        if raw is None:
            return 0
        if type(raw) is float:  # a double precision / REAL column: the usual case, read per row
            return json_number(raw)
        if isinstance(raw, int | float | str | bool):
            return json_number(cast_float(raw))
        try:  # Decimal from a NUMERIC column
            return json_number(float(raw))
        except (TypeError, ValueError):
            return 0

    def prepare(self, raw: Any) -> Any:
        return json_number(cast_float(raw))

    def apply_modifier(self, current: Any, modifier: str, raw: Any) -> Any:
        base = cast_float(current)
        if modifier == "+":
            return json_number(base + cast_float(raw))
        if modifier == "-":
            return json_number(base - cast_float(raw))
        return self.prepare(current)

    def validate(self, value: Any) -> FieldError | None:
        number = cast_float(value)
        if math.isnan(number) or math.isinf(number):
            return FieldError("validation_not_a_number", "The submitted number is not properly formatted.")
        if number == 0:
            # Zero is "blank": it only fails `required` and skips min/max.
            return FieldError("validation_required", "Cannot be blank.") if self.required else None
        if self.options["onlyInt"] and not number.is_integer():
            return FieldError(*ONLY_INT_ERROR)
        minimum, maximum = self.options["min"], self.options["max"]
        if minimum is not None and number < minimum:
            return _min_error(minimum)
        if maximum is not None and number > maximum:
            return _max_error(maximum)
        return None

    def stored_check(self) -> StoredCheck | None:
        return StoredCheck(
            "number",
            required=self.required,
            minimum=self.options["min"],
            maximum=self.options["max"],
            only_int=bool(self.options["onlyInt"]),
        )

    def example(self) -> Any:
        value = 42.5 if not self.options["onlyInt"] else 42
        low, high = self.options["min"], self.options["max"]
        if high is not None and value > high:
            value = high
        if low is not None and value < low:
            value = low
        return json_number(value)

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        if not write:  # stored before onlyInt was set, a value may have decimals
            return {"type": "number"}
        base: dict[str, Any] = {"type": "integer" if self.options["onlyInt"] else "number"}
        rules: dict[str, Any] = {}
        if self.options["min"] is not None:
            rules["minimum"] = self.options["min"]
        if self.options["max"] is not None:
            rules["maximum"] = self.options["max"]
        if self.required:  # 0 is the blank number
            return {**base, **rules, "not": {"const": 0}}
        return self.blank_or(rules, 0, base)
