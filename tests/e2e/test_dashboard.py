"""The dashboard at /_/ in a real browser: Debian's chromium, headless, driven by Playwright,
against a real `hearth serve` on SQLite and PostgreSQL. The auth mails' links are read from the
real SMTP test server and opened as a user would; what the page did is then checked through the
REST API. Each page is saved as a screenshot at 1280 and 390 px wide (under tmp_path, and under
$HEARTH_SCREENSHOTS when set)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

from playwright.async_api import expect

from tests.e2e.conftest import ADMIN
from tests.support.dashboard import NEW_PW, PW, Site, Tab
from tests.support.mailbox import Mailbox


def mail_link(mailbox: Mailbox, msg: Any, action: str) -> str:
    m = re.search(rf'href="([^"]*/_/#/auth/{action}/[^"]+)"', mailbox.html(msg))
    assert m, mailbox.html(msg)
    return m.group(1)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def unique_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}@example.com"


async def test_password_reset_from_the_mail_link(site: Site, mailbox: Mailbox, tab: Tab, shoot: Any) -> None:
    email = unique_email("reset")
    site.user(email)
    r = site.http.post("/api/collections/users/request-password-reset", json={"email": email})
    assert r.status_code == 204, r.text
    link = mail_link(mailbox, await mailbox.wait_for(email), "confirm-password-reset")
    assert link.startswith(site.url + "/_/#/")

    page = tab.page
    await page.goto(link)
    await expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    await expect(page.get_by_text(f"Type a new password for {email}.")).to_be_visible()
    await shoot(page, "password-reset")

    # Mismatched confirmation: the API's error is shown on the field, and nothing changes.
    await page.get_by_label("New password", exact=True).fill(NEW_PW)
    await page.get_by_label("New password confirm").fill(NEW_PW + "x")
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.locator(".field-error:visible")).to_have_count(1)
    await expect(page.get_by_role("alert")).to_be_visible()
    await shoot(page, "password-reset-error")
    assert site.auth(email, PW) == 200 and site.auth(email, NEW_PW) == 400

    await page.get_by_label("New password confirm").fill(NEW_PW)
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.get_by_text("Your password was changed")).to_be_visible()
    await shoot(page, "password-reset-done")
    assert site.auth(email, NEW_PW) == 200
    assert site.auth(email, PW) == 400


async def test_verification_from_the_mail_link(site: Site, mailbox: Mailbox, tab: Tab, shoot: Any) -> None:
    email = unique_email("verify")
    rec = site.user(email)
    assert rec["verified"] is False
    assert site.http.post("/api/collections/users/request-verification", json={"email": email}).status_code == 204
    link = mail_link(mailbox, await mailbox.wait_for(email), "confirm-verification")

    await tab.page.goto(link)
    await expect(tab.page.get_by_text("Your e-mail address is verified.")).to_be_visible()
    await shoot(tab.page, "verification")
    assert site.record(str(rec["id"]))["verified"] is True

    # A broken link says so instead of leaving a blank page.
    await tab.page.goto(site.url + "/_/#/auth/confirm-verification/not-a-token")
    await expect(tab.page.get_by_role("alert")).to_contain_text("Invalid or expired")

    # A link the server refuses (here: a forged token naming another user) offers a new one,
    # mailed to the address the token names.
    other = unique_email("resend")
    site.user(other)
    users = site.http.get("/api/collections/users", headers=site.su).json()["id"]
    forged = ".".join(b64(part) for part in ({"alg": "HS256"}, {"collectionId": users, "email": other})) + ".x"
    await tab.page.goto(site.url + "/_/#/auth/confirm-verification/" + forged)
    await expect(tab.page.get_by_role("alert")).to_have_text("Invalid or expired verification link.")
    await shoot(tab.page, "verification-failed")
    await tab.page.get_by_role("button", name="Send a new link").click()
    await expect(tab.page.get_by_text(f"A new link was sent to {other}")).to_be_visible()
    assert "confirm-verification" in mailbox.html(await mailbox.wait_for(other))


async def test_email_change_from_the_mail_link(site: Site, mailbox: Mailbox, tab: Tab, shoot: Any) -> None:
    old, new = unique_email("old"), unique_email("new")
    rec = site.user(old)
    r = site.http.post("/api/collections/users/auth-with-password", json={"identity": old, "password": PW})
    token = r.json()["token"]
    r = site.http.post(
        "/api/collections/users/request-email-change", json={"newEmail": new}, headers={"Authorization": token}
    )
    assert r.status_code == 204, r.text
    link = mail_link(mailbox, await mailbox.wait_for(new), "confirm-email-change")

    page = tab.page
    await page.goto(link)
    await expect(page.get_by_text(f"change your e-mail address to {new}")).to_be_visible()
    await shoot(page, "email-change")
    await page.get_by_label("Password").fill("wrong-password")
    await page.get_by_role("button", name="Confirm new e-mail").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    assert site.record(str(rec["id"]))["email"] == old

    await page.get_by_label("Password").fill(PW)
    await page.get_by_role("button", name="Confirm new e-mail").click()
    await expect(page.get_by_text("Your e-mail address was changed")).to_be_visible()
    assert site.record(str(rec["id"]))["email"] == new
    assert site.auth(new, PW) == 200 and site.auth(old, PW) == 400


async def test_superuser_login_and_collections_sidebar(site: Site, tab: Tab, shoot: Any) -> None:
    name = f"dash_{uuid.uuid4().hex[:8]}"
    r = site.http.post(
        "/api/collections", json={"name": name, "type": "base", "fields": []}, headers=site.su
    )
    assert r.status_code == 200, r.text

    page = tab.page
    await page.goto(site.url + "/_/")
    await expect(page).to_have_url(re.compile(r"/_/#/login$"))
    await shoot(page, "login")
    await page.get_by_label("Email").fill(ADMIN[0])
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Login").click()
    await expect(page.get_by_role("alert")).to_have_text("Invalid login credentials.")
    await shoot(page, "login-error")

    await page.get_by_label("Password").fill(ADMIN[1])
    await page.get_by_role("button", name="Login").click()
    sidebar = page.get_by_role("list", name="Collections")
    await expect(sidebar.get_by_role("link", name=name)).to_be_visible()
    await expect(sidebar.get_by_role("link", name="users", exact=True)).to_be_visible()
    await shoot(page, "collections")
    # At a phone's width nothing runs off the side (the top bar's sections wrap).
    await page.set_viewport_size({"width": 390, "height": 844})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await page.set_viewport_size({"width": 1280, "height": 800})
    # The token is kept where the SDK's LocalAuthStore keeps it.
    stored = await page.evaluate("JSON.parse(localStorage.getItem('pocketbase_auth')).token")
    assert site.http.get("/api/collections", headers={"Authorization": stored}).status_code == 200

    await page.get_by_label("Search collections").fill(name[-6:])
    await expect(sidebar.get_by_role("link")).to_have_count(1)
    await expect(sidebar.get_by_role("link", name=name)).to_be_visible()
    await page.get_by_label("Search collections").fill("no-such-collection")
    await expect(sidebar.get_by_role("link")).to_have_count(0)
    await expect(page.get_by_text("No collections found.")).to_be_visible()

    # Views not built yet say so (never a blank page); a reload keeps the sign-in.
    await page.goto(site.url + "/_/#/no-such-page")
    await page.reload()
    await expect(page.get_by_role("heading", name="Not built yet")).to_be_visible()
    await shoot(page, "not-built")

    await page.get_by_role("button", name="Logout").click()
    await expect(page).to_have_url(re.compile(r"/_/#/login$"))
    assert await page.evaluate("localStorage.getItem('pocketbase_auth')") is None


async def test_superuser_forgotten_password(site: Site, mailbox: Mailbox, tab: Tab, shoot: Any) -> None:
    """From the login page's link to a new password, through the mail, for a second superuser
    (the module's own keeps its password)."""
    email = unique_email("su")
    r = site.http.post(
        "/api/collections/_superusers/records",
        json={"email": email, "password": PW, "passwordConfirm": PW},
        headers=site.su,
    )
    assert r.status_code == 200, r.text
    page = tab.page
    await page.goto(site.url + "/_/#/login")
    await page.get_by_role("link", name="Forgotten password").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_role("button", name="Send recovery link").click()
    await expect(page.get_by_text(f"Check {email} for the recovery link.")).to_be_visible()
    await shoot(page, "superuser-forgotten-password")
    await page.goto(mail_link(mailbox, await mailbox.wait_for(email), "confirm-password-reset"))
    await page.get_by_label("New password", exact=True).fill(NEW_PW)
    await page.get_by_label("New password confirm").fill(NEW_PW)
    await page.get_by_role("button", name="Set new password").click()
    await expect(page.get_by_text("Your password was changed")).to_be_visible()

    await page.goto(site.url + "/_/#/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(NEW_PW)
    await page.get_by_role("button", name="Login").click()
    await expect(page.get_by_role("button", name="Logout")).to_be_visible()


async def test_markup_in_a_link_is_shown_as_text(site: Site, tab: Tab) -> None:
    """A crafted link (its hash ends up on the page) cannot inject markup or run script."""
    page = tab.page
    await page.goto(site.url + "/_/#/login")
    # Signed in as the SDK would be: its LocalAuthStore entry.
    r = site.http.post(
        "/api/collections/_superusers/auth-with-password", json={"identity": ADMIN[0], "password": ADMIN[1]}
    )
    auth = {"token": r.json()["token"], "record": r.json()["record"]}
    await page.evaluate("v => localStorage.setItem('pocketbase_auth', v)", json.dumps(auth))
    evil = "<img src=x onerror=alert(1)>"
    await page.goto(site.url + "/_/#/collections/" + evil)
    await expect(page.get_by_role("heading", name=evil)).to_be_visible()
    await page.goto(site.url + "/_/#/nothing/" + evil)
    await expect(page.get_by_text(evil)).to_be_visible()
    assert await page.locator("#app img").count() == 0
    assert tab.dialogs == []


async def test_oauth2_redirect_pages(site: Site, tab: Tab, shoot: Any) -> None:
    page = tab.page
    await page.goto(site.url + "/_/#/auth/oauth2-redirect-success")
    await expect(page.get_by_role("heading", name="Auth completed")).to_be_visible()
    await expect(page.get_by_text("You can close this window and go back to the app.")).to_be_visible()
    await shoot(page, "oauth2-success")
    await page.goto(site.url + "/_/#/auth/oauth2-redirect-failure")
    await expect(page.get_by_role("heading", name="Auth failed")).to_be_visible()
    await shoot(page, "oauth2-failure")


def test_files_are_served_with_sensible_headers(site: Site) -> None:
    r = site.http.get("/_")
    assert r.status_code == 301 and r.headers["location"] == "_/"
    index = site.http.get("/_/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in index.headers["content-security-policy"]
    etag = index.headers["etag"]
    assert site.http.get("/_/", headers={"if-none-match": etag}).status_code == 304
    js = site.http.get("/_/app.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.headers["cache-control"] == "no-cache"
    sdk = site.http.get("/_/pocketbase.es.mjs")
    assert sdk.status_code == 200 and "PocketBase JavaScript SDK 0.28.1" in sdk.text
    for bad in ("/_/nope.js", "/_/index.html", "/_/..%2fpyproject.toml", "/_/%2e%2e/__init__.py", "/_/__init__.py"):
        r = site.http.get(bad)
        assert r.status_code == 404, bad
        assert r.json()["status"] == 404, bad
