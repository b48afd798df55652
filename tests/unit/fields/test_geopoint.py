from __future__ import annotations

import pytest

from hearth.schema.fields.base import JSON
from hearth.schema.fields.geopoint import GeoPointField

ZERO = {"lon": 0, "lat": 0}


# Recorded from PocketBase 0.40.6: value sent -> value stored.
@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ({"lon": 1, "lat": 2}, {"lon": 1, "lat": 2}),
        ({"lon": 23.5, "lat": -42.25}, {"lon": 23.5, "lat": -42.25}),
        ({"lon": "1", "lat": 2}, ZERO),  # any bad member voids the point
        ({"Lon": 1, "Lat": 2}, ZERO),  # member names are case-sensitive
        ({"lon": 1}, {"lon": 1, "lat": 0}),
        ({"lon": 1, "lat": 2, "x": 3}, {"lon": 1, "lat": 2}),
        ('{"lon":3,"lat":4}', {"lon": 3, "lat": 4}),
        ("", ZERO),
        ("bad", ZERO),
        (None, ZERO),
        ([1, 2], ZERO),
        (5, ZERO),
        ({"lon": None, "lat": 1}, {"lon": 0, "lat": 1}),
        ({"lon": True, "lat": 1}, ZERO),
        ({"lon": 1.0, "lat": -90}, {"lon": 1, "lat": -90}),
    ],
)
def test_prepare(raw: object, stored: dict[str, object]) -> None:
    assert GeoPointField(name="g").prepare(raw) == stored


@pytest.mark.parametrize(
    ("value", "required", "error"),
    [
        (
            {"lon": 181, "lat": 0},
            False,
            {
                "code": "validation_invalid_longitude",
                "message": "Longitude must be between -180 and 180 degrees.",
            },
        ),
        (
            {"lon": 0, "lat": 91},
            False,
            {
                "code": "validation_invalid_latitude",
                "message": "Latitude must be between -90 and 90 degrees.",
            },
        ),
        (
            {"lon": 181, "lat": 91},
            False,
            {
                "code": "validation_invalid_latitude",
                "message": "Latitude must be between -90 and 90 degrees.",
            },
        ),
        ({"lon": -180, "lat": 90}, False, None),
        (ZERO, False, None),
        (ZERO, True, {"code": "validation_required", "message": "Cannot be blank."}),
        ({"lon": 0, "lat": 0.5}, True, None),
    ],
)
def test_validate(value: dict[str, object], required: bool, error: object) -> None:
    err = GeoPointField(name="g", required=required).validate(value)
    assert (err and err.to_dict()) == error


@pytest.mark.parametrize(
    ("raw", "value"),
    [(None, ZERO), ('{"lon":0,"lat":0}', ZERO), ('{"lon":10.5,"lat":20.25}', {"lon": 10.5, "lat": 20.25})],
)
def test_from_db(raw: object, value: object) -> None:
    assert GeoPointField(name="g").from_db(raw) == value


def test_storage_and_json() -> None:
    field = GeoPointField(name="f_geo")
    assert (field.storage, field.zero(), list(field.zero())) == (JSON, ZERO, ["lon", "lat"])
    assert field.is_blank(ZERO) and not field.is_blank({"lon": 1, "lat": 0})
    assert field.to_dict() == {
        "help": "",
        "hidden": False,
        "id": "geoPoint3407959178",
        "name": "f_geo",
        "presentable": False,
        "required": False,
        "system": False,
        "type": "geoPoint",
    }
