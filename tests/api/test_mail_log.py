"""With SMTP off (the default), every auth mail is logged whole — recipient, subject and the text
body with its link or code — as one INFO entry of the `hearth.mail` logger, so a developer can
follow verification, password reset, e-mail change and OTP flows locally. Each test takes the link
or code from the log and uses it against the confirm endpoint."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time

import pytest

from tests.conftest import OPEN, Api, unique

PW = "Secret-pass-123"
JWT = r"[\w-]+\.[\w-]+\.[\w-]+"


async def smtp_off(api: Api) -> None:
    r = await api.client.get("/api/settings", headers=api.su())
    assert r.status_code == 200, r.text
    assert r.json()["smtp"]["enabled"] is False  # the default: nothing is delivered


async def people(api: Api, **options: object) -> str:
    c = await api.create_collection({"name": unique("people"), "type": "auth", **OPEN, **options})
    return str(c["name"])


async def signup(api: Api, coll: str) -> tuple[str, str]:
    email = f"u{secrets.token_hex(4)}@example.com"
    r = await api.client.post(
        f"/api/collections/{coll}/records", json={"email": email, "password": PW, "passwordConfirm": PW}
    )
    assert r.status_code == 200, r.text
    return email, str(r.json()["id"])


async def logged_mail(caplog: pytest.LogCaptureFixture, to: str, timeout: float = 5.0) -> str:
    """The one `hearth.mail` INFO entry for the mail to `to` (sent in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            rec for rec in caplog.records if rec.name == "hearth.mail" and f"\nTo: {to}\n" in rec.getMessage()
        ]
        if found:
            await asyncio.sleep(0.05)  # a second entry for the same mail would show up by now
            found = [rec for rec in caplog.records if f"\nTo: {to}\n" in rec.getMessage()]
            assert len(found) == 1, [rec.getMessage() for rec in found]
            assert found[0].levelno == logging.INFO
            return found[0].getMessage()
        assert time.monotonic() < deadline, f"no mail to {to} was logged"
        await asyncio.sleep(0.02)


async def test_verification_link_in_the_log_verifies(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    await smtp_off(api)
    coll = await people(api)
    email, rid = await signup(api, coll)
    with caplog.at_level(logging.INFO, logger="hearth.mail"):
        r = await api.client.post(f"/api/collections/{coll}/request-verification", json={"email": email})
        assert r.status_code == 204, r.text
        text = await logged_mail(caplog, email)
    assert text.startswith("SMTP is disabled; e-mail not sent.")
    assert "\nSubject: Verify your " in text
    m = re.search(rf"\(([^)\s]*/_/#/auth/confirm-verification/({JWT}))\)", text)
    assert m, text
    r = await api.client.post(f"/api/collections/{coll}/confirm-verification", json={"token": m.group(2)})
    assert r.status_code == 204, r.text
    r = await api.client.get(f"/api/collections/{coll}/records/{rid}", headers=api.su())
    assert r.json()["verified"] is True


async def test_password_reset_link_in_the_log_resets(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    await smtp_off(api)
    coll = await people(api)
    email, _ = await signup(api, coll)
    with caplog.at_level(logging.INFO, logger="hearth.mail"):
        r = await api.client.post(f"/api/collections/{coll}/request-password-reset", json={"email": email})
        assert r.status_code == 204, r.text
        text = await logged_mail(caplog, email)
    assert "\nSubject: Reset your " in text
    m = re.search(rf"/_/#/auth/confirm-password-reset/({JWT})\)", text)
    assert m, text
    new = "Another-pass-456"
    r = await api.client.post(
        f"/api/collections/{coll}/confirm-password-reset",
        json={"token": m.group(1), "password": new, "passwordConfirm": new},
    )
    assert r.status_code == 204, r.text
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-password", json={"identity": email, "password": new}
    )
    assert r.status_code == 200, r.text


async def test_otp_code_in_the_log_logs_in(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    await smtp_off(api)
    coll = await people(api, otp={"enabled": True, "length": 8})
    email, rid = await signup(api, coll)
    with caplog.at_level(logging.INFO, logger="hearth.mail"):
        r = await api.client.post(f"/api/collections/{coll}/request-otp", json={"email": email})
        assert r.status_code == 200, r.text
        otp_id = r.json()["otpId"]
        text = await logged_mail(caplog, email)
    assert "\nSubject: OTP for " in text
    m = re.search(r"one-time password is: (\d{8})\b", text)
    assert m, text
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-otp", json={"otpId": otp_id, "password": m.group(1)}
    )
    assert r.status_code == 200, r.text
    assert r.json()["record"]["id"] == rid


async def test_email_change_link_in_the_log_changes_the_email(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    await smtp_off(api)
    coll = await people(api)
    email, rid = await signup(api, coll)
    r = await api.client.post(
        f"/api/collections/{coll}/auth-with-password", json={"identity": email, "password": PW}
    )
    token = r.json()["token"]
    new_email = f"new{secrets.token_hex(4)}@example.com"
    with caplog.at_level(logging.INFO, logger="hearth.mail"):
        r = await api.client.post(
            f"/api/collections/{coll}/request-email-change",
            json={"newEmail": new_email},
            headers={"Authorization": token},
        )
        assert r.status_code == 204, r.text
        text = await logged_mail(caplog, new_email)
    assert "\nSubject: Confirm your " in text
    m = re.search(rf"/_/#/auth/confirm-email-change/({JWT})\)", text)
    assert m, text
    r = await api.client.post(
        f"/api/collections/{coll}/confirm-email-change", json={"token": m.group(1), "password": PW}
    )
    assert r.status_code == 204, r.text
    r = await api.client.get(f"/api/collections/{coll}/records/{rid}", headers=api.su())
    assert r.json()["email"] == new_email


async def test_unknown_address_logs_nothing(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    await smtp_off(api)
    coll = await people(api)
    nobody = f"nobody{secrets.token_hex(4)}@example.com"
    with caplog.at_level(logging.INFO, logger="hearth.mail"):
        r = await api.client.post(f"/api/collections/{coll}/request-password-reset", json={"email": nobody})
        assert r.status_code == 204, r.text
        await asyncio.sleep(0.2)
    assert not [rec for rec in caplog.records if nobody in rec.getMessage()]
