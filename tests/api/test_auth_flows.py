"""Account flows by e-mail, OTP and MFA, completed the way a user does: the link or code is read
from the mail a real SMTP server (tests/support/smtp_server.py) received."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.api.test_auth import PW, claims, login, members, signup
from tests.api.test_auth_tokens import me
from tests.conftest import Api
from tests.support.mailbox import Mailbox


async def use_mailbox(api: Api, mailbox: Mailbox) -> None:
    mailbox.clear()
    r = await api.client.patch("/api/settings", json={"smtp": mailbox.smtp_settings()}, headers=api.su())
    assert r.status_code == 200, r.text


def link_token(mailbox: Mailbox, msg: Any, action: str) -> str:
    m = re.search(rf"/_/#/auth/{action}/([\w.-]+)", mailbox.html(msg))
    assert m, mailbox.html(msg)
    return m.group(1)


def otp_code(mailbox: Mailbox, msg: Any) -> str:
    m = re.search(r"<strong>(\d+)</strong>", mailbox.html(msg))
    assert m, mailbox.html(msg)
    return m.group(1)


async def post(api: Api, coll: str, action: str, body: dict[str, Any], token: str = "") -> Any:
    headers = {"Authorization": token} if token else {}
    return await api.client.post(f"/api/collections/{coll}/{action}", json=body, headers=headers)


async def test_verification(api: Api, mailbox: Mailbox) -> None:
    await use_mailbox(api, mailbox)
    name = str((await members(api))["name"])
    rec = await signup(api, name, "verify@example.com")
    assert (await post(api, name, "request-verification", {"email": "nobody@example.com"})).status_code == 204
    r = await post(api, name, "request-verification", {"email": "not-an-email"})
    assert r.status_code == 400 and r.json()["data"]["email"]["code"] == "validation_is_email"
    assert (await post(api, name, "request-verification", {"email": "verify@example.com"})).status_code == 204
    msg = await mailbox.wait_for("verify@example.com")
    assert "Verify your" in str(msg["Subject"])
    token = link_token(mailbox, msg, "confirm-verification")
    assert claims(token)["type"] == "verification"
    # A verification token is not an auth token.
    assert await me(api, name, token) == 401
    r = await post(api, name, "confirm-verification", {"token": token[:-2] + "xx"})
    assert r.status_code == 400 and r.json()["data"]["token"]["code"] == "validation_invalid_token"
    assert (await post(api, name, "confirm-verification", {"token": token})).status_code == 204
    assert (await post(api, name, "confirm-verification", {"token": token})).status_code == 204, "idempotent"
    r = await api.client.get(f"/api/collections/{name}/records/{rec['id']}", headers=api.su())
    assert r.json()["verified"] is True
    # The token of one collection does not verify in another.
    other = str((await members(api))["name"])
    r = await post(api, other, "confirm-verification", {"token": token})
    assert (
        r.status_code == 400 and r.json()["data"]["token"]["code"] == "validation_token_collection_mismatch"
    )
    r = await post(api, "_superusers", "request-verification", {"email": "a@example.com"})
    assert r.status_code == 400


async def test_password_reset_revokes_tokens(api: Api, mailbox: Mailbox) -> None:
    await use_mailbox(api, mailbox)
    name = str((await members(api))["name"])
    await signup(api, name, "reset@example.com")
    old = str((await login(api, name, "reset@example.com"))["token"])
    assert (
        await post(api, name, "request-password-reset", {"email": "reset@example.com"})
    ).status_code == 204
    token = link_token(mailbox, await mailbox.wait_for("reset@example.com"), "confirm-password-reset")
    bad = await post(
        api,
        name,
        "confirm-password-reset",
        {"token": token, "password": "New-pass-999", "passwordConfirm": "nope"},
    )
    assert (
        bad.status_code == 400
        and bad.json()["data"]["passwordConfirm"]["code"] == "validation_values_mismatch"
    )
    body = {"token": token, "password": "New-pass-999", "passwordConfirm": "New-pass-999"}
    assert (await post(api, name, "confirm-password-reset", body)).status_code == 204
    assert await me(api, name, old) == 401, "every older token is revoked"
    # The reset token was signed with the old tokenKey: it cannot be used twice.
    assert (await post(api, name, "confirm-password-reset", body)).status_code == 400
    r = await api.client.post(
        f"/api/collections/{name}/auth-with-password", json={"identity": "reset@example.com", "password": PW}
    )
    assert r.status_code == 400
    fresh = await login(api, name, "reset@example.com", "New-pass-999")
    assert fresh["record"]["verified"] is True, "the mail reached its owner"


async def test_email_change(api: Api, mailbox: Mailbox) -> None:
    await use_mailbox(api, mailbox)
    name = str((await members(api))["name"])
    await signup(api, name, "before@example.com")
    await signup(api, name, "taken@example.com")
    token = str((await login(api, name, "before@example.com"))["token"])
    assert (
        await post(api, name, "request-email-change", {"newEmail": "after@example.com"})
    ).status_code == 401
    r = await post(api, name, "request-email-change", {"newEmail": "taken@example.com"}, token)
    assert r.status_code == 400 and r.json()["data"]["newEmail"]["code"] == "validation_invalid_new_email"
    assert (
        await post(api, name, "request-email-change", {"newEmail": "after@example.com"}, token)
    ).status_code == 204
    change = link_token(mailbox, await mailbox.wait_for("after@example.com"), "confirm-email-change")
    assert claims(change)["newEmail"] == "after@example.com"
    r = await post(api, name, "confirm-email-change", {"token": change, "password": "wrong-pass"})
    assert r.status_code == 400 and r.json()["data"]["password"]["code"] == "validation_invalid_password"
    assert (
        await post(api, name, "confirm-email-change", {"token": change, "password": PW})
    ).status_code == 204
    assert await me(api, name, token) == 401, "a new e-mail revokes the old tokens"
    auth = await login(api, name, "after@example.com")
    assert auth["record"]["email"] == "after@example.com" and auth["record"]["verified"] is True


async def enable_otp(api: Api, coll: str, **mfa: Any) -> None:
    body: dict[str, Any] = {"otp": {"enabled": True, "length": 6}}
    if mfa:
        body["mfa"] = mfa
    r = await api.client.patch(f"/api/collections/{coll}", json=body, headers=api.su())
    assert r.status_code == 200, r.text


async def request_code(api: Api, mailbox: Mailbox, coll: str, email: str) -> tuple[str, str]:
    mailbox.clear()
    r = await post(api, coll, "request-otp", {"email": email})
    assert r.status_code == 200, r.text
    return r.json()["otpId"], otp_code(mailbox, await mailbox.wait_for(email))


async def test_otp_login_once_per_code(api: Api, mailbox: Mailbox) -> None:
    await use_mailbox(api, mailbox)
    name = str((await members(api))["name"])
    rec = await signup(api, name, "otp@example.com")
    assert (await post(api, name, "request-otp", {"email": "otp@example.com"})).status_code == 403, "disabled"
    await enable_otp(api, name)
    r = await post(api, name, "request-otp", {"email": "ghost@example.com"})
    assert r.status_code == 200 and len(r.json()["otpId"]) == 15, "unknown addresses get an id too"
    otp_id, code = await request_code(api, mailbox, name, "otp@example.com")
    assert len(code) == 6
    wrong = "0" * 6 if code != "0" * 6 else "1" * 6
    r = await post(api, name, "auth-with-otp", {"otpId": otp_id, "password": wrong})
    assert r.status_code == 400 and r.json()["message"] == "Invalid or expired OTP."
    r = await post(api, name, "auth-with-otp", {"otpId": otp_id, "password": code})
    assert r.status_code == 200, r.text
    assert r.json()["record"]["id"] == rec["id"] and r.json()["record"]["verified"] is True
    assert await me(api, name, r.json()["token"]) == 200
    r = await post(api, name, "auth-with-otp", {"otpId": otp_id, "password": code})
    assert r.status_code == 400, "a code works once"
    # A code of one collection does not log into another.
    other = str((await members(api))["name"])
    await enable_otp(api, other)
    otp_id, code = await request_code(api, mailbox, name, "otp@example.com")
    assert (await post(api, other, "auth-with-otp", {"otpId": otp_id, "password": code})).status_code == 400
    r = await post(api, name, "auth-with-otp", {"otpId": "", "password": ""})
    assert r.status_code == 400 and set(r.json()["data"]) == {"otpId", "password"}


async def test_otp_guessing_is_cut_off(api: Api, mailbox: Mailbox) -> None:
    await use_mailbox(api, mailbox)
    name = str((await members(api))["name"])
    await signup(api, name, "guess@example.com")
    await enable_otp(api, name)
    otp_id, code = await request_code(api, mailbox, name, "guess@example.com")
    statuses = []
    for n in range(7):
        guess = f"{n:06d}" if f"{n:06d}" != code else "999999"
        statuses.append(
            (await post(api, name, "auth-with-otp", {"otpId": otp_id, "password": guess})).status_code
        )
    assert statuses[:5] == [400] * 5 and statuses[5:] == [429, 429]
    r = await post(api, name, "auth-with-otp", {"otpId": otp_id, "password": code})
    assert r.status_code == 429, "even the right code, once the attempts are used up"


async def test_mfa_needs_two_different_methods(api: Api, mailbox: Mailbox) -> None:
    await use_mailbox(api, mailbox)
    name = str((await members(api))["name"])
    rec = await signup(api, name, "mfa@example.com")
    await signup(api, name, "mallory@example.com")
    await enable_otp(api, name, enabled=True, duration=600)
    url = f"/api/collections/{name}/auth-with-password"
    first = await api.client.post(url, json={"identity": "mfa@example.com", "password": PW})
    assert first.status_code == 401 and set(first.json()) == {"mfaId"}
    mfa_id = first.json()["mfaId"]
    # The same method twice is not two factors.
    r = await api.client.post(url, json={"identity": "mfa@example.com", "password": PW, "mfaId": mfa_id})
    assert r.status_code == 400 and r.json()["message"] == "A different authentication method is required."
    # Someone else's first factor does not complete this MFA session.
    otp_id, code = await request_code(api, mailbox, name, "mallory@example.com")
    r = await post(api, name, "auth-with-otp", {"otpId": otp_id, "password": code, "mfaId": mfa_id})
    assert r.status_code == 400 and r.json()["message"] == "Invalid MFA session."
    r = await post(api, name, "auth-with-otp", {"otpId": "x" * 15, "password": "123456", "mfaId": "nope"})
    assert r.status_code == 400
    # The wrong password with a valid MFA session fails like any wrong password.
    r = await api.client.post(
        url, json={"identity": "mfa@example.com", "password": "wrong!!", "mfaId": mfa_id}
    )
    assert r.status_code == 400 and r.json()["message"] == "Failed to authenticate."
    # The owner's OTP completes it; the mfaId may come in the query too.
    otp_id, code = await request_code(api, mailbox, name, "mfa@example.com")
    r = await api.client.post(
        f"/api/collections/{name}/auth-with-otp?mfaId={mfa_id}", json={"otpId": otp_id, "password": code}
    )
    assert r.status_code == 200, r.text
    assert r.json()["record"]["id"] == rec["id"] and await me(api, name, r.json()["token"]) == 200
    # The session is used up.
    otp_id, code = await request_code(api, mailbox, name, "mfa@example.com")
    r = await post(api, name, "auth-with-otp", {"otpId": otp_id, "password": code, "mfaId": mfa_id})
    assert r.status_code == 400 and r.json()["message"] == "Invalid or expired MFA session."


async def test_login_from_a_new_place_sends_an_alert(api: Api, mailbox: Mailbox) -> None:
    await use_mailbox(api, mailbox)
    name = str((await members(api))["name"])
    rec = await signup(api, name, "alert@example.com")
    url = f"/api/collections/{name}/auth-with-password"
    body = {"identity": "alert@example.com", "password": PW}
    assert (await api.client.post(url, json=body, headers={"User-Agent": "phone"})).status_code == 200
    assert (await api.client.post(url, json=body, headers={"User-Agent": "phone"})).status_code == 200
    assert mailbox.messages() == [], "the first place is not news, nor is coming back to it"
    assert (await api.client.post(url, json=body, headers={"User-Agent": "laptop"})).status_code == 200
    msg = await mailbox.wait_for("alert@example.com")
    assert "new location" in str(msg["Subject"]).lower() and "laptop" in mailbox.html(msg)
    r = await api.client.get(
        "/api/collections/_authOrigins/records",
        params={"filter": f"recordRef = '{rec['id']}'"},
        headers=api.su(),
    )
    assert r.json()["totalItems"] == 2


async def test_request_otp_stops_mailing_after_ten_live_codes(api: Api, mailbox: Mailbox) -> None:
    await use_mailbox(api, mailbox)
    name = str((await members(api))["name"])
    await signup(api, name, "spam@example.com")
    await enable_otp(api, name)
    ids = []
    for _ in range(12):
        r = await post(api, name, "request-otp", {"email": "spam@example.com"})
        assert r.status_code == 200
        ids.append(r.json()["otpId"])
    await mailbox.wait_for("spam@example.com")
    assert len(set(ids)) == 10 and ids[10] == ids[11] == ids[9], (
        "the last code is reused, not a new one mailed"
    )
    for _ in range(50):  # let the background sends finish
        if len(mailbox.messages()) >= 10:
            break
        await asyncio.sleep(0.05)
    assert len(mailbox.messages()) == 10
