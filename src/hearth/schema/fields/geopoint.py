"""`geoPoint` fields: `{"lon": x, "lat": y}`; {0, 0} is the empty point."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from hearth.errors import FieldError
from hearth.schema.fields.base import JSON, Field, json_number


def _zero() -> dict[str, Any]:
    return {"lon": 0, "lat": 0}


def _point(data: Any) -> dict[str, Any]:
    # Go decodes into struct{Lon, Lat float64}: member names are case-sensitive, others are
    # ignored, null leaves 0, and any non-number makes the whole point the zero point.
    if not isinstance(data, dict):
        return _zero()
    point = _zero()
    for key in ("lon", "lat"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _zero()
        point[key] = json_number(value)
    return point


class GeoPointField(Field):
    type: ClassVar[str] = "geoPoint"

    @property
    def storage(self) -> str:
        return JSON

    def zero(self) -> Any:
        return _zero()

    def to_db(self, value: Any) -> Any:
        return _point(value)

    def from_db(self, raw: Any) -> Any:
        return self.prepare(raw)

    def prepare(self, raw: Any) -> Any:
        if isinstance(raw, str | bytes):
            try:
                raw = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                return _zero()
        return _point(raw)

    def is_blank(self, value: Any) -> bool:
        point = _point(value)
        return bool(point["lon"] == 0 and point["lat"] == 0)

    def validate(self, value: Any) -> FieldError | None:
        point = _point(value)
        if point["lon"] == 0 and point["lat"] == 0:
            return FieldError("validation_required", "Cannot be blank.") if self.required else None
        if not -90 <= point["lat"] <= 90:
            return FieldError("validation_invalid_latitude", "Latitude must be between -90 and 90 degrees.")
        if not -180 <= point["lon"] <= 180:
            return FieldError(
                "validation_invalid_longitude", "Longitude must be between -180 and 180 degrees."
            )
        return None

    def example(self) -> Any:
        return {"lon": 2.3522, "lat": 48.8566}

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        lon: dict[str, Any] = {"type": "number"}
        lat: dict[str, Any] = {"type": "number"}
        if write:
            lon.update(minimum=-180, maximum=180)
            lat.update(minimum=-90, maximum=90)
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {"lon": lon, "lat": lat},
            "additionalProperties": False,
        }
        if write:
            schema["required"] = ["lon", "lat"]  # a response's may lose one to `?fields=place.lon`
            schema["description"] = "{lon: 0, lat: 0} is the blank point."
            if self.required:
                schema["not"] = {"const": {"lon": 0, "lat": 0}}
        return schema
