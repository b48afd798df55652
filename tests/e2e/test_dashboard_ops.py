"""Hearth's own dashboard pages in a real browser (SQLite and PostgreSQL): the rules playground
(a guest and a user see the records their rule admits, a refused record shows which part of the
rule failed), the realtime live tail (an event created through the REST API appears; pause
holds events back), jobs (cancel and retry a webhook's delivery job), webhooks with their
deliveries, and the audit trail with its filter. User data with markup is shown as text.
What the pages did is checked through the REST API."""

from __future__ import annotations

import time
import uuid
from typing import Any

from playwright.async_api import Page, expect

from tests.support.dashboard import PW, Site, Tab, sign_in

EVIL = "<img src=x onerror=alert(1)>"
RULE = "published = true || @request.auth.id = author"


def unique(name: str) -> str:
    return f"{name}_{uuid.uuid4().hex[:8]}"


def collection(site: Site, body: dict[str, Any]) -> str:
    r = site.http.post("/api/collections", json=body, headers=site.su)
    assert r.status_code == 200, r.text
    return str(r.json()["name"])


def create(site: Site, coll: str, body: dict[str, Any]) -> str:
    r = site.http.post(f"/api/collections/{coll}/records", json=body, headers=site.su)
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def posts(site: Site) -> str:
    users = site.http.get("/api/collections/users", headers=site.su).json()["id"]
    return collection(site, {
        "name": unique("posts"), "listRule": RULE, "viewRule": RULE,
        "fields": [{"name": "title", "type": "text"}, {"name": "published", "type": "bool"},
                   {"name": "author", "type": "relation", "collectionId": users, "maxSelect": 1}],
    })  # fmt: skip


async def no_markup(page: Page, tab: Tab) -> None:
    assert await page.locator("#app img").count() == 0
    assert tab.dialogs == []


