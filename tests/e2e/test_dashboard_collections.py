"""The dashboard's collection editor and collections import/export in a real browser (chromium via
Playwright) against a real `hearth serve` on SQLite and PostgreSQL. What the pages did is checked
through the REST API: the fields' options and the index as typed, a rule edited in the page and
then enforced for a guest and a user, a rename that keeps the data, an export → import round trip."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import FilePayload, Locator, Page, expect

from tests.support.dashboard import PW, Site, Tab
from tests.support.dashboard import sign_in as shell_sign_in

XSS = "<img src=x onerror=alert(1)>"


async def sign_in(tab: Tab, site: Site) -> Page:
    tab.page.set_default_timeout(10_000)
    return await shell_sign_in(tab, site)


def unique(tag: str) -> str:
    return f"{tag}_{uuid.uuid4().hex[:8]}"


def make_collection(site: Site, name: str, fields: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    r = site.http.post("/api/collections", json={"name": name, "type": "base", "fields": fields, **extra}, headers=site.su)
    assert r.status_code == 200, r.text
    return dict(r.json())


def collection(site: Site, name: str) -> dict[str, Any]:
    r = site.http.get(f"/api/collections/{name}", headers=site.su)
    assert r.status_code == 200, r.text
    return dict(r.json())


def field_of(coll: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in coll["fields"] if f["name"] == name)


async def add_field(page: Page, ftype: str, name: str) -> Locator:
    await page.get_by_role("button", name=f"Add {ftype} field", exact=True).click()
    await page.get_by_role("group", name="Field field", exact=True).get_by_label("Field name").fill(name)
    return page.get_by_role("group", name=f"Field {name}", exact=True)


def rule(page: Page, label: str) -> Locator:
    return page.locator(".rule").filter(has=page.get_by_text(label, exact=True))


async def test_create_a_collection_with_fields_and_an_index(site: Site, tab: Tab, shoot: Any) -> None:
    name = unique("posts")
    page = await sign_in(tab, site)
    await page.goto(site.url + "/_/#/collections/new")
    await expect(page.get_by_role("heading", name="New collection")).to_be_visible()
    await page.get_by_label("Name", exact=True).fill(name)

    title = await add_field(page, "text", "title")
    await title.get_by_label("Regex pattern").fill("^[a-z ]+$")
    await title.get_by_label("Max length").fill("40")
    await title.get_by_label("Help text").fill(XSS)
    await title.get_by_label("Required").check()
    score = await add_field(page, "number", "score")
    await score.get_by_label("Min", exact=True).fill("1")
    await score.get_by_label("Max", exact=True).fill("10")
    await score.get_by_label("Integers only").check()
    status = await add_field(page, "select", "status")
    await status.get_by_label("Choices (one per line)").fill(f"draft\npublished\n{XSS}")
    await status.get_by_label("Max select (1 = single)").fill("2")
    author = await add_field(page, "relation", "author")
    await author.get_by_label("Related collection").select_option(label="users")
    await author.get_by_label("Cascade delete").check()
    cover = await add_field(page, "file", "cover")
    await cover.get_by_label("Max size per file (bytes)").fill("1048576")
    await cover.get_by_label("Allowed MIME types (comma separated)").fill("image/png, image/jpeg")
    await cover.get_by_label("Thumb sizes (comma separated, e.g. 100x100)").fill("100x100")
    meta = await add_field(page, "json", "meta")
    await meta.get_by_label("Max size (bytes)").fill("2000")
    await add_field(page, "date", "due")
    # A field added then removed before saving is simply dropped.
    await add_field(page, "bool", "scratch")
    await page.get_by_role("button", name="Remove field scratch").click()
    await expect(page.get_by_role("group", name="Field scratch")).to_have_count(0)

    await page.get_by_role("button", name="New index").click()
    await page.locator(".index-editor").get_by_label("Unique").check()
    await page.get_by_role("group", name="Columns").get_by_label("title", exact=True).check()
    statement = page.get_by_label("Index statement")
    await expect(statement).to_have_value(f"CREATE UNIQUE INDEX `idx_{name}_title` ON `{name}` (`title`)")
    await page.get_by_role("button", name="Add index").click()
    await expect(page.get_by_role("list", name="Indexes")).to_contain_text("CREATE UNIQUE INDEX")
    await shoot(page, "collection-editor-fields")

    await page.get_by_role("tab", name="API rules").click()
    await expect(rule(page, "List/Search rule").get_by_label("Superusers only")).to_be_checked()
    await shoot(page, "collection-editor-rules")
    await page.get_by_role("tab", name="API preview").click()
    create = page.get_by_role("article", name="API Create")
    await expect(create).to_contain_text(f"/api/collections/{name}/records")
    await expect(create).to_contain_text(f'pb.collection("{name}").create(')
    await expect(create).to_contain_text('"score": 123')
    await expect(page.get_by_role("article", name="API Realtime")).to_contain_text(".subscribe(")
    await shoot(page, "collection-editor-preview")

    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"#/collections/{name}$"))
    await expect(page.locator(".records .status").first).to_contain_text(f"Created the collection {name}.")  # said once, there
    coll = collection(site, name)
    users_id = collection(site, "users")["id"]
    f = field_of(coll, "title")
    assert (f["type"], f["pattern"], f["max"], f["required"], f["help"]) == ("text", "^[a-z ]+$", 40, True, XSS)
    f = field_of(coll, "score")
    assert (f["type"], f["min"], f["max"], f["onlyInt"]) == ("number", 1, 10, True)
    f = field_of(coll, "status")
    assert (f["values"], f["maxSelect"]) == (["draft", "published", XSS], 2)
    f = field_of(coll, "author")
    assert (f["collectionId"], f["maxSelect"], f["cascadeDelete"]) == (users_id, 1, True)
    f = field_of(coll, "cover")
    assert (f["maxSize"], f["mimeTypes"], f["thumbs"]) == (1048576, ["image/png", "image/jpeg"], ["100x100"])
    assert field_of(coll, "meta")["maxSize"] == 2000 and field_of(coll, "due")["type"] == "date"
    names = [x["name"] for x in coll["fields"]]
    assert "scratch" not in names and names[-2:] == ["created", "updated"]
    assert coll["indexes"] == [f"CREATE UNIQUE INDEX `idx_{name}_title` ON `{name}` (`title`)"]
    assert coll["listRule"] is None
    # The index is real: a second record with the same title is refused.
    for expected in (200, 400):
        r = site.http.post(f"/api/collections/{name}/records", json={"title": "same"}, headers=site.su)
        assert r.status_code == expected, r.text
    # The pattern is real too.
    r = site.http.post(f"/api/collections/{name}/records", json={"title": "Nope1"}, headers=site.su)
    assert r.status_code == 400 and "title" in r.json()["data"]

    # The markup in the help text and a select value is text everywhere the editor shows it.
    await page.goto(site.url + f"/_/#/collections/{name}/edit")
    await page.get_by_role("group", name="Field status").get_by_role("button", name="Options").click()
    await expect(page.get_by_role("group", name="Field status").get_by_label("Choices (one per line)")).to_have_value(f"draft\npublished\n{XSS}")
    await page.get_by_role("tab", name="API preview").click()
    await expect(page.get_by_role("article", name="API Create")).to_contain_text('"status": [\n')
    assert await page.locator("#content img").count() == 0
    assert tab.dialogs == []

    # The sidebar was refreshed with the new collection.
    await expect(page.get_by_role("list", name="Collections").get_by_role("link", name=name)).to_be_visible()
    # Discarding unsaved changes leaves, and saves nothing.
    await page.get_by_role("tab", name="Fields").click()
    await page.get_by_role("group", name="Field title", exact=True).get_by_label("Required").uncheck()
    await page.get_by_role("list", name="Collections").get_by_role("link", name="users", exact=True).click()
    await page.get_by_role("dialog").get_by_role("button", name="Discard").click()
    await expect(page).to_have_url(re.compile(r"#/collections/users$"))
    assert field_of(collection(site, name), "title")["required"] is True


async def test_markup_in_a_collection_name_is_refused(site: Site, tab: Tab) -> None:
    page = await sign_in(tab, site)
    await page.goto(site.url + "/_/#/collections/new")
    await page.get_by_label("Name", exact=True).fill(XSS)
    # A select without choices: the API's error lands under the option, whose panel is opened.
    status = await add_field(page, "select", "status")
    await status.get_by_role("button", name="Options").click()
    await expect(status.get_by_label("Choices (one per line)")).to_have_count(0)
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.locator(".head-fields .field-error").first).to_be_visible()
    choices = status.get_by_label("Choices (one per line)")
    await expect(choices).to_have_attribute("aria-invalid", "true")
    await expect(status.locator(".field", has=page.get_by_label("Choices (one per line)")).locator(".field-error")).not_to_be_empty()
    r = site.http.get("/api/collections", params={"filter": 'name ~ "onerror"'}, headers=site.su)
    assert r.json()["totalItems"] == 0

    # Fixed up as an auth collection: it starts with the auth system fields and saves.
    name = unique("members")
    await page.get_by_role("button", name="Remove field status").click()
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("Type").select_option("auth")
    await expect(page.get_by_role("group", name="Field email", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"#/collections/{name}$"))
    made = collection(site, name)
    assert made["type"] == "auth"
    assert {"email", "password", "tokenKey", "verified", "created", "updated"} <= {f["name"] for f in made["fields"]}
    assert await page.locator("#content img").count() == 0
    assert tab.dialogs == []


async def test_a_rule_edited_in_the_page_is_enforced(site: Site, tab: Tab, shoot: Any) -> None:
    name = unique("notes")
    make_collection(site, name, [{"name": "body", "type": "text"}])
    r = site.http.post(f"/api/collections/{name}/records", json={"body": "hello"}, headers=site.su)
    assert r.status_code == 200, r.text
    email = f"{unique('u')}@example.com"
    site.user(email)
    user_token = site.http.post(
        "/api/collections/users/auth-with-password", json={"identity": email, "password": PW}
    ).json()["token"]

    page = await sign_in(tab, site)
    await page.goto(site.url + f"/_/#/collections/{name}/edit")
    await page.get_by_role("tab", name="Fields").focus()
    await page.keyboard.press("ArrowRight")  # the tabs work with the keyboard
    await expect(page.get_by_role("tab", name="API rules")).to_be_focused()

    # An invalid rule: the API's error is shown under it, and nothing is saved.
    lst = rule(page, "List/Search rule")
    await lst.get_by_label("Superusers only").uncheck()
    box = page.get_by_label("List/Search rule", exact=True)
    await expect(box).to_be_focused()  # unlocking puts the keyboard in the rule
    await box.fill("nosuchfield = 1")
    await page.get_by_role("button", name="Save changes").click()
    await expect(lst.locator(".field-error")).to_be_visible()
    await expect(lst.locator(".field-error")).not_to_be_empty()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.get_by_role("tab", name="API rules")).to_have_attribute("aria-selected", "true")
    await shoot(page, "collection-editor-rule-error")
    assert collection(site, name)["listRule"] is None

    # The suggestions complete field names; Enter takes the highlighted one.
    await box.fill("")
    await box.press_sequentially("@request.auth.i")
    suggestion = page.get_by_role("option", name="@request.auth.id", exact=True)
    await expect(suggestion).to_be_visible()
    await box.press("Enter")
    await expect(box).to_have_value("@request.auth.id")
    await box.press_sequentially(' != ""')
    await box.press("Control+s")  # saves, as the button does
    await expect(page).to_have_url(re.compile(rf"#/collections/{name}$"))
    assert collection(site, name)["listRule"] == '@request.auth.id != ""'

    # Enforced: a guest's list is filtered to nothing, a signed-in user sees the record.
    r = site.http.get(f"/api/collections/{name}/records")
    assert r.status_code == 200 and r.json()["items"] == []
    r = site.http.get(f"/api/collections/{name}/records", headers={"Authorization": user_token})
    assert r.status_code == 200 and [i["body"] for i in r.json()["items"]] == ["hello"]
    # Rules left locked stayed superusers-only.
    r = site.http.post(f"/api/collections/{name}/records", json={"body": "x"}, headers={"Authorization": user_token})
    assert r.status_code in (400, 403)

    # A view collection: its SELECT query is checked by the API on save.
    view = unique("notes_view")
    await page.goto(site.url + "/_/#/collections/new")
    await page.get_by_label("Name", exact=True).fill(view)
    await page.get_by_label("Type").select_option("view")
    query = page.get_by_label("Select query")
    await query.fill("SELECT nope FROM nowhere")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(query).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(".field", has=query).locator(".field-error")).not_to_be_empty()
    assert site.http.get(f"/api/collections/{view}", headers=site.su).status_code == 404
    await page.get_by_label("Select query").fill(f"SELECT id, body FROM {name}")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"#/collections/{view}$"))
    v = collection(site, view)
    assert v["type"] == "view" and [f["name"] for f in v["fields"]] == ["id", "body"]

    # An auth collection has the Authentication and Manage rules, and auth endpoints in the preview.
    await page.goto(site.url + "/_/#/collections/users/edit")
    await page.get_by_role("tab", name="API rules").click()
    await expect(page.get_by_label("Authentication rule", exact=True)).to_be_visible()
    await expect(page.get_by_label("Manage rule", exact=True)).to_be_visible()
    await page.get_by_role("tab", name="API preview").click()
    await expect(page.get_by_role("article", name="API Auth with password")).to_contain_text('pb.collection("users").authWithPassword(')
    # Saving it untouched changes nothing (its auth options go back as they came).
    before = collection(site, "users")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page).to_have_url(re.compile(r"#/collections/users$"))
    await expect(page.locator(".records .status").first).to_contain_text("Saved the collection users.")
    await page.get_by_role("button", name="Refresh").click()
    await expect(page.locator(".records .status").first).not_to_contain_text("Saved the collection")
    after = collection(site, "users")
    assert {k: v for k, v in after.items() if k != "updated"} == {k: v for k, v in before.items() if k != "updated"}


async def test_rename_and_delete_fields_with_a_confirmation(site: Site, tab: Tab, shoot: Any) -> None:
    name = unique("items")
    make_collection(site, name, [{"name": "old", "type": "text"}, {"name": "gone", "type": "number"}])
    r = site.http.post(f"/api/collections/{name}/records", json={"old": "kept", "gone": 5}, headers=site.su)
    rec_id = r.json()["id"]

    page = await sign_in(tab, site)
    await page.goto(site.url + f"/_/#/collections/{name}/edit")
    await page.get_by_role("group", name="Field old").get_by_label("Field name").fill("new")
    await page.get_by_role("button", name="Remove field gone").click()
    gone = page.get_by_role("group", name="Field gone")
    await expect(gone).to_contain_text("removed on save")
    await expect(page.get_by_role("button", name="Restore field gone")).to_be_focused()
    # Restorable until saved.
    await page.get_by_role("button", name="Restore field gone").click()
    await expect(gone).not_to_contain_text("removed on save")
    await page.get_by_role("button", name="Remove field gone").click()
    # Duplicate (the copy comes right after) and reorder: `new` goes below its copy.
    fresh = page.get_by_role("group", name="Field new", exact=True)
    await fresh.get_by_role("button", name="Options").click()
    await fresh.get_by_role("button", name="Duplicate").click()
    await expect(page.get_by_role("group", name="Field new_copy", exact=True)).to_be_visible()
    await fresh.get_by_role("button", name="Move down").click()
    await expect(fresh.get_by_role("button", name="Move down")).to_be_focused()

    # Leaving with unsaved changes asks first; Cancel stays with the changes.
    await page.get_by_role("list", name="Collections").get_by_role("link", name="users", exact=True).click()
    await expect(page.get_by_role("dialog")).to_contain_text("Discard unsaved changes?")
    await page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    await expect(page).to_have_url(re.compile(rf"#/collections/{name}/edit$"))
    await expect(page.get_by_role("group", name="Field new_copy", exact=True)).to_be_visible()

    await page.get_by_role("button", name="Save changes").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("old → new")
    await expect(dialog).to_contain_text("gone")
    await expect(dialog).to_contain_text("data will be lost")
    await shoot(page, "collection-editor-save-confirm")
    # Cancel: nothing is saved.
    await dialog.get_by_role("button", name="Cancel").click()
    assert [f["name"] for f in collection(site, name)["fields"]][1:3] == ["old", "gone"]
    await page.get_by_role("button", name="Save changes").click()
    await page.get_by_role("dialog").get_by_role("button", name="Save").click()
    await expect(page).to_have_url(re.compile(rf"#/collections/{name}$"))

    assert [f["name"] for f in collection(site, name)["fields"]] == ["id", "new_copy", "new"]
    rec = site.http.get(f"/api/collections/{name}/records/{rec_id}", headers=site.su).json()
    assert rec["new"] == "kept" and "old" not in rec and "gone" not in rec

    # Truncate and delete make you type the name.
    await page.goto(site.url + f"/_/#/collections/{name}/edit")
    await page.get_by_role("button", name="Truncate").click()
    confirm = page.get_by_role("dialog").get_by_role("button", name="Truncate")
    await expect(confirm).to_be_disabled()
    await page.get_by_role("dialog").get_by_label(f"Type {name} to confirm").fill(name)
    await confirm.click()
    await expect(page.get_by_text(f"All records of {name} were deleted.")).to_be_visible()
    assert site.http.get(f"/api/collections/{name}/records", headers=site.su).json()["totalItems"] == 0
    await page.get_by_role("button", name="Delete collection").click()
    await page.get_by_role("dialog").get_by_label(f"Type {name} to confirm").fill(name)
    await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(page).to_have_url(re.compile(r"#/collections$"))
    assert site.http.get(f"/api/collections/{name}", headers=site.su).status_code == 404
    await expect(page.get_by_role("list", name="Collections").get_by_role("link", name=name)).to_have_count(0)


async def test_export_then_import_round_trip(site: Site, tab: Tab, shoot: Any) -> None:
    name = unique("books")
    made = make_collection(
        site,
        name,
        [{"name": "title", "type": "text", "pattern": "^\\w+$"}, {"name": "tags", "type": "select", "values": ["a", XSS], "maxSelect": 2}],
        indexes=[f"CREATE INDEX `idx_{name}_title` ON `{name}` (`title`)"],
        listRule="",
    )
    page = await sign_in(tab, site)
    await page.goto(site.url + "/_/#/settings/export-collections")
    await page.get_by_role("button", name="Deselect all").click()
    await page.get_by_label(name, exact=True).check()
    exported = json.loads(await page.get_by_label("Collections JSON").input_value())
    assert [c["name"] for c in exported] == [name]
    assert {k: v for k, v in exported[0].items() if k not in ("created", "updated")} == {
        k: v for k, v in made.items() if k not in ("created", "updated")
    }
    async with page.expect_download() as info:
        await page.get_by_role("button", name="Download JSON").click()
    download = await info.value
    assert download.suggested_filename == "pb_schema.json"
    assert json.loads(Path(await download.path()).read_text(encoding="utf-8")) == exported
    await page.get_by_role("button", name="Copy", exact=True).click()
    await expect(page.get_by_text("Copied to the clipboard.")).to_be_visible()
    await shoot(page, "collections-export")

    # Delete it, then import the export: it comes back with the same id, fields and index.
    assert site.http.delete(f"/api/collections/{name}", headers=site.su).status_code == 204
    await page.goto(site.url + "/_/#/settings/import-collections")
    box = page.get_by_label("Collections JSON")
    await box.fill("[not json")
    await expect(page.get_by_text("Invalid JSON")).to_be_visible()
    await expect(page.get_by_role("button", name="Import", exact=True)).to_be_disabled()
    # Loaded from a file, as pasted.
    upload = FilePayload(name="schema.json", mimeType="application/json", buffer=json.dumps(exported).encode())
    await page.get_by_label("Load from a JSON file").set_input_files(files=[upload])
    await expect(box).to_have_value(json.dumps(exported))
    changes = page.get_by_role("list", name="Detected changes")
    await expect(changes).to_contain_text(f"New: {name}")
    # "Delete missing" would delete the other collections: the page says so before anything.
    await page.get_by_label(re.compile("Delete missing")).check()
    await expect(changes).to_contain_text("Deleted: ")
    await page.get_by_label(re.compile("Delete missing")).uncheck()
    await expect(changes).not_to_contain_text("Deleted: ")
    await shoot(page, "collections-import-changes")
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_text("Imported 1 collection.")).to_be_visible()
    back = collection(site, name)
    assert back["id"] == made["id"] and back["fields"] == made["fields"] and back["indexes"] == made["indexes"]
    assert back["listRule"] == ""
    # Now that it exists, the same JSON is no change; an edited one is a change.
    await expect(page.get_by_text(f"Unchanged: {name}")).to_be_visible()
    exported[0]["listRule"] = None
    exported[0]["fields"].append({"name": "pages", "type": "number"})
    await box.fill(json.dumps(exported))
    await expect(changes).to_contain_text(f"Changed: {name} (listRule; new fields: pages)")

    # The API's error is shown as it answers, and nothing is imported.
    exported[0]["fields"].append({"name": "bad field", "type": "text"})
    await box.fill(json.dumps(exported))
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.get_by_role("list", name="Import errors")).to_be_visible()
    assert "pages" not in [f["name"] for f in collection(site, name)["fields"]]
    assert await page.locator("#content img").count() == 0
    assert tab.dialogs == []


async def test_auth_options_tab(site: Site, tab: Tab, shoot: Any) -> None:
    name = unique("members")
    r = site.http.post("/api/collections", json={"name": name, "type": "auth"}, headers=site.su)
    assert r.status_code == 200, r.text
    page = await sign_in(tab, site)
    await page.goto(site.url + f"/_/#/collections/{name}/edit")
    await page.get_by_role("tab", name="Options").click()
    await expect(page.get_by_label("Enable sign-in with a password")).to_be_checked()
    await expect(page.get_by_label("Auth token")).to_have_value("432000")
    await shoot(page, "collection-editor-auth-options")
    # A value the API refuses: its message under the input, the tab kept, nothing saved.
    await page.get_by_label("Enable sign-in with a one-time password sent by mail").check()
    await page.get_by_label("Length (digits)").fill("2")
    await page.get_by_role("button", name="Save changes").click()
    length = page.get_by_label("Length (digits)")
    await expect(length).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("tab", name="Options")).to_have_attribute("aria-selected", "true")
    assert collection(site, name)["otp"]["enabled"] is False
    # Valid values are saved with the collection.
    await length.fill("6")
    await page.get_by_label("Enable sign-in with a password").uncheck()
    await page.get_by_label("Mail the record when it signs in from a new location").uncheck()
    await page.get_by_label("Auth token").fill("3600")
    await page.get_by_label("Protected file token").fill("60")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page).to_have_url(re.compile(rf"#/collections/{name}$"))
    c = collection(site, name)
    assert (c["otp"]["enabled"], c["otp"]["length"], c["passwordAuth"]["enabled"], c["authAlert"]["enabled"]) == (True, 6, False, False)
    assert (c["authToken"]["duration"], c["fileToken"]["duration"]) == (3600, 60)
    # A base collection has no Options tab.
    await page.goto(site.url + "/_/#/collections/new")
    await expect(page.get_by_role("tab", name="API rules")).to_be_visible()
    await expect(page.get_by_role("tab", name="Options")).to_have_count(0)
