from __future__ import annotations

import pytest

from hearth.schema.fields.base import JSON, TEXT
from hearth.schema.fields.select import SelectField

VALUES = ["a", "b", "c", "1", "true"]


def single() -> SelectField:
    return SelectField(name="s1", values=VALUES)


def multi() -> SelectField:
    return SelectField(name="sm", values=VALUES, maxSelect=5)


# Recorded from PocketBase 0.40.6: value sent -> value stored.
@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("a", "a"),
        (["a", "b"], "b"),  # the last of several
        (["a", "a"], "a"),
        ('["a","b"]', "b"),
        ("[bad", "[bad"),
        (1, "1"),
        (True, "true"),
        (["a", 1], "1"),
        (["a", None, ""], "a"),
        ([], ""),
        ("", ""),
        (None, ""),
        ({"a": 1}, ""),
        (["a", {"x": 1}], ""),  # one non-scalar item voids the list
    ],
)
def test_prepare_single(raw: object, stored: str) -> None:
    assert single().prepare(raw) == stored


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("a", ["a"]),
        (["a", "b", "a"], ["a", "b"]),
        ('["b","a"]', ["b", "a"]),
        ('["b", 1]', ['["b", 1]']),  # not an array of strings: the whole string
        ("[a", ["[a"]),
        ("a b", ["a b"]),
        (1, ["1"]),
        (True, ["true"]),
        ([1, "a"], ["1", "a"]),
        (["", "a", ""], ["a"]),
        (None, []),
        ({"a": 1}, []),
        (["a", ["b"]], []),
    ],
)
def test_prepare_multi(raw: object, stored: list[str]) -> None:
    assert multi().prepare(raw) == stored


@pytest.mark.parametrize(
    ("field", "current", "modifier", "raw", "result"),
    [
        ("multi", ["a", "b"], "+", "c", ["a", "b", "c"]),
        ("multi", ["a", "b", "c"], "^", ["1", "a"], ["1", "a", "b", "c"]),
        ("multi", ["1", "a", "b", "c"], "-", ["a", "zz"], ["1", "b", "c"]),
        ("multi", ["1", "b", "c"], "+", '["b","c"]', ["1", "b", "c"]),
        ("multi", [], "+", "a", ["a"]),
        ("single", "a", "+", "b", "b"),
        ("single", "b", "-", "a", "b"),
        ("single", "b", "-", "b", ""),
        ("single", "b", "+", ["a", "c"], "c"),
        ("single", "c", "^", ["a", "b"], "c"),
    ],
)
def test_modifiers(field: str, current: object, modifier: str, raw: object, result: object) -> None:
    target = multi() if field == "multi" else single()
    assert target.apply_modifier(current, modifier, raw) == result


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        (
            SelectField(name="color", values=["red", "green", "blue"]),
            "purple",
            {
                "code": "validation_invalid_value",
                "message": "Invalid value purple.",
                "params": {"value": "purple"},
            },
        ),
        (SelectField(name="color", values=["red", "green", "blue"]), "green", None),
        (
            SelectField(name="tags", values=["a", "b", "c", "d"], maxSelect=2),
            ["zzz"],
            {"code": "validation_invalid_value", "message": "Invalid value zzz.", "params": {"value": "zzz"}},
        ),
        (
            SelectField(name="tags", values=["a", "b", "c", "d"], maxSelect=2),
            ["a", "b", "c"],
            {
                "code": "validation_too_many_values",
                "message": "Select no more than 2.",
                "params": {"maxSelect": 2},
            },
        ),
        (SelectField(name="tags", values=["a", "b", "c", "d"], maxSelect=2), ["d", "a"], None),
        (
            SelectField(name="tags", values=["a"], required=True),
            "",
            {"code": "validation_required", "message": "Cannot be blank."},
        ),
        (
            SelectField(name="tags", values=["a"], maxSelect=2, required=True),
            [],
            {"code": "validation_required", "message": "Cannot be blank."},
        ),
    ],
)
def test_validate(field: SelectField, value: object, error: object) -> None:
    err = field.validate(value)
    assert (err and err.to_dict()) == error


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        ({}, {"values": {"code": "validation_required", "message": "Cannot be blank."}}),
        (
            {"values": ["a", "b"], "maxSelect": 3},
            {
                "maxSelect": {
                    "code": "validation_max_less_equal_than_required",
                    "message": "Must be no greater than 2.",
                    "params": {"threshold": 2},
                }
            },
        ),
        (
            {"values": ["a", "b"], "maxSelect": -1},
            {
                "maxSelect": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 0.",
                    "params": {"threshold": 0},
                }
            },
        ),
        ({"values": ["a", "b"], "maxSelect": 0}, {}),
        ({"values": ["a", "a", ""]}, {}),
    ],
)
def test_option_errors(options: dict[str, object], errors: dict[str, object]) -> None:
    field = SelectField(name="s", **options)  # type: ignore[arg-type]
    assert {k: v.to_dict() for k, v in field.normalize_options().items()} == errors


@pytest.mark.parametrize(
    ("max_select", "storage", "zero", "raw", "read"),
    [
        (0, TEXT, "", "b", "b"),
        (1, TEXT, "", None, ""),
        (2, JSON, [], '["a","b"]', ["a", "b"]),
        (2, JSON, [], None, []),
        (2, JSON, [], "a", ["a"]),  # a column written while the field was single
    ],
)
def test_storage(max_select: int, storage: str, zero: object, raw: object, read: object) -> None:
    field = SelectField(name="s", values=["a", "b"], maxSelect=max_select)
    assert (field.storage, field.zero(), field.from_db(raw)) == (storage, zero, read)


def test_to_dict_keeps_max_select_zero() -> None:
    assert SelectField(name="s", values=["a"]).to_dict() == {
        "help": "",
        "hidden": False,
        "id": "select453955339",
        "maxSelect": 0,
        "name": "s",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "select",
        "values": ["a"],
    }
