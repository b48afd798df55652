"""PocketBase's field types (see base.py for the contract every type implements)."""

from __future__ import annotations

from hearth.schema.fields.autodate import AutodateField
from hearth.schema.fields.base import (
    BOOL,
    JSON,
    NUMBER,
    TEXT,
    Field,
    FieldErrors,
    FieldLoadError,
    OptionError,
)
from hearth.schema.fields.bool import BoolField
from hearth.schema.fields.date import DateField, parse_date
from hearth.schema.fields.editor import EditorField
from hearth.schema.fields.email import EmailField
from hearth.schema.fields.file import FileField
from hearth.schema.fields.geopoint import GeoPointField
from hearth.schema.fields.json import JSONField
from hearth.schema.fields.number import NumberField
from hearth.schema.fields.password import PasswordField
from hearth.schema.fields.registry import FIELD_TYPES, field_from_dict, name_error
from hearth.schema.fields.relation import RelationField
from hearth.schema.fields.select import MultiValueField, SelectField
from hearth.schema.fields.text import TextField
from hearth.schema.fields.url import URLField

__all__ = [
    "BOOL",
    "FIELD_TYPES",
    "JSON",
    "NUMBER",
    "TEXT",
    "AutodateField",
    "BoolField",
    "DateField",
    "EditorField",
    "EmailField",
    "Field",
    "FieldErrors",
    "FieldLoadError",
    "FileField",
    "GeoPointField",
    "JSONField",
    "MultiValueField",
    "NumberField",
    "OptionError",
    "PasswordField",
    "RelationField",
    "SelectField",
    "TextField",
    "URLField",
    "field_from_dict",
    "name_error",
    "parse_date",
]
