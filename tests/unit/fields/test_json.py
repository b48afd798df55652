from __future__ import annotations

import pytest

from hearth.schema.fields.base import JSON
from hearth.schema.fields.json import JSONField


# Recorded from PocketBase 0.40.6: value sent -> value stored.
@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("[1,2,3]", [1, 2, 3]),
        ("abc", "abc"),
        ("plain string", "plain string"),
        ("", ""),
        ("null", None),
        ("true", True),
        ("5", 5),
        ("-5", -5),
        ("1e3", 1000),
        ('"x"', "x"),
        (" [1]", " [1]"),  # must start with the JSON itself
        ('{"a":1}', {"a": 1}),
        ("{bad", "{bad"),
        ("tru", "tru"),
        ("01", "01"),
        ("NaN", "NaN"),
        ("-", "-"),
        (5, 5),
        (None, None),
        ([], []),
        ({}, {}),
        (
            {"a": 1, "b": [True, None, "x"], "c": {"d": "e"}},
            {"a": 1, "b": [True, None, "x"], "c": {"d": "e"}},
        ),
        ([1.0, 2.5], [1, 2.5]),
    ],
)
def test_prepare(raw: object, stored: object) -> None:
    value = JSONField(name="j").prepare(raw)
    assert value == stored and type(value) is type(stored)


@pytest.mark.parametrize(
    ("options", "value", "error"),
    [
        (
            {"maxSize": 20},
            {"k": "x" * 13},
            {
                "code": "validation_json_size_limit",
                "message": "The maximum allowed JSON size is 20 bytes.",
                "params": {"maxSize": 20},
            },
        ),
        ({"maxSize": 20}, {"k": "x" * 11}, None),  # {"k":"xxxxxxxxxxx"} is 19 bytes
        ({"maxSize": 20}, "é" * 9, None),  # "éé..." is 20 bytes
        (
            {"maxSize": 20},
            "é" * 10,
            {
                "code": "validation_json_size_limit",
                "message": "The maximum allowed JSON size is 20 bytes.",
                "params": {"maxSize": 20},
            },
        ),
        (
            {},
            "x" * (1 << 20),
            {
                "code": "validation_json_size_limit",
                "message": "The maximum allowed JSON size is 1048576 bytes.",
                "params": {"maxSize": 1048576},
            },
        ),
        ({"required": True}, None, {"code": "validation_required", "message": "Cannot be blank."}),
        ({"required": True}, "", {"code": "validation_required", "message": "Cannot be blank."}),
        ({"required": True}, [], {"code": "validation_required", "message": "Cannot be blank."}),
        ({"required": True}, {}, {"code": "validation_required", "message": "Cannot be blank."}),
        ({"required": True}, 0, None),
        ({"required": True}, False, None),
        ({"required": True}, {"k": 1}, None),
    ],
)
def test_validate(options: dict[str, object], value: object, error: object) -> None:
    err = JSONField(name="j", **options).validate(value)  # type: ignore[arg-type]
    assert (err and err.to_dict()) == error


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (None, None),
        ("null", None),
        ('{"a":1}', {"a": 1}),
        ('"plain"', "plain"),
        ("5", 5),
        ("[1.0]", [1]),
        (b"[true]", [True]),
    ],
)
def test_from_db_json_text(raw: object, value: object) -> None:
    assert JSONField(name="j").from_db(raw) == value


def test_storage_and_options() -> None:
    field = JSONField(name="f_json")
    assert (field.storage, field.zero(), field.to_db({"a": 1})) == (JSON, None, {"a": 1})
    assert field.to_dict()["maxSize"] == 0
    assert {k: v.code for k, v in JSONField(name="j", maxSize=-1).normalize_options().items()} == {
        "maxSize": "validation_min_greater_equal_than_required"
    }
    assert JSONField(name="j", maxSize=2**53).normalize_options()["maxSize"].params == {
        "threshold": 2**53 - 1
    }
