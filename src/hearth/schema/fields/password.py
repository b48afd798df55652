"""`password` fields: plain text in, bcrypt hash stored, never output."""

from __future__ import annotations

from typing import Any, ClassVar

from hearth._util.passwords import hash_now, verify_now
from hearth.errors import FieldError
from hearth.schema.fields.base import Field, cast_str, opt_int
from hearth.schema.fields.text import check_range, pattern_matches, regex_error, schema_pattern

BCRYPT_MAX_LENGTH = 71  # characters; PocketBase's cap (bcrypt reads at most 72 bytes)
BCRYPT_MAX_BYTES = 72
DEFAULT_COST = 10  # bcrypt.DefaultCost, used when cost is 0
MIN_COST, MAX_COST = 4, 31


class PasswordField(Field):
    type: ClassVar[str] = "password"
    option_defaults: ClassVar[dict[str, Any]] = {"cost": 0, "max": 0, "min": 0, "pattern": ""}
    is_password: ClassVar[bool] = True

    @property
    def cost(self) -> int:
        return int(self.options["cost"]) or DEFAULT_COST

    def normalize_options(self) -> dict[str, FieldError]:
        opts = self.options
        for key in ("cost", "max", "min"):
            opts[key] = opt_int(opts[key])
        opts["pattern"] = opts["pattern"] if isinstance(opts["pattern"], str) else ""
        checks = {
            "min": check_range(opts["min"], 1, BCRYPT_MAX_LENGTH),
            "max": check_range(opts["max"], opts["min"], BCRYPT_MAX_LENGTH),
            "cost": check_range(opts["cost"], MIN_COST, MAX_COST),
            "pattern": regex_error(opts["pattern"]),
        }
        return {key: err for key, err in checks.items() if err is not None}

    # ----- hashing ------------------------------------------------------------------------------
    def hash(self, plain: str) -> str:
        """bcrypt hash with the field's cost (blocking: call it off the event loop)."""
        return hash_now(plain, self.cost)

    @staticmethod
    def verify(plain: str, hashed: str) -> bool:
        """Whether `plain` matches a stored hash (False for an empty or malformed hash)."""
        if not hashed or not plain:
            return False
        return verify_now(plain, hashed)

    # ----- storage ------------------------------------------------------------------------------
    def to_db(self, value: Any) -> Any:
        # The record service replaces the plain text with its hash before writing (hashing is
        # slow and async there), so what arrives here is already the hash, or "".
        return cast_str(value) or ""

    def from_db(self, raw: Any) -> Any:
        return ""  # the hash never leaves the storage layer through the field

    def prepare(self, raw: Any) -> Any:
        return cast_str(raw) or ""

    def validate(self, value: Any) -> FieldError | None:
        """Checks a submitted plain password. The caller decides whether an absent value on update
        is fine (an existing hash satisfies `required`)."""
        plain = value if isinstance(value, str) else ""
        if len(plain.encode()) > BCRYPT_MAX_BYTES:
            # PocketBase surfaces bcrypt's "password too long" as a generic invalid value.
            return FieldError("validation_invalid_value", "Invalid value.")
        if plain == "":
            return FieldError("validation_required", "Cannot be blank.") if self.required else None
        # Unlike text, PocketBase gives these two no params.
        length = len(plain)
        minimum = int(self.options["min"])
        if length < minimum:
            return FieldError("validation_min_text_constraint", f"Must be at least {minimum} character(s).")
        limit = int(self.options["max"]) or BCRYPT_MAX_LENGTH
        if length > limit:
            return FieldError("validation_max_text_constraint", f"Must be less than {limit} character(s).")
        if self.options["pattern"] and not pattern_matches(self.options["pattern"], plain):
            return FieldError("validation_invalid_format", "Invalid value format.")
        return None

    def example(self) -> Any:
        length = max(int(self.options["min"]), 21)
        return ("correct-horse-battery-staple-" * 3)[: min(length, int(self.options["max"]) or length)]

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        if not write:  # a password field that is not secret is shown, always as ""
            return {"type": "string", "const": ""}
        rules: dict[str, Any] = {"maxLength": int(self.options["max"]) or BCRYPT_MAX_LENGTH}
        if int(self.options["min"]) > 0:
            rules["minLength"] = int(self.options["min"])
        rules.update(schema_pattern(self.options["pattern"]))
        schema = self.blank_or(rules, "", {"type": "string", "format": "password", "writeOnly": True})
        if self.required:
            schema["minLength"] = max(int(self.options["min"]), 1)
        return schema
