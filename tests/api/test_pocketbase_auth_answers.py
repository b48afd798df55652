"""The auth routes' answers in the odd cases, pinned to PocketBase 0.40.6's (recorded with
`.venv/bin/pocketbase serve` beside Hearth, request by request, 2026-12-07): which check comes
first (the collection, the token, the token's collection, the method being enabled, the body),
JSON null in the forms, an impersonation token refreshed, and a manager creating verified
records."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import OPEN, Api, unique

PW = "pass12345678"
TOKEN_REQUIRED = "The request requires valid record authorization token."


def envelope(r: httpx.Response) -> tuple[int, str, dict[str, Any]]:
    body = r.json()
    return r.status_code, body["message"], body["data"]


async def make_user(api: Api, coll: str, email: str, **extra: Any) -> str:
    r = await api.client.post(f"/api/collections/{coll}/records", headers=api.su(),
                              json={"email": email, "password": PW, "passwordConfirm": PW, **extra})  # fmt: skip
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


async def login(api: Api, coll: str, email: str) -> str:
    r = await api.client.post(f"/api/collections/{coll}/auth-with-password", json={"identity": email, "password": PW})
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


async def test_which_check_comes_first(api: Api) -> None:
    users, base, nopw = unique("users"), unique("posts"), unique("nopw")
    await api.create_collection({"name": users, "type": "auth", **OPEN})
    await api.create_collection({"name": base, "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]})
    await api.create_collection({"name": nopw, "type": "auth", "passwordAuth": {"enabled": False}})
    email = f"{unique('u')}@example.com"
    await make_user(api, users, email)
    user = {"Authorization": await login(api, users, email)}
    su = api.su()
    post = api.client.post
    broken = {"content": b"{", "headers": {"Content-Type": "application/json"}}

    # A collection that does not exist, and one that is not an auth collection.
    for path in ("auth-methods", "auth-with-password", "request-otp", "request-password-reset", "auth-refresh",
                 "request-email-change"):  # fmt: skip
        method = api.client.get if path == "auth-methods" else post
        r = await method(f"/api/collections/nope_{unique('x')}/{path}", headers=user)
        assert envelope(r) == (404, "Missing or invalid collection context.", {}), path
    r = await post(f"/api/collections/{base}/auth-with-password", json={})
    assert envelope(r) == (404, "Missing or invalid auth collection context.", {})

    # Routes on the requester's own record: a token first, then the token's collection; the 403
    # names the requester's collection (PocketBase's wording).
    for path in ("auth-refresh", "request-email-change"):
        for target in (users, base):
            r = await post(f"/api/collections/{target}/{path}", json={"newEmail": "z@example.com"})
            assert envelope(r) == (401, TOKEN_REQUIRED, {}), (path, target)
        for target in (base, nopw):
            r = await post(f"/api/collections/{target}/{path}", json={"newEmail": "z@example.com"}, headers=user)
            assert envelope(r) == (403, f"The request requires auth record from {users} collection.", {}), (path, target)
        r = await post(f"/api/collections/{users}/{path}", json={"newEmail": "z@example.com"}, headers=su)
        assert envelope(r) == (403, "The request requires auth record from _superusers collection.", {}), path
    r = await post("/api/collections/_superusers/request-email-change", json={"newEmail": "z@example.com"}, headers=user)
    assert envelope(r) == (403, f"The request requires auth record from {users} collection.", {})
    r = await post("/api/collections/_superusers/request-email-change", json={"newEmail": "z@example.com"})
    assert envelope(r) == (401, TOKEN_REQUIRED, {})
    # Impersonation: a guest is asked for a token, even on a base collection.
    for target in (users, base):
        r = await post(f"/api/collections/{target}/impersonate/abc", json={})
        assert envelope(r) == (401, TOKEN_REQUIRED, {}), target

    # A disabled method answers before the body is read (a broken body included).
    for body in ({"json": {"identity": "n@example.com", "password": PW}}, broken):
        r = await post(f"/api/collections/{nopw}/auth-with-password", **body)  # type: ignore[arg-type]
        assert envelope(r) == (403, "The collection is not configured to allow password authentication.", {})
    for body in ({"json": {"email": "n@example.com"}}, {"data": {"email": "n@example.com"}}, broken, {"json": {}}):
        r = await post(f"/api/collections/{nopw}/request-password-reset", **body)  # type: ignore[arg-type]
        assert envelope(r) == (400, "The collection is not configured to allow password authentication.", {})
    for path in ("request-otp", "auth-with-otp"):
        r = await post(f"/api/collections/{users}/{path}", **broken)  # type: ignore[arg-type]
        assert envelope(r) == (403, "The collection is not configured to allow OTP authentication.", {}), path


async def test_null_in_a_form_is_blank(api: Api) -> None:
    users = unique("users")
    await api.create_collection({"name": users, "type": "auth", **OPEN})
    email = f"{unique('u')}@example.com"
    await make_user(api, users, email)
    user = {"Authorization": await login(api, users, email)}
    blank = {"code": "validation_required", "message": "Cannot be blank."}
    failed = "An error occurred while validating the submitted data."
    cases = [
        ("auth-with-password", {"identity": None, "password": "x"}, {}, {"identity": blank}),
        ("auth-with-password", {"identity": email, "password": None}, {}, {"password": blank}),
        ("request-password-reset", {"email": None}, {}, {"email": blank}),
        ("request-verification", {"email": None}, {}, {"email": blank}),
        ("confirm-verification", {"token": None}, {}, {"token": blank}),
        ("request-email-change", {"newEmail": None}, user, {"newEmail": blank}),
    ]
    for path, body, headers, data in cases:
        r = await api.client.post(f"/api/collections/{users}/{path}", json=body, headers=headers)
        assert envelope(r) == (400, failed, data), (path, body)
    # Other types stay a loading error.
    r = await api.client.post(f"/api/collections/{users}/auth-with-password", json={"identity": 5, "password": "x"})
    assert envelope(r) == (400, "An error occurred while loading the submitted data.", {})
    # The same address again is "not in list".
    r = await api.client.post(f"/api/collections/{users}/request-email-change", json={"newEmail": email}, headers=user)
    assert envelope(r) == (400, failed, {"newEmail": {"code": "validation_not_in_invalid", "message": "Must not be in list."}})


async def test_an_impersonation_token_is_refreshed_as_itself(api: Api) -> None:
    users = unique("users")
    await api.create_collection({"name": users, "type": "auth", **OPEN})
    uid = await make_user(api, users, f"{unique('u')}@example.com")
    r = await api.client.post(f"/api/collections/{users}/impersonate/{uid}", json={"duration": 100}, headers=api.su())
    token = r.json()["token"]
    r = await api.client.post(f"/api/collections/{users}/auth-refresh", headers={"Authorization": token})
    assert r.status_code == 200, r.text
    assert r.json()["token"] == token and r.json()["record"]["id"] == uid
    # Still refused once its record is gone.
    r = await api.client.delete(f"/api/collections/{users}/records/{uid}", headers=api.su())
    assert r.status_code == 204
    r = await api.client.post(f"/api/collections/{users}/auth-refresh", headers={"Authorization": token})
    assert r.status_code == 401, r.text


async def test_a_manager_sees_emails_and_creates_verified_records(api: Api) -> None:
    staff, users = unique("staff"), unique("users")
    await api.create_collection({"name": staff, "type": "auth"})
    await api.create_collection({
        "name": users, "type": "auth", "listRule": "@request.auth.id != ''", "viewRule": "@request.auth.id != ''",
        "createRule": "@request.auth.id != ''", "updateRule": "id = @request.auth.id",
        "manageRule": f"@request.auth.collectionName = '{staff}'",
    })  # fmt: skip
    hidden = f"{unique('h')}@example.com"
    await make_user(api, users, hidden, verified=True)  # emailVisibility false
    await make_user(api, staff, "boss@example.com")
    manager = {"Authorization": await login(api, staff, "boss@example.com")}
    user = {"Authorization": await login(api, users, hidden)}
    r = await api.client.get(f"/api/collections/{users}/records", params={"fields": "email"}, headers=manager)
    assert r.json()["items"] == [{"email": hidden}]
    new = {"password": PW, "passwordConfirm": PW, "verified": True}
    r = await api.client.post(f"/api/collections/{users}/records", json={**new, "email": "m1@example.com"}, headers=manager)
    assert r.status_code == 200, r.text
    assert r.json()["verified"] is True and r.json()["email"] == "m1@example.com"
    # Not a manager: `verified` is refused, and nothing is written.
    r = await api.client.post(f"/api/collections/{users}/records", json={**new, "email": "m2@example.com"}, headers=user)
    assert envelope(r) == (400, "Failed to create record.", {"verified": {"code": "validation_values_mismatch", "message": "Values don't match."}})
    r = await api.client.get(f"/api/collections/{users}/records", params={"filter": "email = 'm2@example.com'"}, headers=api.su())
    assert r.json()["totalItems"] == 0
