from __future__ import annotations

from typing import Any

import pytest

from hearth.schema.fields import FIELD_TYPES, FieldLoadError, OptionError, field_from_dict
from hearth.schema.fields.base import LOAD_FAILED_MESSAGE

# Field JSON exactly as PocketBase 0.40.6 returned it (collection_all_field_types + an auth scaffold).
POCKETBASE_FIELDS: list[dict[str, Any]] = [
    {
        "autogeneratePattern": "[a-z0-9]{15}",
        "help": "",
        "hidden": False,
        "id": "text3208210256",
        "max": 15,
        "min": 15,
        "name": "id",
        "pattern": "^[a-z0-9]+$",
        "presentable": False,
        "primaryKey": True,
        "required": True,
        "system": True,
        "type": "text",
    },
    {
        "autogeneratePattern": "",
        "help": "",
        "hidden": False,
        "id": "text3487788325",
        "max": 50,
        "min": 0,
        "name": "f_text",
        "pattern": "",
        "presentable": False,
        "primaryKey": False,
        "required": False,
        "system": False,
        "type": "text",
    },
    {
        "help": "",
        "hidden": False,
        "id": "number2171163132",
        "max": 100,
        "min": -100,
        "name": "f_number",
        "onlyInt": False,
        "presentable": False,
        "required": False,
        "system": False,
        "type": "number",
    },
    {
        "help": "",
        "hidden": False,
        "id": "bool2716466288",
        "name": "f_bool",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "bool",
    },
    {
        "exceptDomains": [],
        "help": "",
        "hidden": False,
        "id": "email2841810922",
        "name": "f_email",
        "onlyDomains": [],
        "presentable": False,
        "required": False,
        "system": False,
        "type": "email",
    },
    {
        "exceptDomains": [],
        "help": "",
        "hidden": False,
        "id": "url1208612536",
        "name": "f_url",
        "onlyDomains": [],
        "presentable": False,
        "required": False,
        "system": False,
        "type": "url",
    },
    {
        "convertURLs": False,
        "help": "",
        "hidden": False,
        "id": "editor3674783506",
        "maxSize": 0,
        "name": "f_editor",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "editor",
    },
    {
        "help": "",
        "hidden": False,
        "id": "date1593245080",
        "max": "",
        "min": "",
        "name": "f_date",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "date",
    },
    {
        "help": "",
        "hidden": False,
        "id": "select1544266856",
        "maxSelect": 1,
        "name": "f_select",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "select",
        "values": ["a", "b", "c"],
    },
    {
        "help": "",
        "hidden": False,
        "id": "select318684176",
        "maxSelect": 3,
        "name": "f_multiselect",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "select",
        "values": ["x", "y", "z"],
    },
    {
        "help": "",
        "hidden": False,
        "id": "json2674913191",
        "maxSize": 0,
        "name": "f_json",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "json",
    },
    {
        "cascadeDelete": False,
        "collectionId": "pbc_1234567890",
        "help": "",
        "hidden": False,
        "id": "relation1220895915",
        "maxSelect": 1,
        "minSelect": 0,
        "name": "f_rel",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "relation",
    },
    {
        "cascadeDelete": True,
        "collectionId": "pbc_1234567890",
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
    },
    {
        "help": "",
        "hidden": False,
        "id": "file2029518066",
        "maxSelect": 1,
        "maxSize": 1048576,
        "mimeTypes": [],
        "name": "f_file",
        "presentable": False,
        "protected": False,
        "required": False,
        "system": False,
        "thumbs": [],
        "type": "file",
    },
    {
        "help": "",
        "hidden": False,
        "id": "file1220914119",
        "maxSelect": 4,
        "maxSize": 1048576,
        "mimeTypes": ["text/plain", "image/png"],
        "name": "f_files",
        "presentable": False,
        "protected": False,
        "required": False,
        "system": False,
        "thumbs": ["100x100"],
        "type": "file",
    },
    {
        "help": "",
        "hidden": False,
        "id": "geoPoint3407959178",
        "name": "f_geo",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "geoPoint",
    },
    {
        "hidden": False,
        "id": "autodate2990389176",
        "name": "created",
        "onCreate": True,
        "onUpdate": False,
        "presentable": False,
        "system": False,
        "type": "autodate",
    },
    {
        "hidden": False,
        "id": "autodate3332085495",
        "name": "updated",
        "onCreate": True,
        "onUpdate": True,
        "presentable": False,
        "system": False,
        "type": "autodate",
    },
    {
        "autogeneratePattern": "[a-zA-Z0-9]{50}",
        "help": "",
        "hidden": True,
        "id": "text2504183744",
        "max": 60,
        "min": 30,
        "name": "tokenKey",
        "pattern": "",
        "presentable": False,
        "primaryKey": False,
        "required": True,
        "system": True,
        "type": "text",
    },
    {
        "exceptDomains": [],
        "help": "",
        "hidden": False,
        "id": "email3885137012",
        "name": "email",
        "onlyDomains": [],
        "presentable": False,
        "required": True,
        "system": True,
        "type": "email",
    },
    {
        "help": "",
        "hidden": False,
        "id": "bool1547992806",
        "name": "emailVisibility",
        "presentable": False,
        "required": False,
        "system": True,
        "type": "bool",
    },
    {
        "help": "",
        "hidden": False,
        "id": "bool256245529",
        "name": "verified",
        "presentable": False,
        "required": False,
        "system": True,
        "type": "bool",
    },
    {
        "cost": 0,
        "help": "",
        "hidden": True,
        "id": "password901924565",
        "max": 0,
        "min": 8,
        "name": "password",
        "pattern": "",
        "presentable": False,
        "required": True,
        "system": True,
        "type": "password",
    },
]


