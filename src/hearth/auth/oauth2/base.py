"""One configured OAuth2 provider: authorization URL, code exchange and the user-info request.

Vendor modules subclass `Provider` with their endpoints and map the user-info JSON into an
`AuthUser`. The HTTP details follow what PocketBase's Go client (golang.org/x/oauth2) sends, so
providers that work with PocketBase work with Hearth.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import orjson

from hearth._util import times

# PocketBase bounds the whole exchange with a 30 s context; connecting gets less.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# How each token endpoint wants the client credentials, learned on the first success
# (Basic header first, then form fields), as golang.org/x/oauth2 does.
_AUTH_STYLE: dict[str, str] = {}
_HEADER, _PARAMS = "header", "params"


class OAuth2Error(Exception):
    """The provider refused the code or the user request, or answered something unusable."""


@dataclass(slots=True)
class Token:
    access_token: str
    token_type: str = "Bearer"
    refresh_token: str = ""
    expiry: datetime | None = None
    # Every field of the token response (id_token lives here).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AuthUser:
    """The provider's user, normalised. `email` is set only when the provider verified it."""

    id: str = ""
    name: str = ""
    username: str = ""
    email: str = ""
    avatar_url: str = ""
    raw_user: dict[str, Any] | None = None
    access_token: str = ""
    refresh_token: str = ""
    expiry: datetime | None = None

    def meta(self, is_new: bool) -> dict[str, Any]:
        """The `meta` object of the auth-with-oauth2 response (PocketBase's AuthUser JSON)."""
        return {
            "expiry": times.format_datetime(self.expiry) if self.expiry else "",
            "rawUser": self.raw_user,
            "id": self.id,
            "name": self.name,
            "username": self.username,
            "avatarURL": self.avatar_url,
            "accessToken": self.access_token,
            "refreshToken": self.refresh_token,
            "email": self.email,
            "avatarUrl": self.avatar_url,  # pre-0.23 spelling, still sent by PocketBase
            "isNew": is_new,
        }


def string_field(data: dict[str, Any], key: str) -> str:
    """A string claim; absent or null is "", any other type is an error (as Go's decoder has it)."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise OAuth2Error(f"{key}: expected a string, got {type(value).__name__}")
    return value


def int_id(data: dict[str, Any], key: str = "id") -> str:
    """Numeric ids (GitHub, GitLab) as decimal text; anything but an integer is an error."""
    value = data.get(key, 0)
    if value is None:
        value = 0
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise OAuth2Error(f"{key}: expected an integer")
    return str(int(value))


def loose_bool(value: Any) -> bool:
    """spf13/cast's ToBool: providers send `email_verified` as a bool, a string or a number."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true")
    return False


