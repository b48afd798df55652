from __future__ import annotations

import pytest

from hearth.schema.fields.base import JSON, TEXT
from hearth.schema.fields.relation import RelationField

USERS = "_pb_users_auth_"


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        ({}, {"collectionId": {"code": "validation_required", "message": "Cannot be blank."}}),
        (
            {"collectionId": USERS, "minSelect": -1, "maxSelect": -2},
            {
                "minSelect": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 0.",
                    "params": {"threshold": 0},
                },
                "maxSelect": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than -1.",
                    "params": {"threshold": -1},
                },
            },
        ),
        (
            {"collectionId": USERS, "minSelect": 3, "maxSelect": 2},
            {
                "maxSelect": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 3.",
                    "params": {"threshold": 3},
                }
            },
        ),
        (
            {"collectionId": USERS, "minSelect": 3, "maxSelect": 0},
            {"maxSelect": {"code": "validation_required", "message": "Cannot be blank."}},
        ),
        ({"collectionId": USERS, "maxSelect": 2**60}, {}),
        ({"collectionId": USERS, "minSelect": 1, "maxSelect": 5}, {}),
    ],
)
def test_option_errors(options: dict[str, object], errors: dict[str, object]) -> None:
    field = RelationField(name="r", **options)  # type: ignore[arg-type]
    assert {k: v.to_dict() for k, v in field.normalize_options().items()} == errors


@pytest.mark.parametrize(
    ("options", "value", "error"),
    [
        (
            {"maxSelect": 2},
            ["a", "b", "c"],
            {
                "code": "validation_too_many_values",
                "message": "Select no more than 2.",
                "params": {"maxSelect": 2},
            },
        ),
        (
            {"maxSelect": 0},
            ["a", "b"],
            {
                "code": "validation_too_many_values",
                "message": "Select no more than 1.",
                "params": {"maxSelect": 1},
            },
        ),
        (
            {"minSelect": 2, "maxSelect": 5},
            ["a"],
            {
                "code": "validation_not_enough_values",
                "message": "Select at least 2.",
                "params": {"minSelect": 2},
            },
        ),
        ({"minSelect": 2, "maxSelect": 5}, ["a", "b", "a"], None),  # two distinct ids
        ({"minSelect": 2, "maxSelect": 5}, [], None),  # empty skips minSelect unless required
        ({"required": True}, "", {"code": "validation_required", "message": "Cannot be blank."}),
        ({}, "abc", None),
    ],
)
def test_validate_counts_only(options: dict[str, object], value: object, error: object) -> None:
    field = RelationField(name="r", collectionId=USERS, **options)  # type: ignore[arg-type]
    err = field.validate(value)
    assert (err and err.to_dict()) == error


@pytest.mark.parametrize(
    ("value", "ids"),
    [("a", ["a"]), (["b", "a", "b"], ["b", "a"]), ('["x","y"]', ["x", "y"]), ("", []), (None, []), ([], [])],
)
def test_ids(value: object, ids: list[str]) -> None:
    assert RelationField(name="r", collectionId=USERS, maxSelect=5).ids(value) == ids


@pytest.mark.parametrize(
    ("max_select", "current", "modifier", "raw", "result"),
    [
        (5, ["k", "h"], "+", "u", ["k", "h", "u"]),
        (5, ["k", "h", "u"], "-", "k", ["h", "u"]),
        (5, ["h", "u"], "^", "k", ["k", "h", "u"]),
        (1, "k", "-", "h", "k"),
        (1, "k", "-", "k", ""),
        (1, "k", "+", "h", "h"),
    ],
)
def test_modifiers(max_select: int, current: object, modifier: str, raw: object, result: object) -> None:
    field = RelationField(name="r", collectionId=USERS, maxSelect=max_select)
    assert field.apply_modifier(current, modifier, raw) == result


def test_storage_and_json() -> None:
    many = RelationField(name="f_rels", collectionId="pbc_1", cascadeDelete=True, maxSelect=5)
    one = RelationField(name="f_rel", collectionId="pbc_1", maxSelect=1)
    assert (many.storage, many.zero(), one.storage, one.zero()) == (JSON, [], TEXT, "")
    assert many.to_dict() == {
        "cascadeDelete": True,
        "collectionId": "pbc_1",
        "help": "",
        "hidden": False,
        "id": "relation1514303503",
        "maxSelect": 5,
        "minSelect": 0,
        "name": "f_rels",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "relation",
    }
