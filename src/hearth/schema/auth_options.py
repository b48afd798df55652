"""Default options of auth collections, as PocketBase 0.40 returns them."""

from __future__ import annotations

import copy
from typing import Any

from hearth._util.ids import random_string
from hearth.errors import FieldError

_FOOTER = "<p>\n  Thanks,<br/>\n  {APP_NAME} team\n</p>"


def _button(path: str, label: str) -> str:
    return (
        f'<p>\n  <a class="btn" href="{{APP_URL}}/_/#/auth/{path}/{{TOKEN}}" target="_blank" rel="noopener">'
        f"{label}</a>\n</p>\n"
    )


DEFAULT_AUTH_OPTIONS: dict[str, Any] = {
    "authRule": "",
    "manageRule": None,
    "authAlert": {
        "enabled": True,
        "emailTemplate": {
            "subject": "Login from a new location",
            "body": "<p>Hello,</p>\n<p>We noticed a login to your {APP_NAME} account from a new location:</p>\n"
            "<p><em>{ALERT_INFO}</em></p>\n<p><strong>If this wasn't you, you should immediately change your "
            "{APP_NAME} account password to revoke access from all other locations.</strong></p>\n"
            "<p>If this was you, you may disregard this email.</p>\n" + _FOOTER,
        },
    },
    "oauth2": {
        "enabled": False,
        "mappedFields": {"id": "", "name": "", "username": "", "avatarURL": ""},
        "providers": [],
    },
    "passwordAuth": {"enabled": True, "identityFields": ["email"]},
    "mfa": {"enabled": False, "duration": 600, "rule": ""},
    "otp": {
        "enabled": False,
        "duration": 180,
        "length": 8,
        "emailTemplate": {
            "subject": "OTP for {APP_NAME}",
            "body": "<p>Hello,</p>\n<p>Your one-time password is: <strong>{OTP}</strong></p>\n"
            "<p><i>If you didn't ask for the one-time password, you can ignore this email.</i></p>\n"
            + _FOOTER,
        },
    },
    "authToken": {"duration": 432000},
    "passwordResetToken": {"duration": 1800},
    "emailChangeToken": {"duration": 1800},
    "verificationToken": {"duration": 86400},
    "fileToken": {"duration": 180},
    "verificationTemplate": {
        "subject": "Verify your {APP_NAME} email",
        "body": "<p>Hello,</p>\n<p>Thank you for joining us at {APP_NAME}.</p>\n"
        "<p>Click on the button below to verify your email address.</p>\n"
        + _button("confirm-verification", "Verify")
        + "<p><i>If you didn't recently register, please ignore this email.</i></p>\n"
        + _FOOTER,
    },
    "resetPasswordTemplate": {
        "subject": "Reset your {APP_NAME} password",
        "body": "<p>Hello,</p>\n<p>Click on the button below to reset your password.</p>\n"
        + _button("confirm-password-reset", "Reset password")
        + "<p><i>If you didn't ask to reset your password, please ignore this email.</i></p>\n"
        + _FOOTER,
    },
    "confirmEmailChangeTemplate": {
        "subject": "Confirm your {APP_NAME} new email address",
        "body": "<p>Hello,</p>\n<p>Click on the button below to confirm your new email address.</p>\n"
        + _button("confirm-email-change", "Confirm new email")
        + "<p><i>If you didn't ask to change your email address, please ignore this email.</i></p>\n"
        + _FOOTER,
    },
}

# Token configs carry a server-only `secret` (never returned by the API).
TOKEN_OPTIONS = ("authToken", "passwordResetToken", "emailChangeToken", "verificationToken", "fileToken")
SECRET_LENGTH = 50


def default_auth_options() -> dict[str, Any]:
    opts = copy.deepcopy(DEFAULT_AUTH_OPTIONS)
    for key in TOKEN_OPTIONS:
        opts[key]["secret"] = random_string(SECRET_LENGTH)
    return opts


class OptionsFormatError(ValueError):
    """An option of the wrong JSON type: PocketBase cannot decode it into its struct (a 400
    "invalid formatting", with no per-field data)."""


