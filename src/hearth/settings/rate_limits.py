"""Validation of `rateLimits`, as PocketBase's RateLimitsConfig/RateLimitRule (core/settings_model.go),
plus Hearth's `identity` block (failed login attempts per identity, see auth/attempts.py)."""

from __future__ import annotations

import re
from typing import Any

from hearth.errors import FieldError
from hearth.ratelimit.ips import parse_ip_or_subnet

# rateLimitRuleLabelRegex: `METHOD /path`, `/path`, `name:action`, `*:action` or a plain tag.
# Go's \w is ASCII-only; fullmatch, because Python's `$` also matches before a final newline.
LABEL_RE = re.compile(r"\w+ /[\w/-]*|/[\w/-]*|\w+:\w+|\*:\w+|\w+", re.ASCII)
AUDIENCES = ("", "@guest", "@auth")

_RULE_TYPES: dict[str, type | tuple[type, ...]] = {
    "label": str,
    "audience": str,
    "duration": (int, float),
    "maxRequests": (int, float),
}
_IDENTITY_INTS = ("maxFailures", "duration")


def _required() -> FieldError:
    return FieldError("validation_required", "Cannot be blank.")


def _min1() -> FieldError:
    return FieldError(
        "validation_min_greater_equal_than_required", "Must be no less than 1.", {"threshold": 1}
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()


def types_ok(rl: Any) -> bool:
    """Element types inside a `rateLimits` PATCH that Go's JSON decoding would refuse."""
    if not isinstance(rl, dict):
        return True  # the generic check refuses it
    for rule in rl.get("rules") or ():
        if rule is None:
            continue  # decodes to an empty rule, which then fails validation
        if not isinstance(rule, dict):
            return False
        for key, kind in _RULE_TYPES.items():
            value = rule.get(key)
            if value is None:
                continue
            if not isinstance(value, kind) or isinstance(value, bool):
                return False
            if kind is not str and not _is_int(value):
                return False
    return all(isinstance(ip, str) for ip in rl.get("excludedIPs") or ())


def _min_positive(value: Any) -> FieldError | None:
    """ozzo's Required then Min(1): zero is "blank", a negative number is under the minimum."""
    if not value:
        return _required()
    if value < 1:
        return _min1()
    return None


def _rule_errors(rule: dict[str, Any] | None) -> dict[str, Any]:
    rule = rule or {}
    out: dict[str, Any] = {}
    label = rule.get("label") or ""
    if not label:
        out["label"] = _required()
    elif not LABEL_RE.fullmatch(label):
        out["label"] = FieldError("validation_match_invalid", "Must be in a valid format.")
    for key in ("maxRequests", "duration"):
        err = _min_positive(rule.get(key) or 0)
        if err is not None:
            out[key] = err
    if (rule.get("audience") or "") not in AUDIENCES:
        out["audience"] = FieldError("validation_in_invalid", "Must be a valid value.")
    return out


def _conflict(rules: list[Any]) -> dict[str, Any] | None:
    """PocketBase's checkUniqueRuleLabel: `label@@audience` keys where one is a prefix of another
    conflict (so `x` for everyone also conflicts with `x` for `@auth`). Reports the first only."""
    existing: list[str] = []
    for i, rule in enumerate(rules):
        label = (rule or {}).get("label") or ""
        full = label + "@@" + ((rule or {}).get("audience") or "")
        if any(k.startswith(full) or full.startswith(k) for k in existing):
            return {
                str(i): {
                    "label": FieldError(
                        "validation_conflicting_rate_limit_rule",
                        "Rate limit rule configuration with label {label} already exists or conflicts "
                        "with another rule.".replace("{label}", label),
                        {"label": label},
                    )
                }
            }
        existing.append(full)
    return None


def errors(rl: dict[str, Any]) -> dict[str, Any]:
    """Field errors of a merged `rateLimits` object (empty when valid)."""
    out: dict[str, Any] = {}
    rules = rl.get("rules") or []
    if rl.get("enabled") and not rules:
        out["rules"] = _required()
    else:
        # PocketBase (its ozzo fork) reports the rules' own errors first and checks the labels
        # for conflicts only when every rule is valid.
        per_rule = {str(i): e for i, rule in enumerate(rules) if (e := _rule_errors(rule))}
        conflict = None if per_rule else _conflict(rules)
        if per_rule or conflict:
            out["rules"] = per_rule or conflict

    ip_errors = ip_list_errors(rl.get("excludedIPs") or ())
    if ip_errors:
        out["excludedIPs"] = ip_errors

    identity = rl.get("identity") or {}
    id_errors: dict[str, Any] = {}
    for key in _IDENTITY_INTS:
        err = _min_positive(identity.get(key) or 0)
        if err is not None:
            id_errors[key] = err
    if id_errors:
        out["identity"] = id_errors
    return out


def ip_list_errors(items: Any) -> dict[str, Any]:
    """Errors by position of a list of IPs or CIDR subnets (`excludedIPs`, `superuserIPs`)."""
    errors: dict[str, Any] = {}
    for i, ip in enumerate(items):
        if not ip:
            errors[str(i)] = _required()
        elif parse_ip_or_subnet(ip) is None:
            # (sic) PocketBase's code has this spelling.
            errors[str(i)] = FieldError("validation_invlaid_ip_or_subnet", "Invalid IP or CIDR subnet.")
    return errors
