from __future__ import annotations

import time

import pytest

from hearth.schema.fields.url import URLField, go_url_parse, is_url

# Recorded from PocketBase 0.40.6.
VALID = [
    "https://example.com",
    "https://example.com/a?b=c",
    "http://x",
    "example.com",
    "ftp://x.y",
    "mailto:a@b.co",
    "https://localhost:8080/p",
    "http://1.2.3.4",
    "https://ex.com:99999",
    "https://ex.com/?q=<>",
    "https://ex_ample.com",
    "https://ä.com",
    "http://[::1]/",
    "https://ex.com#frag",
    "https://user:pw@ex.com",
    "http://ok.example/p?q=1",
]
INVALID = [
    "https://a b.com",
    "https://ex.com/a b",
    "//ex.com",
    "javascript:alert(1)",
    "x://y.z",
    "ab",
    ".example.com",
]


@pytest.mark.parametrize("value", VALID)
def test_valid(value: str) -> None:
    assert URLField(name="u").validate(value) is None


@pytest.mark.parametrize("value", INVALID)
def test_invalid(value: str) -> None:
    err = URLField(name="u").validate(value)
    assert err is not None and err.to_dict() == {
        "code": "validation_invalid_url",
        "message": "Must be a valid url.",
    }


@pytest.mark.parametrize(
    ("options", "value", "error"),
    [
        ({"exceptDomains": ["bad.example"]}, "https://bad.example/x", "validation_url_domain_not_allowed"),
        ({"exceptDomains": ["bad.example"]}, "https://good.example", None),
        ({"onlyDomains": ["good.example"]}, "https://good.example", None),
        (
            {"onlyDomains": ["good.example"]},
            "https://good.example:8080",
            "validation_url_domain_not_allowed",
        ),  # Go's Host has the port
        (
            {"onlyDomains": ["good.example"]},
            "good.example",
            "validation_url_domain_not_allowed",
        ),  # no scheme: no host
        ({"required": True}, "", "validation_required"),
    ],
)
def test_domains(options: dict[str, object], value: str, error: str | None) -> None:
    field = URLField(name="u", **options)  # type: ignore[arg-type]
    assert field.normalize_options() == {}
    err = field.validate(value)
    assert (err and err.code) == error


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("https://user@Ex.com:80/p?q#f", ("https", "Ex.com:80", "/p")),
        ("mailto:a@b.co", ("mailto", "", "")),
        ("a:b", ("a", "", "")),  # opaque
        ("1a:b", None),  # no scheme, and a colon in the first path segment
        ("http://a b/", None),
        ("http://ex.com:8x/", None),
        ("http://ex.com/%zz", None),
    ],
)
def test_go_url_parse(raw: str, parsed: tuple[str, str, str] | None) -> None:
    assert go_url_parse(raw) == (None if parsed is None else tuple(parsed))


def test_hostile_input_is_fast() -> None:
    started = time.monotonic()
    for value in (
        "http://" + "a" * 2000 + "!",
        "http://" + "a-" * 1000 + "!",
        "https://" + "a." * 1000 + "/ x",
    ):
        assert is_url(value) is False
    assert time.monotonic() - started < 5
