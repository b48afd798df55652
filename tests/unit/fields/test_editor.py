from __future__ import annotations

import pytest

from hearth.schema.fields.editor import EditorField


@pytest.mark.parametrize(
    ("options", "value", "error"),
    [
        ({"maxSize": 20}, "x" * 20, None),
        (
            {"maxSize": 20},
            "x" * 21,
            {
                "code": "validation_content_size_limit",
                "message": "The maximum allowed content size is 20 bytes.",
                "params": {"maxSize": 20},
            },
        ),
        (
            {"maxSize": 20},
            "é" * 11,
            {
                "code": "validation_content_size_limit",
                "message": "The maximum allowed content size is 20 bytes.",
                "params": {"maxSize": 20},
            },
        ),  # bytes, not characters
        ({}, "x" * (5 << 20), None),
        (
            {},
            "x" * ((5 << 20) + 1),
            {
                "code": "validation_content_size_limit",
                "message": "The maximum allowed content size is 5242880 bytes.",
                "params": {"maxSize": 5242880},
            },
        ),
        ({"required": True}, "", {"code": "validation_required", "message": "Cannot be blank."}),
    ],
)
def test_validate(options: dict[str, object], value: str, error: object) -> None:
    field = EditorField(name="body", **options)  # type: ignore[arg-type]
    assert field.normalize_options() == {}
    err = field.validate(value)
    assert (err and err.to_dict()) == error


@pytest.mark.parametrize(("raw", "prepared"), [("<p>Hi</p>", "<p>Hi</p>"), (None, ""), (5, "5"), ([1], "")])
def test_prepare(raw: object, prepared: str) -> None:
    assert EditorField(name="e").prepare(raw) == prepared


def test_options() -> None:
    field = EditorField(name="e", maxSize=-1)
    assert field.normalize_options()["maxSize"].to_dict() == {
        "code": "validation_min_greater_equal_than_required",
        "message": "Must be no less than 0.",
        "params": {"threshold": 0},
    }
    assert EditorField(name="f_editor").to_dict() == {
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
    }