class Provider:
    """A provider class holds its defaults; an instance holds one collection's configuration."""

    name: ClassVar[str] = ""
    display_name_default: ClassVar[str] = ""
    # Sort key of the providers list (PocketBase's `order`), then the name.
    order: ClassVar[int] = 100
    logo: ClassVar[str] = ""
    pkce_default: ClassVar[bool] = True
    scopes_default: ClassVar[tuple[str, ...]] = ()
    auth_url_default: ClassVar[str] = ""
    token_url_default: ClassVar[str] = ""
    user_info_url_default: ClassVar[str] = ""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        """`config` is one entry of the collection's `oauth2.providers`; empty values keep the defaults."""
        cfg = config or {}
        self.client_id = _text(cfg.get("clientId"))
        self.client_secret = _text(cfg.get("clientSecret"))
        self.auth_url = _text(cfg.get("authURL")) or self.auth_url_default
        self.token_url = _text(cfg.get("tokenURL")) or self.token_url_default
        self.user_info_url = _text(cfg.get("userInfoURL")) or self.user_info_url_default
        self.display_name = _text(cfg.get("displayName")) or self.display_name_default
        pkce = cfg.get("pkce")
        self.pkce = pkce if isinstance(pkce, bool) else self.pkce_default
        self.scopes = list(self.scopes_default)
        extra = cfg.get("extra")
        self.extra: dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
        self.redirect_url = ""

    # ----- step 1: the consent page -------------------------------------------------------
    def build_auth_url(self, state: str, params: dict[str, str] | None = None) -> str:
        """The consent page URL; query keys sorted, as Go's url.Values.Encode writes them."""
        values = {"response_type": "code", "client_id": self.client_id}
        if self.redirect_url:
            values["redirect_uri"] = self.redirect_url
        if self.scopes:
            values["scope"] = " ".join(self.scopes)
        if state:
            values["state"] = state
        values.update(params or {})
        sep = "&" if "?" in self.auth_url else "?"
        return self.auth_url + sep + urlencode(sorted(values.items()))

    # ----- step 2: code → token -----------------------------------------------------------
    async def fetch_token(self, client: httpx.AsyncClient, code: str, code_verifier: str = "") -> Token:
        form = {"grant_type": "authorization_code", "code": code}
        if self.redirect_url:
            form["redirect_uri"] = self.redirect_url
        if self.pkce:
            form["code_verifier"] = code_verifier
        known = _AUTH_STYLE.get(self.token_url)
        try:
            token = await self._token_request(client, form, known or _HEADER)
        except OAuth2Error:
            if known is not None:
                raise
            # Some servers accept only form credentials; x/oauth2 retries once that way.
            token = await self._token_request(client, form, _PARAMS)
            _AUTH_STYLE[self.token_url] = _PARAMS
            return token
        _AUTH_STYLE.setdefault(self.token_url, known or _HEADER)
        return token

    async def _token_request(self, client: httpx.AsyncClient, form: dict[str, str], style: str) -> Token:
        body = dict(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if style == _HEADER:
            pair = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            body["client_id"] = self.client_id
            if self.client_secret:
                body["client_secret"] = self.client_secret
        try:
            res = await client.post(self.token_url, data=body, headers=headers)
        except httpx.HTTPError as exc:
            raise OAuth2Error(f"token request failed: {exc}") from exc
        return _parse_token(res)

    # ----- step 3: token → user -----------------------------------------------------------
    async def fetch_raw_user(self, client: httpx.AsyncClient, token: Token, url: str = "") -> bytes:
        url = url or self.user_info_url
        try:
            res = await client.get(url, headers=self.auth_headers(token))
        except httpx.HTTPError as exc:
            raise OAuth2Error(f"user request failed: {exc}") from exc
        if res.status_code >= 400:
            raise OAuth2Error(f"failed to fetch OAuth2 user profile via {url} ({res.status_code})")
        return res.content

    async def fetch_user_json(self, client: httpx.AsyncClient, token: Token) -> dict[str, Any]:
        return _json_object(await self.fetch_raw_user(client, token))

    async def fetch_user(self, client: httpx.AsyncClient, token: Token) -> AuthUser:
        raise NotImplementedError

    def auth_headers(self, token: Token) -> dict[str, str]:
        kind = token.token_type
        # x/oauth2 normalises the common spellings and defaults to Bearer.
        kind = {"bearer": "Bearer", "mac": "MAC", "basic": "Basic", "": "Bearer"}.get(kind.lower(), kind)
        return {"Authorization": f"{kind} {token.access_token}"}

    def new_user(self, raw: dict[str, Any], token: Token) -> AuthUser:
        return AuthUser(
            raw_user=raw,
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expiry=token.expiry,
        )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise OAuth2Error("the provider answered invalid JSON") from exc
    if not isinstance(data, dict):
        raise OAuth2Error("the provider answered a JSON value that is not an object")
    return data


def _parse_token(res: httpx.Response) -> Token:
    """A token response in JSON or, as GitHub sends by default, form encoding."""
    ctype = res.headers.get("content-type", "").split(";")[0].strip().lower()
    data: dict[str, Any]
    if ctype in ("application/x-www-form-urlencoded", "text/plain"):
        data = dict(parse_qsl(res.text, keep_blank_values=True))
    else:
        try:
            loaded = orjson.loads(res.content) if res.content else {}
        except orjson.JSONDecodeError:
            loaded = {}
        data = loaded if isinstance(loaded, dict) else {}
    if not 200 <= res.status_code < 300:
        raise OAuth2Error(f"token endpoint answered {res.status_code}: {data.get('error', '')}")
    if data.get("error"):
        raise OAuth2Error(f"token endpoint error: {data['error']}")
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise OAuth2Error("server response missing access_token")
    expiry = None
    expires_in = data.get("expires_in")
    try:
        seconds = int(expires_in) if expires_in not in (None, "") else 0
    except (TypeError, ValueError):
        seconds = 0
    if seconds:
        expiry = datetime.fromtimestamp(time.time(), UTC) + timedelta(seconds=seconds)
    return Token(
        access_token=access,
        token_type=_text(data.get("token_type")),
        refresh_token=_text(data.get("refresh_token")),
        expiry=expiry,
        extra=data,
    )
