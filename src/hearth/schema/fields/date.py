"""`date` fields, and PocketBase's lenient datetime parsing (shared with `autodate`).

PocketBase first tries its own layout (`2006-01-02 15:04:05.000Z`) and then spf13/cast's list of
Go layouts; anything else silently becomes the zero date, stored as "". The parser below
implements Go's `time.Parse` rules for exactly the layout elements those layouts use (a space
in a layout matches one or more spaces, hours may have one digit, fractional seconds may follow
the seconds, month/day names are case-insensitive, ...). Dates are kept as Go's proleptic
calendar day numbers so that year 0 (which Go allows and prints) works.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from hearth.errors import FieldError
from hearth.schema.fields.base import Field

# Layout element kinds.
_YEAR4, _YEAR2, _MONTH_NAME, _MONTH2, _DAY, _DAY_UNDER, _DAY2 = range(7)
_HOUR, _HOUR12, _MIN2, _SEC2, _FRAC3, _FRAC9, _PM, _WEEKDAY, _WEEKDAY_LONG = range(7, 16)
_TZ_NAME, _TZ_NUM, _TZ_NUM_COLON, _TZ_ISO, _TZ_ISO_COLON = range(16, 21)

_TOKENS = (  # longest first where one is a prefix of another
    ("Monday", _WEEKDAY_LONG),
    ("Mon", _WEEKDAY),
    ("MST", _TZ_NAME),
    ("Jan", _MONTH_NAME),
    ("2006", _YEAR4),
    ("_2", _DAY_UNDER),
    ("-07:00", _TZ_NUM_COLON),
    ("-0700", _TZ_NUM),
    ("Z07:00", _TZ_ISO_COLON),
    ("Z0700", _TZ_ISO),
    (".999999999", _FRAC9),
    (".000", _FRAC3),
    ("01", _MONTH2),
    ("02", _DAY2),
    ("04", _MIN2),
    ("05", _SEC2),
    ("06", _YEAR2),
    ("15", _HOUR),
    ("PM", _PM),
    ("2", _DAY),
    ("3", _HOUR12),
)

# How a parsed zone is used: spf13/cast re-reads wall clocks of zone-less and named-zone layouts
# as UTC, and applies numeric offsets.
_WALL_CLOCK, _OFFSET = 0, 1

_LAYOUTS = (
    ("2006-01-02", _WALL_CLOCK),
    ("2006-01-02T15:04:05Z07:00", _OFFSET),  # RFC3339
    ("2006-01-02T15:04:05", _WALL_CLOCK),
    ("Mon, 02 Jan 2006 15:04:05 -0700", _OFFSET),  # RFC1123Z
    ("Mon, 02 Jan 2006 15:04:05 MST", _WALL_CLOCK),  # RFC1123
    ("02 Jan 06 15:04 -0700", _OFFSET),  # RFC822Z
    ("02 Jan 06 15:04 MST", _WALL_CLOCK),  # RFC822
    ("Monday, 02-Jan-06 15:04:05 MST", _WALL_CLOCK),  # RFC850
    ("2006-01-02 15:04:05.999999999 -0700 MST", _OFFSET),  # Go's Time.String()
    ("2006-01-02T15:04:05-0700", _OFFSET),
    ("2006-01-02 15:04:05Z0700", _OFFSET),
    ("2006-01-02 15:04:05", _WALL_CLOCK),
    ("Mon Jan _2 15:04:05 2006", _WALL_CLOCK),  # ANSIC
    ("Mon Jan _2 15:04:05 MST 2006", _WALL_CLOCK),  # UnixDate
    ("Mon Jan 02 15:04:05 -0700 2006", _OFFSET),  # RubyDate
    ("2006-01-02 15:04:05Z07:00", _OFFSET),
    ("02 Jan 2006", _WALL_CLOCK),
    ("2006-01-02 15:04:05 -07:00", _OFFSET),
    ("2006-01-02 15:04:05 -0700", _OFFSET),
    ("3:04PM", _WALL_CLOCK),  # Kitchen: the date part is Jan 1 of year 0
    ("Jan _2 15:04:05", _WALL_CLOCK),  # Stamp (fractions are accepted after the seconds)
)
PB_LAYOUT = "2006-01-02 15:04:05.000Z"

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def _tokenize(layout: str) -> list[str | int]:
    out: list[str | int] = []
    i = 0
    while i < len(layout):
        for text, kind in _TOKENS:
            if layout.startswith(text, i):
                out.append(kind)
                i += len(text)
                break
        else:
            out.append(layout[i])
            i += 1
    return out


_PARSED_LAYOUTS = tuple((_tokenize(layout), zone_use) for layout, zone_use in _LAYOUTS)
_PB_TOKENS = _tokenize(PB_LAYOUT)


class _Bad(Exception):
    pass


def _digits(value: str, pos: int, count: int) -> tuple[int, int]:
    """Exactly `count` ASCII digits."""
    chunk = value[pos : pos + count]
    if len(chunk) != count or not all("0" <= c <= "9" for c in chunk):
        raise _Bad
    return int(chunk), pos + count


def _num(value: str, pos: int, fixed: bool) -> tuple[int, int]:
    """Go's getnum: two digits, or one when not fixed and the next char is not a digit."""
    if pos >= len(value) or not "0" <= value[pos] <= "9":
        raise _Bad
    if pos + 1 >= len(value) or not "0" <= value[pos + 1] <= "9":
        if fixed:
            raise _Bad
        return int(value[pos]), pos + 1
    return int(value[pos : pos + 2]), pos + 2


