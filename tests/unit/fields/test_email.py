from __future__ import annotations

import pytest

from hearth.schema.fields.email import EmailField

# Recorded from PocketBase 0.40.6.
VALID = [
    "a@b.co",
    "A@B.CO",
    "Someone@Example.com",
    "a@b.c",
    "a@b_c.co",
    "a@xn--80ak6aa92e.com",
    "ä@b.co",
    "a@ä.co",
    "a+b@c.co",
    "a@b.co.",
    "a@b.c-d",
    "a!#$%&'*+/=?^_`{|}~@b.co",
    "a@b~c.co",
    "a@b.c_d",
    "x@y.ä",
    "a\u00a0@b.co",
    "a" * 65 + "@b.co",
]
INVALID = [
    "a@b",
    "a b@c.co",
    "x@localhost",
    '"a b"@c.co',
    '"ab"@c.co',
    "a@[1.2.3.4]",
    "a@-b.co",
    "a@b..co",
    "a.@b.co",
    ".a@b.co",
    " a@b.co",
    "a@b.co ",
    "a@b.co\n",
    "a@1.2",
    "a@b.c1",
    "a..b@c.co",
    "a@b.co-",
    "a@b-.co",
    "a@@b.co",
    "a@_b.co",
    "a@b..",
    "(a)@b.co",
    "5",
    "true",
]


@pytest.mark.parametrize("value", VALID)
def test_valid(value: str) -> None:
    assert EmailField(name="e").validate(value) is None


@pytest.mark.parametrize("value", INVALID)
def test_invalid(value: str) -> None:
    err = EmailField(name="e").validate(value)
    assert err is not None and err.to_dict() == {
        "code": "validation_is_email",
        "message": "Must be a valid email address.",
    }


@pytest.mark.parametrize(
    ("options", "value", "error"),
    [
        ({"onlyDomains": ["corp.example"]}, "x@corp.example", None),
        ({"onlyDomains": ["corp.example"]}, "x@other.example", "validation_email_domain_not_allowed"),
        ({"onlyDomains": ["corp.example"]}, "x@CORP.example", "validation_email_domain_not_allowed"),
        ({"exceptDomains": ["spam.example"]}, "x@spam.example", "validation_email_domain_not_allowed"),
        ({"exceptDomains": ["spam.example"]}, "x@ok.example", None),
        ({"required": True}, "", "validation_required"),
        ({}, "", None),
    ],
)
def test_domains_and_required(options: dict[str, object], value: str, error: str | None) -> None:
    field = EmailField(name="e", **options)  # type: ignore[arg-type]
    assert field.normalize_options() == {}
    err = field.validate(value)
    assert (err and err.code) == error


@pytest.mark.parametrize(
    ("options", "errors"),
    [
        (
            {"exceptDomains": ["not a domain", "ok.com"]},
            {"exceptDomains": {"0": {"code": "validation_is_domain", "message": "Must be a valid domain."}}},
        ),
        (
            {"exceptDomains": ["a.com"], "onlyDomains": ["b.com"]},
            {
                "exceptDomains": {"code": "validation_empty", "message": "Must be blank."},
                "onlyDomains": {"code": "validation_empty", "message": "Must be blank."},
            },
        ),
        (
            {"onlyDomains": ["x"]},
            {"onlyDomains": {"0": {"code": "validation_is_domain", "message": "Must be a valid domain."}}},
        ),
        ({"onlyDomains": ["example.com", "sub.example.co.uk"]}, {}),
    ],
)
def test_option_errors(options: dict[str, object], errors: dict[str, object]) -> None:
    field = EmailField(name="e", **options)  # type: ignore[arg-type]
    assert {k: v.to_dict() for k, v in field.normalize_options().items()} == errors


@pytest.mark.parametrize(("raw", "prepared"), [("a@b.co", "a@b.co"), (5, "5"), (True, "true"), (None, "")])
def test_prepare(raw: object, prepared: str) -> None:
    assert EmailField(name="e").prepare(raw) == prepared
