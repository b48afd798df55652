"""OAuth2 cores that the end-to-end tests do not reach: URL shape, token parsing, user mapping."""

from __future__ import annotations

import httpx
import pytest

from hearth.auth.oauth2.base import OAuth2Error, Token, _parse_token
from hearth.auth.oauth2.methods import s256_challenge
from hearth.auth.oauth2.registry import init_provider
from hearth.auth.oauth2.vendors import Discord


def test_auth_url_matches_pocketbase_byte_for_byte() -> None:
    # Recorded from PocketBase 0.40 (auth-methods of an `oidc` provider).
    p = init_provider({"name": "oidc", "clientId": "a", "authURL": "http://127.0.0.1:1/auth"})
    assert p is not None
    url = p.build_auth_url(
        "U1bBwdnUokdnXA82OmeEh3hwCKTX2t",
        {"code_challenge": "7GPPN_muw8LolSsQ3a3pZhoOeUcoB-_ppJRqFxJursI", "code_challenge_method": "S256"},
    )
    assert url + "&redirect_uri=" == (
        "http://127.0.0.1:1/auth?client_id=a&code_challenge=7GPPN_muw8LolSsQ3a3pZhoOeUcoB-_ppJRqFxJursI"
        "&code_challenge_method=S256&response_type=code&scope=openid+email+profile"
        "&state=U1bBwdnUokdnXA82OmeEh3hwCKTX2t&redirect_uri="
    )
    assert s256_challenge("bEiVfAEULClCYGXLXMMERpfFQTShv400Gkvk8b8407o") == (
        "7GPPN_muw8LolSsQ3a3pZhoOeUcoB-_ppJRqFxJursI"
    )


def test_config_overrides_and_pkce_switch() -> None:
    p = init_provider({"name": "github", "displayName": "Corp GitHub", "pkce": False})
    assert p is not None and p.display_name == "Corp GitHub" and p.pkce is False
    assert p.token_url == "https://github.com/login/oauth/access_token"
    assert init_provider({"name": "apple"}) is None


def test_form_encoded_token_response_as_github_sends_it() -> None:
    res = httpx.Response(
        200,
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        content=b"access_token=gho_abc&scope=read%3Auser&token_type=bearer",
    )
    token = _parse_token(res)
    assert (token.access_token, token.token_type, token.expiry) == ("gho_abc", "bearer", None)


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, b'{"error":"invalid_grant"}'), (200, b'{"error":"bad_verification_code"}'), (200, b"{}")],
)
def test_token_errors(status: int, body: bytes) -> None:
    res = httpx.Response(status, headers={"content-type": "application/json"}, content=body)
    with pytest.raises(OAuth2Error):
        _parse_token(res)


def test_expires_in_sets_the_expiry() -> None:
    res = httpx.Response(200, json={"access_token": "t", "expires_in": 3600, "refresh_token": "r"})
    token = _parse_token(res)
    assert token.refresh_token == "r" and token.expiry is not None


def test_bearer_header_is_normalised() -> None:
    p = Discord()
    assert p.auth_headers(Token("abc", token_type="bearer")) == {"Authorization": "Bearer abc"}
    assert p.auth_headers(Token("abc", token_type="")) == {"Authorization": "Bearer abc"}
