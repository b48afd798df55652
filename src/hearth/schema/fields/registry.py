"""Field types by PocketBase type name, and building fields from PocketBase field JSON."""

from __future__ import annotations

import re
from typing import Any

from hearth.errors import FieldError
from hearth.schema.fields.autodate import AutodateField
from hearth.schema.fields.base import RESERVED_NAMES, Field, FieldLoadError, OptionError
from hearth.schema.fields.bool import BoolField
from hearth.schema.fields.date import DateField
from hearth.schema.fields.editor import EditorField
from hearth.schema.fields.email import EmailField
from hearth.schema.fields.file import FileField
from hearth.schema.fields.geopoint import GeoPointField
from hearth.schema.fields.json import JSONField
from hearth.schema.fields.number import NumberField
from hearth.schema.fields.password import PasswordField
from hearth.schema.fields.relation import RelationField
from hearth.schema.fields.select import SelectField
from hearth.schema.fields.text import TextField
from hearth.schema.fields.url import URLField

FIELD_TYPES: dict[str, type[Field]] = {
    cls.type: cls
    for cls in (
        TextField,
        NumberField,
        BoolField,
        EmailField,
        URLField,
        EditorField,
        DateField,
        AutodateField,
        SelectField,
        FileField,
        RelationField,
        JSONField,
        GeoPointField,
        PasswordField,
    )
}

COMMON_DEFAULTS: dict[str, Any] = {
    "hidden": False,
    "help": "",
    "id": "",
    "name": "",
    "presentable": False,
    "required": False,
    "system": False,
}

# Names a field cannot have: the output-only record keys plus filter literals.
EXCLUDED_NAMES = RESERVED_NAMES | {"null", "true", "false", "_rowid_"}
_NAME_RE = re.compile(r"[0-9A-Za-z_]+")  # Go's \w is ASCII-only
MAX_NAME_LENGTH = 100
MAX_ID_LENGTH = 100
MAX_HELP_LENGTH = 300
_INVALID_TYPE = ("validation_unsupported_value_type", "Invalid or unsupported value type.")
_INT64 = range(-(2**63), 2**63)


def _length_error(maximum: int) -> FieldError:
    return FieldError(
        "validation_length_out_of_range",
        f"The length must be between 1 and {maximum}.",
        {"max": maximum, "min": 1},
    )


def name_error(name: str) -> FieldError | None:
    """PocketBase's field-name rules, in its order (first failure wins)."""
    if name == "":
        return FieldError("validation_required", "Cannot be blank.")
    if len(name) > MAX_NAME_LENGTH:
        return _length_error(MAX_NAME_LENGTH)
    if not _NAME_RE.fullmatch(name):
        return FieldError("validation_match_invalid", "Must be in a valid format.")
    if name in EXCLUDED_NAMES:
        return FieldError("validation_not_in_invalid", "Must not be in list.")
    if "_via_" in name.lower():
        return FieldError("validation_found_via", 'The value cannot contain "_via_".')
    return None


def _decodes_as(default: Any, value: Any) -> bool:
    """Whether Go could decode `value` into an option whose zero value is `default` (null always can)."""
    if value is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):  # JSON 2.0 is not an int for Go's decoder
        return isinstance(value, int) and not isinstance(value, bool) and value in _INT64
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        return isinstance(value, list) and all(v is None or isinstance(v, str) for v in value)
    if default is None:  # number min/max: a float or null
        return isinstance(value, int | float) and not isinstance(value, bool)
    return True


def _decoded(default: Any, value: Any) -> Any:
    if value is None:
        return list(default) if isinstance(default, list) else default
    if isinstance(value, list):
        return ["" if v is None else v for v in value]  # Go decodes null items as ""
    return value


def field_from_dict(data: Any) -> Field:
    """Build and check a field from PocketBase field JSON.

    Raises FieldLoadError (an OptionError) for JSON PocketBase cannot decode: a missing/unknown
    `type` (errors `{"type": validation_in_invalid}`) or a key of the wrong JSON type; PocketBase
    answers both with 400 "Failed to load the submitted data due to invalid formatting." and empty
    data. Raises OptionError with `{key: FieldError}` for invalid settings (PocketBase nests these
    under `fields.<index>` of the collection error).
    """
    type_name = data.get("type") if isinstance(data, dict) else None
    cls = FIELD_TYPES.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise FieldLoadError({"type": FieldError("validation_in_invalid", "Must be a valid value.")})
    spec = {**COMMON_DEFAULTS, **cls.option_defaults}
    wrong = {
        key: FieldError(*_INVALID_TYPE)
        for key, default in spec.items()
        if not _decodes_as(default, data.get(key))
    }
    if wrong:
        raise FieldLoadError(wrong)

    common = {key: _decoded(default, data.get(key)) for key, default in COMMON_DEFAULTS.items()}
    if not cls.has_required:
        common["required"] = False
    if not cls.has_help:
        common["help"] = ""
    options = {key: _decoded(default, data.get(key)) for key, default in cls.option_defaults.items()}
    field = cls(**common, **options)

    errors: dict[str, FieldError] = {}
    if err := name_error(field.name):
        errors["name"] = err
    if len(field.id) > MAX_ID_LENGTH:
        errors["id"] = _length_error(MAX_ID_LENGTH)
    if len(field.help) > MAX_HELP_LENGTH:
        errors["help"] = FieldError(
            "validation_length_out_of_range",
            f"The length must be between 1 and {MAX_HELP_LENGTH}.",
            {"max": MAX_HELP_LENGTH, "min": 1},
        )
    for key, err in field.normalize_options().items():
        errors.setdefault(key, err)
    if errors:
        raise OptionError(errors)
    return field
