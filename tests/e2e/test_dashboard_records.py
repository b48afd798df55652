"""The dashboard's records view (`#/collections/{name}`) and record editor in a real browser
(chromium via Playwright) against `hearth serve` on SQLite and PostgreSQL. A collection with
text, number, bool, select, date, json, file and relation fields is made through the REST API;
records are then created, edited, filtered, sorted and deleted through the page, and every
effect is checked through the REST API."""

from __future__ import annotations

import base64
import json
import re
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import FilePayload, Page, expect

from tests.support.dashboard import PW, Site, Tab, sign_in

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
EVIL = "<img src=x onerror=alert(1)>"
STATIC = Path(__file__).resolve().parents[2] / "src" / "hearth" / "dashboard" / "static"


def test_dashboard_css_blocks_are_closed() -> None:
    """Every `{` in dashboard.css is closed before the next page's rules (a merge once dropped a
    media query's `}`, so every later rule applied only on phones)."""
    css = re.sub(r"/\*.*?\*/", "", (STATIC / "dashboard.css").read_text(), flags=re.S)
    depth = 0
    for n, line in enumerate(css.splitlines(), 1):
        if line.startswith("@media"):
            assert depth == 0, f"dashboard.css line {n}: @media inside an open block"
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"dashboard.css line {n}: a stray }}"
    assert depth == 0