def test_field_types() -> None:
    assert sorted(FIELD_TYPES) == sorted(
        [
            "text",
            "number",
            "bool",
            "email",
            "url",
            "editor",
            "date",
            "autodate",
            "select",
            "file",
            "relation",
            "json",
            "geoPoint",
            "password",
        ]
    )
    assert all(cls.type == name for name, cls in FIELD_TYPES.items())


@pytest.mark.parametrize("data", POCKETBASE_FIELDS, ids=[f["name"] for f in POCKETBASE_FIELDS])
def test_round_trip_is_pocketbase_json(data: dict[str, Any]) -> None:
    field = field_from_dict(data)
    assert field.to_dict() == data
    assert list(field.to_dict()) == sorted(data)  # PocketBase's key order


def test_defaults_and_ignored_keys() -> None:
    field = field_from_dict({"name": "a", "type": "bool", "foo": 1, "min": 3})
    assert field.to_dict() == {
        "help": "",
        "hidden": False,
        "id": "bool3904355907",
        "name": "a",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "bool",
    }


@pytest.mark.parametrize(
    ("data", "options"),
    [
        ({"type": "select", "values": ["a"]}, {"maxSelect": 0, "values": ["a"]}),
        (
            {"type": "relation", "collectionId": "x"},
            {"cascadeDelete": False, "collectionId": "x", "maxSelect": 0, "minSelect": 0},
        ),
        ({"type": "file"}, {"maxSelect": 0, "maxSize": 0, "mimeTypes": [], "protected": False, "thumbs": []}),
        (
            {"type": "text", "min": None, "max": None, "pattern": None},
            {"autogeneratePattern": "", "max": 0, "min": 0, "pattern": "", "primaryKey": False},
        ),
        ({"type": "number", "min": None}, {"max": None, "min": None, "onlyInt": False}),
        ({"type": "number", "min": 1.0, "max": 2.5}, {"max": 2.5, "min": 1, "onlyInt": False}),
        ({"type": "email", "onlyDomains": None}, {"exceptDomains": [], "onlyDomains": []}),
        ({"type": "email", "onlyDomains": [None]}, {"exceptDomains": [], "onlyDomains": [""]}),
        ({"type": "date", "min": None}, {"max": "", "min": ""}),
        (
            {"type": "date", "min": "2020-01-01T10:00:00+02:00"},
            {"max": "", "min": "2020-01-01 08:00:00.000Z"},
        ),
        ({"type": "select", "values": ["a", "a", ""]}, {"maxSelect": 0, "values": ["a", "a", ""]}),
    ],
)
def test_option_decoding(data: dict[str, Any], options: dict[str, Any]) -> None:
    assert field_from_dict({"name": "x", **data}).options == options