def _name(value: str, pos: int, names: tuple[str, ...], length: int | None) -> tuple[int, int]:
    for index, name in enumerate(names):
        candidate = name[:length] if length else name
        if value[pos : pos + len(candidate)].lower() == candidate:
            return index, pos + len(candidate)
    raise _Bad


def _frac(value: str, pos: int) -> tuple[int, int]:
    """A '.'/',' then digits (at least one); returns nanoseconds (extra digits truncated)."""
    end = pos + 1
    while end < len(value) and "0" <= value[end] <= "9":
        end += 1
    if end == pos + 1:
        raise _Bad
    return int(value[pos + 1 : end][:9].ljust(9, "0")), end


def _zone_name(value: str, pos: int) -> int:
    """Go's parseTimeZone: the length of a zone abbreviation such as MST/CEST/ChST."""
    rest = value[pos:]
    if rest.startswith("UTC"):
        return 3
    if rest[:4] in ("ChST", "MeST"):
        return 4
    if rest.startswith("GMT"):  # optionally GMT+h / GMT-h
        end = 4 if rest[3:4] in ("+", "-") else 3
        while end > 3 and end < len(rest) and "0" <= rest[end] <= "9":
            end += 1
        return end if end > 4 else 3
    upper = 0
    while upper < min(len(rest), 6) and "A" <= rest[upper] <= "Z":
        upper += 1
    if (
        upper == 3
        or (upper == 4 and (rest[3] == "T" or rest.startswith("WITA")))
        or (upper == 5 and rest[4] == "T")
    ):
        return upper
    raise _Bad


def _offset(value: str, pos: int, colon: bool) -> tuple[int, int]:
    sign = value[pos : pos + 1]
    if sign not in ("+", "-"):
        raise _Bad
    hours, pos = _digits(value, pos + 1, 2)
    if colon:
        if value[pos : pos + 1] != ":":
            raise _Bad
        pos += 1
    minutes, pos = _digits(value, pos, 2)
    if hours > 24 or minutes > 60:
        raise _Bad
    seconds = hours * 3600 + minutes * 60
    return (-seconds if sign == "-" else seconds), pos


