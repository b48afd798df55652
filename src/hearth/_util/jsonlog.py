"""Log records as JSON lines (`hearth serve --log-format json`), one object per line, for log
shippers: `time` (PocketBase's datetime form, UTC), `level`, `logger`, `message`, and `data` (the
record's extra attributes: a request entry's fields, what a hook passed as `extra=`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

from hearth._util import times

# What every LogRecord has; anything else was passed through `extra=` (or set by a handler).
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "hearth_logged", "taskName"}


def record_extras(record: logging.LogRecord) -> dict[str, Any]:
    """The attributes a record was given beyond the standard ones; a `data` dict is merged in."""
    extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}
    data = extras.pop("data", None)
    if isinstance(data, dict):
        return {**extras, **data}
    if data is not None:
        extras["data"] = data
    return extras


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": times.format_datetime(datetime.fromtimestamp(record.created, UTC)),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        data = record_extras(record)
        if data:
            out["data"] = data
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()