async def test_playground_for_a_guest_and_a_user(site: Site, tab: Tab, shoot: Any) -> None:
    coll = posts(site)
    author_email, other_email = f"{unique('author')}@example.com", f"{unique('other')}@example.com"
    author, other = str(site.user(author_email)["id"]), str(site.user(other_email)["id"])
    public = create(site, coll, {"title": "Public post", "published": True, "author": other})
    draft = create(site, coll, {"title": "Author draft", "published": False, "author": author})
    hidden = create(site, coll, {"title": EVIL, "published": False, "author": other})

    page = await sign_in(tab, site)
    await page.goto(f"{site.url}/_/#/collections/{coll}/playground")
    await expect(page.get_by_role("heading", name=f"Rules playground: {coll}")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Acting as a guest.")).to_be_visible()
    gets = page.get_by_role("table", name="Records this requester gets")
    await expect(page.get_by_text("1 record(s) can be listed.")).to_be_visible()
    await expect(gets.get_by_text(public, exact=True)).to_be_visible()
    await expect(page.get_by_label("The rule")).to_have_text(RULE)

    everything = page.get_by_role("table", name="All records")
    for rid, answer in ((public, "yes"), (draft, "no"), (hidden, "no")):
        await expect(everything.get_by_role("row").filter(has_text=rid).get_by_role("cell").nth(1)).to_have_text(answer)

    # A refused record: each top-level part of the rule, evaluated on it as the guest.
    await page.get_by_role("button", name=f"Explain record {hidden}").click()
    await expect(page.get_by_text(f"Record {hidden} is refused by the list rule.")).to_be_visible()
    parts = page.get_by_role("list", name="Rule parts").get_by_role("listitem")
    await expect(parts).to_have_text(["false published = true", "false @request.auth.id = author"])
    await expect(page.locator("code", has_text=EVIL).first).to_be_visible()  # its title, as text
    await shoot(page, "ops-playground-guest")

    # As the author: own unpublished post too, as the records API lists it for them.
    await page.get_by_label("Search auth records").fill(author_email)
    await page.get_by_role("button", name=f"Act as {author_email}").click()
    await expect(page.get_by_role("status").filter(has_text=f"Acting as {author_email} (users).")).to_be_visible()
    await expect(page.get_by_text("2 record(s) can be listed.")).to_be_visible()
    await expect(gets.get_by_text(draft, exact=True)).to_be_visible()
    await expect(gets.get_by_text(public, exact=True)).to_be_visible()
    await expect(gets.get_by_text(hidden, exact=True)).to_have_count(0)
    for rid, answer in ((public, "yes"), (draft, "yes"), (hidden, "no")):
        await expect(everything.get_by_role("row").filter(has_text=rid).get_by_role("cell").nth(1)).to_have_text(answer)
    token = site.http.post("/api/collections/users/auth-with-password",
                           json={"identity": author_email, "password": PW}).json()["token"]  # fmt: skip
    r = site.http.get(f"/api/collections/{coll}/records", headers={"Authorization": token})
    assert {x["id"] for x in r.json()["items"]} == {public, draft}
    # The explained record is explained again for the new requester; then the author's draft.
    await expect(parts).to_have_text(["false published = true", "false @request.auth.id = author"])
    await page.get_by_role("button", name=f"Explain record {draft}").click()
    await expect(page.get_by_text(f"Record {draft} is admitted by the list rule.")).to_be_visible()
    await expect(parts).to_have_text(["false published = true", "true @request.auth.id = author"])
    await shoot(page, "ops-playground-user")

    # The view rule, and back to a guest.
    await page.get_by_label("Rule to apply").select_option("view")
    await page.get_by_role("button", name="Act as a guest").click()
    await expect(page.get_by_text("1 record(s) can be viewed.")).to_be_visible()
    await expect(page.get_by_text(f"Record {draft} is refused by the view rule.")).to_be_visible()

    # A part made of parts has its own list.
    nested = '(@request.auth.id = author && title = "Author draft")'
    r = site.http.patch(f"/api/collections/{coll}", json={"viewRule": f"published = true || {nested}"}, headers=site.su)
    assert r.status_code == 200, r.text
    await page.get_by_label("Search auth records").fill(author_email)
    await page.get_by_role("button", name=f"Act as {author_email}").click()
    await page.get_by_role("button", name=f"Explain record {draft}").click()
    await expect(page.get_by_text(f"Record {draft} is admitted by the view rule.")).to_be_visible()
    inner = page.get_by_role("list", name=f"Parts of {nested} (every one)").get_by_role("listitem")
    await expect(inner).to_have_text(["true @request.auth.id = author", 'true title = "Author draft"'])
    await shoot(page, "ops-playground-nested")
    await no_markup(page, tab)


async def test_realtime_tail_shows_events(site: Site, tab: Tab, shoot: Any) -> None:
    coll = collection(site, {"name": unique("tail"), "fields": [{"name": "title", "type": "text"}]})
    page = await sign_in(tab, site)
    await page.goto(f"{site.url}/_/#/realtime")
    await expect(page.get_by_text("Listening to all collections.")).to_be_visible()
    rid = create(site, coll, {"title": EVIL})
    events = page.get_by_role("list", name="Events").get_by_role("listitem")
    await expect(events).to_have_count(1)
    await expect(events.first).to_contain_text("create")
    await expect(events.first).to_contain_text(coll)
    await expect(events.first).to_contain_text(rid)
    await expect(events.first.locator("pre")).to_contain_text(EVIL)

    # Paused: events are held, and shown on resume.
    await page.get_by_role("button", name="Pause").click()
    r = site.http.patch(f"/api/collections/{coll}/records/{rid}", json={"title": "changed"}, headers=site.su)
    assert r.status_code == 200, r.text
    await expect(page.get_by_role("button", name="Resume (1 held)")).to_be_visible()
    await expect(events).to_have_count(1)
    await shoot(page, "ops-realtime")
    await page.get_by_role("button", name="Resume (1 held)").click()
    await expect(events).to_have_count(2)
    await expect(events.first).to_contain_text("update")

    # Only the chosen collections.
    await page.get_by_label("All collections").uncheck()
    await expect(page.get_by_text("Not listening: choose at least one collection.")).to_be_visible()
    await page.get_by_role("checkbox", name="users", exact=True).check()
    await expect(page.get_by_text("Listening to users.")).to_be_visible()
    create(site, coll, {"title": "not shown"})
    site.user(f"{unique('rt')}@example.com")
    await expect(events).to_have_count(3)
    await expect(events.first).to_contain_text("users")
    await page.get_by_role("button", name="Clear").click()
    await expect(events).to_have_count(0)
    await page.get_by_role("link", name="Jobs").click()
    await expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    await no_markup(page, tab)


def wait_job(site: Site, coll: str, ok: Any, timeout: float = 20.0) -> dict[str, Any]:
    """The delivery job of `coll`'s webhook once `ok(job)` holds."""
    end = time.monotonic() + timeout
    while True:
        items = site.http.get("/api/hearth/jobs", params={"perPage": 1000}, headers=site.su).json()["items"]
        mine = [j for j in items if isinstance(j["payload"], dict) and coll in str(j["payload"])]
        if mine and ok(mine[0]):
            return dict(mine[0])
        assert time.monotonic() < end, mine
        time.sleep(0.2)


async def test_jobs_webhooks_and_audit_pages(site: Site, tab: Tab, shoot: Any) -> None:
    coll = collection(site, {"name": unique("hooked"), "fields": [{"name": "title", "type": "text"}]})
    r = site.http.patch("/api/hearth/audit/settings", json={"collections": [coll]}, headers=site.su)
    assert r.status_code == 200, r.text
    # A public address that does not answer: the delivery fails, then waits for its retry.
    r = site.http.post("/api/hearth/webhooks", json={
        "name": EVIL, "url": "http://192.88.99.1:9/hook", "collection": coll, "events": ["create"]}, headers=site.su)  # fmt: skip
    assert r.status_code == 200, r.text
    webhook = r.json()["id"]
    rid = create(site, coll, {"title": EVIL})
    job = wait_job(site, coll, lambda j: j["state"] == "pending" and j["attempts"] >= 1)

    page = await sign_in(tab, site)
    await page.goto(f"{site.url}/_/#/jobs")
    jobs = page.get_by_role("table", name="Jobs")
    await expect(jobs.get_by_role("row").filter(has_text=job["name"]).first).to_be_visible()
    await page.get_by_label("State").select_option("pending")
    await expect(page.get_by_role("button", name=f"Cancel job {job['id']}")).to_be_visible()
    await shoot(page, "ops-jobs")
    await page.get_by_role("button", name=f"Cancel job {job['id']}").click()
    await expect(page.get_by_text(f"Job {job['id']} was cancelled.")).to_be_visible()
    assert site.http.get(f"/api/hearth/jobs/{job['id']}", headers=site.su).json()["state"] == "cancelled"
    await page.get_by_label("State").select_option("cancelled")
    await page.get_by_role("button", name=f"Retry job {job['id']}").click()
    await expect(page.get_by_text(f"Job {job['id']} will run again.")).to_be_visible()
    assert site.http.get(f"/api/hearth/jobs/{job['id']}", headers=site.su).json()["state"] in ("pending", "running")

    await page.get_by_role("link", name="Webhooks").click()
    hooks = page.get_by_role("table", name="Webhooks")
    await expect(hooks.get_by_role("cell", name=EVIL, exact=True)).to_be_visible()
    await hooks.get_by_role("link", name=f"Deliveries of {EVIL}").click()
    await expect(page.get_by_role("heading", name=f"Deliveries of webhook {webhook}")).to_be_visible()
    r = site.http.get(f"/api/hearth/webhooks/{webhook}/deliveries", headers=site.su)
    assert r.json()["totalItems"] >= 1
    delivery = r.json()["items"][-1]
    await expect(page.get_by_role("table", name="Deliveries").get_by_text(delivery["message"]).first).to_be_visible()
    await shoot(page, "ops-webhooks")

    await page.get_by_role("link", name="Audit").click()
    trail = page.get_by_role("table", name="Audit trail")
    await expect(trail.get_by_role("row").filter(has_text=rid)).to_have_count(1)
    other = create(site, coll, {"title": "second"})
    await page.get_by_label("Filter").fill(f'record = "{other}"')
    await page.get_by_role("button", name="Apply").click()
    await expect(trail.get_by_role("row").filter(has_text=other)).to_have_count(1)
    await expect(trail.get_by_role("row").filter(has_text=rid)).to_have_count(0)
    await trail.get_by_text("After").click()
    await expect(trail.locator("pre")).to_contain_text('"title": "second"')
    await shoot(page, "ops-audit")
    await page.get_by_label("Filter").fill(f'record = "{rid}"')
    await page.get_by_role("button", name="Apply").click()
    await trail.get_by_text("After").click()
    await expect(trail.locator("pre")).to_contain_text(EVIL)
    await no_markup(page, tab)