# The JSON shape of every option, as PocketBase's structs type it: a nested dict is a struct,
# a one-element list a list of that shape, RULE a string or null, ANY_OBJECT free-form JSON.
RULE = "rule"
ANY_OBJECT = "object"
_TEMPLATE: dict[str, Any] = {"subject": str, "body": str}
_TOKEN: dict[str, Any] = {"secret": str, "duration": int}
PROVIDER: dict[str, Any] = {
    "name": str,
    "clientId": str,
    "clientSecret": str,
    "authURL": str,
    "tokenURL": str,
    "userInfoURL": str,
    "displayName": str,
    "pkce": (bool, None),
    "extra": ANY_OBJECT,
}
SPEC: dict[str, Any] = {
    "authRule": RULE,
    "manageRule": RULE,
    "authAlert": {"enabled": bool, "emailTemplate": _TEMPLATE},
    "oauth2": {
        "enabled": bool,
        "mappedFields": {"id": str, "name": str, "username": str, "avatarURL": str},
        "providers": [PROVIDER],
    },
    "passwordAuth": {"enabled": bool, "identityFields": [str]},
    "mfa": {"enabled": bool, "duration": int, "rule": str},
    "otp": {"enabled": bool, "duration": int, "length": int, "emailTemplate": _TEMPLATE},
    **{key: _TOKEN for key in TOKEN_OPTIONS},
    "verificationTemplate": _TEMPLATE,
    "resetPasswordTemplate": _TEMPLATE,
    "confirmEmailChangeTemplate": _TEMPLATE,
}
# Free-form provider `extra` objects: deep enough for any real configuration, shallow enough
# that the stored collection stays far inside every JSON encoder's and decoder's nesting limit.
MAX_EXTRA_DEPTH = 32
_INT64 = range(-(2**63), 2**63)


