"""OAuth2 login end to end against a real OpenID Connect provider (tests/support/oauth_provider.py).

Each login follows the SDK's manual flow: auth-methods → the provider's consent URL (auto-approved
for the user named by `login_hint`) → `code` from the redirect → auth-with-oauth2.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from hearth.auth.oauth2.methods import s256_challenge
from tests.conftest import Api, unique
from tests.support import oauth_provider as idp

PROVIDER_SCRIPT = Path(idp.__file__)
REDIRECT = idp.REDIRECT_URIS[0]
PW = "Secret-pass-123"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The provider's base URL; the process lives for this module."""
    proc = subprocess.Popen(
        [sys.executable, str(PROVIDER_SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), "the provider did not start"
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the provider never answered"
            time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def oidc_config(base: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "oidc",
        "clientId": idp.CLIENT_ID,
        "clientSecret": idp.CLIENT_SECRET,
        "authURL": f"{base}/authorize",
        "tokenURL": f"{base}/token",
        "userInfoURL": f"{base}/userinfo",
        **overrides,
    }


async def oauth_collection(api: Api, base: str, enabled: bool = True, **rules: Any) -> str:
    """An auth collection with mapped profile fields; OAuth2 configured with a PATCH, as an admin would."""
    c = await api.create_collection(
        {
            "name": unique("people"),
            "type": "auth",
            "listRule": "id = @request.auth.id",
            "viewRule": "id = @request.auth.id",
            "createRule": "",
            "fields": [
                {"name": "name", "type": "text"},
                {"name": "username", "type": "text"},
                {"name": "avatar", "type": "url"},
                {"name": "nickname", "type": "text"},
            ],
            **rules,
        }
    )
    r = await api.client.patch(
        f"/api/collections/{c['name']}",
        headers=api.su(),
        json={
            "oauth2": {
                "enabled": enabled,
                "mappedFields": {"name": "name", "username": "username", "avatarURL": "avatar"},
                "providers": [oidc_config(base)],
            }
        },
    )
    assert r.status_code == 200, r.text
    return str(c["name"])


async def authorize(api: Api, coll: str, user: str) -> dict[str, str]:
    """The consent step: `{code, codeVerifier}` for the provider user `user`."""
    r = await api.client.get(f"/api/collections/{coll}/auth-methods")
    assert r.status_code == 200, r.text
    section = r.json()["oauth2"]
    assert section["enabled"] is True
    (entry,) = [p for p in section["providers"] if p["name"] == "oidc"]
    assert entry["authURL"].endswith("&redirect_uri=")
    url = entry["authURL"] + quote(REDIRECT, safe="") + "&login_hint=" + user
    async with httpx.AsyncClient() as browser:
        res = await browser.get(url)
    assert res.status_code == 302, res.text
    location = urlsplit(res.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == [entry["state"]], "the provider echoes the state Hearth generated"
    return {"code": query["code"][0], "codeVerifier": entry["codeVerifier"]}


async def oauth_login(api: Api, coll: str, user: str, **body: Any) -> httpx.Response:
    grant = await authorize(api, coll, user)
    payload = {"provider": "oidc", "redirectURL": REDIRECT, **grant, **body}
    return await api.client.post(f"/api/collections/{coll}/auth-with-oauth2", json=payload)


async def links(api: Api, record_id: str) -> list[dict[str, Any]]:
    r = await api.client.get(
        "/api/collections/_externalAuths/records",
        params={"filter": f"recordRef = '{record_id}'"},
        headers=api.su(),
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


# ----- auth-methods -----------------------------------------------------------------------------
async def test_auth_methods_lists_the_provider_with_fresh_state_and_pkce(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    first = (await api.client.get(f"/api/collections/{coll}/auth-methods")).json()
    second = (await api.client.get(f"/api/collections/{coll}/auth-methods")).json()
    (p1,), (p2,) = first["oauth2"]["providers"], second["oauth2"]["providers"]
    assert p1["name"] == "oidc" and p1["displayName"] == "OIDC"
    assert len(p1["state"]) == 30 and len(p1["codeVerifier"]) == 43
    assert p1["codeChallenge"] == s256_challenge(p1["codeVerifier"])
    assert p1["codeChallengeMethod"] == "S256"
    assert p1["state"] != p2["state"] and p1["codeVerifier"] != p2["codeVerifier"]
    query = parse_qs(urlsplit(p1["authURL"]).query, keep_blank_values=True)
    assert p1["authURL"].startswith(f"{provider}/authorize?")
    assert query["client_id"] == [idp.CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["openid email profile"]
    assert query["state"] == [p1["state"]]
    assert query["code_challenge"] == [p1["codeChallenge"]]
    assert query["redirect_uri"] == [""]


async def test_provider_list_is_for_superusers(api: Api) -> None:
    assert (await api.client.get("/api/collections/meta/oauth2-providers")).status_code == 401
    r = await api.client.get("/api/collections/meta/oauth2-providers", headers=api.su())
    assert r.status_code == 200
    names = [p["name"] for p in r.json()]
    assert names[:3] == ["google", "microsoft", "facebook"] and names[-3:] == ["oidc", "oidc2", "oidc3"]
    assert {"github", "gitlab", "discord"} <= set(names)
    assert set(r.json()[0]) == {"name", "displayName", "logo"}


# ----- logins -------------------------------------------------------------------------------------
async def test_first_login_creates_a_verified_record_with_mapped_fields(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    r = await oauth_login(api, coll, "alice", createData={"nickname": "Ally"})
    assert r.status_code == 200, r.text
    body = r.json()
    record, meta = body["record"], body["meta"]
    assert meta["isNew"] is True
    assert meta["id"] == "alice-sub-1" and meta["email"] == "alice@example.com"
    assert meta["name"] == "Alice Liddell" and meta["username"] == "alice"
    assert meta["avatarURL"] == meta["avatarUrl"] == "https://images.example.com/alice.png"
    assert meta["rawUser"]["preferred_username"] == "alice"
    assert meta["accessToken"] and meta["expiry"].endswith("Z")
    assert record["email"] == "alice@example.com" and record["verified"] is True
    assert record["name"] == "Alice Liddell" and record["username"] == "alice"
    assert record["avatar"] == "https://images.example.com/alice.png"
    assert record["nickname"] == "Ally", "createData is applied"
    # The token is a real auth token of that record.
    auth = {"Authorization": body["token"]}
    r = await api.client.get(f"/api/collections/{coll}/records/{record['id']}", headers=auth)
    assert r.status_code == 200 and r.json()["id"] == record["id"]
    r = await api.client.post(f"/api/collections/{coll}/auth-refresh", headers=auth)
    assert r.status_code == 200, r.text
    (link,) = await links(api, record["id"])
    assert (link["provider"], link["providerId"]) == ("oidc", "alice-sub-1")


async def test_second_login_finds_the_record_through_its_link(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    first = await oauth_login(api, coll, "alice")
    assert first.status_code == 200, first.text
    rid = first.json()["record"]["id"]
    # The user changes the address the provider sent: the link, not the e-mail, finds the record.
    r = await api.client.patch(
        f"/api/collections/{coll}/records/{rid}", headers=api.su(), json={"email": "renamed@example.com"}
    )
    assert r.status_code == 200, r.text
    second = await oauth_login(api, coll, "alice")
    assert second.status_code == 200, second.text
    assert second.json()["meta"]["isNew"] is False
    assert second.json()["record"]["id"] == rid
    assert second.json()["record"]["email"] == "renamed@example.com"
    assert len(await links(api, rid)) == 1, "no second link"


async def test_existing_unverified_record_with_the_same_email_is_linked_and_secured(
    api: Api, provider: str
) -> None:
    coll = await oauth_collection(api, provider)
    r = await api.client.post(
        f"/api/collections/{coll}/records",
        json={"email": "bob@example.com", "password": PW, "passwordConfirm": PW, "nickname": "b"},
    )
    assert r.status_code == 200, r.text
    rid = r.json()["id"]
    r = await oauth_login(api, coll, "bob")
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["isNew"] is False
    assert r.json()["record"]["id"] == rid
    assert r.json()["record"]["verified"] is True
    assert r.json()["record"]["nickname"] == "b", "an existing record keeps its data"
    (link,) = await links(api, rid)
    assert link["providerId"] == "bob-sub-2"
    # Whoever registered the unverified address first must not keep a working password.
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-password", json={"identity": "bob@example.com", "password": PW}
    )
    assert r.status_code == 400


async def test_unverified_provider_email_never_matches_an_existing_record(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    r = await api.client.post(
        f"/api/collections/{coll}/records",
        json={"email": "carol@example.com", "password": PW, "passwordConfirm": PW},
    )
    assert r.status_code == 200, r.text
    rid = r.json()["id"]
    r = await oauth_login(api, coll, "carol")
    # No verified e-mail: a new record is attempted, and the collection requires an e-mail.
    assert r.status_code == 400, r.text
    assert r.json()["message"] == "Failed to create record."
    assert r.json()["data"]["email"]["code"] == "validation_required"
    assert await links(api, rid) == []


async def test_create_rule_sees_the_oauth2_context(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider, createRule='@request.context = "oauth2"')
    r = await api.client.post(
        f"/api/collections/{coll}/records",
        json={"email": "direct@example.com", "password": PW, "passwordConfirm": PW},
    )
    assert r.status_code == 400, "plain sign-ups are refused by the rule"
    r = await oauth_login(api, coll, "alice")
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["isNew"] is True


async def test_null_create_rule_refuses_new_users_but_not_existing_ones(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider, createRule=None)
    r = await oauth_login(api, coll, "alice")
    assert r.status_code == 403, r.text
    r = await api.client.post(
        f"/api/collections/{coll}/records",
        headers=api.su(),
        json={"email": "alice@example.com", "password": PW, "passwordConfirm": PW, "verified": True},
    )
    assert r.status_code == 200, r.text
    r = await oauth_login(api, coll, "alice")
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["isNew"] is False


# ----- refusals -----------------------------------------------------------------------------------
async def test_wrong_code_is_400(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    grant = await authorize(api, coll, "alice")
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-oauth2",
        json={**grant, "provider": "oidc", "code": grant["code"] + "x", "redirectURL": REDIRECT},
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Failed to fetch OAuth2 token."


async def test_wrong_code_verifier_is_refused_by_the_provider(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    grant = await authorize(api, coll, "alice")
    other = await authorize(api, coll, "alice")
    body = {"provider": "oidc", "code": grant["code"], "redirectUrl": REDIRECT}
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-oauth2", json={**body, "codeVerifier": other["codeVerifier"]}
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Failed to fetch OAuth2 token."
    # The same code with its own verifier (and the legacy `redirectUrl`) works: only PKCE failed.
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-oauth2", json={**body, "codeVerifier": grant["codeVerifier"]}
    )
    assert r.status_code == 200, r.text


async def test_redirect_url_must_match_the_consent_request(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    grant = await authorize(api, coll, "alice")
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-oauth2",
        json={**grant, "provider": "oidc", "redirectURL": idp.REDIRECT_URIS[1]},
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Failed to fetch OAuth2 token."


async def test_wrong_client_secret_is_400(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    grant = await authorize(api, coll, "alice")
    r = await api.client.patch(
        f"/api/collections/{coll}",
        headers=api.su(),
        json={"oauth2": {"providers": [oidc_config(provider, clientSecret="not-the-secret")]}},
    )
    assert r.status_code == 200, r.text
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-oauth2",
        json={**grant, "provider": "oidc", "redirectURL": REDIRECT},
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Failed to fetch OAuth2 token."


async def test_unreachable_userinfo_is_a_user_fetch_error(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    grant = await authorize(api, coll, "alice")
    r = await api.client.patch(
        f"/api/collections/{coll}",
        headers=api.su(),
        json={"oauth2": {"providers": [oidc_config(provider, userInfoURL=f"{provider}/missing")]}},
    )
    assert r.status_code == 200, r.text
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-oauth2",
        json={**grant, "provider": "oidc", "redirectURL": REDIRECT},
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Failed to fetch OAuth2 user."


async def test_disabled_oauth2_is_403(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider, enabled=False)
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-oauth2", json={"provider": "oidc", "code": "x"}
    )
    assert r.status_code == 403
    assert r.json()["message"] == "The collection is not configured to allow OAuth2 authentication."
    methods = (await api.client.get(f"/api/collections/{coll}/auth-methods")).json()
    assert methods["oauth2"] == {"providers": [], "enabled": False}


async def test_unconfigured_provider_is_a_field_error(api: Api, provider: str) -> None:
    coll = await oauth_collection(api, provider)
    for name in ("google", "nope"):
        r = await api.client.post(
            f"/api/collections/{coll}/auth-with-oauth2", json={"provider": name, "code": "x"}
        )
        assert r.status_code == 400
        assert r.json()["data"] == {
            "provider": {
                "code": "validation_invalid_provider",
                "message": f"Provider with name {name} is missing or is not enabled.",
                "params": {"name": name},
            }
        }


async def test_non_auth_collection_is_404(api: Api) -> None:
    c = await api.create_collection({"name": unique("notes"), "type": "base"})
    r = await api.client.post(
        f"/api/collections/{c['name']}/auth-with-oauth2", json={"provider": "oidc", "code": "x"}
    )
    assert r.status_code == 404
    assert r.json()["message"] == "Missing or invalid auth collection context."


@pytest.mark.parametrize(
    ("body", "data"),
    [
        (
            {},
            {
                "code": {"code": "validation_required", "message": "Cannot be blank."},
                "provider": {"code": "validation_required", "message": "Cannot be blank."},
            },
        ),
        (
            {"provider": "p" * 101, "code": "x"},
            {
                "provider": {
                    "code": "validation_length_too_long",
                    "message": "The length must be no more than 100.",
                    "params": {"max": 100, "min": 0},
                }
            },
        ),
        ({"provider": 1, "code": "x"}, {}),
        ({"provider": "oidc", "code": "x", "createData": 5}, {}),
        ({"provider": "oidc", "code": ["x"]}, {}),
    ],
)
async def test_bad_bodies_are_400(
    api: Api, provider: str, body: dict[str, Any], data: dict[str, Any]
) -> None:
    coll = await oauth_collection(api, provider)
    r = await api.client.post(f"/api/collections/{coll}/auth-with-oauth2", json=body)
    assert r.status_code == 400
    assert r.json()["message"] == "An error occurred while loading the submitted data."
    assert r.json()["data"] == data


async def test_enabled_providers_are_validated_on_save(api: Api) -> None:
    c = await api.create_collection({"name": unique("oa_check"), "type": "auth", "fields": []})
    bad = {
        "oauth2": {
            "enabled": True,
            "providers": [
                {"name": "nope", "clientId": "a", "clientSecret": "b"},
                {"name": "oidc", "clientId": "", "clientSecret": "b", "authURL": "not a url"},
                {"name": "github", "clientId": "a", "clientSecret": "b"},
                {"name": "github", "clientId": "a", "clientSecret": "b"},
            ],
        }
    }
    r = await api.client.patch(f"/api/collections/{c['id']}", json=bad, headers=api.su())
    assert r.status_code == 400, r.text
    errs = r.json()["data"]["oauth2"]["providers"]
    assert errs["0"]["name"]["code"] == "validation_missing_provider"
    assert (
        errs["1"]["clientId"]["code"] == "validation_required"
        and errs["1"]["authURL"]["code"] == "validation_is_url"
    )
    assert "2" not in errs and errs["3"]["name"]["code"] == "validation_duplicated_provider"
    # Disabled OAuth2 keeps whatever is configured (PocketBase checks only enabled providers).
    bad["oauth2"]["enabled"] = False
    r = await api.client.patch(f"/api/collections/{c['id']}", json=bad, headers=api.su())
    assert r.status_code == 200, r.text


async def test_avatar_url_mapped_to_a_file_field_downloads_the_picture(
    provider: str, tmp_path: Path
) -> None:
    """As PocketBase: the provider's picture is stored in the file field. Fetching from private
    addresses (this provider is on loopback) needs `fetch_private`; without it the account is
    made without the picture, never failed."""
    from hearth.config import Config
    from tests.conftest import start_api

    for allowed in (False, True):
        config = Config(data_dir=tmp_path / f"d{allowed}", fetch_private=allowed)
        async for api in start_api(config, "sqlite"):
            c = await api.create_collection(
                {"name": "people", "type": "auth", "createRule": "",
                 "fields": [{"name": "pic", "type": "file", "maxSelect": 1, "mimeTypes": ["image/png"]}]}
            )  # fmt: skip
            r = await api.client.patch(
                "/api/collections/people",
                headers=api.su(),
                json={"oauth2": {"enabled": True, "mappedFields": {"avatarURL": "pic"},
                                 "providers": [oidc_config(provider)]}},
            )  # fmt: skip
            assert r.status_code == 200, r.text
            r = await oauth_login(api, "people", "dora")
            assert r.status_code == 200, r.text
            record = r.json()["record"]
            h = api.app.state.hearth
            keys = await (await h.storage()).list(c["id"])
            if not allowed:
                assert record["pic"] == "" and keys == []
                continue
            assert record["pic"].startswith("avatar_") and record["pic"].endswith(".png")
            assert keys == [f"{c['id']}/{record['id']}/{record['pic']}"]
            download = await (await h.storage()).open(keys[0])
            assert b"".join([x async for x in download.chunks]) == idp.AVATAR_PNG
            assert download.info.content_type == "image/png"
