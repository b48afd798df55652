"""What the dashboard's browser tests share: Debian's chromium driven by Playwright, a real
`hearth serve` per test module on SQLite and on PostgreSQL (a superuser, appURL and the SMTP test
server set), a fresh browser tab per test, screenshots at 1280 and 390 px, and signing in through
the login page. Registered as a plugin in tests/conftest.py, so every test module can ask for these fixtures."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.conftest import ADMIN, hearth_cli, start_server, stop_server
from tests.support.mailbox import Mailbox

CHROMIUM = "/usr/bin/chromium"
PW = "old-password-123"
NEW_PW = "new-password-456"
WIDTHS = {"wide": (1280, 800), "phone": (390, 844)}


class Site:
    def __init__(self, url: str, dialect: str, token: str) -> None:
        self.url = url
        self.dialect = dialect
        self.su = {"Authorization": token}
        self.http = httpx.Client(base_url=url, timeout=10)

    def auth(self, identity: str, password: str) -> int:
        r = self.http.post(
            "/api/collections/users/auth-with-password", json={"identity": identity, "password": password}
        )
        return r.status_code

    def user(self, email: str) -> dict[str, Any]:
        r = self.http.post(
            "/api/collections/users/records",
            json={"email": email, "password": PW, "passwordConfirm": PW},
            headers=self.su,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def record(self, rec_id: str) -> dict[str, Any]:
        r = self.http.get(f"/api/collections/users/records/{rec_id}", headers=self.su)
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("HEARTH_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium); HEARTH_REQUIRE_CHROMIUM=1")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            await b.close()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def site(
    request: pytest.FixtureRequest,
    pg_database: str | None,
    mailbox: Mailbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Site]:
    dialect = str(request.param)
    db_url = ""
    dbname = f"hearth_dash_{uuid.uuid4().hex[:10]}"
    if dialect == "postgres":
        if pg_database is None:
            pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
        conn = await asyncpg.connect(pg_database)
        await conn.execute(f'CREATE DATABASE "{dbname}"')
        await conn.close()
        db_url = pg_database.rsplit("/", 1)[0] + "/" + dbname
    data = tmp_path_factory.mktemp(f"dash-{dialect}")
    args = ("--dir", str(data), *(("--db", db_url) if db_url else ()))
    assert hearth_cli("superuser", "upsert", *ADMIN, *args).returncode == 0
    server = start_server(data, db_url)
    try:
        assert "pbinstall" not in server.log()  # a superuser exists: no installer link
        r = httpx.post(
            server.url + "/api/collections/_superusers/auth-with-password",
            json={"identity": ADMIN[0], "password": ADMIN[1]},
        )
        s = Site(server.url, dialect, str(r.json()["token"]))
        r = s.http.patch(
            "/api/settings",
            json={"meta": {"appURL": server.url}, "smtp": mailbox.smtp_settings()},
            headers=s.su,
        )
        assert r.status_code == 200, r.text
        yield s
        s.http.close()
    finally:
        stop_server(server)
        if db_url and pg_database is not None:
            conn = await asyncpg.connect(pg_database)
            await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            await conn.close()


class Tab:
    """A fresh browser context (no stored sign-in) and page; a `dialog` (alert/confirm) is
    recorded and dismissed, so injected script that calls alert() is seen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()


@pytest.fixture
async def tab(browser: Browser) -> AsyncIterator[Tab]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    t = Tab(page)
    try:
        yield t
    finally:
        await context.close()
    assert t.errors == [], "uncaught errors in the page"


@pytest.fixture
def shoot(site: Site, tmp_path: Path) -> Iterator[Any]:
    extra = os.environ.get("HEARTH_SCREENSHOTS", "")

    async def take(page: Page, name: str) -> None:
        for label, (w, h) in WIDTHS.items():
            await page.set_viewport_size({"width": w, "height": h})
            path = tmp_path / f"dashboard-{site.dialect}-{name}-{label}.png"
            await page.screenshot(path=str(path), full_page=True)
            if extra:
                Path(extra).mkdir(parents=True, exist_ok=True)
                shutil.copy(path, Path(extra) / path.name)
        await page.set_viewport_size({"width": 1280, "height": 800})

    yield take


async def sign_in(tab: Tab, site: Site) -> Page:
    """Sign in as the superuser through the login page; the collections view is open after."""
    page = tab.page
    await page.goto(site.url + "/_/#/login")
    await page.get_by_label("Email").fill(ADMIN[0])
    await page.get_by_label("Password").fill(ADMIN[1])
    await page.get_by_role("button", name="Login").click()
    await expect(page.get_by_role("list", name="Collections")).to_be_visible()
    return page
