"""Settings: PocketBase's defaults, validation of a PATCH, and the public (secret-free) view."""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import urlparse

from hearth.errors import FieldError, ValidationFailed
from hearth.schema.fields.url import is_url
from hearth.settings import rate_limits

DEFAULTS: dict[str, Any] = {
    "meta": {
        "appName": "Acme",
        "appURL": "http://localhost:8090",
        "senderName": "Support",
        "senderAddress": "support@example.com",
        "hideControls": False,
        "accentColor": "#1055c9",
    },
    "logs": {"maxDays": 5, "minLevel": 0, "logIP": True, "logAuthId": False, "maxDataSize": 0},
    "smtp": {
        "enabled": False,
        "port": 587,
        "host": "smtp.example.com",
        "username": "",
        "password": "",
        "authMethod": "",
        "tls": False,
        "localName": "",
    },
    "s3": {
        "enabled": False,
        "bucket": "",
        "region": "",
        "endpoint": "",
        "accessKey": "",
        "secret": "",
        "forcePathStyle": False,
    },
    "backups": {
        "cron": "",
        "cronMaxKeep": 3,
        "s3": {
            "enabled": False,
            "bucket": "",
            "region": "",
            "endpoint": "",
            "accessKey": "",
            "secret": "",
            "forcePathStyle": False,
        },
    },
    "batch": {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0},
    "rateLimits": {
        "rules": [
            {"label": "*:auth", "audience": "", "duration": 3, "maxRequests": 2},
            {"label": "*:create", "audience": "", "duration": 5, "maxRequests": 20},
            {"label": "/api/batch", "audience": "", "duration": 1, "maxRequests": 3},
            {"label": "/api/", "audience": "", "duration": 10, "maxRequests": 300},
        ],
        "enabled": False,
        "excludedIPs": [],
        # Hearth's own: failed password/OTP attempts per (collection, identity); see auth/attempts.py.
        "identity": {"enabled": True, "maxFailures": 10, "duration": 600},
    },
    "trustedProxy": {"headers": [], "useLeftmostIP": False},
    "superuserIPs": [],
}

# Write-only values: accepted on PATCH, never returned.
SECRETS = (("smtp", "password"), ("s3", "secret"), ("backups", "s3", "secret"))
_ORDER = ("smtp", "backups", "s3", "meta", "rateLimits", "trustedProxy", "batch", "logs", "superuserIPs")

_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def defaults() -> dict[str, Any]:
    return copy.deepcopy(DEFAULTS)


def merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a PATCH: known keys only, nested objects merged, lists replaced."""
    out = copy.deepcopy(current)
    for key, value in patch.items():
        if key not in out:
            continue
        if isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = merge(out[key], value)
        elif isinstance(value, list) and out[key] and isinstance(out[key][0], dict):
            # A list of objects (rate limit rules): each keeps only the keys PocketBase's struct
            # has, as Go's decoding does, so no unknown (and arbitrarily nested) value is copied.
            known = out[key][0].keys()
            out[key] = [
                {k: v for k, v in x.items() if k in known} if isinstance(x, dict) else x for x in value
            ]
        else:
            out[key] = copy.deepcopy(value)
    return out


def public(settings: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(settings)
    for path in SECRETS:
        node = out
        for part in path[:-1]:
            node = node.get(part, {})
        node.pop(path[-1], None)
    return {k: out[k] for k in _ORDER if k in out}


def _req(errors: dict[str, Any], key: str) -> None:
    errors[key] = FieldError("validation_required", "Cannot be blank.")


def _type_ok(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        # Lists of strings (proxy headers, IPs); lists of objects are checked by their owner.
        return isinstance(value, list) and all(
            v is None or isinstance(v, dict if default else str) for v in value
        )
    if isinstance(default, dict):
        return isinstance(value, dict)
    return True


def check_types(patch: Any, default: Any = DEFAULTS) -> bool:
    """Every known key of the PATCH has the default's JSON type (so 'tls': 'yes' is refused)."""
    if not isinstance(patch, dict):
        return False
    if default is DEFAULTS and not rate_limits.types_ok(patch.get("rateLimits")):
        return False
    for key, value in patch.items():
        if key not in default:
            continue
        ref = default[key]
        if isinstance(ref, dict):
            if not isinstance(value, dict) or not check_types(value, ref):
                return False
        elif not _type_ok(value, ref):
            return False
    return True


