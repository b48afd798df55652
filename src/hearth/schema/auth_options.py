"""Default options of auth collections, as PocketBase 0.40 returns them."""

from __future__ import annotations

import copy
from typing import Any

from hearth._util.ids import random_string

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


def merge_options(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge submitted options over stored ones (unknown keys ignored, secrets kept)."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if key not in out:
            continue
        if isinstance(out[key], dict) and isinstance(value, dict) and key not in ("mappedFields",):
            out[key] = merge_options(out[key], value) if key != "oauth2" else _merge_oauth2(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_oauth2(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if key in out:
            out[key] = copy.deepcopy(value)
    return out


def public_options(opts: dict[str, Any]) -> dict[str, Any]:
    """Options without secrets, for API output."""
    out = copy.deepcopy(opts)
    for key in TOKEN_OPTIONS:
        out.get(key, {}).pop("secret", None)
    for provider in out.get("oauth2", {}).get("providers", []):
        if isinstance(provider, dict):
            provider.pop("clientSecret", None)
    return out
