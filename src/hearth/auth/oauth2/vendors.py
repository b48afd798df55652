"""Providers with fixed endpoints, each mapping its own user JSON (as PocketBase's tools/auth)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import orjson

from hearth.auth.oauth2 import idtoken
from hearth.auth.oauth2.base import (
    AuthUser,
    OAuth2Error,
    Provider,
    Token,
    int_id,
    loose_bool,
    string_field,
)


class Google(Provider):
    name = "google"
    display_name_default = "Google"
    order = 2
    scopes_default = (
        "https://www.googleapis.com/auth/userinfo.profile",
        "https://www.googleapis.com/auth/userinfo.email",
    )
    auth_url_default = "https://accounts.google.com/o/oauth2/v2/auth"
    token_url_default = "https://oauth2.googleapis.com/token"
    user_info_url_default = "https://www.googleapis.com/oauth2/v3/userinfo"

    async def fetch_user(self, client: httpx.AsyncClient, token: Token) -> AuthUser:
        raw = await self.fetch_user_json(client, token)
        user = self.new_user(raw, token)
        user.id = string_field(raw, "sub")
        user.name = string_field(raw, "name")
        user.avatar_url = string_field(raw, "picture")
        if raw.get("email_verified") is True:
            user.email = string_field(raw, "email")
        return user


class Microsoft(Provider):
    """Microsoft Entra ID ("common" tenant unless authURL/tokenURL say otherwise).

    Graph's `mail` is not verified by Microsoft; `extra.idTokenEmailClaim` picks a verified
    claim of the id_token instead (and adds the `openid` scope to get one).
    """

    name = "microsoft"
    display_name_default = "Microsoft"
    order = 3
    scopes_default = ("User.Read",)
    auth_url_default = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    token_url_default = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    user_info_url_default = "https://graph.microsoft.com/v1.0/me"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        super().__init__(config)
        if self.extra.get("idTokenEmailClaim") and "openid" not in self.scopes:
            self.scopes.append("openid")

    async def fetch_user(self, client: httpx.AsyncClient, token: Token) -> AuthUser:
        raw = await self.fetch_user_json(client, token)
        user = self.new_user(raw, token)
        user.id = string_field(raw, "id")
        user.name = string_field(raw, "displayName")
        mode = self.extra.get("idTokenEmailClaim")
        if mode == "any_verified":
            user.email = self._claim_email(token, "verified_primary_email") or self._xms_edov_email(token)
        elif mode == "verified_primary_email":
            user.email = self._claim_email(token, "verified_primary_email")
        elif mode == "email_and_xms_edov":
            user.email = self._xms_edov_email(token)
        elif mode == "email":
            user.email = self._claim_email(token, "email")
        else:
            user.email = string_field(raw, "mail")
        return user

    def _claims(self, token: Token) -> dict[str, Any]:
        try:
            return idtoken.claims(token)
        except OAuth2Error:
            return {}  # no usable id_token: no e-mail, as PocketBase treats it

    def _claim_email(self, token: Token, key: str) -> str:
        value = self._claims(token).get(key)
        return value if isinstance(value, str) else ""

    def _xms_edov_email(self, token: Token) -> str:
        data = self._claims(token)
        if not loose_bool(data.get("xms_edov")):
            return ""
        value = data.get("email")
        return value if isinstance(value, str) else ""


class Facebook(Provider):
    name = "facebook"
    display_name_default = "Facebook"
    order = 5
    scopes_default = ("email",)
    auth_url_default = "https://www.facebook.com/v3.2/dialog/oauth"
    token_url_default = "https://graph.facebook.com/v3.2/oauth/access_token"
    user_info_url_default = "https://graph.facebook.com/me?fields=name,email,picture.type(large)"

    async def fetch_user(self, client: httpx.AsyncClient, token: Token) -> AuthUser:
        raw = await self.fetch_user_json(client, token)
        user = self.new_user(raw, token)
        user.id = string_field(raw, "id")
        user.name = string_field(raw, "name")
        user.email = string_field(raw, "email")  # Facebook returns only confirmed addresses
        picture = raw.get("picture")
        data = picture.get("data") if isinstance(picture, dict) else None
        if isinstance(data, dict):
            user.avatar_url = string_field(data, "url")
        return user


class GitHub(Provider):
    name = "github"
    display_name_default = "GitHub"
    order = 7
    # GitHub ignores the PKCE parameters it does not know, so sending them is harmless.
    scopes_default = ("read:user", "user:email")
    auth_url_default = "https://github.com/login/oauth/authorize"
    token_url_default = "https://github.com/login/oauth/access_token"
    user_info_url_default = "https://api.github.com/user"

    async def fetch_user(self, client: httpx.AsyncClient, token: Token) -> AuthUser:
        raw = await self.fetch_user_json(client, token)
        user = self.new_user(raw, token)
        user.id = int_id(raw)
        user.name = string_field(raw, "name")
        user.username = string_field(raw, "login")
        user.avatar_url = string_field(raw, "avatar_url")
        # /user shows only the public e-mail, verified or not; /user/emails says which is verified.
        user.email = await self._verified_primary_email(client, token)
        return user

    async def _verified_primary_email(self, client: httpx.AsyncClient, token: Token) -> str:
        try:
            res = await client.get(self.user_info_url + "/emails", headers=self.auth_headers(token))
        except httpx.HTTPError as exc:
            raise OAuth2Error(f"e-mails request failed: {exc}") from exc
        if res.status_code in (401, 403, 404):
            return ""  # the token lacks the user:email scope
        try:
            emails = orjson.loads(res.content)
        except orjson.JSONDecodeError as exc:
            raise OAuth2Error("invalid e-mails JSON") from exc
        if not isinstance(emails, list):
            raise OAuth2Error("invalid e-mails JSON")
        for item in emails:
            if isinstance(item, dict) and item.get("verified") is True and item.get("primary") is True:
                return string_field(item, "email")
        return ""


class GitLab(Provider):
    name = "gitlab"
    display_name_default = "GitLab"
    order = 8
    scopes_default = ("read_user",)
    auth_url_default = "https://gitlab.com/oauth/authorize"
    token_url_default = "https://gitlab.com/oauth/token"
    user_info_url_default = "https://gitlab.com/api/v4/user"

    async def fetch_user(self, client: httpx.AsyncClient, token: Token) -> AuthUser:
        raw = await self.fetch_user_json(client, token)
        user = self.new_user(raw, token)
        user.id = int_id(raw)
        user.name = string_field(raw, "name")
        user.username = string_field(raw, "username")
        user.avatar_url = string_field(raw, "avatar_url")
        # The e-mail counts as verified once GitLab has a confirmation time for it.
        confirmed = string_field(raw, "confirmed_at")
        try:
            parsed: datetime | None = datetime.fromisoformat(confirmed)
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:  # RFC 3339 needs the offset
            return user
        user.email = string_field(raw, "email")
        return user


class Discord(Provider):
    name = "discord"
    display_name_default = "Discord"
    order = 12
    scopes_default = ("identify", "email")
    auth_url_default = "https://discord.com/api/oauth2/authorize"
    token_url_default = "https://discord.com/api/oauth2/token"
    user_info_url_default = "https://discord.com/api/users/@me"

    async def fetch_user(self, client: httpx.AsyncClient, token: Token) -> AuthUser:
        raw = await self.fetch_user_json(client, token)
        user = self.new_user(raw, token)
        user.id = string_field(raw, "id")
        user.username = string_field(raw, "username")
        avatar = string_field(raw, "avatar")
        if avatar:
            user.avatar_url = f"https://cdn.discordapp.com/avatars/{user.id}/{avatar}.png"
        name = string_field(raw, "global_name")
        if not name:
            # Legacy accounts carry a "#1234" discriminator; migrated ones have "0".
            discriminator = string_field(raw, "discriminator")
            name = user.username + (f"#{discriminator}" if discriminator not in ("", "0") else "")
        user.name = name
        if raw.get("verified") is True:
            user.email = string_field(raw, "email")
        return user
