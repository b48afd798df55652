"""The dashboard's logs page, backups and crons (`#/logs`, `#/settings/backups`, `#/settings/crons`)
in chromium against a real `hearth serve` on SQLite and PostgreSQL. What the page did is checked
through the REST API: the list and the chart against `/api/logs` and `/api/logs/stats`, the logs
and backups settings against `/api/settings`, created and deleted backups against `/api/backups`;
a cancelled restore sends no restore request and loses no data."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import Page, Request, expect

from tests.support.dashboard import Site, Tab, sign_in

MARKUP = "<img src=x onerror=alert(1)>"
NO_SUPERUSERS = "data.auth != '_superusers'"


def logs(site: Site, filter_text: str) -> dict[str, Any]:
    r = site.http.get("/api/logs", params={"filter": filter_text, "perPage": 200}, headers=site.su)
    assert r.status_code == 200, r.text
    return dict(r.json())


def wait_for_logs(site: Site, filter_text: str, count: int) -> dict[str, Any]:
    """Entries are written by a flusher about once a second: wait until `count` match."""
    deadline = time.monotonic() + 10
    while True:
        found = logs(site, filter_text)
        if found["totalItems"] >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def settle(site: Site) -> None:
    """Wait until the logs stop growing: the page's own loads (its files, the login, a favicon
    404) are written by the flusher a moment later, and would race the comparisons."""
    last = -1
    for _ in range(20):
        now = logs(site, "")["totalItems"]
        if now == last:
            return
        last = now
        time.sleep(1.2)


async def rows_status(page: Page) -> list[str]:
    return list(await page.locator("tr.log-row").evaluate_all("rows => rows.map(r => r.dataset.status)"))


async def test_logs_page(site: Site, tab: Tab, shoot: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    # Guest requests (logged without auth): a list, two 404s, one with markup in its URL.
    assert site.http.get("/api/collections/users/records").status_code in (200, 403)
    assert site.http.get(f"/api/missing-{tag}").status_code == 404
    assert site.http.get(f"/api/missing-{tag}/{MARKUP}").status_code == 404
    mine = wait_for_logs(site, f"data.url ~ 'missing-{tag}'", 2)
    assert mine["totalItems"] == 2, mine
    assert any(MARKUP in str(i["data"]["url"]) for i in mine["items"]), mine

    page = await sign_in(tab, site)
    settle(site)
    await page.goto(site.url + "/_/#/logs")
    table = page.get_by_role("table", name="Logs")
    marked = table.get_by_role("button", name=f"GET /api/missing-{tag}/{MARKUP}")
    await expect(marked).to_be_visible()  # the markup is text: the button is named by it
    assert await page.locator("#content img").count() == 0

    # The chart: bars with the counts of /api/logs/stats for the page's filter (no superusers),
    # and a text summary naming the total.
    bars = page.locator("svg.chart rect[data-total]")
    await expect(bars.first).to_be_attached()
    stats = site.http.get("/api/logs/stats", params={"filter": NO_SUPERUSERS}, headers=site.su).json()
    shown = await bars.evaluate_all("rs => rs.map(r => Number(r.dataset.total))")
    assert sum(shown) == sum(s["total"] for s in stats) > 0
    assert await page.locator("svg.chart text").count() >= 3  # axis labels
    summary = page.locator("#logs-chart-summary")
    await expect(summary).to_contain_text(f"{sum(shown)} request")
    assert await page.locator("svg.chart").get_attribute("aria-labelledby") == "logs-chart-summary"
    await shoot(page, "logs")

    # The list is the API's newest first, without superusers' requests.
    expected = logs(site, NO_SUPERUSERS)
    await expect(page.locator("tr.log-row")).to_have_count(min(50, expected["totalItems"]))
    first_id = await page.locator("tr.log-row").first.get_attribute("data-id")
    assert first_id == max(expected["items"], key=lambda i: i["created"])["id"]

    # Filter: only errors; the hash keeps the filter, the chart follows it.
    await page.get_by_label("Filter").fill("data.status >= 400")
    await page.get_by_label("Filter").press("Enter")
    errors = logs(site, f"(data.status >= 400) && {NO_SUPERUSERS}")
    await expect(page.locator("tr.log-row")).to_have_count(min(50, errors["totalItems"]))
    statuses = await rows_status(page)
    assert statuses and all(int(s) >= 400 for s in statuses), statuses
    assert "filter=data.status" in page.url
    await expect(summary).to_contain_text(f"{errors['totalItems']} request")
    shown = await bars.evaluate_all("rs => rs.map(r => Number(r.dataset.total))")
    assert sum(shown) == errors["totalItems"]
    await shoot(page, "logs-filtered")

    # A reload keeps the filter (deep link); an invalid filter says so.
    await page.reload()
    await expect(page.get_by_label("Filter")).to_have_value("data.status >= 400")
    await expect(page.locator("tr.log-row").first).to_be_visible()
    statuses = await rows_status(page)
    assert statuses and all(int(s) >= 400 for s in statuses), statuses
    settle(site)
    await page.get_by_label("Filter").fill("data.status >>= 1")
    await page.get_by_label("Filter").press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("Invalid filter")

    # A plain term searches the message and URL.
    await page.get_by_label("Filter").fill(f"missing-{tag}")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.locator("tr.log-row")).to_have_count(2)

    # The detail (opened from the keyboard): every data field, as text.
    await marked.focus()
    await page.keyboard.press("Enter")
    detail = page.get_by_role("dialog", name="Log details")
    await expect(detail).to_be_visible()
    entry = next(i for i in mine["items"] if MARKUP in str(i["data"]["url"]))
    for key, value in entry["data"].items():
        row = detail.get_by_role("row").filter(has=page.get_by_role("rowheader", name=f"data.{key}", exact=True))
        await expect(row).to_have_count(1)
        if value not in ("", None):
            await expect(row.get_by_role("cell")).to_contain_text(str(value) if key != "execTime" else "")
    await expect(detail.get_by_role("cell", name=f"/api/missing-{tag}/{MARKUP}", exact=True)).to_be_visible()
    assert await detail.locator("img").count() == 0
    await shoot(page, "logs-detail")
    await page.keyboard.press("Escape")
    await expect(detail).to_have_count(0)
    # ... and by mouse, clicking the row itself.
    await page.locator("tr.log-row .log-time").first.click()
    await expect(page.get_by_role("dialog", name="Log details")).to_be_visible()
    await page.get_by_role("dialog").get_by_role("button", name="Close").click()

    # The superusers switch brings their requests in (the fixture's settings PATCH).
    await page.get_by_label("Filter").fill("")
    await page.get_by_label("Include requests by superusers").check()
    total = logs(site, "")["totalItems"]
    assert total > expected["totalItems"]
    await expect(page.locator(".pager")).to_contain_text(f"Total: {total}")
    assert "superusers=1" in page.url

    # Logs settings: an invalid value is refused with the API's message; a valid change is saved.
    await page.get_by_role("button", name="Logs settings").click()
    dialog = page.get_by_role("dialog", name="Logs settings")
    await expect(dialog.get_by_label("Max days retention")).to_have_value("5")
    await dialog.get_by_label("Max days retention").fill("-1")
    await dialog.get_by_role("button", name="Save changes").click()
    await expect(dialog.locator(".field-error:visible")).to_have_text("Must be no less than 0.")
    assert site.http.get("/api/settings", headers=site.su).json()["logs"]["maxDays"] == 5
    await dialog.get_by_label("Max days retention").fill("9")
    await dialog.get_by_label("Min log level").fill("-4")
    await dialog.get_by_label("Enable IP logging").uncheck()
    await dialog.get_by_label("Enable auth id logging").check()
    await shoot(page, "logs-settings")
    await dialog.get_by_role("button", name="Save changes").click()
    await expect(dialog).to_have_count(0)
    await expect(page.get_by_role("status").filter(has_text="logs settings were saved")).to_be_visible()
    saved = site.http.get("/api/settings", headers=site.su).json()["logs"]
    assert saved == {**saved, "maxDays": 9, "minLevel": -4, "logIP": False, "logAuthId": True}
    r = site.http.patch(
        "/api/settings", json={"logs": {"maxDays": 5, "minLevel": 0, "logIP": True, "logAuthId": False}}, headers=site.su
    )
    assert r.status_code == 200, r.text
    assert tab.dialogs == []


async def test_backups_page(site: Site, tab: Tab, shoot: Any, tmp_path: Path) -> None:
    name = f"dash_{uuid.uuid4().hex[:8]}.zip"
    restores: list[str] = []

    def seen(request: Request) -> None:
        if "/restore" in request.url:
            restores.append(request.url)

    page = await sign_in(tab, site)
    page.on("request", seen)
    await page.goto(site.url + "/_/#/settings/backups")
    await expect(page.get_by_role("heading", name="Backups")).to_be_visible()
    backups = page.get_by_role("list", name="Backups")

    # Create one with a name.
    await page.get_by_role("button", name="New backup").click()
    dialog = page.get_by_role("dialog", name="Initialize new backup")
    await dialog.get_by_label("Backup name").fill(name)
    await shoot(page, "backups-new")
    await dialog.get_by_role("button", name="Start backup").click()
    await expect(dialog).to_have_count(0, timeout=30_000)
    await expect(backups.locator(f'li[data-key="{name}"]')).to_be_visible()
    listed = {b["key"]: b for b in site.http.get("/api/backups", headers=site.su).json()}
    assert name in listed and listed[name]["size"] > 0
    await shoot(page, "backups")

    # Download: the SDK's link with a file token.
    async with page.expect_download() as download:
        await page.get_by_role("button", name=f"Download {name}").click()
    assert (await download.value).suggested_filename == name
    # ... and uploaded again under another name.
    uploaded = tmp_path / f"up_{name}"
    await (await download.value).save_as(uploaded)
    assert uploaded.stat().st_size == listed[name]["size"]
    await page.get_by_label("Upload backup").set_input_files(uploaded)
    await expect(page.get_by_text(f"Uploaded {uploaded.name}.")).to_be_visible()
    await expect(backups.locator(f'li[data-key="{uploaded.name}"]')).to_be_visible()
    assert uploaded.name in {b["key"] for b in site.http.get("/api/backups", headers=site.su).json()}

    # Data written after the backup; a restore would lose it.
    r = site.http.post(
        "/api/collections", json={"name": f"after_{uuid.uuid4().hex[:6]}", "type": "base", "fields": []}, headers=site.su
    )
    assert r.status_code == 200, r.text
    after = r.json()["name"]

    # Restore asks for the name; the button stays disabled until it matches; Cancel restores nothing.
    await page.get_by_role("button", name=f"Restore {name}").click()
    dialog = page.get_by_role("dialog", name=f"Restore {name}")
    go = dialog.get_by_role("button", name="Restore backup")
    await expect(go).to_be_disabled()
    await expect(dialog).to_contain_text("restarts")
    await dialog.get_by_label("Backup name").fill(name[:-1])
    await expect(go).to_be_disabled()
    await dialog.get_by_label("Backup name").press("Enter")  # submitting a mismatch does nothing
    await dialog.get_by_label("Backup name").fill(name)
    await expect(go).to_be_enabled()
    await shoot(page, "backups-restore-confirm")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_have_count(0)
    # Escape closes it too.
    await page.get_by_role("button", name=f"Restore {name}").click()
    await page.get_by_role("dialog").get_by_label("Backup name").fill(name)
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await asyncio.sleep(0.5)
    assert restores == []
    assert site.http.get(f"/api/collections/{after}", headers=site.su).status_code == 200

    # A confirmed restore (of the uploaded copy): the server restarts, the page reloads when it
    # answers again, and what was created after the backup is gone.
    await page.get_by_role("button", name=f"Restore {uploaded.name}").click()
    dialog = page.get_by_role("dialog", name=f"Restore {uploaded.name}")
    await dialog.get_by_label("Backup name").fill(uploaded.name)
    async with page.expect_event("load", timeout=60_000):
        await dialog.get_by_role("button", name="Restore backup").click()
    assert restores and restores[-1].endswith(f"/api/backups/{uploaded.name}/restore")
    restores.clear()
    await expect(backups.locator(f'li[data-key="{name}"]')).to_be_visible()
    assert site.http.get(f"/api/collections/{after}", headers=site.su).status_code == 404
    assert site.http.delete(f"/api/backups/{uploaded.name}", headers=site.su).status_code == 204

    # Delete, confirmed.
    await page.get_by_role("button", name=f"Delete {name}").click()
    dialog = page.get_by_role("dialog", name=f"Delete backup {name}?")
    await dialog.get_by_role("button", name="Delete").click()
    await expect(dialog).to_have_count(0)
    await expect(backups.locator(f'li[data-key="{name}"]')).to_have_count(0)
    assert name not in {b["key"] for b in site.http.get("/api/backups", headers=site.su).json()}

    # Options: auto backups with a preset and how many to keep; S3 needs its fields.
    await page.get_by_label("Enable auto backups").check()
    await page.get_by_label("Cron presets").select_option("0 0 * * 0")
    await expect(page.get_by_label("Cron expression")).to_have_value("0 0 * * 0")
    await page.get_by_label("Max auto backups to keep").fill("5")
    await page.get_by_label("Store backups in S3 storage").check()
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator(".field-error:visible").first).to_be_visible()
    assert site.http.get("/api/settings", headers=site.su).json()["backups"]["cron"] == ""
    await page.get_by_label("Store backups in S3 storage").uncheck()
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_text("The backup options were saved.")).to_be_visible()
    saved = site.http.get("/api/settings", headers=site.su).json()["backups"]
    assert saved["cron"] == "0 0 * * 0" and saved["cronMaxKeep"] == 5 and saved["s3"]["enabled"] is False
    r = site.http.patch("/api/settings", json={"backups": {"cron": "", "cronMaxKeep": 3}}, headers=site.su)
    assert r.status_code == 200, r.text
    assert tab.dialogs == []


async def test_crons_page(site: Site, tab: Tab, shoot: Any) -> None:
    crons = site.http.get("/api/crons", headers=site.su).json()
    assert crons
    page = await sign_in(tab, site)
    await page.goto(site.url + "/_/#/settings/crons")
    jobs = page.get_by_role("list", name="Cron jobs")
    await expect(jobs.get_by_role("listitem")).to_have_count(len(crons))
    for c in crons:
        item = jobs.locator(f'li[data-id="{c["id"]}"]')
        await expect(item).to_contain_text(c["id"])
        await expect(item).to_contain_text(c["expression"])
    await shoot(page, "crons")
    target = crons[0]["id"]
    async with page.expect_response(
        lambda r: r.request.method == "POST" and re.search(r"/api/crons/[^/]+$", r.url) is not None
    ) as response:
        await page.get_by_role("button", name=f"Run {target}").click()
    assert (await response.value).status == 204
    assert (await response.value).url.endswith("/api/crons/" + target)
    await expect(page.get_by_role("status").filter(has_text=f"Ran {target}.")).to_be_visible()
