from __future__ import annotations

import re

import pytest

from hearth.schema.fields.autodate import AutodateField


def test_json_has_no_required_or_help() -> None:
    assert AutodateField(name="updated", onUpdate=True).to_dict() == {
        "hidden": False,
        "id": "autodate3332085495",
        "name": "updated",
        "onCreate": True,
        "onUpdate": True,
        "presentable": False,
        "system": False,
        "type": "autodate",
    }


def test_defaults() -> None:
    assert AutodateField(name="created").options == {"onCreate": True, "onUpdate": False}


def test_both_off_is_an_error() -> None:
    errors = AutodateField(name="x", onCreate=False, onUpdate=False).normalize_options()
    expected = {"code": "validation_required", "message": "Either onCreate or onUpdate must be enabled."}
    assert {k: v.to_dict() for k, v in errors.items()} == {"onCreate": expected, "onUpdate": expected}


@pytest.mark.parametrize("raw", ["2024-01-02", "", None, 5])
def test_input_is_ignored(raw: object) -> None:
    field = AutodateField(name="created")
    assert field.prepare(raw) == ""
    assert field.validate(field.prepare(raw)) is None


@pytest.mark.parametrize(
    ("options", "creating", "stamped"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"onUpdate": True}, False, True),
        ({"onCreate": False, "onUpdate": True}, True, False),
    ],
)
def test_stamp(options: dict[str, bool], creating: bool, stamped: bool) -> None:
    value = AutodateField(name="x", **options).stamp(creating=creating, current="2020-01-01 00:00:00.000Z")  # type: ignore[arg-type]
    if stamped:
        assert (
            re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z", value)
            and value != "2020-01-01 00:00:00.000Z"
        )
    else:
        assert value == "2020-01-01 00:00:00.000Z"


def test_from_db() -> None:
    field = AutodateField(name="created")
    assert [field.from_db(None), field.from_db("2024-01-02 03:04:05.000Z")] == [
        "",
        "2024-01-02 03:04:05.000Z",
    ]
