"""The dashboard's settings pages (`#/settings/application`, `mail`, `storage`) in a real browser
against a real `hearth serve` on SQLite and PostgreSQL. What the page saved is checked through
`GET /api/settings`, and its effect through the REST API (a rate limit rule answers 429), the real
SMTP test server (the test e-mail arrives) and a real S3-protocol server (moto, here with its
credential checks on, so that a wrong secret fails). Each test restores the settings it changed:
the server is shared by the module."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import httpx
import pytest
from playwright.async_api import Page, expect

from tests.support.dashboard import Site, Tab, sign_in
from tests.support.mailbox import Mailbox
from tests.support.s3_server import free_port

EVIL = "<img src=x onerror=alert(1)>"


def settings(site: Site) -> dict[str, Any]:
    r = site.http.get("/api/settings", headers=site.su)
    assert r.status_code == 200, r.text
    return dict(r.json())


def patch(site: Site, body: dict[str, Any]) -> dict[str, Any]:
    r = site.http.patch("/api/settings", json=body, headers=site.su)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def open_page(tab: Tab, site: Site, name: str, title: str) -> Page:
    page = await sign_in(tab, site)
    await page.goto(f"{site.url}/_/#/settings/{name}")
    await expect(page.get_by_role("form", name=title)).to_be_visible()
    return page


class S3:
    """moto's S3 server with credential checks on: one IAM user allowed everything; requests
    signed with another secret are refused (SignatureDoesNotMatch)."""

    def __init__(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        # The first 4 actions need no credentials: the bucket and the user with its key are made so.
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "4"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(self.url + "/moto-api/", timeout=1)
                break
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        anon = {"aws_access_key_id": "AKIAANON", "aws_secret_access_key": "anon", "region_name": "us-east-1"}
        self.bucket = "hearth-" + uuid.uuid4().hex[:12]
        boto3.client("s3", endpoint_url=self.url, **anon).create_bucket(Bucket=self.bucket)
        iam = boto3.client("iam", endpoint_url=self.url, **anon)
        iam.create_user(UserName="hearth")
        policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
        iam.put_user_policy(UserName="hearth", PolicyName="all", PolicyDocument=policy)
        key = iam.create_access_key(UserName="hearth")["AccessKey"]
        self.access_key, self.secret = str(key["AccessKeyId"]), str(key["SecretAccessKey"])

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def s3() -> Iterator[S3]:
    server = S3()
    try:
        yield server
    finally:
        server.stop()


async def test_application_settings(site: Site, tab: Tab, shoot: Any) -> None:
    before = settings(site)
    page = await open_page(tab, site, "application", "Application")
    save = page.get_by_role("button", name="Save changes")
    try:
        app_name = page.get_by_label("App name")
        await expect(app_name).to_have_value(before["meta"]["appName"])
        await expect(page.get_by_label("App URL")).to_have_value(before["meta"]["appURL"])
        # The default rules are listed, one row each.
        rules = page.get_by_role("table", name="Rate limit rules")
        await expect(rules.locator("tbody tr")).to_have_count(len(before["rateLimits"]["rules"]))
        await expect(page.get_by_label("Rule 1 label")).to_have_value(before["rateLimits"]["rules"][0]["label"])
        await expect(page.get_by_text("This request reached the server from IP 127.0.0.1")).to_be_visible()
        await shoot(page, "settings-application")
        await expect(save).to_be_disabled()
        # At phone width the page fits its column (the rules table becomes one card per rule).
        await page.set_viewport_size({"width": 390, "height": 844})
        sizes = await page.locator(".settings-page").evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert sizes[0] <= sizes[1], sizes
        await page.set_viewport_size({"width": 1280, "height": 800})

        # A change enables Save (and Cancel); undoing it by hand disables Save again.
        await app_name.fill("Renamed")
        await expect(save).to_be_enabled()
        await app_name.fill(before["meta"]["appName"])
        await expect(save).to_be_disabled()
        await app_name.fill("Renamed")
        await page.get_by_role("button", name="Cancel").click()
        await expect(app_name).to_have_value(before["meta"]["appName"])
        await expect(save).to_be_disabled()

        # Save: the API has the new name, the title shows it, Save is disabled again.
        name = f"Hearth test {uuid.uuid4().hex[:6]}"
        await app_name.fill(name)
        await page.get_by_label("Enable the batch API").check()
        await page.get_by_label("Max requests per batch").fill("7")
        await page.get_by_label("Trusted proxy headers").fill("X-Forwarded-For,  X-Real-IP, ")
        await shoot(page, "settings-application-unsaved")
        await save.click()
        await expect(page.get_by_text("Saved the settings.")).to_be_visible()
        await expect(save).to_be_disabled()
        now = settings(site)
        assert now["meta"]["appName"] == name
        assert now["batch"]["enabled"] is True and now["batch"]["maxRequests"] == 7
        assert now["trustedProxy"] == {"headers": ["X-Forwarded-For", "X-Real-IP"], "useLeftmostIP": False}
        assert now["rateLimits"] == before["rateLimits"]  # untouched sections are sent as they were
        await expect(page).to_have_title(f"Application - {name}")
        await page.reload()
        await expect(page.get_by_label("App name")).to_have_value(name)

        # Bad values: the API's field errors are shown on their inputs, and nothing is saved.
        await page.get_by_label("App URL").fill("not a url")
        await page.get_by_label("Rule 2 label").fill("bad label!")
        await save.click()
        url_field = page.locator(".field", has=page.get_by_label("App URL"))
        await expect(url_field.locator(".field-error")).to_have_text("Must be a valid url.")
        await expect(page.get_by_label("App URL")).to_have_attribute("aria-invalid", "true")
        rule_field = page.locator(".field", has=page.get_by_label("Rule 2 label"))
        await expect(rule_field.locator(".field-error")).to_have_text("Must be in a valid format.")
        await expect(page.get_by_label("App name")).not_to_have_attribute("aria-invalid", "true")
        await expect(page.get_by_role("alert")).to_be_visible()
        await expect(save).to_be_enabled()
        await shoot(page, "settings-application-errors")
        assert settings(site) == now
    finally:
        patch(site, {k: before[k] for k in ("meta", "batch", "rateLimits", "trustedProxy", "superuserIPs")})


async def test_rate_limit_rule_is_enforced(site: Site, tab: Tab, shoot: Any) -> None:
    before = settings(site)
    page = await open_page(tab, site, "application", "Application")
    rows = page.get_by_role("table", name="Rate limit rules").locator("tbody tr")
    n = len(before["rateLimits"]["rules"])
    try:
        await page.get_by_label("Enable rate limiting").check()
        await page.get_by_role("button", name="Add rate limit rule").click()
        await expect(rows).to_have_count(n + 1)
        await page.get_by_label(f"Rule {n + 1} label").fill("*:list")
        await page.get_by_label(f"Rule {n + 1} audience").select_option("@guest")
        await page.get_by_label(f"Rule {n + 1} max requests").fill("2")
        await page.get_by_label(f"Rule {n + 1} interval (seconds)").fill("60")
        # A rule added and removed again leaves the list as it was.
        await page.get_by_role("button", name="Add rate limit rule").click()
        await page.get_by_role("button", name=f"Remove rule {n + 2}").click()
        await expect(rows).to_have_count(n + 1)
        await shoot(page, "settings-rate-limits")
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_text("Saved the settings.")).to_be_visible()

        rl = settings(site)["rateLimits"]
        assert rl["enabled"] is True
        assert rl["rules"] == [
            *before["rateLimits"]["rules"],
            {"label": "*:list", "audience": "@guest", "duration": 60, "maxRequests": 2},
        ]
        url = "/api/collections/users/records"
        codes = [site.http.get(url).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert site.http.get(url, headers=site.su).status_code == 200  # guests only

        # Removing the rule through the page lifts the limit.
        await page.get_by_role("button", name=f"Remove rule {n + 1}").click()
        await page.get_by_label("Enable rate limiting").uncheck()
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_text("Saved the settings.")).to_be_visible()
        assert settings(site)["rateLimits"] == before["rateLimits"]
        assert site.http.get(url).status_code == 200
    finally:
        patch(site, {"rateLimits": before["rateLimits"]})


async def test_mail_settings_and_test_email(site: Site, mailbox: Mailbox, tab: Tab, shoot: Any) -> None:
    before = settings(site)
    mailbox.clear()
    # Start from SMTP off, so the page is what points it at the test server.
    patch(site, {"smtp": {"enabled": False, "host": "smtp.example.com", "port": 587}})
    page = await open_page(tab, site, "mail", "Mail settings")
    save = page.get_by_role("button", name="Save changes")
    send = page.get_by_role("button", name="Send test e-mail")
    try:
        await expect(page.get_by_label("SMTP server host")).to_be_hidden()
        await page.get_by_label("Sender name").fill("Hearth mail test")
        await page.get_by_label("Use an SMTP mail server").check()
        # The test e-mail uses the saved settings: it waits until the changes are saved.
        await expect(send).to_be_disabled()
        await page.get_by_label("SMTP server host").fill(mailbox.host)
        await page.get_by_label("Port").fill(str(mailbox.port))
        await page.get_by_label("Username").fill(mailbox.username)
        await page.get_by_label("Password", exact=True).fill(mailbox.password)
        await page.get_by_label("AUTH method").select_option("LOGIN")
        await shoot(page, "settings-mail")
        await save.click()
        await expect(page.get_by_text("Saved the settings.")).to_be_visible()
        smtp = settings(site)["smtp"]
        assert smtp["enabled"] is True and smtp["host"] == mailbox.host and smtp["port"] == mailbox.port
        assert smtp["username"] == mailbox.username and smtp["authMethod"] == "LOGIN"
        assert "password" not in smtp
        assert settings(site)["meta"]["senderName"] == "Hearth mail test"
        await expect(page.get_by_label("Password", exact=True)).to_have_value("")  # never shown back

        to = f"test-{uuid.uuid4().hex[:8]}@example.com"
        await page.get_by_label("Template").select_option("password-reset")
        await page.get_by_label("To e-mail address").fill(to)
        await send.click()
        await expect(page.get_by_text(f"Sent the test e-mail to {to}.")).to_be_visible()
        msg = await mailbox.wait_for(to)
        assert "Hearth mail test" in str(msg["From"])
        assert "confirm-password-reset" in mailbox.html(msg)
        await shoot(page, "settings-mail-test-sent")

        # A wrong SMTP password: the server refuses the login, the page shows the API's error.
        await page.get_by_label("Password", exact=True).fill("wrong-password")
        await save.click()
        await expect(page.get_by_text("Saved the settings.")).to_be_visible()
        await page.get_by_label("To e-mail address").fill("other-" + to)
        await send.click()
        await expect(page.get_by_role("alert")).to_contain_text("Failed to send the test email.")
        await shoot(page, "settings-mail-test-error")

        # A bad address is the API's field error on that input.
        await page.get_by_label("To e-mail address").fill("not-an-address")
        await send.click()
        to_field = page.locator(".field", has=page.get_by_label("To e-mail address"))
        await expect(to_field.locator(".field-error")).to_have_text("Must be a valid email address.")
    finally:
        patch(site, {"meta": before["meta"], "smtp": mailbox.smtp_settings()})


async def test_files_storage_s3(site: Site, s3: S3, tab: Tab, shoot: Any) -> None:
    before = settings(site)
    page = await open_page(tab, site, "storage", "Files storage")
    save = page.get_by_role("button", name="Save changes")
    test = page.get_by_role("button", name="Test connection")
    try:
        await expect(test).to_be_disabled()  # S3 is not enabled yet
        await page.get_by_label("Use S3 storage").check()
        await page.get_by_label("Endpoint").fill(s3.url)
        await page.get_by_label("Bucket").fill(s3.bucket)
        await page.get_by_label("Region").fill("us-east-1")
        await page.get_by_label("Access key").fill(s3.access_key)
        await page.get_by_label("Secret").fill(s3.secret)
        await page.get_by_label("Force path-style addressing").check()
        await shoot(page, "settings-storage")
        await save.click()
        await expect(page.get_by_text("Saved the settings.")).to_be_visible()
        saved = settings(site)["s3"]
        assert saved == {
            "enabled": True,
            "bucket": s3.bucket,
            "region": "us-east-1",
            "endpoint": s3.url,
            "accessKey": s3.access_key,
            "forcePathStyle": True,
        }
        await expect(page.get_by_label("Secret")).to_have_value("")  # never shown back

        await test.click()
        await expect(page.get_by_text("S3 connection succeeded")).to_be_visible()
        await shoot(page, "settings-storage-test-ok")

        # A wrong secret: saved (the page cannot know), and the test shows the server's refusal.
        await page.get_by_label("Secret").fill("not-the-secret")
        await expect(test).to_be_disabled()  # unsaved changes
        await save.click()
        await expect(page.get_by_text("Saved the settings.")).to_be_visible()
        await test.click()
        await expect(page.get_by_role("alert")).to_contain_text("Failed to test the S3 filesystem.")
        await expect(page.get_by_role("alert")).to_contain_text("SignatureDoesNotMatch")
        await shoot(page, "settings-storage-test-error")
    finally:
        patch(site, {"s3": {**before["s3"], "secret": ""}})
    assert settings(site)["s3"]["enabled"] is False


async def test_markup_in_the_app_name_is_text(site: Site, tab: Tab) -> None:
    before = settings(site)
    page = await open_page(tab, site, "application", "Application")
    try:
        await page.get_by_label("App name").fill(EVIL)
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_text("Saved the settings.")).to_be_visible()
        assert settings(site)["meta"]["appName"] == EVIL
        await page.goto(f"{site.url}/_/#/settings/mail")
        await expect(page.get_by_role("form", name="Mail settings")).to_be_visible()
        await page.goto(f"{site.url}/_/#/settings/application")
        await expect(page.get_by_label("App name")).to_have_value(EVIL)
        await expect(page).to_have_title(f"Application - {EVIL}")
        assert await page.locator("#app img").count() == 0
        assert tab.dialogs == []
    finally:
        patch(site, {"meta": before["meta"]})