def test_autodate_ignores_required_and_help() -> None:
    field = field_from_dict({"name": "created", "type": "autodate", "required": True, "help": "h"})
    assert "required" not in field.to_dict() and "help" not in field.to_dict() and field.required is False


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("a b", {"code": "validation_match_invalid", "message": "Must be in a valid format."}),
        ("é", {"code": "validation_match_invalid", "message": "Must be in a valid format."}),  # \w is ASCII
        ("", {"code": "validation_required", "message": "Cannot be blank."}),
        (None, {"code": "validation_required", "message": "Cannot be blank."}),
        ("expand", {"code": "validation_not_in_invalid", "message": "Must not be in list."}),
        ("collectionId", {"code": "validation_not_in_invalid", "message": "Must not be in list."}),
        ("null", {"code": "validation_not_in_invalid", "message": "Must not be in list."}),
        ("_rowid_", {"code": "validation_not_in_invalid", "message": "Must not be in list."}),
        ("a_via_b", {"code": "validation_found_via", "message": 'The value cannot contain "_via_".'}),
        ("a_VIA_b", {"code": "validation_found_via", "message": 'The value cannot contain "_via_".'}),
        (
            "a" * 101,
            {
                "code": "validation_length_out_of_range",
                "message": "The length must be between 1 and 100.",
                "params": {"max": 100, "min": 1},
            },
        ),
        ("a" * 100, None),
        ("NULL", None),
    ],
)
def test_name_rules(name: str | None, error: dict[str, Any] | None) -> None:
    data = {"name": name, "type": "text"}
    if error is None:
        assert field_from_dict(data).name == name
        return
    with pytest.raises(OptionError) as exc:
        field_from_dict(data)
    assert {k: v.to_dict() for k, v in exc.value.errors.items()} == {"name": error}


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"id": "a" * 101},
            {
                "id": {
                    "code": "validation_length_out_of_range",
                    "message": "The length must be between 1 and 100.",
                    "params": {"max": 100, "min": 1},
                }
            },
        ),
        (
            {"help": "x" * 301},
            {
                "help": {
                    "code": "validation_length_out_of_range",
                    "message": "The length must be between 1 and 300.",
                    "params": {"max": 300, "min": 1},
                }
            },
        ),
        (
            {"name": "a b", "min": 5, "max": 3},
            {
                "name": {"code": "validation_match_invalid", "message": "Must be in a valid format."},
                "max": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 5.",
                    "params": {"threshold": 5},
                },
            },
        ),
        (
            {"name": "pk", "primaryKey": True, "pattern": "^x$", "required": True},
            {"name": {"code": "validation_in_invalid", "message": 'The primary key must be named "id".'}},
        ),
        (
            {"name": "expand", "primaryKey": True, "pattern": "^x$", "required": True},
            {"name": {"code": "validation_not_in_invalid", "message": "Must not be in list."}},
        ),
    ],
)
def test_common_and_option_errors(data: dict[str, Any], errors: dict[str, Any]) -> None:
    with pytest.raises(OptionError) as exc:
        field_from_dict({"name": "t", "type": "text", **data})
    assert not isinstance(exc.value, FieldLoadError)
    assert {k: v.to_dict() for k, v in exc.value.errors.items()} == errors


def test_empty_id_gets_the_checksum_id() -> None:
    assert field_from_dict({"name": "x", "type": "bool", "id": ""}).id == "bool2363233923"


# PocketBase answers all of these with 400 "Failed to load the submitted data due to invalid formatting."
@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"name": "a", "type": "nope"}, "type"),
        ({"name": "a"}, "type"),
        ({"name": "a", "type": 5}, "type"),
        ({"name": "x", "type": "json", "maxSize": 2.0}, "maxSize"),
        ({"name": "x", "type": "json", "maxSize": "2"}, "maxSize"),
        ({"name": "x", "type": "text", "min": "3"}, "min"),
        ({"name": "x", "type": "relation", "collectionId": "c", "maxSelect": 2.5}, "maxSelect"),
        ({"name": "x", "type": "relation", "collectionId": "c", "maxSelect": 2**64}, "maxSelect"),
        ({"name": "x", "type": "date", "min": 5}, "min"),
        ({"name": "x", "type": "number", "min": "1"}, "min"),
        ({"name": "x", "type": "bool", "hidden": "true"}, "hidden"),
        ({"name": "x", "type": "bool", "hidden": 1}, "hidden"),
        ({"name": 5, "type": "bool"}, "name"),
        ({"name": "x", "type": "bool", "id": 5}, "id"),
        ({"name": "x", "type": "select", "values": "a"}, "values"),
        ({"name": "x", "type": "select", "values": ["a", 1]}, "values"),
    ],
)
def test_load_errors(data: dict[str, Any], key: str) -> None:
    with pytest.raises(FieldLoadError) as exc:
        field_from_dict(data)
    assert list(exc.value.errors) == [key]
    assert isinstance(exc.value, OptionError)
    assert LOAD_FAILED_MESSAGE == "Failed to load the submitted data due to invalid formatting."


def test_unknown_type_error_shape() -> None:
    with pytest.raises(OptionError) as exc:
        field_from_dict({"name": "a", "type": "nope"})
    assert {k: v.to_dict() for k, v in exc.value.errors.items()} == {
        "type": {"code": "validation_in_invalid", "message": "Must be a valid value."}
    }
