from __future__ import annotations

import math
from decimal import Decimal

import pytest

from hearth.schema.fields.base import NUMBER
from hearth.schema.fields.number import NumberField


def number(**options: object) -> NumberField:
    field = NumberField(name="n", **options)  # type: ignore[arg-type]
    assert field.normalize_options() == {}
    return field


def code(err: object) -> object:
    return None if err is None else err.to_dict()  # type: ignore[attr-defined]


# Recorded from PocketBase 0.40.6 (value sent in a JSON body -> value stored).
@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        ("7", 7),
        ("7.5", 7.5),
        ("abc", 0),
        (" 7", 0),
        ("1e3", 1000),
        ("0x10", 0),
        ("0x1p4", 16),
        ("1_000", 1000),
        (True, 1),
        (False, 0),
        (None, 0),
        ([], 0),
        ({}, 0),
        ("", 0),
        ("-", 0),
        ("+5", 5),
        (".5", 0.5),
        ("5.", 5),
        ("1e400", 0),
        (12.5, 12.5),
        (3.0, 3),
    ],
)
def test_prepare(raw: object, prepared: object) -> None:
    value = number().prepare(raw)
    assert value == prepared and type(value) is type(prepared)


@pytest.mark.parametrize("raw", ["inf", "NaN", "-Infinity"])
def test_prepare_special_floats_are_rejected_by_validate(raw: str) -> None:
    field = number()
    value = field.prepare(raw)
    assert math.isnan(value) or math.isinf(value)
    assert code(field.validate(value)) == {
        "code": "validation_not_a_number",
        "message": "The submitted number is not properly formatted.",
    }


@pytest.mark.parametrize(
    ("options", "value", "error"),
    [
        ({"min": 1, "max": 10}, 0, None),  # zero is blank: min/max skipped
        (
            {"min": 1, "max": 10},
            -5,
            {
                "code": "validation_min_number_constraint",
                "message": "Must be greater or equal than 1.",
                "params": {"min": 1},
            },
        ),
        (
            {"min": 1, "max": 10},
            11,
            {
                "code": "validation_max_number_constraint",
                "message": "Must be less or equal than 10.",
                "params": {"max": 10},
            },
        ),
        (
            {"min": 1.5},
            1,
            {
                "code": "validation_min_number_constraint",
                "message": "Must be greater or equal than 1.5.",
                "params": {"min": 1.5},
            },
        ),
        ({"min": 1, "max": 10}, 10, None),
        (
            {"onlyInt": True},
            2.5,
            {"code": "validation_only_int_constraint", "message": "Decimal numbers are not allowed."},
        ),
        ({"onlyInt": True}, 2.0, None),
        ({"required": True}, 0, {"code": "validation_required", "message": "Cannot be blank."}),
        ({"required": True}, -1, None),
    ],
)
def test_validate(options: dict[str, object], value: object, error: object) -> None:
    assert code(number(**options).validate(value)) == error


@pytest.mark.parametrize(
    ("current", "modifier", "raw", "result"),
    [
        (5, "+", 2, 7),
        (7, "-", "3", 4),
        (4, "+", "abc", 4),
        (4, "+", True, 5),
        (None, "+", 2.5, 2.5),
        (0.1, "+", 0.2, 0.30000000000000004),
    ],
)
def test_modifiers(current: object, modifier: str, raw: object, result: object) -> None:
    assert number().apply_modifier(current, modifier, raw) == result


def test_modifier_set() -> None:
    assert NumberField.modifiers == frozenset({"+", "-"})


@pytest.mark.parametrize(
    ("raw", "value"),
    [(None, 0), (3, 3), (3.0, 3), (12.5, 12.5), (True, 1), (Decimal("2.50"), 2.5), ("4", 4)],
)
def test_from_db(raw: object, value: object) -> None:
    out = number().from_db(raw)
    assert out == value and type(out) is type(value)


def test_storage() -> None:
    field = number()
    assert (field.storage, field.zero(), field.to_db(3.0)) == (NUMBER, 0, 3)


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        (
            {"min": 5, "max": 3},
            {
                "max": {
                    "code": "validation_min_number_constraint",
                    "message": "Must be greater or equal than 5.",
                    "params": {"min": 5},
                }
            },
        ),
        (
            {"min": 1.5, "max": 3.5, "onlyInt": True},
            {
                "min": {
                    "code": "validation_only_int_constraint",
                    "message": "Decimal numbers are not allowed.",
                },
                "max": {
                    "code": "validation_only_int_constraint",
                    "message": "Decimal numbers are not allowed.",
                },
            },
        ),
        ({"min": -100, "max": 100}, {}),
    ],
)
def test_option_errors(options: dict[str, object], errors: dict[str, object]) -> None:
    field = NumberField(name="n", **options)  # type: ignore[arg-type]
    assert {k: v.to_dict() for k, v in field.normalize_options().items()} == errors


def test_to_dict() -> None:
    assert number(min=1.0).to_dict() == {
        "help": "",
        "hidden": False,
        "id": "number2013832146",
        "max": None,
        "min": 1,
        "name": "n",
        "onlyInt": False,
        "presentable": False,
        "required": False,
        "system": False,
        "type": "number",
    }
