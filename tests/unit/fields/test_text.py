from __future__ import annotations

import re
import time

import pytest

from hearth.schema.fields.base import TEXT
from hearth.schema.fields.text import RegexError, TextField, compile_pattern

ID_FIELD = {
    "autogeneratePattern": "[a-z0-9]{15}",
    "max": 15,
    "min": 15,
    "pattern": "^[a-z0-9]+$",
    "primaryKey": True,
    "required": True,
    "system": True,
}


def text(name: str = "t", **options: object) -> TextField:
    field = TextField(name=name, **options)  # type: ignore[arg-type]
    assert field.normalize_options() == {}
    return field


def code(err: object) -> object:
    return None if err is None else err.to_dict()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        ("x", "x"),
        ("Hello  world ", "Hello  world "),
        (5, "5"),
        (5.5, "5.5"),
        (1e21, "1000000000000000000000"),
        (1e-7, "0.0000001"),
        (12345678901234567890, "12345678901234567000"),  # JSON numbers are float64 in Go
        (-0.0, "-0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (True, "true"),
        (None, ""),
        ([1], ""),
        ({"a": 1}, ""),
    ],
)
def test_prepare(raw: object, prepared: str) -> None:
    assert text().prepare(raw) == prepared


@pytest.mark.parametrize(
    ("options", "value", "error"),
    [
        (
            {"min": 3, "max": 5},
            "ab",
            {
                "code": "validation_min_text_constraint",
                "message": "Must be at least 3 character(s).",
                "params": {"min": 3},
            },
        ),
        (
            {"min": 3, "max": 5},
            "abcdef",
            {
                "code": "validation_max_text_constraint",
                "message": "Must be no more than 5 character(s).",
                "params": {"max": 5},
            },
        ),
        ({"min": 3, "max": 5}, "abc", None),
        ({"min": 3, "max": 5}, "", None),  # blank optional values skip min
        ({"min": 3, "max": 5}, "ééé", None),  # characters, not bytes
        ({}, "x" * 5000, None),
        (
            {},
            "x" * 5001,
            {
                "code": "validation_max_text_constraint",
                "message": "Must be no more than 5000 character(s).",
                "params": {"max": 5000},
            },
        ),
        ({"required": True}, "", {"code": "validation_required", "message": "Cannot be blank."}),
        ({"required": True}, " ", None),
        ({"pattern": "^[a-z0-9-]+$"}, "my-slug-1", None),
        (
            {"pattern": "^[a-z0-9-]+$"},
            "My-Slug",
            {"code": "validation_invalid_format", "message": "Invalid value format."},
        ),
        ({"pattern": "^[a-z0-9-]+$"}, "", None),  # empty optional value skips the pattern
        (
            {"pattern": "^[a-z]+$"},
            "abc\n",
            {"code": "validation_invalid_format", "message": "Invalid value format."},
        ),  # Go's $ is end of text
        ({"pattern": "^\\d{5}$"}, "12345", None),
        (
            {"pattern": "^\\d{5}$"},
            "１２３４５",
            {"code": "validation_invalid_format", "message": "Invalid value format."},
        ),  # \d is ASCII in Go
    ],
)
def test_validate(options: dict[str, object], value: str, error: dict[str, object] | None) -> None:
    assert code(text(**options).validate(value)) == error


def test_id_field() -> None:
    field = text("id", **ID_FIELD)
    assert field.storage == TEXT and field.zero() == ""
    generated = field.generate()
    assert generated is not None and re.fullmatch("[a-z0-9]{15}", generated)
    assert field.validate(generated) is None
    assert code(field.validate("abc")) == {
        "code": "validation_min_text_constraint",
        "message": "Must be at least 15 character(s).",
        "params": {"min": 15},
    }
    assert code(field.validate("ABCDEFGHIJKLMNO"))["code"] == "validation_invalid_format"  # type: ignore[index]
    assert code(field.validate(""))["code"] == "validation_required"  # type: ignore[index]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (
            "ab.cd",
            {
                "code": "validation_forbidden_pk_character",
                "message": "'.' is not a valid primary key character.",
                "params": {"ch": "."},
            },
        ),
        (
            "con",
            {
                "code": "validation_reserved_pk",
                "message": "The primary key 'CON' is reserved and cannot be used.",
                "params": {"reserved": "CON"},
            },
        ),
        (
            "Lpt1",
            {
                "code": "validation_reserved_pk",
                "message": "The primary key 'LPT1' is reserved and cannot be used.",
                "params": {"reserved": "LPT1"},
            },
        ),
        ("console", None),
    ],
)
def test_custom_primary_key_characters(value: str, error: dict[str, object] | None) -> None:
    field = text("id", **{**ID_FIELD, "pattern": "^.+$", "min": 0, "max": 0, "autogeneratePattern": ""})
    assert code(field.validate(value)) == error


@pytest.mark.parametrize(
    ("pattern", "length_re"),
    [
        ("[a-z0-9]{15}", "[a-z0-9]{15}"),
        ("[a-zA-Z0-9]{50}", "[a-zA-Z0-9]{50}"),
        ("ab(c|d)x{2,4}", "ab[cd]x{2,3}"),
        ("\\d\\w", "[0-9][0-9A-Za-z_]"),
    ],
)
def test_generate(pattern: str, length_re: str) -> None:
    field = text(autogeneratePattern=pattern)
    for _ in range(20):
        assert re.fullmatch(length_re, field.generate() or "")


