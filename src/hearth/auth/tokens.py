"""PocketBase-compatible JWTs (HS256), signed with the record's tokenKey + the collection secret.

Changing a record's tokenKey (password change) or a collection secret revokes its tokens.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Any

import jwt
import orjson

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


def issue(claims: dict[str, Any], signing_key: str, duration: int, session: str = "") -> str:
    """A signed token. `session` goes in the JWT header (`sid`), not in the claims: PocketBase's
    claims stay exactly as clients and SDKs know them."""
    payload = dict(claims)
    payload["exp"] = int(time.time()) + max(duration, 1)
    headers = {"sid": session} if session else None
    return jwt.encode(payload, signing_key, algorithm="HS256", headers=headers)


def session_of(token: str) -> str:
    """The login session named in the token's header ("" when there is none)."""
    sid = _session_cache.get(token)
    if sid is not None:
        return sid
    try:
        found = _segment(token.split(".", 1)[0]).get("sid", "")
    except (ValueError, binascii.Error, AttributeError):
        found = ""
    sid = found if isinstance(found, str) else ""
    if len(token) <= 4096:
        _remember(_session_cache, token, sid)
    return sid


# A client sends the same token on every request. PyJWT's decoding costs ~100 µs (it checks
# each base64 character in Python), which was half of an authenticated create; results are
# cached per token (claims, session) and per (token, signing key) (a verified signature, until
# `exp`).
_CACHE_LIMIT = 20_000
_claims_cache: dict[str, dict[str, Any] | None] = {}
_verified_cache: dict[tuple[str, str], int] = {}
_session_cache: dict[str, str] = {}


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _segment(text: str) -> Any:
    return orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def unverified_claims(token: str) -> dict[str, Any] | None:
    """Read claims before the key is known (the key depends on the record they name). Only the
    header and payload are read, as PocketBase does: the signature is checked later."""
    if token in _claims_cache:
        return _claims_cache[token]
    claims: dict[str, Any] | None = None
    parts = token.split(".")
    if len(parts) == 3:
        try:
            header, payload = _segment(parts[0]), _segment(parts[1])
        except (ValueError, binascii.Error):
            header = payload = None
        if isinstance(header, dict) and header.get("alg") == "HS256" and isinstance(payload, dict):
            claims = payload
    if len(token) <= 4096:
        _remember(_claims_cache, token, claims)
    return claims


def verify(token: str, signing_key: str) -> dict[str, Any] | None:
    exp = _verified_cache.get((token, signing_key))
    if exp is not None and exp > time.time():
        return _claims_cache.get(token) or unverified_claims(token)
    try:
        claims = jwt.decode(token, signing_key, algorithms=["HS256"], options={"require": ["exp"]})
    except jwt.PyJWTError:
        return None
    if not isinstance(claims, dict):
        return None
    if isinstance(claims.get("exp"), int) and len(token) <= 4096:
        _remember(_verified_cache, (token, signing_key), claims["exp"])
    return claims