def make_collection(site: Site) -> str:
    users = site.http.get("/api/collections/users", headers=site.su).json()["id"]
    name = f"posts_{uuid.uuid4().hex[:8]}"
    fields = [
        {"name": "title", "type": "text", "required": True},
        {"name": "views", "type": "number"},
        {"name": "published", "type": "bool"},
        {"name": "status", "type": "select", "values": ["draft", "live"], "maxSelect": 1},
        {"name": "due", "type": "date"},
        {"name": "meta", "type": "json"},
        {"name": "cover", "type": "file", "maxSelect": 2, "maxSize": 1000000},
        {"name": "author", "type": "relation", "collectionId": users, "maxSelect": 1},
        {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
        {"name": "readers", "type": "relation", "collectionId": users, "maxSelect": 5},
        {"name": "body", "type": "editor"},
        {"name": "link", "type": "url"},
        {"name": "place", "type": "geoPoint"},
    ]
    r = site.http.post(
        "/api/collections", json={"name": name, "type": "base", "fields": fields}, headers=site.su
    )
    assert r.status_code == 200, r.text
    return name


def records(site: Site, name: str, **params: Any) -> list[dict[str, Any]]:
    r = site.http.get(
        f"/api/collections/{name}/records", params={"perPage": 200, **params}, headers=site.su
    )
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def add(site: Site, name: str, **values: Any) -> dict[str, Any]:
    r = site.http.post(f"/api/collections/{name}/records", json=values, headers=site.su)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def titles(page: Page) -> list[str]:
    return [t.strip() for t in await page.locator("tbody td[data-col=title]").all_inner_texts()]


async def open_collection(tab: Tab, site: Site, name: str, query: str = "") -> Page:
    page = await sign_in(tab, site)
    await page.goto(f"{site.url}/_/#/collections/{name}{query}")
    await expect(page.get_by_role("heading", name=re.compile(name))).to_be_visible()
    return page


async def test_create_and_edit_records_with_files(site: Site, tab: Tab, shoot: Any) -> None:
    name = make_collection(site)
    user = site.user(f"author-{uuid.uuid4().hex[:8]}@example.com")
    reader = site.user(f"reader-{uuid.uuid4().hex[:8]}@example.com")
    page = await open_collection(tab, site, name)
    await expect(page.get_by_text("No records yet.")).to_be_visible()
    # The view's styles apply (an unclosed block earlier in dashboard.css once swallowed them).
    assert await page.locator(".records-tools").evaluate("e => getComputedStyle(e).display") == "flex"
    await expect(page.get_by_role("link", name="Edit collection")).to_have_attribute(
        "href", f"#/collections/{name}/edit"
    )

    await page.get_by_role("button", name="New record").first.click()
    drawer = page.locator("dialog.drawer")
    await expect(drawer.get_by_role("heading", name=f"New {name} record")).to_be_visible()
    await drawer.get_by_label("title").fill("First post")
    await drawer.get_by_label("views").fill("7")
    await drawer.get_by_label("published").check()
    await drawer.get_by_label("status").select_option("live")
    await drawer.get_by_label("due (UTC)").fill("2024-05-06T07:08:09")
    meta = drawer.get_by_label("meta")
    await meta.fill('{"a": ')
    await expect(drawer.get_by_text("Invalid JSON")).to_be_visible()
    await meta.fill('{"a": 1, "tags": ["x"]}')
    await expect(drawer.get_by_text("Valid JSON")).to_be_visible()
    await drawer.get_by_label("Upload cover").set_input_files(
        [FilePayload(name="pic.png", mimeType="image/png", buffer=PNG)]
    )
    await expect(drawer.get_by_role("button", name="Remove pic.png")).to_be_visible()
    # The relation picker searches the related collection.
    await drawer.get_by_role("button", name="Choose author record").click()
    picker = page.get_by_role("dialog", name=re.compile("^Select .* records$"))
    await picker.get_by_label("Search records").fill(user["email"][:14])
    await picker.get_by_label(user["email"]).check()
    await picker.get_by_role("button", name="Set selection").click()
    await expect(drawer.get_by_role("list", name="author: chosen records")).to_contain_text(user["email"])
    await drawer.get_by_role("button", name="Choose readers records").click()
    await picker.get_by_label(user["email"]).check()
    await picker.get_by_label(reader["email"]).check()
    await expect(picker.get_by_text("2 of max 5 selected")).to_be_visible()
    await picker.get_by_role("button", name="Set selection").click()
    await expect(drawer.get_by_role("list", name="readers: chosen records").get_by_role("listitem")).to_have_count(2)
    await drawer.get_by_label("tags").select_option(["a", "c"])
    await drawer.get_by_label("body").fill("<p>Hi <b>there</b></p>")
    await drawer.get_by_label("link", exact=True).fill("https://example.com/x")
    await drawer.get_by_label("Longitude").fill("13.5")
    await drawer.get_by_label("Latitude").fill("-46.25")
    await shoot(page, "records-editor-new")
    await drawer.get_by_role("button", name="Create").click()
    await expect(drawer).to_have_count(0)
    await expect(page.locator("tbody tr.row")).to_have_count(1)
    await expect(page.get_by_text("Total: 1")).to_be_visible()

    [rec] = records(site, name)
    assert rec["title"] == "First post"
    assert rec["views"] == 7 and rec["published"] is True and rec["status"] == "live"
    assert rec["due"] == "2024-05-06 07:08:09.000Z"
    assert rec["meta"] == {"a": 1, "tags": ["x"]}
    assert rec["author"] == user["id"]
    assert sorted(rec["readers"]) == sorted([user["id"], reader["id"]])
    assert rec["tags"] == ["a", "c"]
    assert rec["body"] == "<p>Hi <b>there</b></p>" and rec["link"] == "https://example.com/x"
    assert rec["place"] == {"lon": 13.5, "lat": -46.25}
    assert len(rec["cover"]) == 1 and rec["cover"][0].endswith(".png")
    f = site.http.get(f"/api/files/{name}/{rec['id']}/{rec['cover'][0]}")
    assert f.status_code == 200 and f.content == PNG
    # The table shows the thumbnail through the file URL.
    thumb = page.locator(f"td[data-col=cover] img[alt='{rec['cover'][0]}']")
    await expect(thumb).to_have_attribute("src", re.compile(r"thumb=100x100"))
    await expect(page.locator("td[data-col=published]")).to_have_text("True")
    await expect(page.locator("td[data-col=author]")).to_have_text(user["email"])  # expanded
    await shoot(page, "records-table")

    # Edit with the keyboard: focus the row, Enter opens it.
    await page.locator("tbody tr.row").first.focus()
    await page.keyboard.press("Enter")
    await expect(drawer.get_by_role("heading", name=f"Edit {name} record")).to_be_visible()
    await expect(drawer.get_by_label("due (UTC)")).to_have_value("2024-05-06T07:08:09")
    await expect(drawer.get_by_role("button", name="Save changes")).to_be_disabled()  # nothing changed yet
    await drawer.get_by_label("title").fill("Edited post")
    await drawer.get_by_label("published").uncheck()
    await drawer.get_by_role("button", name=f"Remove {rec['cover'][0]}").click()
    await drawer.get_by_label("Upload cover").set_input_files(
        [FilePayload(name="other.txt", mimeType="text/plain", buffer=b"hello")]
    )
    await shoot(page, "records-editor-edit")
    await drawer.get_by_role("button", name="Save changes").click()
    await expect(drawer).to_have_count(0)
    await expect(page.locator("td[data-col=title]")).to_have_text("Edited post")
    [rec2] = records(site, name)
    assert rec2["title"] == "Edited post" and rec2["published"] is False
    assert rec2["views"] == 7 and rec2["author"] == user["id"] and rec2["tags"] == ["a", "c"]
    assert rec2["place"] == {"lon": 13.5, "lat": -46.25} and len(rec2["readers"]) == 2
    assert len(rec2["cover"]) == 1 and rec2["cover"][0].startswith("other")
    f = site.http.get(f"/api/files/{name}/{rec['id']}/{rec2['cover'][0]}")
    assert f.content == b"hello"

    # Duplicate: a new record with the same values (not the files).
    await page.locator("tbody tr.row").first.click()
    await drawer.get_by_label("More actions").click()
    await drawer.get_by_role("button", name="Duplicate").click()
    await expect(drawer.get_by_role("heading", name=f"New {name} record")).to_be_visible()
    await expect(drawer.get_by_label("title")).to_have_value("Edited post")
    await drawer.get_by_label("title").fill("Copy")
    await drawer.get_by_role("button", name="Create").click()
    await expect(page.locator("tbody tr.row")).to_have_count(2)
    [copy] = records(site, name, filter='title = "Copy"')
    assert copy["id"] != rec["id"] and copy["views"] == 7 and copy["tags"] == ["a", "c"] and copy["cover"] == []
    site.http.delete(f"/api/collections/{name}/records/{copy['id']}", headers=site.su)
    await page.get_by_role("button", name="Refresh").click()
    await expect(page.locator("tbody tr.row")).to_have_count(1)

    # Delete from the editor's menu, with a confirm.
    await page.locator("tbody tr.row").first.click()
    await drawer.get_by_label("More actions").click()
    await drawer.get_by_role("button", name="Delete").click()
    await page.locator("dialog.confirm-dialog").get_by_role("button", name="Delete").click()
    await expect(page.get_by_text("No records yet.")).to_be_visible()
    assert records(site, name) == []
    assert tab.dialogs == []


async def test_filter_sort_bulk_delete_and_markup(site: Site, tab: Tab, shoot: Any) -> None:
    name = make_collection(site)
    ids = {t: add(site, name, title=t, views=v)["id"] for t, v in [("alpha", 3), ("bravo", 1), ("charlie", 2), (EVIL, 4)]}
    # A deep link with a sort in the hash.
    page = await open_collection(tab, site, name, "?sort=views")
    await expect(page.locator("tbody tr.row")).to_have_count(4)
    assert await titles(page) == ["bravo", "charlie", "alpha", EVIL]
    # The markup is text: no image in the table, no dialog.
    await expect(page.locator("td[data-col=title]", has_text=EVIL)).to_have_count(1)
    assert await page.locator("table img").count() == 0
    await page.get_by_role("button", name="views").click()  # again: reversed
    await expect(page.locator("th[aria-sort=descending]")).to_have_count(1)
    assert await titles(page) == [EVIL, "alpha", "charlie", "bravo"]
    await expect(page).to_have_url(re.compile("sort=-views"))

    # A filter expression, then a plain term (searched with ~ over the text fields).
    box = page.get_by_label("Filter")
    await box.fill("views >= 2 && views < 4")
    await box.press("Enter")
    await expect(page.locator("tbody tr.row")).to_have_count(2)
    assert await titles(page) == ["alpha", "charlie"]
    await box.fill("brav")
    await box.press("Enter")
    await expect(page.locator("tbody tr.row")).to_have_count(1)
    assert await titles(page) == ["bravo"]
    # The state survives a reload.
    await page.reload()
    await expect(page.get_by_label("Filter")).to_have_value("brav")
    await expect(page.locator("tbody tr.row")).to_have_count(1)
    await expect(page.get_by_text("Total: 1")).to_be_visible()

    # An invalid filter shows the API's message; an empty result says so.
    box = page.get_by_label("Filter")
    await box.fill("nosuchfield = 1")
    await box.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("Invalid filter")
    await box.fill('title = "zzz"')
    await box.press("Enter")
    await expect(page.get_by_text("No records match the filter.")).to_be_visible()
    await page.get_by_role("button", name="Clear filter").click()
    await expect(page.locator("tbody tr.row")).to_have_count(4)

    # The column chooser hides a column.
    await page.get_by_text("Columns", exact=True).click()
    await page.get_by_label("views", exact=True).uncheck()
    await expect(page.locator("th", has_text="views")).to_have_count(0)
    await page.get_by_label("views", exact=True).check()
    await page.keyboard.press("Escape")
    await expect(page.get_by_label("views", exact=True)).to_be_hidden()

    # Bulk delete two, with a confirm.
    await page.get_by_label(f"Select {ids['alpha']}").check()
    await page.get_by_label(f"Select {ids['bravo']}").check()
    await expect(page.get_by_text("2 selected")).to_be_visible()
    await shoot(page, "records-bulk")
    async with page.expect_download() as dl:
        await page.get_by_role("button", name="Download JSON").click()
    path = await (await dl.value).path()
    assert sorted(r["id"] for r in json.loads(path.read_text())) == sorted([ids["alpha"], ids["bravo"]])
    await page.get_by_role("button", name="Delete selected").click()
    confirm = page.locator("dialog.confirm-dialog")
    await expect(confirm).to_contain_text("Delete 2 selected records?")
    await confirm.get_by_role("button", name="Delete").click()
    await expect(page.locator("tbody tr.row")).to_have_count(2)
    assert sorted(r["title"] for r in records(site, name)) == sorted(["charlie", EVIL])

    # The markup record opens in the editor as a value.
    await page.locator("tbody tr.row", has_text="onerror").click()
    await expect(page.locator("dialog.drawer").get_by_label("title")).to_have_value(EVIL)
    assert await page.locator("dialog.drawer img").count() == 0
    # The open record is in the hash: a reload opens it again.
    await expect(page).to_have_url(re.compile(f"record={ids[EVIL]}"))
    await page.reload()
    await expect(page.locator("dialog.drawer").get_by_label("title")).to_have_value(EVIL)
    await page.locator("dialog.drawer").get_by_role("button", name="Close").click()
    await expect(page).not_to_have_url(re.compile("record="))

    # 40 rows a page, then "Load more".
    for i in range(40):
        add(site, name, title=f"bulk {i:02d}", views=100 + i)
    await page.get_by_role("button", name="Refresh").click()
    await expect(page.locator("tbody tr.row")).to_have_count(40)
    await expect(page.get_by_text("Total: 42")).to_be_visible()
    await page.get_by_role("button", name="Load more").click()
    await expect(page.locator("tbody tr.row")).to_have_count(42)
    await expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    assert (await titles(page))[-2:] == [EVIL, "charlie"]  # still sorted by -views
    assert tab.dialogs == []


async def test_field_errors_views_and_auth_actions(site: Site, tab: Tab, shoot: Any) -> None:
    name = make_collection(site)
    page = await open_collection(tab, site, name)
    await page.get_by_role("button", name="New record").first.click()
    drawer = page.locator("dialog.drawer")
    await drawer.get_by_label("views").fill("5")
    await drawer.get_by_role("button", name="Create").click()
    # The API's message for the required field shows under it, and nothing is created.
    api = site.http.post(f"/api/collections/{name}/records", json={"views": 5}, headers=site.su)
    assert api.status_code == 400
    await expect(drawer.locator(".field-error:visible")).to_have_count(1)
    await expect(drawer.locator(".field-error:visible")).to_have_text(api.json()["data"]["title"]["message"])
    await expect(drawer.get_by_label("title")).to_have_attribute("aria-invalid", "true")
    await expect(drawer.get_by_role("alert")).to_be_visible()
    await shoot(page, "records-editor-errors")
    assert records(site, name) == []
    # Closing with unsaved changes asks first (Esc too); Cancel keeps the drawer.
    await drawer.get_by_role("button", name="Close").click()
    confirm = page.locator("dialog.confirm-dialog")
    await expect(confirm).to_contain_text("unsaved changes")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(confirm).to_have_count(0)
    await expect(drawer.get_by_label("views")).to_have_value("5")
    await page.keyboard.press("Escape")
    await confirm.get_by_role("button", name="Discard").click()
    await expect(drawer).to_have_count(0)

    # A view collection is read-only.
    add(site, name, title="seen")
    view = f"v_{uuid.uuid4().hex[:8]}"
    r = site.http.post(
        "/api/collections",
        json={"name": view, "type": "view", "viewQuery": f"SELECT id, title FROM {name}"},
        headers=site.su,
    )
    assert r.status_code == 200, r.text
    await page.goto(f"{site.url}/_/#/collections/{view}")
    await expect(page.locator("tbody tr.row")).to_have_count(1)
    await expect(page.get_by_role("button", name="New record")).to_have_count(0)
    await expect(page.get_by_role("button", name="Delete selected")).to_have_count(0)
    await page.locator("tbody tr.row").click()
    await expect(drawer.get_by_label("title")).to_be_disabled()
    await expect(drawer.get_by_role("button", name="Save changes")).to_be_hidden()
    await drawer.get_by_role("button", name="Close").click()

    # Auth records: verified toggle, impersonation token.
    email = f"imp-{uuid.uuid4().hex[:8]}@example.com"
    user = site.user(email)
    users = site.http.get("/api/collections/users", headers=site.su).json()["id"]
    await page.goto(f"{site.url}/_/#/collections/users?filter={email}")
    await expect(page.locator("tbody tr.row")).to_have_count(1)
    await page.locator("tbody tr.row").click()
    await drawer.get_by_label("verified").check()
    await page.locator("dialog.confirm-dialog").get_by_role("button", name="Yes").click()
    await expect(drawer.get_by_label("verified")).to_be_checked()
    await drawer.get_by_role("button", name="Save changes").click()
    await expect(drawer).to_have_count(0)
    assert site.record(user["id"])["verified"] is True
    # A linked OAuth2 account is listed and can be unlinked.
    r = site.http.post(
        "/api/collections/_externalAuths/records",
        json={"collectionRef": users, "recordRef": user["id"], "provider": "github", "providerId": "gh-42"},
        headers=site.su,
    )
    assert r.status_code == 200, r.text
    await page.locator("tbody tr.row").click()
    providers = drawer.get_by_role("list", name="Linked OAuth2 providers")
    await expect(providers).to_contain_text("github gh-42")
    await drawer.get_by_role("button", name="Unlink github").click()
    await page.locator("dialog.confirm-dialog").get_by_role("button", name="Unlink").click()
    await expect(providers).to_contain_text("No linked OAuth2 providers.")
    assert site.http.get(f"/api/collections/_externalAuths/records/{r.json()['id']}", headers=site.su).status_code == 404
    await drawer.get_by_label("More actions").click()
    await drawer.get_by_role("button", name="Impersonate").click()
    imp = page.get_by_role("dialog", name=f"Impersonate {email}")
    await imp.get_by_label(re.compile("Token duration")).fill("600")
    await imp.get_by_role("button", name="Generate token").click()
    token = await imp.get_by_label("Impersonation token").input_value()
    await shoot(page, "records-auth-impersonate")
    me = site.http.get(f"/api/collections/users/records/{user['id']}", headers={"Authorization": token})
    assert me.status_code == 200 and me.json()["email"] == email
    assert tab.dialogs == []
    await imp.get_by_role("button", name="Close").click()
    await drawer.get_by_role("button", name="Close").click()
    await expect(drawer).to_have_count(0)

    # A new auth record: email, password and its confirmation; it can sign in.
    new_email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    await page.get_by_role("button", name="New record").first.click()
    await drawer.get_by_label("email", exact=True).fill(new_email)
    await drawer.get_by_label("password", exact=True).fill(PW)
    await drawer.get_by_label("passwordConfirm").fill(PW + "x")
    await drawer.get_by_role("button", name="Create").click()
    await expect(drawer.get_by_label("passwordConfirm")).to_have_attribute("aria-invalid", "true")
    await drawer.get_by_label("passwordConfirm").fill(PW)
    await drawer.get_by_role("button", name="Create").click()
    await expect(drawer).to_have_count(0)
    assert site.auth(new_email, PW) == 200
    assert tab.dialogs == []
