"""The Field contract: every field type owns its options, storage, coercion and validation.

A field never touches the database. The record service calls, for each submitted value:
`prepare` (coerce the raw JSON/form value, never fails), optionally `apply_modifier` (`field+`,
`+field`, `field-`), then `validate`. Storage goes through `to_db`/`from_db`; the SQL layer asks
`storage` for the column kind, and `stored_check` for what `validate` checks of a stored value
(an update that leaves the field alone checks it in its WHERE; None keeps the read first).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any, ClassVar

import orjson

from hearth._util.ids import checksum_id
from hearth.errors import FieldError
from hearth.sql.checks import ANY as ANY
from hearth.sql.checks import StoredCheck as StoredCheck

# Column kinds the SQL layer maps to per-dialect column types (defined there, below schema).
from hearth.sql.dialect import BOOL as BOOL
from hearth.sql.dialect import JSON as JSON
from hearth.sql.dialect import NUMBER as NUMBER
from hearth.sql.dialect import TEXT as TEXT

NAME_RE = re.compile(r"^\w+$")
RESERVED_NAMES = frozenset({"expand", "collectionId", "collectionName"})
MAX_SAFE_INT = 2**53 - 1


class OptionError(Exception):
    """An invalid field option; `errors` maps option name to FieldError."""

    def __init__(self, errors: dict[str, FieldError]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


class Field:
    """Base of all field types. Subclasses declare `type` and their options."""

    type: ClassVar[str] = ""
    # Option names (besides the common ones) in PocketBase's JSON, with their defaults.
    option_defaults: ClassVar[dict[str, Any]] = {}
    # Whether the type has `required`/`help` in its JSON (autodate has neither).
    has_required: ClassVar[bool] = True
    has_help: ClassVar[bool] = True
    # Which update modifiers (`+` append/add, `^` prepend, `-` remove/subtract) the type takes.
    modifiers: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        *,
        name: str,
        id: str = "",
        system: bool = False,
        hidden: bool = False,
        presentable: bool = False,
        required: bool = False,
        help: str = "",
        **options: Any,
    ) -> None:
        self.name = name
        self.id = id or checksum_id(self.type, name)
        self.system = system
        self.hidden = hidden
        self.presentable = presentable
        self.required = required
        self.help = help
        self.options: dict[str, Any] = {}
        for key, default in self.option_defaults.items():
            self.options[key] = options.get(key, default)

    # ----- options ------------------------------------------------------------------------
    def normalize_options(self) -> dict[str, FieldError]:
        """Coerce option types in place and return option errors (empty when valid)."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hidden": self.hidden,
            "id": self.id,
            "name": self.name,
            "presentable": self.presentable,
            "system": self.system,
            "type": self.type,
        }
        if self.has_help:
            out["help"] = self.help
        if self.has_required:
            out["required"] = self.required
        out.update(self.options)
        # PocketBase marshals field JSON through a map, so its keys come out sorted.
        return dict(sorted(out.items()))

    # ----- storage ------------------------------------------------------------------------
    @property
    def storage(self) -> str:
        return TEXT

    def zero(self) -> Any:
        """The value of an unset field, as the API shows it."""
        return ""

    def to_db(self, value: Any) -> Any:
        """A prepared value → a DB parameter (JSON kinds are encoded to text by the SQL layer)."""
        return value

    def from_db(self, raw: Any) -> Any:
        """A DB value → the API value."""
        return self.zero() if raw is None else raw

    # ----- values -------------------------------------------------------------------------
    def prepare(self, raw: Any) -> Any:
        """Coerce a submitted value the way PocketBase does; never raises."""
        return raw

    def apply_modifier(self, current: Any, modifier: str, raw: Any) -> Any:
        """Combine the stored value with a `field+` / `+field` / `field-` value."""
        return self.prepare(raw)

    def is_blank(self, value: Any) -> bool:
        return value in ("", None, 0, False, [], {})

    def validate(self, value: Any) -> FieldError | None:
        """Check a prepared value; None when valid."""
        if self.required and self.is_blank(value):
            return FieldError("validation_required", "Cannot be blank.")
        return None

    def stored_check(self) -> StoredCheck | None:
        """What `validate` checks of a value as stored, in terms SQL can test (hearth.sql.checks;
        it may refuse more, never less); None when SQL cannot say, and an update that leaves this
        field alone then reads the record to check it."""
        return None

    # ----- description (OpenAPI) ----------------------------------------------------------
    # False for values the server sets itself (autodate): left out of create/update bodies.
    writable: ClassVar[bool] = True

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        """The value as a JSON Schema (2020-12, as OpenAPI 3.1 takes it): what a response holds
        (`write=False`: the type only, since values stored before an option changed still come
        back), or what a create/update body may send (`write=True`: the field's constraints, the
        blank value allowed unless the field is required). Coercions PocketBase also accepts
        (a number as a string, …) are not described: the schema names the canonical form."""
        return {"type": "string"}

    def example(self) -> Any:
        """A plausible value (one the field accepts), for the description's examples."""
        return self.zero()

    def upload_schema(self) -> dict[str, Any]:
        """The value as a multipart/form-data part (files override it with binary parts)."""
        return self.json_schema(write=True)

    def blank_or(self, constrained: dict[str, Any], blank: Any, base: dict[str, Any]) -> dict[str, Any]:
        """`base` restricted by `constrained`, where a field that is not required also takes its
        blank value (which skips every other check, as in `validate`)."""
        if not constrained:
            return base
        if self.required:
            return {**base, **constrained}
        return {**base, "anyOf": [{"const": blank}, constrained]}