def _parse(tokens: list[str | int], value: str) -> tuple[int, ...] | None:
    """Go's time.Parse for one layout: (year, month, day, h, m, s, nanos, offset|None, is_utc)."""
    year, month, day, hour, minute, second, nanos = 0, 1, 1, 0, 0, 0, 0
    offset: int | None = None
    utc = False
    pm = am = False
    pos = 0
    try:
        for index, tok in enumerate(tokens):
            if isinstance(tok, str):
                if tok == " ":
                    if pos >= len(value) or value[pos] != " ":
                        raise _Bad
                    while pos < len(value) and value[pos] == " ":
                        pos += 1
                elif value[pos : pos + 1] != tok:
                    raise _Bad
                else:
                    pos += 1
            elif tok == _YEAR4:
                year, pos = _digits(value, pos, 4)
            elif tok == _YEAR2:
                year, pos = _digits(value, pos, 2)
                year += 1900 if year >= 69 else 2000
            elif tok == _MONTH_NAME:
                month, pos = _name(value, pos, _MONTHS, 3)
                month += 1
            elif tok == _MONTH2:
                month, pos = _num(value, pos, True)
                if not 1 <= month <= 12:
                    raise _Bad
            elif tok in (_DAY, _DAY_UNDER, _DAY2):
                if tok == _DAY_UNDER and value[pos : pos + 1] == " ":
                    pos += 1
                day, pos = _num(value, pos, tok == _DAY2)
            elif tok in (_WEEKDAY, _WEEKDAY_LONG):
                _, pos = _name(value, pos, _DAYS, 3 if tok == _WEEKDAY else None)
            elif tok in (_HOUR, _HOUR12):
                hour, pos = _num(value, pos, False)
                if hour >= (13 if tok == _HOUR12 else 24):
                    raise _Bad
            elif tok == _MIN2:
                minute, pos = _num(value, pos, True)
                if minute > 59:
                    raise _Bad
            elif tok == _SEC2:
                second, pos = _num(value, pos, True)
                if second > 59:
                    raise _Bad
                # Go accepts a fraction after the seconds even when the layout has none.
                following = tokens[index + 1] if index + 1 < len(tokens) else None
                if (
                    following not in (_FRAC3, _FRAC9)
                    and value[pos : pos + 1] in (".", ",")
                    and "0" <= value[pos + 1 : pos + 2] <= "9"
                ):
                    nanos, pos = _frac(value, pos)
            elif tok == _FRAC3:
                if value[pos : pos + 1] not in (".", ","):
                    raise _Bad
                digits, pos = _digits(value, pos + 1, 3)
                nanos = digits * 1_000_000
            elif tok == _FRAC9:
                if value[pos : pos + 1] in (".", ",") and "0" <= value[pos + 1 : pos + 2] <= "9":
                    nanos, pos = _frac(value, pos)
            elif tok == _PM:
                marker = value[pos : pos + 2]
                if marker not in ("AM", "PM"):
                    raise _Bad
                pm, am = marker == "PM", marker == "AM"
                pos += 2
            elif tok == _TZ_NAME:
                length = _zone_name(value, pos)
                utc = utc or value.startswith("UTC", pos)
                pos += length
            elif tok in (_TZ_ISO, _TZ_ISO_COLON) and value[pos : pos + 1] == "Z":
                utc = True
                pos += 1
            else:
                offset, pos = _offset(value, pos, tok in (_TZ_NUM_COLON, _TZ_ISO_COLON))
        if pos != len(value):
            raise _Bad
    except _Bad:
        return None
    if pm and hour < 12:
        hour += 12
    elif am and hour == 12:
        hour = 0
    if not 1 <= day <= _days_in_month(year, month):
        return None
    if utc:  # Go: an explicit UTC/Z wins over a numeric offset
        offset = 0
    return year, month, day, hour, minute, second, nanos, offset if offset is not None else 0


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = y // 400  # floor division: correct for year 0 and before
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def _format(parts: tuple[int, ...]) -> str:
    year, month, day, hour, minute, second, nanos, offset = parts
    total = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset
    days, secs = divmod(total, 86400)
    year, month, day = _civil_from_days(days)
    if (year, month, day, secs, nanos) == (1, 1, 1, 0, 0):
        return ""  # Go's zero time: PocketBase stores the empty string
    year_text = f"{year:04d}" if year >= 0 else f"-{-year:04d}"
    return (
        f"{year_text}-{month:02d}-{day:02d} {secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
        f".{nanos // 1_000_000:03d}Z"
    )


