"""`email` fields, with optional allow/deny lists of domains."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from hearth.errors import FieldError
from hearth.schema.fields.base import Field, FieldErrors, cast_str, opt_str_list

# ozzo-validation's `is.Domain` (used for the onlyDomains/exceptDomains options). The odd
# " xn--" alternative (with a space) is theirs; kept so the same inputs pass.
_DOMAIN_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+(?:[a-zA-Z]{1,63}| xn--[a-z0-9]{1,59})"
)

# Character sets of govalidator's email regexp, checked procedurally so that validation stays
# linear on hostile input (the regexp backtracks badly in Python's engine). PocketBase's build
# does not accept quoted local parts, so neither do we.
_UNI = ((0x00A0, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFEF))
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_LOCAL_ATOM = _ASCII_LETTERS | _DIGITS | frozenset("!#$%&'*+-/=?^_`{|}~")


def _uni(ch: str) -> bool:
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _UNI)


def _in(ch: str, ascii_set: frozenset[str]) -> bool:
    return ch in ascii_set or _uni(ch)


_LABEL_EDGE = _ASCII_LETTERS | _DIGITS
_LABEL_INNER = _LABEL_EDGE | frozenset("-._~")
_TLD_INNER = _ASCII_LETTERS | _DIGITS | frozenset("-_~")


def is_email(value: str) -> bool:
    """govalidator.IsEmail as PocketBase uses it (`a@b` fails: the domain needs a dot)."""
    local, sep, domain = value.partition("@")
    if not sep or not local or not domain:
        return False
    if any(part == "" or not all(_in(c, _LOCAL_ATOM) for c in part) for part in local.split(".")):
        return False
    # The domain grammar `(label\.)+tld\.?` with dots allowed inside labels reduces to:
    # head "." tld ["."], head and tld non-empty, tld without dots.
    body = domain[:-1] if domain.endswith(".") else domain
    head, dot, tld = body.rpartition(".")
    if not dot or not head or not tld:
        return False
    if not (_in(head[0], _LABEL_EDGE) and _in(head[-1], _LABEL_EDGE)):
        return False
    if not all(_in(c, _LABEL_INNER) for c in head[1:-1]):
        return False
    if not (_in(tld[0], _ASCII_LETTERS) and _in(tld[-1], _ASCII_LETTERS)):
        return False
    return all(_in(c, _TLD_INNER) for c in tld[1:-1])


def is_domain(value: str) -> bool:
    return len(value.encode()) <= 255 and _DOMAIN_RE.fullmatch(value) is not None


def domain_list_errors(options: dict[str, Any]) -> dict[str, FieldError]:
    """onlyDomains/exceptDomains: mutually exclusive, and every entry a domain (errors per index)."""
    only = options["onlyDomains"] = opt_str_list(options["onlyDomains"])
    exclude = options["exceptDomains"] = opt_str_list(options["exceptDomains"])
    errors: dict[str, FieldError] = {}
    for key, values, other in (("exceptDomains", exclude, only), ("onlyDomains", only, exclude)):
        if other:
            if values:
                errors[key] = FieldError("validation_empty", "Must be blank.")
            continue
        bad = {
            str(i): FieldError("validation_is_domain", "Must be a valid domain.")
            for i, domain in enumerate(values)
            if domain and not is_domain(domain)  # ozzo skips empty values
        }
        if bad:
            errors[key] = FieldErrors(bad)
    return errors


class DomainListField(Field):
    """A text field whose values name a domain, allowed by `onlyDomains` / `exceptDomains` (the
    email and url fields: the same options, storage and checks, in their own words)."""

    option_defaults: ClassVar[dict[str, Any]] = {"exceptDomains": [], "onlyDomains": []}
    # (code, message) of the errors, made anew each time (an error is an exception: not shared)
    invalid: ClassVar[tuple[str, str]]  # a value of the wrong form
    not_allowed: ClassVar[tuple[str, str]]  # a domain the options exclude

    def normalize_options(self) -> dict[str, FieldError]:
        return domain_list_errors(self.options)

    def from_db(self, raw: Any) -> Any:
        return "" if raw is None else str(raw)

    def prepare(self, raw: Any) -> Any:
        return cast_str(raw) or ""

    def well_formed(self, text: str) -> bool:
        raise NotImplementedError

    def domain(self, text: str) -> str:
        """The domain a well-formed value names."""
        raise NotImplementedError

    def validate(self, value: Any) -> FieldError | None:
        text = value if isinstance(value, str) else ""
        if text == "":
            return FieldError("validation_required", "Cannot be blank.") if self.required else None
        if not self.well_formed(text):
            return FieldError(*self.invalid)
        domain = self.domain(text)
        only, exclude = self.options["onlyDomains"], self.options["exceptDomains"]
        if (only and domain not in only) or (exclude and domain in exclude):
            return FieldError(*self.not_allowed)
        return None

    def example(self) -> Any:
        only = self.options["onlyDomains"]
        return self.sample.replace("example.com", only[0]) if only else self.sample

    # The JSON Schema format of a well-formed value, and an example of one.
    format: ClassVar[str]
    sample: ClassVar[str]

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        if not write:
            return {"type": "string"}
        schema = self.blank_or({"format": self.format}, "", {"type": "string"})
        if self.required:  # `format` alone is an annotation for many validators: "" would pass
            schema["minLength"] = 1
        only, exclude = self.options["onlyDomains"], self.options["exceptDomains"]
        if only:
            schema["description"] = "Only the domains " + ", ".join(only) + "."
        elif exclude:
            schema["description"] = "Not the domains " + ", ".join(exclude) + "."
        return schema


class EmailField(DomainListField):
    type: ClassVar[str] = "email"
    invalid = ("validation_is_email", "Must be a valid email address.")
    format = "email"
    sample = "someone@example.com"
    not_allowed = ("validation_email_domain_not_allowed", "Email domain is not allowed.")

    def well_formed(self, text: str) -> bool:
        return is_email(text)

    def domain(self, text: str) -> str:
        return text.rsplit("@", 1)[1]
