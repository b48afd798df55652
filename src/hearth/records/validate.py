"""Whether a record's values may be stored: each field's own checks, what changed on update,
and the field errors a unique index's refusal answers with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hearth._util import deepjson
from hearth.db.base import UniqueViolation
from hearth.errors import FieldError
from hearth.files.upload import Upload
from hearth.schema.collection import Collection
from hearth.schema.fields.file import FileField


def changed_fields(values: dict[str, Any], old: dict[str, Any]) -> set[str]:
    # deepjson.equal: a json field may nest deeper than `!=` can recurse.
    return {name for name in values if not deepjson.equal(values[name], old.get(name))}


def validate(
    c: Collection,
    values: dict[str, Any],
    errors: dict[str, Any],
    changed: set[str] | None,
    old: dict[str, Any] | None = None,
    skip_passwords: bool = False,
    uploads: Mapping[str, Upload] | None = None,
) -> None:
    """Add each field's error to `errors` (fields already there are skipped). `old`: the stored
    values on update (None on create). `skip_passwords`: the values hold hashes by now (the
    plain passwords were checked before hashing). `uploads`: the request's files by stored name."""
    for f in c.fields:
        if f.name in errors:
            continue
        if getattr(f, "is_password", False) and (
            skip_passwords or (changed is not None and f.name not in changed)
        ):
            continue  # the stored hash stays; only a new password is checked
        if isinstance(f, FileField):
            # Only names the record already holds in the field, or uploaded now, may be in it.
            err = f.validate(values.get(f.name), f.values_of(old.get(f.name)) if old else (), uploads)
        else:
            err = f.validate(values.get(f.name))
        if err is not None:
            errors[f.name] = err


def _not_unique() -> FieldError:
    return FieldError("validation_not_unique", "Value must be unique.")


def unique_errors(c: Collection, exc: UniqueViolation) -> dict[str, Any]:
    """The fields a unique index refused the write on, each with its error."""
    cols = [col for col in exc.columns if col in c.field_map]
    if not cols and exc.index:
        for idx in c.parsed_indexes():
            if idx.name == exc.index:
                cols = [col.name for col in idx.columns]
    if not cols and exc.index.endswith("_pkey"):
        cols = ["id"]
    return {col: _not_unique() for col in cols} or {"id": _not_unique()}
