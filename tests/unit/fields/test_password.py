from __future__ import annotations

import pytest

from hearth.schema.fields.password import PasswordField

AUTH_PASSWORD = {"min": 8, "required": True, "system": True, "hidden": True}


# Recorded from PocketBase 0.40.6 (an auth collection's `password`, and `pw2` min 3 max 5 ^[a-z]+$).
@pytest.mark.parametrize(
    ("options", "value", "error"),
    [
        (
            AUTH_PASSWORD,
            "short",
            {"code": "validation_min_text_constraint", "message": "Must be at least 8 character(s)."},
        ),
        (
            AUTH_PASSWORD,
            "x" * 72,
            {"code": "validation_max_text_constraint", "message": "Must be less than 71 character(s)."},
        ),
        (AUTH_PASSWORD, "x" * 71, None),
        (
            AUTH_PASSWORD,
            "é" * 40,
            {"code": "validation_invalid_value", "message": "Invalid value."},
        ),  # 80 bytes > bcrypt's 72
        (AUTH_PASSWORD, "é" * 36, None),
        (AUTH_PASSWORD, "", {"code": "validation_required", "message": "Cannot be blank."}),
        (
            {"min": 3, "max": 5, "pattern": "^[a-z]+$"},
            "ab",
            {"code": "validation_min_text_constraint", "message": "Must be at least 3 character(s)."},
        ),
        (
            {"min": 3, "max": 5, "pattern": "^[a-z]+$"},
            "abcdef",
            {"code": "validation_max_text_constraint", "message": "Must be less than 5 character(s)."},
        ),
        (
            {"min": 3, "max": 5, "pattern": "^[a-z]+$"},
            "ABC",
            {"code": "validation_invalid_format", "message": "Invalid value format."},
        ),
        ({"min": 3, "max": 5, "pattern": "^[a-z]+$"}, "abc", None),
        ({"min": 3, "max": 5, "pattern": "^[a-z]+$"}, "", None),
    ],
)
def test_validate(options: dict[str, object], value: str, error: object) -> None:
    field = PasswordField(name="password", **options)  # type: ignore[arg-type]
    assert field.normalize_options() == {}
    err = field.validate(value)
    assert (err and err.to_dict()) == error


@pytest.mark.parametrize(("raw", "prepared"), [("secret", "secret"), (12345678, "12345678"), (None, "")])
def test_prepare_keeps_plain_text(raw: object, prepared: str) -> None:
    assert PasswordField(name="p").prepare(raw) == prepared


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        (
            {"min": 100, "max": 200, "cost": 100, "pattern": "[a-"},
            {
                "min": {
                    "code": "validation_max_less_equal_than_required",
                    "message": "Must be no greater than 71.",
                    "params": {"threshold": 71},
                },
                "max": {
                    "code": "validation_max_less_equal_than_required",
                    "message": "Must be no greater than 71.",
                    "params": {"threshold": 71},
                },
                "cost": {
                    "code": "validation_max_less_equal_than_required",
                    "message": "Must be no greater than 31.",
                    "params": {"threshold": 31},
                },
                "pattern": {
                    "code": "validation_invalid_regex",
                    "message": "Error parsing regexp: missing closing ]: `[a-`.",
                },
            },
        ),
        (
            {"min": -1, "max": -1, "cost": -1},
            {
                "min": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 1.",
                    "params": {"threshold": 1},
                },
                "cost": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 4.",
                    "params": {"threshold": 4},
                },
            },
        ),
        ({"min": 8, "cost": 4}, {}),
    ],
)
def test_option_errors(options: dict[str, object], errors: dict[str, object]) -> None:
    field = PasswordField(name="p", **options)  # type: ignore[arg-type]
    assert {k: v.to_dict() for k, v in field.normalize_options().items()} == errors


def test_never_leaks_and_hashes() -> None:
    field = PasswordField(name="password", cost=4)
    assert field.is_password is True
    assert field.from_db("$2a$10$abcdefghijklmnopqrstuuP3J5YqJ3zWb4V1G2m8bS1p0ZsYwq8e6") == ""
    hashed = field.hash("longenough")
    assert hashed.startswith("$2") and field.to_db(hashed) == hashed
    assert field.verify("longenough", hashed) and not field.verify("wrong", hashed)
    assert not field.verify("x", "") and not field.verify("x", "not a hash")


def test_to_dict() -> None:
    assert PasswordField(name="password", min=8, required=True, system=True, hidden=True).to_dict() == {
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
    }
