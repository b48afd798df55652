from __future__ import annotations

import pytest

from hearth.schema.fields.base import JSON, TEXT
from hearth.schema.fields.file import FileField, file_names


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        (
            {"maxSelect": -1, "maxSize": -1},
            {
                "maxSelect": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 0.",
                    "params": {"threshold": 0},
                },
                "maxSize": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 0.",
                    "params": {"threshold": 0},
                },
            },
        ),
        (
            {"maxSelect": 2**53, "maxSize": 2**53},
            {
                "maxSelect": {
                    "code": "validation_max_less_equal_than_required",
                    "message": "Must be no greater than 9007199254740991.",
                    "params": {"threshold": 9007199254740991},
                },
                "maxSize": {
                    "code": "validation_max_less_equal_than_required",
                    "message": "Must be no greater than 9007199254740991.",
                    "params": {"threshold": 9007199254740991},
                },
            },
        ),
        (
            {"thumbs": ["100x100", "0x0", "abc", "0x300", "200x200f", ""]},
            {
                "thumbs": {
                    "1": {"code": "validation_not_in_invalid", "message": "Must not be in list."},
                    "2": {"code": "validation_match_invalid", "message": "Must be in a valid format."},
                }
            },
        ),
        ({"maxSelect": 4, "maxSize": 1048576, "mimeTypes": ["text/plain"], "thumbs": ["100x100"]}, {}),
    ],
)
def test_option_errors(options: dict[str, object], errors: dict[str, object]) -> None:
    field = FileField(name="f", **options)  # type: ignore[arg-type]
    assert {k: v.to_dict() for k, v in field.normalize_options().items()} == errors


@pytest.mark.parametrize(
    ("max_select", "value", "error"),
    [
        (
            2,
            ["a.txt", "b.txt", "c.txt"],
            {
                "code": "validation_too_many_files",
                "message": "The maximum allowed files is 2.",
                "params": {"maxSelect": 2},
            },
        ),
        (2, ["a.txt", "b.txt", "a.txt"], None),
        (0, "a.txt", None),
        (
            0,
            ["a.txt", "b.txt"],
            {
                "code": "validation_too_many_files",
                "message": "The maximum allowed files is 1.",
                "params": {"maxSelect": 1},
            },
        ),
    ],
)
def test_validate(max_select: int, value: object, error: object) -> None:
    # The names are the record's own: only their count is checked.
    err = FileField(name="f", maxSelect=max_select).validate(value, existing=["a.txt", "b.txt", "c.txt"])
    assert (err and err.to_dict()) == error


def test_required() -> None:
    err = FileField(name="f", required=True, maxSelect=3).validate([])
    assert err is not None and err.code == "validation_required"


@pytest.mark.parametrize(
    ("max_select", "value", "existing", "invalid"),
    [
        (1, "made_up.pdf", (), ["made_up.pdf"]),
        (3, ["a", "b", "a", "c", "d"], ["b"], ["a", "c", "d"]),  # before maxSelect, as PocketBase
        (1, ["a", "b"], ["a"], ["b"]),  # a single field keeps the last name
        (3, ["kept.txt"], ["kept.txt", "gone.txt"], None),
        (3, [], ["kept.txt"], None),
        (3, [5, True, "x"], (), ["5", "true", "x"]),
    ],
)
def test_names_that_are_not_the_records_own_are_invalid(
    max_select: int, value: object, existing: list[str], invalid: list[str] | None
) -> None:
    err = FileField(name="f", maxSelect=max_select).validate(value, existing)
    if invalid is None:
        assert err is None
    else:
        assert err is not None and err.to_dict() == {
            "code": "validation_invalid_file",
            "message": f"Invalid new files: [{' '.join(invalid)}].",
            "params": {"invalidFiles": invalid},
        }


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ([5, True, "a"], ["5", "true", "a"]),
        ([["a"], "b", ["a"]], ["a", "b"]),
        ([{"x": 1}, None, "", "a"], ["a"]),
        ({"a": 1}, []),
        (False, ["false"]),
        (" ", [" "]),
        ('["a", 1]', ["a"]),
        ("[]", []),
        ("a,b", ["a,b"]),
        ("a[b", ["a[b"]),
    ],
)
def test_file_names(raw: object, names: list[str]) -> None:
    """As the real PocketBase 0.40.6 reads them (its invalidFiles lists)."""
    assert file_names(raw) == names


@pytest.mark.parametrize(
    ("max_select", "raw", "prepared"),
    [
        (1, ["a.png", "b.png"], "b.png"),
        (3, "a.png", ["a.png"]),
        (3, ["a.png", "a.png", ""], ["a.png"]),
        (1, None, ""),
    ],
)
def test_prepare(max_select: int, raw: object, prepared: object) -> None:
    assert FileField(name="f", maxSelect=max_select).prepare(raw) == prepared


def test_modifiers() -> None:
    field = FileField(name="f", maxSelect=3)
    assert field.apply_modifier(["a.png", "b.png"], "-", "a.png") == ["b.png"]
    assert field.apply_modifier(["b.png"], "^", "c.png") == ["c.png", "b.png"]


def test_storage_and_json() -> None:
    field = FileField(
        name="f_files",
        maxSelect=4,
        maxSize=1048576,
        mimeTypes=["text/plain", "image/png"],
        thumbs=["100x100"],
    )
    assert field.normalize_options() == {}
    assert (field.storage, field.zero(), field.max_size) == (JSON, [], 1048576)
    assert (FileField(name="x").storage, FileField(name="x").max_size) == (TEXT, 5 << 20)
    assert field.to_dict() == {
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
    }
