"""Accessibility: axe-core (4.12, shipped in the `axe-playwright-python` wheel) audits every main
page of the dashboard at 1280 and 390 px, signed out and signed in, with data on the pages. A
"serious" or "critical" violation of WCAG 2.0/2.1 A and AA fails the test, naming the rule and the
elements."""

from __future__ import annotations

from importlib import resources
from typing import Any

from playwright.async_api import Page, expect

from tests.conftest import unique
from tests.support.dashboard import WIDTHS, Site, Tab, sign_in

AXE = (resources.files("axe_playwright_python") / "axe.min.js").read_text()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def audit(page: Page, label: str) -> list[str]:
    """Axe's serious and critical violations on the page as it is, at both widths."""
    found: list[str] = []
    for width, (w, h) in WIDTHS.items():
        await page.set_viewport_size({"width": w, "height": h})
        if not await page.evaluate("typeof window.axe !== 'undefined'"):
            await page.evaluate(AXE + "\n;0")  # through the DevTools protocol: the page's CSP stays on
        result: dict[str, Any] = await page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", TAGS
        )
        for v in result["violations"]:
            if v["impact"] in ("serious", "critical"):
                targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:5]]
                found.append(f"{label} ({width}): {v['id']} [{v['impact']}] {v['help']}: {targets}")
    await page.set_viewport_size({"width": 1280, "height": 800})
    return found


async def test_no_serious_accessibility_violations(site: Site, tab: Tab) -> None:
    name = unique("a11y")
    r = site.http.post("/api/collections", headers=site.su, json={
        "name": name, "type": "base", "listRule": "", "viewRule": "",
        "fields": [{"name": "title", "type": "text"}, {"name": "done", "type": "bool"},
                   {"name": "kind", "type": "select", "values": ["a", "b"], "maxSelect": 1},
                   {"name": "meta", "type": "json"}, {"name": "when", "type": "date"},
                   {"name": "pic", "type": "file", "maxSelect": 1}],
    })  # fmt: skip
    assert r.status_code == 200, r.text
    r = site.http.post(f"/api/collections/{name}/records", headers=site.su, json={"title": "one", "kind": "a"})
    assert r.status_code == 200, r.text
    rid = r.json()["id"]
    page = tab.page
    problems: list[str] = []

    await page.goto(site.url + "/_/#/login")
    await expect(page.get_by_role("button", name="Login")).to_be_visible()
    problems += await audit(page, "login")
    await page.goto(site.url + "/_/#/request-password-reset")
    await page.wait_for_load_state("networkidle")
    problems += await audit(page, "forgotten password")

    page = await sign_in(tab, site)
    routes = {
        "collections": "#/collections",
        "records": f"#/collections/{name}",
        "new collection": "#/collections/new",
        "collection editor": f"#/collections/{name}/edit",
        "rules playground": f"#/collections/{name}/playground",
        "logs": "#/logs",
        "realtime": "#/realtime",
        "jobs": "#/jobs",
        "webhooks": "#/webhooks",
        "audit": "#/audit",
        **{f"settings {p}": f"#/settings/{p}" for p in
           ("application", "mail", "storage", "backups", "crons", "export-collections", "import-collections")},
    }  # fmt: skip
    for label, route in routes.items():
        await page.goto(site.url + "/_/" + route)
        await page.wait_for_load_state("networkidle")
        await page.wait_for_timeout(150)  # the page's first fetches rendered
        problems += await audit(page, label)
        if label == "collection editor":
            await page.get_by_role("tab", name="API rules").click()
            problems += await audit(page, "collection editor, API rules")
            await page.get_by_role("tab", name="API preview").click()
            problems += await audit(page, "collection editor, API preview")
        if label == "records":
            await page.get_by_role("row").filter(has_text=rid).click()
            await expect(page.locator("dialog.drawer")).to_be_visible()
            problems += await audit(page, "record editor")
    await page.goto(site.url + "/_/#/collections/users/edit")
    await page.get_by_role("tab", name="Options").click()
    await expect(page.get_by_label("Auth token")).to_be_visible()
    problems += await audit(page, "auth collection editor, Options")
    assert problems == [], "\n".join(problems)