def parse_date(raw: Any) -> str:
    """A submitted value → `YYYY-MM-DD HH:MM:SS.sssZ` (UTC), or "" when PocketBase would see no date.

    Only strings (and datetimes from internal callers) are dates: JSON numbers and booleans are
    not, because Go's cast turns them into text that matches no layout.
    """
    if isinstance(raw, dt.datetime):
        moment = raw if raw.tzinfo else raw.replace(tzinfo=dt.UTC)
        moment = moment.astimezone(dt.UTC)
        return _format(
            (
                moment.year,
                moment.month,
                moment.day,
                moment.hour,
                moment.minute,
                moment.second,
                moment.microsecond * 1000,
                0,
            )
        )
    if not isinstance(raw, str) or raw == "":
        return ""
    parts = _parse(_PB_TOKENS, raw)
    if parts is not None:
        return _format(parts)
    for tokens, zone_use in _PARSED_LAYOUTS:
        parts = _parse(tokens, raw)
        if parts is not None:
            if zone_use == _WALL_CLOCK:
                parts = (*parts[:7], 0)
            return _format(parts)
    return ""


def rfc3339(value: str) -> str:
    """A stored date as Go marshals a time.Time into JSON (RFC3339Nano), e.g. `2020-01-01T00:00:00Z`."""
    date, time = value[:-1].split(" ")
    clock, _, millis = time.partition(".")
    millis = millis.rstrip("0")
    return f"{date}T{clock}{'.' + millis if millis else ''}Z"


def go_time_string(value: str) -> str:
    """A stored date as Go's Time.String() prints it, e.g. `2020-01-01 00:00:00 +0000 UTC`."""
    date, time = value[:-1].split(" ")
    clock, _, millis = time.partition(".")
    millis = millis.rstrip("0")
    return f"{date} {clock}{'.' + millis if millis else ''} +0000 UTC"


# A stored date as responses carry it (PocketBase's datetime form), or "" when unset.
STORED_DATE_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z)?$",
    "examples": ["2024-01-31 12:00:00.000Z"],
}


class DateField(Field):
    type: ClassVar[str] = "date"
    option_defaults: ClassVar[dict[str, Any]] = {"max": "", "min": ""}

    def normalize_options(self) -> dict[str, FieldError]:
        # PocketBase reads min/max with the same lenient parser (garbage becomes "") and, because
        # its range check is a no-op, never rejects them, not even min > max.
        for key in ("min", "max"):
            self.options[key] = parse_date(self.options[key])
        return {}

    def from_db(self, raw: Any) -> Any:
        if raw is None:
            return ""
        if isinstance(raw, dt.datetime):
            return parse_date(raw)
        return str(raw)

    def prepare(self, raw: Any) -> Any:
        return parse_date(raw)

    def example(self) -> Any:
        return self.options["min"] or self.options["max"] or STORED_DATE_SCHEMA["examples"][0]

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        if not write:
            return dict(STORED_DATE_SCHEMA)
        # Many spellings are parsed (RFC 3339, `2024-01-31`, …); the stored form is the one named.
        schema: dict[str, Any] = {"type": "string", "examples": STORED_DATE_SCHEMA["examples"]}
        bounds = [f"{k} {self.options[k]}" for k in ("min", "max") if self.options[k]]
        if bounds:
            schema["description"] = "Dates outside " + ", ".join(bounds) + " are refused."
        if self.required:
            schema["minLength"] = 1
        return schema

    def validate(self, value: Any) -> FieldError | None:
        text = value if isinstance(value, str) else ""
        if text == "":
            return FieldError("validation_required", "Cannot be blank.") if self.required else None
        minimum, maximum = self.options["min"], self.options["max"]
        # The stored form sorts chronologically as text (fixed width, UTC, years 0000-9999).
        if minimum and text < minimum:
            return FieldError(
                "validation_min_greater_equal_than_required",
                f"Must be no less than {go_time_string(minimum)}.",
                {"threshold": rfc3339(minimum)},
            )
        if maximum and text > maximum:
            return FieldError(
                "validation_max_less_equal_than_required",
                f"Must be no greater than {go_time_string(maximum)}.",
                {"threshold": rfc3339(maximum)},
            )
        return None