def test_generate_without_pattern() -> None:
    assert text().generate() is None


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        (
            {"min": 5, "max": 3},
            {
                "max": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 5.",
                    "params": {"threshold": 5},
                }
            },
        ),
        (
            {"min": -1, "max": -3},
            {
                "min": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than 0.",
                    "params": {"threshold": 0},
                },
                "max": {
                    "code": "validation_min_greater_equal_than_required",
                    "message": "Must be no less than -1.",
                    "params": {"threshold": -1},
                },
            },
        ),
        (
            {"max": 2**53},
            {
                "max": {
                    "code": "validation_max_less_equal_than_required",
                    "message": "Must be no greater than 9007199254740991.",
                    "params": {"threshold": 9007199254740991},
                }
            },
        ),
        (
            {"pattern": "[a-"},
            {
                "pattern": {
                    "code": "validation_invalid_regex",
                    "message": "Error parsing regexp: missing closing ]: `[a-`.",
                }
            },
        ),
        (
            {"pattern": "(?=a)b"},
            {
                "pattern": {
                    "code": "validation_invalid_regex",
                    "message": "Error parsing regexp: invalid or unsupported Perl syntax: `(?=`.",
                }
            },
        ),
        (
            {"autogeneratePattern": "^[a-z]{3}$"},
            {
                "autogeneratePattern": {
                    "code": "validation_invalid_autogenerate_pattern",
                    "message": "Unsupported pattern operator 9.",
                }
            },
        ),
        ({"min": 0, "max": 0}, {}),
    ],
)
def test_option_errors(options: dict[str, object], errors: dict[str, object]) -> None:
    field = TextField(name="t", **options)  # type: ignore[arg-type]
    assert {k: v.to_dict() for k, v in field.normalize_options().items()} == errors


def test_autogenerate_conflicting_with_max() -> None:
    field = TextField(name="t", autogeneratePattern="[a-z]{3}", max=2)
    err = field.normalize_options()["autogeneratePattern"]
    assert err.code == "validation_invalid_autogenerate_pattern_value"
    assert err.message.startswith(
        "The provided autogenerate pattern could produce invalid field values, ex.: "
    )


def test_primary_key_options() -> None:
    field = TextField(name="pk", primaryKey=True, hidden=True)
    errors = {k: v.code for k, v in field.normalize_options().items()}
    assert errors == {
        "name": "validation_in_invalid",
        "pattern": "validation_required",
        "hidden": "validation_empty",
        "required": "validation_required",
    }


def test_to_dict_is_pocketbase_json() -> None:
    assert text(max=50).to_dict() == {
        "autogeneratePattern": "",
        "help": "",
        "hidden": False,
        "id": "text2238339752",  # PocketBase: "text" + crc32("t")
        "max": 50,
        "min": 0,
        "name": "t",
        "pattern": "",
        "presentable": False,
        "primaryKey": False,
        "required": False,
        "system": False,
        "type": "text",
    }


def test_from_db() -> None:
    assert [text().from_db(v) for v in (None, "abc")] == ["", "abc"]


# ----- the Go-regexp engine -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("a|b", "xxb", True),
        ("(?i)^abc$", "ABC", True),
        ("\\bfoo\\b", "a foo b", True),
        ("\\bfoo\\b", "afoob", False),
        ("^$", "", True),
        ("(?m)^b$", "a\nb\nc", True),
        ("^.$", "\n", False),
        ("(?s)^.$", "\n", True),
        ("^[^a]$", "\n", True),
        ("^[[:alpha:]]+\\z", "abc", True),
        ("^\\x{41}$", "A", True),
        ("(?<n>a)b", "ab", True),
        ("(?U)^a+?$", "aaa", True),
        ("^\\Qa.b\\E$", "a.b", True),
        ("^\\Qa.b\\E$", "axb", False),
        ("^(a+)+$", "a" * 5000 + "!", False),
    ],
)
def test_go_regex_search(pattern: str, value: str, matches: bool) -> None:
    assert compile_pattern(pattern).search(value) is matches


def test_go_regex_is_linear_on_catastrophic_patterns() -> None:
    started = time.monotonic()
    for pattern in ("^(a+)+$", "^(a|a)*$", "^(([a-z]+-?-?)*[a-z]+)$", "^\\d+\\d+\\d+x$"):
        assert compile_pattern(pattern).search("a" * 3000 + "!") is False
        assert compile_pattern(pattern).search("1" * 3000 + "!") is False
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(a", "error parsing regexp: missing closing ): `(a`"),
        ("a)", "error parsing regexp: unexpected ): `a)`"),
        ("*a", "error parsing regexp: missing argument to repetition operator: `*`"),
        ("a**", "error parsing regexp: invalid nested repetition operator: `**`"),
        ("[z-a]", "error parsing regexp: invalid character class range: `z-a`"),
        ("\\q", "error parsing regexp: invalid escape sequence: `\\q`"),
        ("a{1001}", "error parsing regexp: invalid repeat count: `{1001}`"),
        ("(a)\\1", "error parsing regexp: invalid escape sequence: `\\1`"),
        ("(?<=a)b", "error parsing regexp: invalid or unsupported Perl syntax: `(?<=`"),
        ("a++", "error parsing regexp: invalid nested repetition operator: `++`"),
        ("a\\Z", "error parsing regexp: invalid escape sequence: `\\Z`"),
    ],
)
def test_go_regex_rejects_what_go_rejects(pattern: str, message: str) -> None:
    with pytest.raises(RegexError) as exc:
        compile_pattern(pattern)
    assert str(exc.value) == message
