"""PocketBase-compatible JWTs (HS256), signed with the record's tokenKey + the collection secret.

Changing a record's tokenKey (password change) or a collection secret revokes its tokens.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

AUTH = "auth"
FILE = "file"
VERIFICATION = "verification"
PASSWORD_RESET = "passwordReset"
EMAIL_CHANGE = "emailChange"

# token type → the collection option that holds its secret and duration
TOKEN_OPTION = {
    AUTH: "authToken",
    FILE: "fileToken",
    VERIFICATION: "verificationToken",
    PASSWORD_RESET: "passwordResetToken",
    EMAIL_CHANGE: "emailChangeToken",
}


def issue(claims: dict[str, Any], signing_key: str, duration: int) -> str:
    payload = dict(claims)
    payload["exp"] = int(time.time()) + max(duration, 1)
    return jwt.encode(payload, signing_key, algorithm="HS256")


def unverified_claims(token: str) -> dict[str, Any] | None:
    """Read claims before the key is known (the key depends on the record they name)."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "HS256":
            return None
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None


def verify(token: str, signing_key: str) -> dict[str, Any] | None:
    try:
        claims = jwt.decode(token, signing_key, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None
