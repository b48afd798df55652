"""Tokens under attack: deleted users, expiry, tampering, the wrong type or collection,
impersonation, and revocation when a password or e-mail changes."""

from __future__ import annotations

import asyncio
import base64

import orjson

from tests.api.test_auth import PW, claims, login, members, signup
from tests.conftest import Api


def session(token: str) -> str:
    """The login session id Hearth keeps in the token header."""
    header = token.split(".")[0]
    return str(orjson.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["sid"])


def forge(token: str, **changes: object) -> str:
    """The same token with changed claims and the original signature."""
    header, _, signature = token.split(".")
    payload = {**claims(token), **changes}
    body = base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


async def me(api: Api, coll: str, token: str) -> int:
    """The status of auth-refresh with `token`: 200 only for a valid auth token."""
    r = await api.client.post(f"/api/collections/{coll}/auth-refresh", headers={"Authorization": token})
    return r.status_code


async def test_token_of_a_deleted_user_is_dead(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    rec = await signup(api, name, "gone@example.com")
    token = str((await login(api, name, "gone@example.com"))["token"])
    assert await me(api, name, token) == 200
    r = await api.client.delete(f"/api/collections/{name}/records/{rec['id']}", headers=api.su())
    assert r.status_code == 204
    assert await me(api, name, token) == 401


async def test_tampered_and_foreign_tokens_are_refused(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    alice = await signup(api, name, "alice@example.com")
    bob = await signup(api, name, "bob@example.com")
    token = str((await login(api, name, "alice@example.com"))["token"])
    # Alice's signature over Bob's id, or over a longer life, is worthless.
    assert await me(api, name, forge(token, id=bob["id"])) == 401
    assert await me(api, name, forge(token, exp=int(claims(token)["exp"]) + 10**6)) == 401  # type: ignore[call-overload]
    # A superuser's claims on a user token do not make a superuser.
    su_claims = claims(api.token)
    r = await api.client.get(
        "/api/collections", headers={"Authorization": forge(token, collectionId=su_claims["collectionId"])}
    )
    assert r.status_code == 401
    # Another type of token (verification, password reset…) is not an auth token.
    assert await me(api, name, forge(token, type="verification")) == 401
    assert await me(api, name, token) == 200
    assert alice["id"] != bob["id"]


async def test_expired_token_is_refused(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    rec = await signup(api, name, "short@example.com")
    r = await api.client.post(
        f"/api/collections/{name}/impersonate/{rec['id']}", json={"duration": 1}, headers=api.su()
    )
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    view = f"/api/collections/{name}/records/{rec['id']}"
    r = await api.client.get(view, headers={"Authorization": token})
    assert r.status_code == 200 and r.json().get("email") == "short@example.com", "the owner sees its email"
    await asyncio.sleep(2.1)
    r = await api.client.get(view, headers={"Authorization": token})
    assert r.status_code == 200 and "email" not in r.json(), "expired: the request is a guest's"


async def test_impersonation(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    rec = await signup(api, name, "imp@example.com")
    url = f"/api/collections/{name}/impersonate/{rec['id']}"
    user_token = str((await login(api, name, "imp@example.com"))["token"])
    assert (await api.client.post(url, json={})).status_code == 401  # a guest: PocketBase asks for a token
    assert (await api.client.post(url, json={}, headers={"Authorization": user_token})).status_code == 403
    r = await api.client.post(
        f"/api/collections/{name}/impersonate/nope123456789ab", json={}, headers=api.su()
    )
    assert r.status_code == 404
    r = await api.client.post(url, json={"duration": -1}, headers=api.su())
    assert r.status_code == 400 and "duration" in r.json()["data"]
    r = await api.client.post(url, json={"duration": "x"}, headers=api.su())
    assert r.status_code == 400
    r = await api.client.post(url, json={"duration": 100}, headers=api.su())
    assert r.status_code == 200
    body = r.json()
    assert body["record"]["id"] == rec["id"] and body["record"]["email"] == "imp@example.com"
    cl = claims(body["token"])
    assert cl["refreshable"] is False and cl["id"] == rec["id"]
    assert 95 <= int(cl["exp"]) - int(claims(user_token)["exp"]) + int(c["authToken"]["duration"]) <= 105  # type: ignore[index, call-overload]
    # Acting as the user works; "renewing" the impersonation gives it back unchanged (as
    # PocketBase 0.40.6 answers: 200 with the same token, tests/api/test_pocketbase_auth_answers.py).
    r = await api.client.get(
        f"/api/collections/{name}/records/{rec['id']}", headers={"Authorization": body["token"]}
    )
    assert r.json().get("email") == "imp@example.com"
    r = await api.client.post(f"/api/collections/{name}/auth-refresh", headers={"Authorization": body["token"]})
    assert r.status_code == 200 and r.json()["token"] == body["token"]
    # An impersonation has no session of its own: logging it out must not log the user out.
    r = await api.client.post(
        f"/api/collections/{name}/auth-logout", headers={"Authorization": body["token"]}
    )
    assert r.status_code == 400 and await me(api, name, user_token) == 200
    # Without a duration, the collection's auth token duration applies.
    r = await api.client.post(url, headers=api.su())
    assert r.status_code == 200
    assert int(claims(r.json()["token"])["exp"]) - int(claims(user_token)["exp"]) in range(-5, 6)  # type: ignore[call-overload]


async def test_email_change_by_a_superuser_revokes_tokens(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    rec = await signup(api, name, "old@example.com")
    token = str((await login(api, name, "old@example.com"))["token"])
    r = await api.client.patch(
        f"/api/collections/{name}/records/{rec['id']}", json={"email": "new@example.com"}, headers=api.su()
    )
    assert r.status_code == 200, r.text
    assert await me(api, name, token) == 401
    fresh = str((await login(api, name, "new@example.com"))["token"])
    assert await me(api, name, fresh) == 200
    # Changing another field keeps the tokens.
    r = await api.client.patch(
        f"/api/collections/{name}/records/{rec['id']}", json={"nick": "x"}, headers={"Authorization": fresh}
    )
    assert r.status_code == 200 and await me(api, name, fresh) == 200
    assert PW


async def test_logout_ends_one_session_or_all(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    await signup(api, name, "bye@example.com")
    phone = str((await login(api, name, "bye@example.com"))["token"])
    laptop = str((await login(api, name, "bye@example.com"))["token"])
    url = f"/api/collections/{name}/auth-logout"
    assert (await api.client.post(url)).status_code == 401
    # A refreshed token belongs to the same session: logging out ends both.
    r = await api.client.post(f"/api/collections/{name}/auth-refresh", headers={"Authorization": phone})
    phone2 = r.json()["token"]
    assert session(phone2) == session(phone) != session(laptop)
    assert (await api.client.post(url, headers={"Authorization": phone2})).status_code == 204
    assert await me(api, name, phone) == 401 and await me(api, name, phone2) == 401
    assert await me(api, name, laptop) == 200, "another session lives on"
    # ?all=1 ends every session, including ones that never logged out.
    tablet = str((await login(api, name, "bye@example.com"))["token"])
    assert (await api.client.post(f"{url}?all=1", headers={"Authorization": laptop})).status_code == 204
    assert await me(api, name, laptop) == 401 and await me(api, name, tablet) == 401
    assert await me(api, name, str((await login(api, name, "bye@example.com"))["token"])) == 200
    # A token of another collection cannot log out here.
    other = await members(api)
    await signup(api, str(other["name"]), "x@example.com")
    foreign = str((await login(api, str(other["name"]), "x@example.com"))["token"])
    assert (await api.client.post(url, headers={"Authorization": foreign})).status_code == 403


async def test_password_guessing_hits_the_identity_limit(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    await signup(api, name, "target@example.com")
    await signup(api, name, "bystander@example.com")
    limits = {"rateLimits": {"identity": {"enabled": True, "maxFailures": 3, "duration": 60}}}
    r = await api.client.patch("/api/settings", json=limits, headers=api.su())
    assert r.status_code == 200, r.text
    url = f"/api/collections/{name}/auth-with-password"
    try:
        statuses = [
            (
                await api.client.post(url, json={"identity": "target@example.com", "password": f"guess-{n}"})
            ).status_code
            for n in range(4)
        ]
        assert statuses == [400, 400, 400, 429]
        r = await api.client.post(url, json={"identity": "target@example.com", "password": PW})
        assert (
            r.status_code == 429
            and r.json()["message"] == "Too many failed attempts, please try again later."
        )
        # Other people are not locked out; unknown identities are limited the same way.
        await login(api, name, "bystander@example.com")
        ghost = [
            (await api.client.post(url, json={"identity": "ghost@example.com", "password": "x"})).status_code
            for _ in range(4)
        ]
        assert ghost == [400, 400, 400, 429]
    finally:
        limits["rateLimits"]["identity"] = {"enabled": True, "maxFailures": 10, "duration": 600}
        await api.client.patch("/api/settings", json=limits, headers=api.su())


async def test_file_tokens(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    rec = await signup(api, name, "files@example.com")
    token = str((await login(api, name, "files@example.com"))["token"])
    assert (await api.client.post("/api/files/token")).status_code == 401
    r = await api.client.post("/api/files/token", headers={"Authorization": token})
    assert r.status_code == 200
    file_token = r.json()["token"]
    cl = claims(file_token)
    assert set(cl) == {"collectionId", "exp", "id", "type"} and cl["type"] == "file" and cl["id"] == rec["id"]
    assert int(cl["exp"]) - int(claims(token)["exp"]) < 0, "short-lived (the collection's fileToken duration)"
    assert await me(api, name, file_token) == 401, "a file token is not an auth token"


async def test_unknown_identity_costs_as_much_as_a_wrong_password(api: Api) -> None:
    import statistics
    import time

    c = await members(api)
    name = str(c["name"])
    await signup(api, name, "timing@example.com")
    url = f"/api/collections/{name}/auth-with-password"

    async def cost(identity: str) -> float:
        samples = []
        for n in range(5):
            start = time.perf_counter()
            r = await api.client.post(url, json={"identity": identity, "password": f"wrong-{n}"})
            samples.append(time.perf_counter() - start)
            assert r.status_code == 400
        return statistics.median(samples)

    known, unknown = await cost("timing@example.com"), await cost("nobody-here@example.com")
    # Both verify a bcrypt hash; answering the unknown one without it would be ~50 times faster.
    assert 0.4 < unknown / known < 2.5, (known, unknown)


async def test_deleting_a_user_removes_its_auth_rows(api: Api) -> None:
    c = await members(api)
    name = str(c["name"])
    rec = await signup(api, name, "leaver@example.com")
    await login(api, name, "leaver@example.com")  # remembers the login origin
    origins = f"/api/collections/_authOrigins/records?filter=recordRef='{rec['id']}'"
    assert (await api.client.get(origins, headers=api.su())).json()["totalItems"] == 1
    assert (
        await api.client.delete(f"/api/collections/{name}/records/{rec['id']}", headers=api.su())
    ).status_code == 204
    assert (await api.client.get(origins, headers=api.su())).json()["totalItems"] == 0
