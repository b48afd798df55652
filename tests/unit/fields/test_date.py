from __future__ import annotations

import datetime as dt

import pytest

from hearth.schema.fields.date import DateField, parse_date

# Recorded from PocketBase 0.40.6: value sent -> value stored.
PARSED = [
    ("2024-01-02", "2024-01-02 00:00:00.000Z"),
    ("2024-01-02 03:04:05", "2024-01-02 03:04:05.000Z"),
    ("2024-01-02 03:04:05.000Z", "2024-01-02 03:04:05.000Z"),
    ("2024-01-02T03:04:05Z", "2024-01-02 03:04:05.000Z"),
    ("2024-01-02T03:04:05.123456+02:00", "2024-01-02 01:04:05.123Z"),
    ("2024-01-02 03:04:05.1Z", "2024-01-02 03:04:05.100Z"),
    ("2024-01-02 03:04:05.12345Z", "2024-01-02 03:04:05.123Z"),
    ("2024-01-02 03:04:05,5", "2024-01-02 03:04:05.500Z"),
    ("2024-01-02T03:04:05", "2024-01-02 03:04:05.000Z"),
    ("2024-01-02T3:04:05Z", "2024-01-02 03:04:05.000Z"),
    ("2024-01-02 03:04:05+0200", "2024-01-02 01:04:05.000Z"),
    ("2024-01-02 03:04:05 +02:00", "2024-01-02 01:04:05.000Z"),
    ("2024-01-02 03:04:05 -0700", "2024-01-02 10:04:05.000Z"),
    ("Tue, 02 Jan 2024 03:04:05 +0200", "2024-01-02 01:04:05.000Z"),
    ("tue, 02 jan 2024 03:04:05 +0200", "2024-01-02 01:04:05.000Z"),
    ("Tue, 02 Jan 2024 03:04:05 PST", "2024-01-02 03:04:05.000Z"),  # named zones keep the wall clock
    ("02 Jan 24 15:04 -0700", "2024-01-02 22:04:00.000Z"),
    ("02 Jan 24 15:04 MST", "2024-01-02 15:04:00.000Z"),
    ("Tuesday, 02-Jan-24 15:04:05 MST", "2024-01-02 15:04:05.000Z"),
    ("2024-01-02 03:04:05.999999999 -0700 MST", "2024-01-02 10:04:05.999Z"),
    ("2024-01-02T03:04:05-0700", "2024-01-02 10:04:05.000Z"),
    ("2024-01-02 03:04:05Z", "2024-01-02 03:04:05.000Z"),
    ("Tue Jan  2 03:04:05 2024", "2024-01-02 03:04:05.000Z"),
    ("Tue Jan 2 03:04:05 2024", "2024-01-02 03:04:05.000Z"),
    ("Tue Jan  2 03:04:05 MST 2024", "2024-01-02 03:04:05.000Z"),
    ("Tue Jan 02 03:04:05 -0700 2024", "2024-01-02 10:04:05.000Z"),
    ("02 Jan 2024", "2024-01-02 00:00:00.000Z"),
    ("3:04PM", "0000-01-01 15:04:00.000Z"),
    ("Jan  2 15:04:05", "0000-01-02 15:04:05.000Z"),
    ("Jan  2 15:04:05.123", "0000-01-02 15:04:05.123Z"),
    ("0000-06-01", "0000-06-01 00:00:00.000Z"),
    ("2030-12-31 23:59:59", "2030-12-31 23:59:59.000Z"),
    # unparseable -> "" (PocketBase stores the empty date, no error)
    ("0001-01-01 00:00:00", ""),  # Go's zero time
    ("2024-1-02", ""),
    ("2024-02-30", ""),
    ("2024-01-02 24:00:00", ""),
    ("not a date", ""),
    ("1700000000", ""),
    (" 2024-01-02", ""),
    ("2024-01-02 ", ""),
    ("2024-01-02t03:04:05z", ""),
    ("2024-01-02T03:04:05+02", ""),
    (1700000000, ""),
    (True, ""),
    (None, ""),
    ("", ""),
]


@pytest.mark.parametrize(("raw", "stored"), PARSED)
def test_prepare(raw: object, stored: str) -> None:
    assert DateField(name="d").prepare(raw) == stored


def test_datetime_objects() -> None:
    moment = dt.datetime(2024, 1, 2, 3, 4, 5, 678900, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert parse_date(moment) == "2024-01-02 02:04:05.678Z"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (
            "2019-12-31 23:59:59.999Z",
            {
                "code": "validation_min_greater_equal_than_required",
                "message": "Must be no less than 2020-01-01 00:00:00 +0000 UTC.",
                "params": {"threshold": "2020-01-01T00:00:00Z"},
            },
        ),
        (
            "2030-01-01 00:00:00.001Z",
            {
                "code": "validation_max_less_equal_than_required",
                "message": "Must be no greater than 2030-01-01 00:00:00 +0000 UTC.",
                "params": {"threshold": "2030-01-01T00:00:00Z"},
            },
        ),
        ("2020-01-01 00:00:00.000Z", None),
        ("2030-01-01 00:00:00.000Z", None),
        ("", None),
    ],
)
def test_validate_range(value: str, error: object) -> None:
    field = DateField(name="when", min="2020-01-01", max="2030-01-01T00:00:00Z")
    assert field.normalize_options() == {}
    err = field.validate(value)
    assert (err and err.to_dict()) == error


def test_threshold_with_milliseconds() -> None:
    field = DateField(name="when", min="2020-01-01 10:00:00.5Z")
    field.normalize_options()
    err = field.validate("2020-01-01 10:00:00.000Z")
    assert err is not None and err.params == {"threshold": "2020-01-01T10:00:00.5Z"}
    assert err.message == "Must be no less than 2020-01-01 10:00:00.5 +0000 UTC."


def test_required() -> None:
    err = DateField(name="d", required=True).validate("")
    assert err is not None and err.code == "validation_required"


@pytest.mark.parametrize(
    ("options", "normalized"),
    [
        ({"min": "not a date", "max": "2020-01-01"}, {"min": "", "max": "2020-01-01 00:00:00.000Z"}),
        (
            {"min": "2030-01-01", "max": "2020-01-01"},
            {"min": "2030-01-01 00:00:00.000Z", "max": "2020-01-01 00:00:00.000Z"},
        ),  # PB accepts
        ({"min": "2020-01-01T10:00:00+02:00"}, {"min": "2020-01-01 08:00:00.000Z", "max": ""}),
    ],
)
def test_options_never_fail(options: dict[str, str], normalized: dict[str, str]) -> None:
    field = DateField(name="d", **options)  # type: ignore[arg-type]
    assert field.normalize_options() == {}
    assert field.options == normalized


def test_storage() -> None:
    field = DateField(name="f_date")
    assert (field.zero(), field.from_db(None), field.from_db("2024-01-02 03:04:05.000Z")) == (
        "",
        "",
        "2024-01-02 03:04:05.000Z",
    )
    assert field.to_dict()["id"] == "date1593245080"
