"""`POST /api/settings/apple/generate-client-secret`: Sign in with Apple wants, as the OAuth2
client secret, a JWT signed (ES256) with the team's private key; it expires after at most six
months, so PocketBase's dashboard makes one on demand. Same input, checks and answer as
PocketBase 0.40.6 (recorded from the real binary)."""

from __future__ import annotations

import re
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from hearth.errors import BadRequest, FieldError

INVALID = "Invalid client secret data."
FAILED = "Failed to generate client secret. Raw error: \n"
MAX_DURATION = 15777000  # six months, Apple's limit
_PKCS8 = re.compile(r"-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----")
_FIELDS = ("clientId", "teamId", "keyId", "privateKey")


def generate(body: dict[str, Any]) -> str:
    values = {name: body.get(name, "") for name in _FIELDS}
    duration = body.get("duration", 0)
    if any(v is not None and not isinstance(v, str) for v in values.values()) or not (
        duration is None or (isinstance(duration, int | float) and not isinstance(duration, bool))
    ):
        raise BadRequest("An error occurred while loading the submitted data.")
    errors: dict[str, FieldError] = {}
    for name, value in values.items():
        if not value:
            errors[name] = FieldError("validation_required", "Cannot be blank.")
    for name in ("teamId", "keyId"):
        if values[name] and len(str(values[name])) != 10:
            errors[name] = FieldError("validation_length_invalid", "The length must be exactly 10.", {"max": 10, "min": 10})
    if values["privateKey"] and not _PKCS8.search(str(values["privateKey"])):
        errors["privateKey"] = FieldError("validation_match_invalid", "Must be in a valid format.")
    if not duration:
        errors["duration"] = FieldError("validation_required", "Cannot be blank.")
    elif duration < 1:
        errors["duration"] = FieldError("validation_min_greater_equal_than_required", "Must be no less than 1.", {"threshold": 1})
    elif duration > MAX_DURATION:
        errors["duration"] = FieldError("validation_max_less_equal_than_required",
                                        f"Must be no greater than {MAX_DURATION}.", {"threshold": MAX_DURATION})  # fmt: skip
    if errors:
        raise BadRequest(INVALID, dict(sorted(errors.items())))
    try:
        key = load_pem_private_key(str(values["privateKey"]).encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise BadRequest(FAILED + f"the private key cannot be read ({exc}).") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise BadRequest(FAILED + "key is not a valid ECDSA private key.")
    now = int(time.time())
    claims = {"iss": values["teamId"], "sub": values["clientId"], "aud": ["https://appleid.apple.com"],
              "exp": now + int(duration or 0), "iat": now}  # fmt: skip
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": values["keyId"]})
