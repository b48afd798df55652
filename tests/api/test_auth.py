"""Password auth, tokens and their revocation, hidden auth fields."""

from __future__ import annotations

import base64

import orjson

from tests.conftest import SUPERUSER_EMAIL, Api, unique

PW = "Secret-pass-123"


def claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def members(api: Api, **rules: object) -> dict[str, object]:
    return await api.create_collection(
        {
            "name": unique("members"),
            "type": "auth",
            "listRule": "",
            "viewRule": "",
            "createRule": "",
            "updateRule": "id = @request.auth.id",
            "deleteRule": None,
            "fields": [{"name": "nick", "type": "text"}],
            **rules,
        }
    )


async def signup(api: Api, coll: str, email: str) -> dict[str, object]:
    r = await api.client.post(
        f"/api/collections/{coll}/records",
        json={"email": email, "password": PW, "passwordConfirm": PW, "nick": "n"},
    )
    assert r.status_code == 200, r.text
    return r.json()


async def login(api: Api, coll: str, identity: str, password: str = PW) -> dict[str, object]:
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-password", json={"identity": identity, "password": password}
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_signup_hides_secrets_and_login_gives_pocketbase_token(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    rec = await signup(api, name, "one@example.com")
    assert "password" not in rec and "tokenKey" not in rec
    assert "email" not in rec, "emailVisibility is false: a guest does not see the email"
    assert rec["verified"] is False
    r = await api.client.post(
        f"/api/collections/{name}/auth-with-password", json={"identity": "ONE@example.com", "password": PW}
    )
    assert r.status_code == 400, "identities match case-sensitively, as in PocketBase"
    auth = await login(api, name, "one@example.com")
    assert auth["record"]["email"] == "one@example.com", "the own email is always in auth responses"
    cl = claims(str(auth["token"]))
    assert set(cl) == {"collectionId", "exp", "id", "refreshable", "type"}, "exactly PocketBase's claims"
    assert cl["type"] == "auth" and cl["collectionId"] == c["id"] and cl["refreshable"] is True


async def test_wrong_password_and_unknown_identity_answer_the_same(api: Api) -> None:
    c = await members(api)
    await signup(api, str(c["name"]), "two@example.com")
    url = f"/api/collections/{c['name']}/auth-with-password"
    wrong = await api.client.post(url, json={"identity": "two@example.com", "password": "nope-nope"})
    unknown = await api.client.post(url, json={"identity": "nobody@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json() == {"data": {}, "message": "Failed to authenticate.", "status": 400}
    blank = await api.client.post(url, json={"identity": "", "password": ""})
    assert set(blank.json()["data"]) == {"identity", "password"}


async def test_refresh_and_revocation_by_password_change(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    rec = await signup(api, name, "three@example.com")
    token = str((await login(api, name, "three@example.com"))["token"])
    r = await api.client.post(f"/api/collections/{name}/auth-refresh", headers={"Authorization": token})
    assert r.status_code == 200 and r.json()["record"]["id"] == rec["id"]
    r = await api.client.post(
        f"/api/collections/{name}/auth-refresh", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200
    # Changing the password needs the old one, then revokes every token of the record.
    url = f"/api/collections/{name}/records/{rec['id']}"
    r = await api.client.patch(
        url,
        json={"password": "New-pass-4567", "passwordConfirm": "New-pass-4567"},
        headers={"Authorization": token},
    )
    assert r.status_code == 400 and r.json()["data"]["oldPassword"]["code"] == "validation_required"
    r = await api.client.patch(
        url,
        json={"password": "New-pass-4567", "passwordConfirm": "New-pass-4567", "oldPassword": PW},
        headers={"Authorization": token},
    )
    assert r.status_code == 200, r.text
    r = await api.client.post(f"/api/collections/{name}/auth-refresh", headers={"Authorization": token})
    assert r.status_code == 401
    await login(api, name, "three@example.com", "New-pass-4567")


async def test_tokens_are_bound_to_their_collection(api: Api) -> None:
    a, b = await members(api), await members(api)
    await signup(api, str(a["name"]), "four@example.com")
    token = str((await login(api, str(a["name"]), "four@example.com"))["token"])
    r = await api.client.post(f"/api/collections/{b['name']}/auth-refresh", headers={"Authorization": token})
    assert r.status_code == 403
    # A superuser route with a user token: authenticated, but not allowed.
    r = await api.client.get("/api/collections", headers={"Authorization": token})
    assert r.status_code == 403


async def test_invalid_tokens_count_as_guest_on_public_routes(api: Api) -> None:
    c = await members(api)
    for bad in ("garbage", "Bearer abc.def.ghi", api.token[:-3] + "xyz"):
        r = await api.client.get(f"/api/collections/{c['name']}/records", headers={"Authorization": bad})
        assert r.status_code == 200
    # alg=none is never accepted
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(orjson.dumps(claims(api.token))).rstrip(b"=").decode()
    r = await api.client.get("/api/collections", headers={"Authorization": f"{header}.{body}."})
    assert r.status_code == 401


async def test_auth_methods_and_non_auth_collection(api: Api) -> None:
    c = await members(api)
    r = await api.client.get(f"/api/collections/{c['name']}/auth-methods")
    body = r.json()
    assert body["password"] == {"identityFields": ["email"], "enabled": True}
    assert body["oauth2"] == {"enabled": False, "providers": []} and body["otp"] == {
        "duration": 0,
        "enabled": False,
    }
    assert body["emailPassword"] is True and body["usernamePassword"] is False
    r = await api.client.get(
        f"/api/collections/{c['name']}/auth-methods", params={"fields": "mfa,otp,password,oauth2"}
    )
    assert set(r.json()) == {"mfa", "otp", "password", "oauth2"}
    base = await api.create_collection({"name": unique("plain"), "type": "base"})
    r = await api.client.get(f"/api/collections/{base['name']}/auth-methods")
    assert r.status_code == 404 and r.json()["message"] == "Missing or invalid auth collection context."


async def test_superuser_login(api: Api) -> None:
    r = await api.client.post(
        "/api/collections/_superusers/auth-with-password",
        json={"identity": SUPERUSER_EMAIL, "password": "adminpass123"},
    )
    assert r.status_code == 200
    assert claims(r.json()["token"])["collectionId"] == "pbc_3142635823"


async def test_nocase_email_index_makes_identities_case_insensitive(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    r = await api.client.patch(
        f"/api/collections/{c['id']}",
        json={"indexes": [f"CREATE UNIQUE INDEX idx_nocase_{name} ON {name} (email COLLATE NOCASE)"]},
        headers=api.su(),
    )
    assert r.status_code == 200, r.text
    await signup(api, name, "Mixed@Example.com")
    # As PocketBase: a NOCASE unique index on the identity field makes the match case-insensitive.
    auth = await login(api, name, "mixed@example.COM")
    assert auth["record"]["email"] == "Mixed@Example.com"
