"""`file` fields: values are stored file names.

A submitted value may keep or drop the names the record already holds in the field and add
files uploaded with the request (`hearth.files.upload.Upload`, which stand for their stored
names); any other name is PocketBase's `validation_invalid_file`. An upload is checked against
`maxSize` and `mimeTypes` (its detected type) here; storing it is the record service's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import orjson

from hearth.errors import FieldError
from hearth.files import mime
from hearth.files.upload import Upload
from hearth.schema.fields.base import MAX_SAFE_INT, FieldErrors, cast_str, opt_int, opt_str_list
from hearth.schema.fields.select import MultiValueField
from hearth.schema.fields.text import check_range

DEFAULT_MAX_SIZE = 5 << 20  # bytes per file, when maxSize is 0
_LOOSE_NAME = re.compile(r"^[^\./][^\/]*$")


_THUMB_RE = re.compile(r"([0-9]+)x([0-9]+)(t|b|f)?")
_ZERO_THUMBS = ("0x0", "0x0t", "0x0b", "0x0f")


class FileField(MultiValueField):
    type: ClassVar[str] = "file"
    option_defaults: ClassVar[dict[str, Any]] = {
        "maxSelect": 0,
        "maxSize": 0,
        "mimeTypes": [],
        "protected": False,
        "thumbs": [],
    }

    @property
    def max_size(self) -> int:
        size = int(self.options["maxSize"])
        return size if size > 0 else DEFAULT_MAX_SIZE

    @property
    def max_body_size(self) -> int:
        """What this field may add to a request body (PocketBase: maxSize × maxSelect)."""
        return self.max_size * max(1, self.max_select)

    def normalize_options(self) -> dict[str, FieldError]:
        opts = self.options
        opts["maxSelect"] = opt_int(opts["maxSelect"])
        opts["maxSize"] = opt_int(opts["maxSize"])
        opts["mimeTypes"] = opt_str_list(opts["mimeTypes"])
        opts["thumbs"] = opt_str_list(opts["thumbs"])
        opts["protected"] = bool(opts["protected"])
        errors: dict[str, FieldError] = {}
        for key in ("maxSelect", "maxSize"):
            if err := check_range(opts[key], 0, MAX_SAFE_INT):
                errors[key] = err
        thumb_errors: dict[str, FieldError] = {}
        for index, thumb in enumerate(opts["thumbs"]):
            if thumb in _ZERO_THUMBS:
                thumb_errors[str(index)] = FieldError("validation_not_in_invalid", "Must not be in list.")
            elif thumb and not _THUMB_RE.fullmatch(thumb):
                thumb_errors[str(index)] = FieldError(
                    "validation_match_invalid", "Must be in a valid format."
                )
        if thumb_errors:
            errors["thumbs"] = FieldErrors(thumb_errors)
        return errors

    # ----- description ------------------------------------------------------------------------
    def json_schema(self, write: bool = False) -> dict[str, Any]:
        schema = super().json_schema(write)
        if write:  # JSON cannot carry a file: only names the record already holds (or none)
            schema["description"] = "Names of files the record already holds; upload with multipart/form-data."
        return schema

    def item_example(self) -> str:
        return "photo_k2v8x0q1ab.png"

    def upload_schema(self) -> dict[str, Any]:
        part: dict[str, Any] = {"type": "string", "format": "binary"}
        mimes = self.options["mimeTypes"]
        if mimes:
            part["description"] = "One of " + ", ".join(mimes) + f"; at most {self.max_size} bytes."
        else:
            part["description"] = f"At most {self.max_size} bytes."
        if not self.is_multiple:
            return part
        return {"type": "array", "items": part, "maxItems": self.max_select}

    # ----- values -----------------------------------------------------------------------------
    def prepare(self, raw: Any) -> Any:
        names = file_names(raw)
        if self.is_multiple:
            return names
        return names[-1] if names else ""

    def values_of(self, value: Any) -> list[str]:
        return file_names(value)

    def apply_modifier(self, current: Any, modifier: str, raw: Any) -> Any:
        existing, given = file_names(current), file_names(raw)
        if modifier == "+":
            combined = existing + given
        elif modifier == "^":
            combined = given + existing
        elif modifier == "-":
            combined = [v for v in existing if v not in given]
        else:
            combined = given
        return self.prepare(combined)

    def validate(
        self, value: Any, existing: Iterable[str] = (), uploads: Mapping[str, Upload] | None = None
    ) -> FieldError | None:
        """`existing`: the names the record holds in this field now (none on create); `uploads`:
        the files uploaded with the request, by stored name. Any other name is refused first, as
        PocketBase does, then `required`, `maxSelect`, and each upload's size and type."""
        names = file_names(value)
        uploads = uploads or {}
        kept = set(existing)
        new = [name[:250] for name in names if name not in kept and name not in uploads]
        if new:
            return FieldError(
                "validation_invalid_file",
                f"Invalid new files: [{' '.join(new)}].",
                {"invalidFiles": new},
            )
        if not names:
            return FieldError("validation_required", "Cannot be blank.") if self.required else None
        if len(names) > self.max_select:
            return FieldError(
                "validation_too_many_files",
                f"The maximum allowed files is {self.max_select}.",
                {"maxSelect": self.max_select},
            )
        for name in names:
            upload = uploads.get(name)
            if upload is not None and (err := self._check_upload(upload)) is not None:
                return err
        return None

    def _check_upload(self, upload: Upload) -> FieldError | None:
        if not 1 <= len(upload.name) <= 150:
            return FieldError(
                "validation_length_out_of_range",
                "The length must be between 1 and 150.",
                {"max": 150, "min": 1},
            )
        if not _LOOSE_NAME.match(upload.name):
            return FieldError("validation_match_invalid", "Must be in a valid format.")
        original = upload.original_name[:300]
        if upload.size > self.max_size:
            return FieldError(
                "validation_file_size_limit",
                f"Failed to upload {original} - the maximum allowed file size is {self.max_size} bytes.",
                {"file": original, "maxSize": self.max_size},
            )
        allowed: list[str] = self.options["mimeTypes"]
        if allowed and not mime.matches(upload.content_type, allowed):
            return FieldError(
                "validation_invalid_mime_type",
                f"{_go_quote(upload.name)} mime type must be one of: {', '.join(allowed)}.",
            )
        return None


def _go_quote(text: str) -> str:
    """Go's %q for the names a stored name can hold (sanitized: no quotes or controls)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def file_names(raw: Any) -> list[str]:
    """A submitted or stored file value → unique non-empty names, in order, as PocketBase reads
    them: a string is one name (a JSON array in a string is its string items), numbers and bools
    are their text, arrays are flattened, an upload is its stored name, null and objects are
    nothing."""
    items: list[str] = []
    _collect(raw, items, top=True)
    return list(dict.fromkeys(v for v in items if v != ""))


def _collect(raw: Any, out: list[str], top: bool = False) -> None:
    if isinstance(raw, str):
        if top and "[" in raw:
            try:
                decoded = orjson.loads(raw)
            except orjson.JSONDecodeError:
                decoded = None
            if isinstance(decoded, list):
                out.extend(v for v in decoded if isinstance(v, str))
                return
        out.append(raw)
    elif isinstance(raw, Upload):
        out.append(raw.name)
    elif isinstance(raw, list | tuple):
        for item in raw:
            _collect(item, out)
    elif raw is not None and not isinstance(raw, dict):
        text = cast_str(raw)
        if text:
            out.append(text)
