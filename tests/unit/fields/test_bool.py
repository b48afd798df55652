from __future__ import annotations

import pytest

from hearth.schema.fields.base import BOOL
from hearth.schema.fields.bool import BoolField


# Recorded from PocketBase 0.40.6.
@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("t", True),
        ("T", True),
        ("1", True),
        ("0", False),
        ("false", False),
        ("f", False),
        ("F", False),
        ("yes", False),
        ("on", False),
        ("", False),
        (" true", False),
        ("2", False),
        (1, True),
        (0, False),
        (2, True),
        (0.5, True),
        (None, False),
        ([], False),
        ({}, False),
        (True, True),
    ],
)
def test_prepare(raw: object, prepared: bool) -> None:
    assert BoolField(name="b").prepare(raw) is prepared


@pytest.mark.parametrize(
    ("raw", "value"), [(None, False), (0, False), (1, True), (True, True), (False, False)]
)
def test_from_db_sqlite_and_postgres(raw: object, value: bool) -> None:
    assert BoolField(name="b").from_db(raw) is value


@pytest.mark.parametrize(
    ("required", "value", "error"),
    [(True, False, "validation_required"), (True, True, None), (False, False, None)],
)
def test_validate(required: bool, value: bool, error: str | None) -> None:
    err = BoolField(name="b", required=required).validate(value)
    assert (err and err.code) == error


def test_storage_and_json() -> None:
    field = BoolField(name="f_bool")
    assert (field.storage, field.zero(), field.to_db(1)) == (BOOL, False, True)
    assert field.to_dict() == {
        "help": "",
        "hidden": False,
        "id": "bool2716466288",
        "name": "f_bool",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "bool",
    }
