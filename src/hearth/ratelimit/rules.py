"""Rate limit rules compiled from settings, and PocketBase's choice of the rule for a request."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

AUDIENCE_ALL = ""
AUDIENCE_GUEST = "@guest"
AUDIENCE_AUTH = "@auth"
# A rule's audience must be one of these for the rule to apply (PocketBase's defaultRateLimitAudience).
GUEST_AUDIENCES = (AUDIENCE_ALL, AUDIENCE_GUEST)
AUTH_AUDIENCES = (AUDIENCE_ALL, AUDIENCE_AUTH)


@dataclass(frozen=True, slots=True)
class Rule:
    label: str
    audience: str
    max_requests: int
    duration: float  # seconds


class RuleSet:
    """The enabled `rateLimits` settings of one settings version (None is built when disabled)."""

    __slots__ = ("rules", "_prefix", "excluded_ips", "trusted_headers", "leftmost_ip", "epoch")

    def __init__(self, settings: Mapping[str, Any]) -> None:
        rl = settings["rateLimits"]
        self.rules = tuple(
            Rule(
                str(r.get("label", "")),
                str(r.get("audience", "")),
                int(r.get("maxRequests", 0)),
                float(r.get("duration", 0)),
            )
            for r in rl.get("rules") or ()
        )
        # Rules whose label ends with "/" also match every path below it.
        self._prefix = tuple(r for r in self.rules if r.label.endswith("/"))
        self.excluded_ips: tuple[str, ...] = tuple(rl.get("excludedIPs") or ())
        proxy = settings.get("trustedProxy") or {}
        self.trusted_headers: tuple[str, ...] = tuple(proxy.get("headers") or ())
        self.leftmost_ip = bool(proxy.get("useLeftmostIP", False))
        # PocketBase drops every counter when the settings change; counters kept in Redis are
        # instead keyed by this digest of the rules, so changed rules start afresh everywhere.
        self.epoch = format(zlib.crc32(orjson.dumps(rl.get("rules") or [], option=orjson.OPT_SORT_KEYS)), "x")

    @staticmethod
    def from_settings(settings: Mapping[str, Any]) -> RuleSet | None:
        rl = settings.get("rateLimits") or {}
        if not rl.get("enabled") or not rl.get("rules"):
            return None
        return RuleSet(settings)

    def find(self, labels: Sequence[str], audiences: Sequence[str]) -> Rule | None:
        """PocketBase's FindRateLimitRule: labels in order (most specific first); for each, an
        exact label match wins, then a `/prefix/` rule the label's path falls under."""
        for label in labels:
            for rule in self.rules:
                if rule.label == label and rule.audience in audiences:
                    return rule
            # PocketBase collects prefix rules while scanning the first label only, then tries
            # them for every label (with a "/" appended, so "/api/" matches "/api" itself).
            slashed = label + "/"
            for rule in self._prefix:
                if slashed.startswith(rule.label) and rule.audience in audiences:
                    return rule
        return None
