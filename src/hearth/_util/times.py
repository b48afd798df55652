"""Datetimes in PocketBase's wire form: `YYYY-MM-DD HH:MM:SS.sssZ`, always UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_FORMATS_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}:?\d{2}|UTC)?$"
)


def now() -> str:
    return format_datetime(datetime.now(UTC))


def format_datetime(dt: datetime) -> str:
    if dt.tzinfo is not None and dt.utcoffset():
        dt = dt.astimezone(UTC)
    # isoformat is several times faster than strftime; years < 1000 need the zero padding.
    text = dt.replace(tzinfo=None).isoformat(sep=" ", timespec="milliseconds")
    return (text if dt.year >= 1000 else text.zfill(23)) + "Z"


def parse_datetime(text: str) -> datetime | None:
    """Parse the date forms PocketBase accepts; None when the text is not a datetime."""
    m = _FORMATS_RE.match(text.strip())
    if not m:
        return None
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        dt = datetime(
            int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micro, tzinfo=UTC
        )
    except ValueError:
        return None
    if tz and tz not in ("Z", "z", "UTC"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        dt = dt - sign * offset
    return dt