def opt_int(value: Any, default: int = 0) -> int:
    """Read an integer option leniently (JSON numbers may arrive as floats)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return default


def opt_str_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return []


# ----- helpers added for the field types --------------------------------------------------------
# The message PocketBase answers a FieldLoadError with (status 400, empty data).
LOAD_FAILED_MESSAGE = "Failed to load the submitted data due to invalid formatting."


class FieldErrors(FieldError):
    """Errors of a list option keyed by item index, nested the way PocketBase nests them.

    `{"exceptDomains": {"0": {"code": ..., "message": ...}}}`: `to_dict()` returns the inner map,
    so the error envelope serializer needs nothing special. `code`/`message` mirror the first item.
    """

    def __init__(self, items: dict[str, FieldError]) -> None:
        first = next(iter(items.values()))
        super().__init__(first.code, first.message, first.params)
        self.items = items

    def to_dict(self) -> dict[str, Any]:
        return {key: err.to_dict() for key, err in self.items.items()}


class FieldLoadError(OptionError):
    """Field JSON PocketBase cannot even decode: unknown/missing `type` or an option of the wrong
    JSON type (e.g. `"maxSelect": 2.5`, `"min": "3"`). PocketBase answers these with
    400 `LOAD_FAILED_MESSAGE` and empty `data`, not with per-field errors; `errors` still says
    which key was wrong for logs and callers that want it."""


def go_format_float(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def json_number(value: float | int) -> float | int:
    """Integral numbers as int so they serialize as `3`, not `3.0` (Go prints float64 3 as 3)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if math.isfinite(value) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


_GO_FLOAT_RE = re.compile(
    r"[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?"
)
_GO_HEX_FLOAT_RE = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+")


def go_parse_float(text: str) -> float | None:
    """Go's strconv.ParseFloat: no surrounding spaces, hex only with a `p` exponent; None on error
    (including overflow such as "1e400", which Go reports as a range error)."""
    lowered = text.lower()
    if lowered == "nan":  # Go takes no sign on NaN
        return math.nan
    for sign in ("", "+", "-"):
        if lowered in (sign + "inf", sign + "infinity"):
            return -math.inf if sign == "-" else math.inf
    if _GO_HEX_FLOAT_RE.fullmatch(text):
        factor = -1.0 if text.startswith("-") else 1.0
        try:
            result = factor * float.fromhex(text.lstrip("+-"))
        except (OverflowError, ValueError):
            return None
    elif _GO_FLOAT_RE.fullmatch(text):
        result = float(text)
    else:
        return None
    return None if math.isinf(result) else result


def cast_float(raw: Any) -> float:
    """spf13/cast ToFloat64 on a decoded JSON/form value: lenient, 0 on anything unusable."""
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float):
        try:
            return float(raw)
        except OverflowError:
            return 0.0
    if isinstance(raw, str):
        parsed = go_parse_float(raw) if raw else 0.0
        return 0.0 if parsed is None else parsed
    return 0.0


def cast_bool(raw: Any) -> bool:
    """spf13/cast ToBool: strconv.ParseBool spellings for strings, non-zero for numbers."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        return raw != 0
    if isinstance(raw, str):
        return raw in ("1", "t", "T", "true", "TRUE", "True")
    return False


def cast_str(raw: Any) -> str | None:
    """spf13/cast ToString on a decoded JSON value; None where Go's cast fails (objects, arrays).

    JSON numbers are float64 in Go, so integers beyond 2^53 print with float precision.
    """
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw) if abs(raw) <= MAX_SAFE_INT else go_format_float(float(raw))
    if isinstance(raw, float):
        return go_format_float(raw)
    if raw is None:
        return ""
    return None


def unique_strings(raw: Any) -> list[str]:
    """PocketBase's list.ToUniqueStringSlice: the multi-value coercion of select/relation/file.

    A string holding `[` is tried as a JSON array of strings (falling back to the string itself);
    an array with any non-scalar item yields nothing; empties are dropped, first occurrence wins.
    """
    items: list[str] = []
    if isinstance(raw, str):
        if raw and "[" in raw:
            try:
                decoded = orjson.loads(raw)
            except orjson.JSONDecodeError:
                decoded = None
            if isinstance(decoded, list) and all(isinstance(v, str | None) for v in decoded):
                items = [v or "" for v in decoded]
            else:
                items = [raw]
        elif raw:
            items = [raw]
    elif isinstance(raw, list | tuple):
        converted = [cast_str(v) for v in raw]
        items = [] if any(v is None for v in converted) else [v for v in converted if v is not None]
    elif raw is not None:
        single = cast_str(raw)
        items = [single] if single else []
    return list(dict.fromkeys(v for v in items if v != ""))


def format_threshold(value: float | int) -> str:
    """How Go's text/template prints a numeric threshold inside a message."""
    number = json_number(value)
    return str(number) if isinstance(number, int) else repr(number)
