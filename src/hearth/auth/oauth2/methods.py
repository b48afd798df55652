"""The `oauth2` section of `GET …/auth-methods`: one consent URL per configured provider."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from hearth._util.ids import random_string
from hearth.auth.oauth2.registry import init_provider
from hearth.schema.collection import Collection

STATE_LENGTH = 30
# RFC 7636 allows 43–128 characters; PocketBase sends the minimum.
VERIFIER_LENGTH = 43


def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def oauth2_methods(c: Collection) -> dict[str, Any]:
    """`{"enabled", "providers"}` with a fresh state (and PKCE pair) per provider and call.

    Each `authURL` ends with `redirect_uri=` so that the client appends its own redirect URL.
    Entries whose name Hearth does not know are left out, as PocketBase skips providers it
    cannot initialise.
    """
    options = c.auth.get("oauth2", {})
    if not options.get("enabled"):
        return {"providers": [], "enabled": False}
    providers: list[dict[str, Any]] = []
    for config in options.get("providers", []) or []:
        provider = init_provider(config) if isinstance(config, dict) else None
        if provider is None:
            continue
        state = random_string(STATE_LENGTH)
        info: dict[str, Any] = {
            "name": provider.name,
            "displayName": provider.display_name or provider.name,
            "logo": provider.logo,
            "state": state,
            "authURL": "",
            "authUrl": "",  # pre-0.23 spelling, still sent by PocketBase
            "codeVerifier": "",
            "codeChallenge": "",
            "codeChallengeMethod": "",
        }
        params: dict[str, str] = {}
        if provider.pkce:
            verifier = random_string(VERIFIER_LENGTH)
            info["codeVerifier"] = verifier
            info["codeChallenge"] = s256_challenge(verifier)
            info["codeChallengeMethod"] = "S256"
            params = {"code_challenge": info["codeChallenge"], "code_challenge_method": "S256"}
        info["authURL"] = info["authUrl"] = provider.build_auth_url(state, params) + "&redirect_uri="
        providers.append(info)
    return {"providers": providers, "enabled": True}


def legacy_auth_providers(section: dict[str, Any]) -> list[dict[str, Any]]:
    """The pre-0.23 `authProviders` key: the same providers without their logos."""
    if not section.get("enabled"):
        return []
    return [{**p, "logo": ""} for p in section["providers"]]
