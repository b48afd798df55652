"""`file` fields (metadata only here): values are stored file names.

A submitted value may keep or drop the names the record already holds in the field; any other name
would have to be a file uploaded with the request, and until file storage exists every such name
is PocketBase's `validation_invalid_file`. Uploaded files themselves are refused with 400 wherever
they arrive (`uploads_refused`, from hearth.http.body and the batch) rather than dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar

import orjson

from hearth.errors import BadRequest, FieldError
from hearth.schema.fields.base import MAX_SAFE_INT, FieldErrors, cast_str, opt_int, opt_str_list
from hearth.schema.fields.select import MultiValueField
from hearth.schema.fields.text import check_range

DEFAULT_MAX_SIZE = 5 << 20  # bytes per file, when maxSize is 0
UPLOADS_UNSUPPORTED = "File uploads are not supported yet."
STORAGE_UNAVAILABLE = "validation_file_storage_unavailable"


def upload_refused() -> FieldError:
    return FieldError(STORAGE_UNAVAILABLE, "File storage is not available yet; the file was not saved.")


def uploads_refused(parts: list[str]) -> BadRequest:
    """The 400 for a request carrying uploaded files (until file storage exists), keyed by the
    names of the parts that held them."""
    return BadRequest(UPLOADS_UNSUPPORTED, {name: upload_refused() for name in parts})


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

    def validate(self, value: Any, existing: Iterable[str] = ()) -> FieldError | None:
        """`existing`: the names the record holds in this field now (none on create). Any other
        name is refused first, as PocketBase does, then `required` and `maxSelect` are checked.
        Size and mime type are the file service's checks, once uploads are stored."""
        names = file_names(value)
        kept = set(existing)
        new = [name for name in names if name not in kept]
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
        return None


def file_names(raw: Any) -> list[str]:
    """A submitted or stored file value → unique non-empty names, in order, as PocketBase reads
    them: a string is one name (a JSON array in a string is its string items), numbers and bools
    are their text, arrays are flattened, null and objects are nothing."""
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
    elif isinstance(raw, list | tuple):
        for item in raw:
            _collect(item, out)
    elif raw is not None and not isinstance(raw, dict):
        text = cast_str(raw)
        if text:
            out.append(text)
