"""The generic OpenID Connect providers `oidc`, `oidc2` and `oidc3` (endpoints from the config)."""

from __future__ import annotations

import httpx

from hearth.auth.oauth2 import idtoken
from hearth.auth.oauth2.base import AuthUser, Provider, Token, loose_bool, string_field


class OIDC(Provider):
    """Standard claims from the userinfo endpoint, or from the id_token when no userInfoURL is set.

    Extra config: `jwksURL` (check the id_token signature) and `issuers` (allowed `iss` values),
    both used only when the user is read from the id_token.
    """

    name = "oidc"
    display_name_default = "OIDC"
    order = 99
    scopes_default = ("openid", "email", "profile")

    async def fetch_user(self, client: httpx.AsyncClient, token: Token) -> AuthUser:
        if self.user_info_url:
            raw = await self.fetch_user_json(client, token)
        else:
            issuers = self.extra.get("issuers")
            raw = idtoken.claims(
                token,
                audience=self.client_id,
                issuers=[str(i) for i in issuers] if isinstance(issuers, list) else None,
            )
            jwks_url = self.extra.get("jwksURL")
            if isinstance(jwks_url, str) and jwks_url:
                await idtoken.verify_signature(client, token, jwks_url)
        user = self.new_user(raw, token)
        user.id = string_field(raw, "sub")
        user.name = string_field(raw, "name")
        user.username = string_field(raw, "preferred_username")
        user.avatar_url = string_field(raw, "picture")
        email = string_field(raw, "email")
        if loose_bool(raw.get("email_verified")):
            user.email = email
        return user


class OIDC2(OIDC):
    name = "oidc2"


class OIDC3(OIDC):
    name = "oidc3"