def validate(s: dict[str, Any]) -> None:
    errors: dict[str, Any] = {}

    meta: dict[str, Any] = {}
    if not s["meta"]["appName"]:
        _req(meta, "appName")
    elif len(s["meta"]["appName"]) > 255:
        meta["appName"] = FieldError(
            "validation_length_out_of_range", "The length must be between 1 and 255."
        )
    url = s["meta"]["appURL"]
    if not url:
        _req(meta, "appURL")
    elif urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
        meta["appURL"] = FieldError("validation_invalid_url", "Must be a valid url.")
    if not s["meta"]["senderName"]:
        _req(meta, "senderName")
    if not s["meta"]["senderAddress"]:
        _req(meta, "senderAddress")
    elif not _EMAIL_RE.match(s["meta"]["senderAddress"]):
        meta["senderAddress"] = FieldError("validation_is_email", "Must be a valid email address.")
    if s["meta"]["accentColor"] and not _HEX_COLOR.match(s["meta"]["accentColor"]):
        meta["accentColor"] = FieldError("validation_match_invalid", "Must be in a valid format.")
    if meta:
        errors["meta"] = meta

    logs: dict[str, Any] = {}
    if s["logs"]["maxDays"] < 0:
        logs["maxDays"] = FieldError(
            "validation_min_greater_equal_than_required", "Must be no less than 0.", {"threshold": 0}
        )
    if s["logs"]["maxDataSize"] < 0:
        logs["maxDataSize"] = FieldError(
            "validation_min_greater_equal_than_required", "Must be no less than 0.", {"threshold": 0}
        )
    if logs:
        errors["logs"] = logs

    smtp: dict[str, Any] = {}
    if s["smtp"]["enabled"]:
        if not s["smtp"]["host"]:
            _req(smtp, "host")
        if not s["smtp"]["port"]:
            _req(smtp, "port")
    if s["smtp"]["authMethod"] not in ("", "PLAIN", "LOGIN"):
        smtp["authMethod"] = FieldError("validation_in_invalid", "Must be a valid value.")
    if smtp:
        errors["smtp"] = smtp

    for path in (("s3",), ("backups", "s3")):
        node = s
        for part in path:
            node = node[part]
        s3: dict[str, Any] = {}
        for key in ("accessKey", "bucket", "endpoint", "region", "secret"):  # PocketBase's (sorted) order
            if node["enabled"] and not node[key]:
                _req(s3, key)
            elif key == "endpoint" and node[key] and not is_url(node[key]):  # checked even when disabled
                s3[key] = FieldError("validation_is_url", "Must be a valid URL.")
        if s3:
            if path == ("s3",):
                errors["s3"] = s3
            else:
                errors.setdefault("backups", {})["s3"] = s3
    if s["backups"]["cronMaxKeep"] < 1:
        errors.setdefault("backups", {})["cronMaxKeep"] = FieldError(
            "validation_min_greater_equal_than_required", "Must be no less than 1.", {"threshold": 1}
        )

    batch: dict[str, Any] = {}
    if s["batch"]["enabled"]:
        if s["batch"]["maxRequests"] <= 0:
            batch["maxRequests"] = FieldError(
                "validation_min_greater_equal_than_required", "Must be no less than 1.", {"threshold": 1}
            )
        if s["batch"]["timeout"] <= 0:
            batch["timeout"] = FieldError(
                "validation_min_greater_equal_than_required", "Must be no less than 1.", {"threshold": 1}
            )
    if s["batch"]["maxBodySize"] < 0:
        batch["maxBodySize"] = FieldError(
            "validation_min_greater_equal_than_required", "Must be no less than 0.", {"threshold": 0}
        )
    if batch:
        errors["batch"] = batch

    rl_errors = rate_limits.errors(s["rateLimits"])
    if rl_errors:
        errors["rateLimits"] = rl_errors
    ip_errors = rate_limits.ip_list_errors(s["superuserIPs"])
    if ip_errors:
        errors["superuserIPs"] = ip_errors

    if errors:
        raise ValidationFailed(errors)