def _zero(spec: Any) -> Any:
    if isinstance(spec, dict):
        return {k: _zero(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return []
    if spec is ANY_OBJECT:
        return {}
    if spec is RULE or isinstance(spec, tuple):
        return None
    return spec()  # str → "", int → 0, bool → False


def _scalar_ok(spec: Any, value: Any) -> bool:
    if isinstance(spec, tuple):
        return any(value is None if t is None else _scalar_ok(t, value) for t in spec)
    if spec is RULE:
        return value is None or isinstance(value, str)
    if spec is bool:
        return isinstance(value, bool)
    if spec is int:  # Go's int64: no fractions (1.0 included), no booleans
        return isinstance(value, int) and not isinstance(value, bool) and value in _INT64
    return isinstance(value, spec)


def _depth_over(value: Any, limit: int) -> bool:
    """Whether `value` nests deeper than `limit` (iterative: the value is request data)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (node.values() if isinstance(node, dict) else node))
    return False


def _decode(spec: Any, value: Any) -> Any:
    """`value` read as PocketBase decodes it into the option of shape `spec`: null is the zero
    value, a struct keeps only its known keys (patch semantics: absent keys stay absent)."""
    if value is None:
        return _zero(spec)
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise OptionsFormatError()
        return {k: _decode(spec[k], v) for k, v in value.items() if k in spec}
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise OptionsFormatError()
        return [_decode(spec[0], v) for v in value]
    if spec is ANY_OBJECT:
        if not isinstance(value, dict) or _depth_over(value, MAX_EXTRA_DEPTH):
            raise OptionsFormatError()
        return value
    if not _scalar_ok(spec, value):
        raise OptionsFormatError()
    return value


def decode_patch(payload: dict[str, Any]) -> dict[str, Any]:
    """The auth options a collection body sets, type-checked. Raises OptionsFormatError."""
    return {k: _decode(SPEC[k], v) for k, v in payload.items() if k in SPEC}


def _normalize(spec: Any, value: Any, default: Any) -> Any:
    if isinstance(spec, dict):
        src = value if isinstance(value, dict) else {}
        base = default if isinstance(default, dict) else {}
        return {k: _normalize(sub, src.get(k), base.get(k)) for k, sub in spec.items()}
    if isinstance(spec, list):
        items = value if isinstance(value, list) else []
        return [
            _normalize(spec[0], v, None)
            for v in items
            if not isinstance(spec[0], dict) or isinstance(v, dict)
        ]
    if spec is ANY_OBJECT:
        return value if isinstance(value, dict) else {}
    if (value is not None and _scalar_ok(spec, value)) or (
        value is None and (spec is RULE or isinstance(spec, tuple))
    ):
        return value
    return default if default is not None else _zero(spec)


def normalize_options(stored: Any) -> dict[str, Any]:
    """Stored options in the full shape every reader expects. Tolerates what PocketBase (or an
    older Hearth) may have stored: null for a list or object, missing keys (PocketBase's
    defaults; a missing secret stays ""), wrongly typed values (the default), extra keys
    (dropped)."""
    src = stored if isinstance(stored, dict) else {}
    out: dict[str, Any] = {}
    for key, spec in SPEC.items():
        if spec is RULE:
            value = src.get(key, DEFAULT_AUTH_OPTIONS[key])
            out[key] = value if value is None or isinstance(value, str) else DEFAULT_AUTH_OPTIONS[key]
        else:
            out[key] = _normalize(spec, src.get(key), DEFAULT_AUTH_OPTIONS.get(key))
    return out


def merge_options(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge decoded options (see decode_patch) over stored ones (secrets kept)."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if key not in out:
            continue
        if isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = merge_options(out[key], value) if key != "oauth2" else _merge_oauth2(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_oauth2(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if key == "providers" and isinstance(value, list):
            # A provider sent without its secret keeps the stored one (exports never carry
            # secrets, and the API never shows them), matched by name as PocketBase does.
            stored = {p.get("name"): p for p in base.get("providers") or [] if isinstance(p, dict)}
            merged = []
            for p in value:
                old = stored.get(p.get("name")) if isinstance(p, dict) else None
                item = _zero(PROVIDER)
                if old is not None and "clientSecret" not in p:
                    item["clientSecret"] = old.get("clientSecret", "")
                item.update(p)
                merged.append(item)
            out[key] = merged
        elif key == "mappedFields" and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        elif key in out:
            out[key] = copy.deepcopy(value)
    return out


def public_options(opts: dict[str, Any]) -> dict[str, Any]:
    """Options without secrets, for API output."""
    out = copy.deepcopy(opts)
    for key in TOKEN_OPTIONS:
        section = out.get(key)
        if isinstance(section, dict):
            section.pop("secret", None)
    oauth2 = out.get("oauth2")
    for provider in (oauth2.get("providers") if isinstance(oauth2, dict) else None) or []:
        if isinstance(provider, dict):
            provider.pop("clientSecret", None)
    return out


def _required(value: Any) -> FieldError | None:
    return FieldError("validation_required", "Cannot be blank.") if value in ("", 0, None, []) else None


def _range(value: int, low: int, high: int | None) -> FieldError | None:
    if value < low:
        return FieldError(
            "validation_min_greater_equal_than_required", f"Must be no less than {low}.", {"threshold": low}
        )
    if high is not None and value > high:
        return FieldError(
            "validation_max_less_equal_than_required", f"Must be no greater than {high}.", {"threshold": high}
        )
    return None


def validate_options(opts: dict[str, Any]) -> dict[str, Any]:
    """PocketBase's checks of the auth options (token secrets and durations, templates, OTP and
    MFA durations), as {option: {key: FieldError}}."""
    errors: dict[str, Any] = {}

    def put(section: str, key: str, err: FieldError | None) -> None:
        if err is not None:
            errors.setdefault(section, {})[key] = err

    for section in TOKEN_OPTIONS:
        token = opts[section]
        secret = token["secret"]
        put(
            section,
            "secret",
            _required(secret)
            or (
                FieldError(
                    "validation_length_out_of_range",
                    "The length must be between 30 and 255.",
                    {"max": 255, "min": 30},
                )
                if not 30 <= len(secret) <= 255
                else None
            ),
        )
        put(section, "duration", _required(token["duration"]) or _range(token["duration"], 10, 94670856))
    for section in ("verificationTemplate", "resetPasswordTemplate", "confirmEmailChangeTemplate"):
        for key in ("subject", "body"):
            put(section, key, _required(opts[section][key]))
    for section in ("authAlert", "otp"):
        template = opts[section]["emailTemplate"]
        for key in ("subject", "body"):
            err = _required(template[key])
            if err is not None:
                errors.setdefault(section, {}).setdefault("emailTemplate", {})[key] = err
    for section, limits in (("otp", ((10, 86400), "length")), ("mfa", ((10, 86400), None))):
        conf = opts[section]
        if conf["enabled"]:
            put(section, "duration", _required(conf["duration"]) or _range(conf["duration"], *limits[0]))
            if limits[1]:
                put(section, "length", _required(conf["length"]) or _range(conf["length"], 4, None))
    if opts["passwordAuth"]["enabled"]:
        put("passwordAuth", "identityFields", _required(opts["passwordAuth"]["identityFields"]))
    return errors
