"""Claims of an OpenID Connect `id_token` from a token response.

The token comes straight from the provider over the back channel, so, as PocketBase does, its
signature is checked only when a `jwksURL` is configured; the time claims (and the audience and
issuers when asked) are always checked.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import orjson

from hearth.auth.oauth2.base import OAuth2Error, Token

# PocketBase's default leeway for the id_token time claims.
LEEWAY_SECONDS = 300


def claims(token: Token, audience: str | None = None, issuers: list[str] | None = None) -> dict[str, Any]:
    raw = token.extra.get("id_token")
    if not isinstance(raw, str) or not raw:
        raise OAuth2Error("empty id_token")
    options: dict[str, Any] = {
        "verify_signature": False,
        "verify_exp": True,
        "verify_nbf": True,
        "verify_iat": True,
        "verify_aud": audience is not None,
    }
    if audience is not None:
        options["require"] = ["aud"]
    try:
        data = jwt.decode(raw, options=options, audience=audience, leeway=LEEWAY_SECONDS)  # type: ignore[arg-type]
    except jwt.PyJWTError as exc:
        raise OAuth2Error(f"invalid id_token: {exc}") from exc
    if issuers and data.get("iss") not in issuers:
        raise OAuth2Error(f"iss must be one of {issuers}, got {data.get('iss')!r}")
    return data


async def verify_signature(client: httpx.AsyncClient, token: Token, jwks_url: str) -> None:
    """Check the id_token signature against the provider's key set (the key named by `kid`).

    RSA and Ed25519 keys need the `cryptography` package (PyJWT's crypto extra); without it the
    check fails, so a configured jwksURL never lets an unverified token through.
    """
    raw = str(token.extra.get("id_token") or "")
    try:
        kid = jwt.get_unverified_header(raw).get("kid")
    except jwt.PyJWTError as exc:
        raise OAuth2Error(f"invalid id_token: {exc}") from exc
    if not isinstance(kid, str) or not kid:
        raise OAuth2Error("missing kid header value")
    try:
        res = await client.get(jwks_url)
    except httpx.HTTPError as exc:
        raise OAuth2Error(f"failed to fetch the JSON Web Key Set: {exc}") from exc
    if res.status_code >= 400:
        raise OAuth2Error(f"failed to fetch JSON Web Key Set from {jwks_url} ({res.status_code})")
    try:
        keys = orjson.loads(res.content).get("keys") or []
    except (orjson.JSONDecodeError, AttributeError) as exc:
        raise OAuth2Error("invalid JSON Web Key Set") from exc
    key = next((k for k in keys if isinstance(k, dict) and k.get("kid") == kid and k.get("alg")), None)
    if key is None:
        raise OAuth2Error(f"missing JWK with kid {kid!r} and non-empty alg")
    try:
        jwk = jwt.PyJWK(key)
        # The algorithm comes from the provider's key set, never from the token header.
        jwt.decode(raw, jwk, algorithms=[str(key["alg"])], options={"verify_aud": False})
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise OAuth2Error(f"id_token validation failed: {exc}") from exc
