"""E-mail through a real SMTP server (tests/support/smtp_server.py): the settings' test e-mail
endpoint, SMTP AUTH, failures answered as 400, and smtp.enabled=false."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from tests.conftest import Api, unique
from tests.support.mailbox import Mailbox

TEST_EMAIL = "/api/settings/test/email"
APP_NAME = "Hearth Mail Test"
APP_URL = "https://hearth.example.test"
SENDER = {"senderName": "Hearth Robot", "senderAddress": "robot@hearth.example.test"}
TEMPLATES = ("verification", "password-reset", "email-change", "otp", "login-alert")
JWT = r"[\w-]+\.[\w-]+\.[\w-]+"
PW = "Secret-pass-123"


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
async def mail(api: Api, mailbox: Mailbox) -> AsyncIterator[Mailbox]:
    """Settings pointing at the mailbox server for one test, restored afterwards."""
    before = (await api.client.get("/api/settings", headers=api.su())).json()
    r = await api.client.patch(
        "/api/settings",
        json={"meta": {"appName": APP_NAME, "appURL": APP_URL, **SENDER}, "smtp": mailbox.smtp_settings()},
        headers=api.su(),
    )
    assert r.status_code == 200, r.text
    mailbox.clear()
    try:
        yield mailbox
    finally:
        # The password is write-only: GET does not return it, so it is reset to its default.
        restore = {"meta": before["meta"], "smtp": {**before["smtp"], "password": ""}}
        r = await api.client.patch("/api/settings", json=restore, headers=api.su())
        assert r.status_code == 200, r.text
        mailbox.clear()


async def set_smtp(api: Api, **smtp: Any) -> None:
    r = await api.client.patch("/api/settings", json={"smtp": smtp}, headers=api.su())
    assert r.status_code == 200, r.text


async def send_test(api: Api, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return await api.client.post(TEST_EMAIL, json=body, headers=api.su() if headers is None else headers)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("template", TEMPLATES)
async def test_each_template_arrives_with_placeholders_replaced(
    api: Api, mail: Mailbox, template: str
) -> None:
    to = f"{template}@example.com"
    r = await send_test(api, {"email": to, "template": template})
    assert r.status_code == 204, r.text
    msg = await mail.wait_for(to)

    assert msg["X-Test-Rcpt-To"] == to and msg["To"] == to
    assert msg["From"] == f"{SENDER['senderName']} <{SENDER['senderAddress']}>"
    assert msg["X-Test-Mail-From"] == SENDER["senderAddress"]
    assert msg["Message-ID"].endswith("@hearth.example.test>") and msg["Date"]
    subject = {
        "verification": f"Verify your {APP_NAME} email",
        "password-reset": f"Reset your {APP_NAME} password",
        "email-change": f"Confirm your {APP_NAME} new email address",
        "otp": f"OTP for {APP_NAME}",
        "login-alert": "Login from a new location",
    }[template]
    assert msg["Subject"] == subject
    assert msg.get_content_type() == "multipart/alternative"

    html, text = mail.html(msg), mail.text(msg)
    assert html.lstrip().startswith("<!DOCTYPE html") and "</html>" in html  # PocketBase's layout
    for placeholder in ("{APP_NAME}", "{APP_URL}", "{TOKEN}", "{OTP}", "{ALERT_INFO}"):
        assert placeholder not in html and placeholder not in text
    assert f"{APP_NAME} team" in html and f"{APP_NAME} team" in text
    assert "<p>" not in text and "<style>" not in text and "font-family" not in text

    if template in ("verification", "password-reset", "email-change"):
        path = {
            "verification": "confirm-verification",
            "password-reset": "confirm-password-reset",
            "email-change": "confirm-email-change",
        }[template]
        m = re.search(re.escape(f"{APP_URL}/_/#/auth/{path}/") + f"({JWT})", html)
        assert m, html
        token = m.group(1)
        # The plain-text part has the link as [label](href).
        assert f"({APP_URL}/_/#/auth/{path}/{token})" in text
        c = claims(token)
        superusers = (await api.client.get("/api/collections/_superusers", headers=api.su())).json()
        assert c["collectionId"] == superusers["id"] and c["email"] == to
        assert (
            c["type"]
            == {
                "verification": "verification",
                "password-reset": "passwordReset",
                "email-change": "emailChange",
            }[template]
        )
        if template == "email-change":
            assert c["newEmail"] == to
    elif template == "otp":
        assert "<strong>123456</strong>" in html and "123456" in text
    else:
        assert APP_NAME in html and re.search(
            r"<em>\d{4}-\d\d-\d\d [\d:.]+Z - TEST_IP TEST_USER_AGENT</em>", html
        )


async def test_collection_option_and_record_placeholders(api: Api, mail: Mailbox) -> None:
    c = await api.create_collection(
        {
            "name": unique("mailers"),
            "type": "auth",
            "fields": [{"name": "nick", "type": "text"}, {"name": "age", "type": "number"}],
            "verificationTemplate": {
                "subject": "Hi {RECORD:nick} from {APP_NAME}",
                "body": "<p>nick={RECORD:nick} email={RECORD:email} age={RECORD:age} "
                "verified={RECORD:verified} hidden={RECORD:tokenKey} {OTP} {TOKEN}</p>",
            },
        }
    )
    to = "records@example.com"
    r = await send_test(api, {"email": to, "template": "verification", "collection": c["name"]})
    assert r.status_code == 204, r.text
    msg = await mail.wait_for(to)
    assert msg["Subject"] == f"Hi __pb_test_nick__ from {APP_NAME}"
    html = mail.html(msg)
    assert "nick=__pb_test_nick__ email=records@example.com age=0 verified=false" in html
    # Hidden fields have no placeholder, nor do placeholders of other kinds of mail.
    assert "hidden={RECORD:tokenKey} {OTP} " in html
    assert re.search(f"{{OTP}} {JWT}</p>", html)

    # By id too; the built-in users collection.
    r = await send_test(api, {"email": "users@example.com", "template": "otp", "collection": c["id"]})
    assert r.status_code == 204, r.text
    r = await send_test(api, {"email": "users@example.com", "template": "otp", "collection": "users"})
    assert r.status_code == 204, r.text
    await mail.wait_for("users@example.com")
    assert len([m for m in mail.messages() if m["To"] == "users@example.com"]) == 2


@pytest.mark.parametrize("method", ["", "PLAIN", "LOGIN"])
async def test_smtp_auth_with_the_right_password(api: Api, mail: Mailbox, method: str) -> None:
    await set_smtp(api, username=mail.username, password=mail.password, authMethod=method)
    r = await send_test(api, {"email": "auth@example.com", "template": "otp"})
    assert r.status_code == 204, r.text
    msg = await mail.wait_for("auth@example.com")
    assert msg["X-Test-Auth"] == f"{method or 'PLAIN'} {mail.username}"


async def test_smtp_auth_with_a_wrong_password_is_400(api: Api, mail: Mailbox) -> None:
    await set_smtp(api, username=mail.username, password="not-the-password", authMethod="LOGIN")
    r = await send_test(api, {"email": "wrong@example.com", "template": "verification"})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["message"].startswith("Failed to send the test email.") and "535" in body["message"]
    assert body["data"] == {}
    assert "not-the-password" not in r.text
    assert mail.messages() == []


async def test_local_name_is_the_ehlo_name(api: Api, mail: Mailbox) -> None:
    r = await send_test(api, {"email": "helo@example.com", "template": "otp"})
    assert r.status_code == 204
    assert (await mail.wait_for("helo@example.com"))["X-Test-Helo"] == "localhost"
    await set_smtp(api, localName="mail.hearth.example.test")
    mail.clear()
    r = await send_test(api, {"email": "helo@example.com", "template": "otp"})
    assert r.status_code == 204
    assert (await mail.wait_for("helo@example.com"))["X-Test-Helo"] == "mail.hearth.example.test"


async def test_unreachable_server_and_tls_mismatch_are_400(api: Api, mail: Mailbox) -> None:
    await set_smtp(api, port=free_port())
    r = await send_test(api, {"email": "nobody@example.com", "template": "otp"})
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith("Failed to send the test email. Raw error:")
    # Implicit TLS against a plain server fails the handshake: a 400 too, never a 500.
    await set_smtp(api, port=mail.port, tls=True)
    r = await send_test(api, {"email": "nobody@example.com", "template": "otp"})
    assert r.status_code == 400, r.text
    assert r.json()["message"].startswith("Failed to send the test email.")
    assert mail.messages() == []


async def test_smtp_disabled_logs_instead_of_sending(
    api: Api, mail: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    await set_smtp(api, enabled=False)
    with caplog.at_level(logging.INFO, logger="hearth.mail"):
        r = await send_test(api, {"email": "quiet@example.com", "template": "verification"})
    assert r.status_code == 204, r.text
    logged = [rec for rec in caplog.records if rec.name == "hearth.mail" and rec.levelno == logging.INFO]
    assert logged and "quiet@example.com" in logged[-1].getMessage()
    assert f"Verify your {APP_NAME} email" in logged[-1].getMessage()
    # The whole message, so a developer can follow its link (tests/api/test_mail_log.py).
    assert f"{APP_URL}/_/#/auth/confirm-verification/" in logged[-1].getMessage()
    await asyncio.sleep(0.2)
    assert mail.messages() == []


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"email": "validation_required", "template": "validation_required"}),
        ({"email": "", "template": ""}, {"email": "validation_required", "template": "validation_required"}),
        ({"email": "not-an-email", "template": "otp"}, {"email": "validation_is_email"}),
        ({"email": "a@example.com", "template": "welcome"}, {"template": "validation_in_invalid"}),
        (
            {"email": "a@b", "template": "otp", "collection": "nope"},
            {"email": "validation_is_email", "collection": "validation_invalid_auth_collection"},
        ),
    ],
)
async def test_bad_body_is_400_with_field_errors(
    api: Api, mail: Mailbox, body: dict[str, Any], errors: dict[str, str]
) -> None:
    r = await send_test(api, body)
    assert r.status_code == 400, r.text
    out = r.json()
    assert out["message"] == "Failed to send the test email."
    assert {k: v["code"] for k, v in out["data"].items()} == errors
    assert mail.messages() == []


async def test_base_collection_and_wrong_types_are_refused(api: Api, mail: Mailbox) -> None:
    base = await api.create_collection({"name": unique("notauth"), "type": "base"})
    r = await send_test(api, {"email": "a@example.com", "template": "otp", "collection": base["name"]})
    assert r.status_code == 400
    assert r.json()["data"]["collection"]["code"] == "validation_invalid_auth_collection"
    r = await send_test(api, {"email": ["a@example.com"], "template": "otp"})
    assert r.status_code == 400 and r.json()["data"] == {}
    r = await api.client.post(
        TEST_EMAIL, content=b"[1]", headers={**api.su(), "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert mail.messages() == []


async def test_only_superusers_may_send(api: Api, mail: Mailbox) -> None:
    body = {"email": "perm@example.com", "template": "otp"}
    r = await send_test(api, body, headers={})
    assert r.status_code == 401
    email = f"{unique('member')}@example.com"
    r = await api.client.post(
        "/api/collections/users/records", json={"email": email, "password": PW, "passwordConfirm": PW}
    )
    assert r.status_code == 200, r.text
    r = await api.client.post(
        "/api/collections/users/auth-with-password", json={"identity": email, "password": PW}
    )
    assert r.status_code == 200, r.text
    r = await send_test(api, body, headers={"Authorization": r.json()["token"]})
    assert r.status_code == 403
    await asyncio.sleep(0.1)
    assert not [m for m in mail.messages() if "perm@example.com" in mail.recipients(m)]
