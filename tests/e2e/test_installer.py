"""First run (issue 15): on an empty database `hearth serve` prints a one-time installer link;
its page creates the first superuser in a real browser (Debian's chromium via Playwright) against
real `hearth serve` processes on SQLite and PostgreSQL. The token can do nothing else, works
once, and no link is printed once a superuser exists."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.test_dashboard import b64
from tests.support.dashboard import Tab

LINK = re.compile(r"No superuser yet: open (http://\S+/_/#/pbinstall/(\S+)) within 30 minutes")
PW = "first-superuser-pass"


@pytest.fixture(params=["sqlite", "postgres"])
async def empty(
    request: pytest.FixtureRequest, pg_database: str | None, tmp_path: Path
) -> AsyncIterator[tuple[Path, str]]:
    """An empty data dir, and for PostgreSQL an empty database of its own."""
    if request.param == "sqlite":
        yield tmp_path, ""
        return
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    dbname = f"hearth_install_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(pg_database)
    await conn.execute(f'CREATE DATABASE "{dbname}"')
    await conn.close()
    try:
        yield tmp_path, pg_database.rsplit("/", 1)[0] + "/" + dbname
    finally:
        conn = await asyncpg.connect(pg_database)
        await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await conn.close()


def printed_link(server: Server) -> tuple[str, str]:
    m = LINK.search(server.log())
    assert m, server.log()
    assert m.group(1).startswith(server.url + "/_/#/pbinstall/")
    assert server.log().count("pbinstall") == 1  # once, by the main process, not per worker
    return m.group(1), m.group(2)


def assert_4xx(r: httpx.Response) -> None:
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["status"] == r.status_code and "message" in r.json()


async def test_first_superuser_from_the_printed_link(
    empty: tuple[Path, str], tab: Tab, tmp_path: Path  # noqa: F811
) -> None:
    data, db_url = empty
    server = start_server(data, db_url, 2)
    others: list[Server] = []
    try:
        link, token = printed_link(server)
        if db_url:
            # A second instance on the same database prints a usable link of its own.
            others.append(start_server(data, db_url, 1))
            _, token = printed_link(others[0])
        http = httpx.Client(base_url=server.url, timeout=10)

        # The token is no auth token: it lists, reads and creates nothing.
        as_token = {"Authorization": token}
        assert_4xx(http.get("/api/collections", headers=as_token))
        assert_4xx(http.get("/api/collections/_superusers/records", headers=as_token))
        body = {"email": "sneaky@example.com", "password": PW, "passwordConfirm": PW}
        assert_4xx(http.post("/api/collections/_superusers/records", json=body, headers=as_token))
        assert_4xx(http.post("/api/collections/_superusers/auth-refresh", headers=as_token))
        # A forged or altered token is refused by the installer itself.
        forged = token.rsplit(".", 1)[0] + ".x"
        assert_4xx(http.post("/api/hearth/installer", json={"token": forged, **body}))
        stale = ".".join(b64(p) for p in ({"alg": "HS256"}, {"type": "pbinstall", "exp": int(time.time()) - 1})) + ".x"
        # Validation is the record service's, as for any create: field errors, nothing saved.
        r = http.post("/api/hearth/installer", json={"token": token, "email": "x@example.com", "password": PW, "passwordConfirm": "no"})
        assert_4xx(r)
        assert "passwordConfirm" in r.json()["data"]

        page = tab.page
        await page.goto(link)
        await expect(page.get_by_role("heading", name="Create your first superuser")).to_be_visible()
        await page.screenshot(path=str(tmp_path / "installer.png"), full_page=True)
        email = f"first-{uuid.uuid4().hex[:6]}@example.com"
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password", exact=True).fill(PW)
        await page.get_by_label("Password confirm").fill(PW)
        await page.get_by_role("button", name="Create superuser and login").click()
        await expect(page.get_by_role("button", name="Logout")).to_be_visible()
        await expect(page.get_by_role("list", name="Collections").get_by_role("link", name="users", exact=True)).to_be_visible()
        await page.screenshot(path=str(tmp_path / "installer-done.png"), full_page=True)
        r = http.post("/api/collections/_superusers/auth-with-password", json={"identity": email, "password": PW})
        assert r.status_code == 200, r.text
        su = {"Authorization": r.json()["token"]}

        # A second use (this link, or the other instance's) fails, through the API and the page.
        assert_4xx(http.post("/api/hearth/installer", json={"token": token, **body}))
        page2 = await page.context.new_page()
        await page2.goto(link)
        await page2.get_by_label("Email").fill("second@example.com")
        await page2.get_by_label("Password", exact=True).fill(PW)
        await page2.get_by_label("Password confirm").fill(PW)
        await page2.get_by_role("button", name="Create superuser and login").click()
        await expect(page2.get_by_role("alert")).to_contain_text("hearth superuser upsert")
        await page2.goto(server.url + "/_/#/pbinstall/" + stale)
        await page2.reload()
        await expect(page2.get_by_role("alert")).to_contain_text("invalid, expired or already used")
        await expect(page2.get_by_text("hearth superuser upsert EMAIL PASS")).to_be_visible()
        await page2.screenshot(path=str(tmp_path / "installer-expired.png"), full_page=True)
        supers = http.get("/api/collections/_superusers/records", headers=su).json()
        assert [s["email"] for s in supers["items"]] == [email]
    finally:
        for s in others:
            stop_server(s)
        stop_server(server)

    # Once a superuser exists, no link is printed.
    server = start_server(data, db_url, 1)
    try:
        assert "pbinstall" not in server.log() and "No superuser" not in server.log()
    finally:
        stop_server(server)


async def test_links_used_at_once_create_one_superuser(
    empty: tuple[Path, str],
) -> None:
    """Requests racing through several workers (and on PostgreSQL two instances, each with its
    own link) create exactly one superuser."""
    data, db_url = empty
    servers = [start_server(data, db_url, 2)]
    try:
        if db_url:
            servers.append(start_server(data, db_url, 1))
        links = [(s.url, printed_link(s)[1]) for s in servers]

        async def use(i: int) -> int:
            url, token = links[i % len(links)]
            async with httpx.AsyncClient(base_url=url, timeout=10) as c:
                body = {"token": token, "email": f"race{i}@example.com", "password": PW, "passwordConfirm": PW}
                return (await c.post("/api/hearth/installer", json=body)).status_code

        codes = await asyncio.gather(*(use(i) for i in range(6)))
        assert sorted(codes) == [204] + [400] * 5, codes
    finally:
        for s in servers:
            stop_server(s)
