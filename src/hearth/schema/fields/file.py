"""`file` fields (metadata only here): values are stored file names."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from hearth.errors import FieldError
from hearth.schema.fields.base import MAX_SAFE_INT, FieldErrors, opt_int, opt_str_list, unique_strings
from hearth.schema.fields.select import MultiValueField
from hearth.schema.fields.text import check_range

DEFAULT_MAX_SIZE = 5 << 20  # bytes per file, when maxSize is 0
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

    def validate(self, value: Any) -> FieldError | None:
        # Which names are new uploads, their size and mime type are the file service's checks.
        names = unique_strings(value)
        if not names:
            return FieldError("validation_required", "Cannot be blank.") if self.required else None
        if len(names) > self.max_select:
            return FieldError(
                "validation_too_many_files",
                f"The maximum allowed files is {self.max_select}.",
                {"maxSelect": self.max_select},
            )
        return None
