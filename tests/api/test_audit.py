"""The audit trail through a running Hearth (SQLite and PostgreSQL): who changed what, from
where, with the changed fields' before/after values and no secrets; nothing for collections not
audited nor for writes that roll back; the superuser API's filter, sort, paging and checks."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from hearth.errors import BadRequest
from hearth.hooks.events import RecordWrite
from hearth.http.server import build_app
from tests.conftest import OPEN, Api, unique

URL = "/api/hearth/audit"
PW = "Secret-pass-123"


async def audit(api: Api, *names: str, **more: Any) -> dict[str, Any]:
    r = await api.client.patch(f"{URL}/settings", json={"collections": list(names), **more}, headers=api.su())
    assert r.status_code == 200, r.text
    return dict(r.json())


async def entries(api: Api, filter: str, **params: Any) -> list[dict[str, Any]]:
    r = await api.client.get(URL, params={"filter": filter, "perPage": 500, **params}, headers=api.su())
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def notes(api: Api) -> str:
    c = await api.create_collection({"name": unique("notes"), **OPEN, "fields": [
        {"name": "title", "type": "text"}, {"name": "body", "type": "text"},
        {"name": "note", "type": "text", "hidden": True},
        {"name": "n", "type": "number"}]})  # fmt: skip
    return str(c["name"])


async def person(api: Api) -> tuple[str, str, str]:
    """An auth collection, audited, with one person: (collection, id, token)."""
    c = await api.create_collection({"name": unique("people"), "type": "auth", **OPEN})
    coll = str(c["name"])
    email = f"{unique('p')}@example.com"
    r = await api.client.post(f"/api/collections/{coll}/records",
                              json={"email": email, "password": PW, "passwordConfirm": PW})  # fmt: skip
    assert r.status_code == 200, r.text
    rid = str(r.json()["id"])
    r = await api.client.post(f"/api/collections/{coll}/auth-with-password", json={"identity": email, "password": PW})
    assert r.status_code == 200, r.text
    return coll, rid, str(r.json()["token"])


async def test_each_actor_and_the_changed_fields_are_recorded(api: Api) -> None:
    coll, other = await notes(api), await notes(api)
    people, uid, user_token = await person(api)
    settings = await audit(api, coll, people)
    assert settings["collections"] == sorted([coll, people])
    r = await api.client.patch("/api/settings", json={"trustedProxy": {"headers": ["X-Real-IP"]}}, headers=api.su())
    assert r.status_code == 200, r.text
    su_id = (await api.client.post("/api/collections/_superusers/auth-refresh", headers=api.su())).json()["record"]["id"]
    try:
        # A superuser creates, through a proxy that names the client.
        r = await api.client.post(f"/api/collections/{coll}/records", json={"title": "a", "note": "n1"},
                                  headers={**api.su(), "X-Real-IP": "203.0.113.7", "User-Agent": "tests/1"})  # fmt: skip
        rid = r.json()["id"]
        # A user changes one field; an API key deletes.
        r = await api.client.patch(f"/api/collections/{coll}/records/{rid}", json={"title": "b", "body": ""},
                                   headers={"Authorization": user_token})  # fmt: skip
        assert r.status_code == 200, r.text
        r = await api.client.post("/api/hearth/api-keys", json={"name": "k", "scopes": [f"{coll}:write"]}, headers=api.su())
        key = r.json()
        r = await api.client.delete(f"/api/collections/{coll}/records/{rid}", headers={"Authorization": key["key"]})
        assert r.status_code == 204, r.text
        # A collection not audited leaves nothing.
        r = await api.client.post(f"/api/collections/{other}/records", json={"title": "x"}, headers=api.su())
        assert r.status_code == 200
    finally:
        await api.client.patch("/api/settings", json={"trustedProxy": {"headers": []}}, headers=api.su())
    got = await entries(api, f'record = "{rid}"', sort="id")
    assert [e["action"] for e in got] == ["create", "update", "delete"]
    create, update, delete = got
    assert (create["actorType"], create["actorId"], create["actorCollection"]) == ("superuser", su_id, "_superusers")
    assert (create["ip"], create["userAgent"], create["collection"]) == ("203.0.113.7", "tests/1", coll)
    assert create["before"] is None
    assert create["after"]["title"] == "a" and create["after"]["note"] == "n1" and "id" not in create["after"]
    assert (update["actorType"], update["actorId"], update["actorCollection"]) == ("record", uid, people)
    assert update["ip"] == "127.0.0.1"  # no proxy header: the peer
    # Only what changed ("body" was "" already).
    assert set(update["after"]) == set(update["before"]) == {"title"}
    assert update["before"]["title"] == "a" and update["after"]["title"] == "b"
    assert (delete["actorType"], delete["actorId"]) == ("apiKey", key["id"])
    assert delete["after"] is None and delete["before"]["title"] == "b"
    assert await entries(api, f'collection = "{other}"') == []
    # The new person and a password change: the fact is kept, never a hash nor the tokenKey.
    r = await api.client.patch(f"/api/collections/{people}/records/{uid}",
                               json={"oldPassword": PW, "password": "New-pass-4567", "passwordConfirm": "New-pass-4567"},
                               headers={"Authorization": user_token})  # fmt: skip
    assert r.status_code == 200, r.text
    r = await api.client.get(URL, params={"filter": f'record = "{uid}"', "sort": "id"}, headers=api.su())
    assert "$2" not in r.text and PW not in r.text and "New-pass" not in r.text
    change = r.json()["items"][-1]
    assert change["before"]["password"] == change["after"]["password"] == "[redacted]"
    assert change["before"]["tokenKey"] == change["after"]["tokenKey"] == "[redacted]"


async def test_rolled_back_writes_leave_no_entry_and_a_batch_one_per_record(api: Api) -> None:
    coll = await notes(api)
    r = await api.client.patch(f"/api/collections/{coll}", headers=api.su(),
                               json={"indexes": [f"CREATE UNIQUE INDEX idx_{coll} ON {coll} (title)"],
                                     "createRule": 'title != "blocked"'})  # fmt: skip
    assert r.status_code == 200, r.text
    await audit(api, coll)
    hooks = api.app.state.hearth.hooks

    async def refuse(e: RecordWrite) -> None:
        await e.next()  # written, then refused: the transaction rolls back
        if e.record["title"] == "refused":
            raise BadRequest("no")

    hid = hooks.record_create.bind(refuse, tags=[coll])
    try:
        r = await api.client.post(f"/api/collections/{coll}/records", json={"title": "refused"}, headers=api.su())
        assert r.status_code == 400
    finally:
        hooks.record_create.unbind(hid)
    # The create rule, checked on the new row inside the transaction (a user: superusers pass rules).
    _, _, user_token = await person(api)
    r = await api.client.post(f"/api/collections/{coll}/records", json={"title": "blocked"},
                              headers={"Authorization": user_token})  # fmt: skip
    assert r.status_code == 400
    r = await api.client.post(f"/api/collections/{coll}/records", json={"title": "one"}, headers=api.su())
    assert r.status_code == 200
    r = await api.client.post(f"/api/collections/{coll}/records", json={"title": "one"}, headers=api.su())
    assert r.status_code == 400  # the unique index
    assert [e["after"]["title"] for e in await entries(api, f'collection = "{coll}"')] == ["one"]
    # A batch whose last request fails leaves nothing; one that commits, an entry per record.
    path = f"/api/collections/{coll}/records"
    failing = [{"method": "POST", "url": path, "body": {"title": "b1"}},
               {"method": "POST", "url": path, "body": {"title": "one"}}]  # fmt: skip
    ok = [{"method": "POST", "url": path, "body": {"title": "b1"}}, {"method": "POST", "url": path, "body": {"title": "b2"}}]
    r = await api.client.patch("/api/settings", json={"batch": {"enabled": True}}, headers=api.su())
    assert r.status_code == 200
    try:
        r = await api.client.post("/api/batch", json={"requests": failing}, headers=api.su())
        assert r.status_code == 400, r.text
        assert len(await entries(api, f'collection = "{coll}"')) == 1
        r = await api.client.post("/api/batch", json={"requests": ok}, headers=api.su())
        assert r.status_code == 200, r.text
    finally:
        await api.client.patch("/api/settings", json={"batch": {"enabled": False}}, headers=api.su())
    got = await entries(api, f'collection = "{coll}" && action = "create"', sort="id")
    assert [e["after"]["title"] for e in got] == ["one", "b1", "b2"]
    assert {e["actorType"] for e in got} == {"superuser"}


async def test_jobs_are_named_and_turning_auditing_off_stops_it(api: Api) -> None:
    coll = await notes(api)
    await audit(api, coll)
    h = api.app.state.hearth
    cid = unique("audit_job")

    async def write() -> None:
        c = h.collections.get(coll)
        from hearth.query.context import RequestInfo

        await h.records.create(c, {"title": "from a job"}, RequestInfo())

    h.crons.add(cid, "0 7 1 1 *", write)
    try:
        r = await api.client.post(f"/api/crons/{cid}", headers=api.su())
        assert r.status_code == 204
        end = time.monotonic() + 5
        while not (got := await entries(api, f'collection = "{coll}"')) and time.monotonic() < end:
            await asyncio.sleep(0.05)
    finally:
        h.crons.remove(cid)
    assert [(e["actorType"], e["actorId"], e["ip"]) for e in got] == [("job", f"cron:{cid}", "")]
    await audit(api)  # none audited
    r = await api.client.post(f"/api/collections/{coll}/records", json={"title": "after"}, headers=api.su())
    assert r.status_code == 200
    assert len(await entries(api, f'collection = "{coll}"')) == 1


async def test_listing_filters_sorts_pages_and_refuses_bad_input(api: Api) -> None:
    coll = await notes(api)
    await audit(api, coll)
    for i in range(3):
        r = await api.client.post(f"/api/collections/{coll}/records", json={"title": f"t{i}", "n": i}, headers=api.su())
        assert r.status_code == 200
    r = await api.client.get(URL, params={"filter": f'collection = "{coll}"', "sort": "-id", "perPage": 2, "page": 2},
                             headers=api.su())  # fmt: skip
    page = r.json()
    assert (page["page"], page["perPage"], page["totalItems"], page["totalPages"]) == (2, 2, 3, 2)
    assert [e["after"]["title"] for e in page["items"]] == ["t0"]
    assert [e["after"]["n"] for e in await entries(api, f'collection = "{coll}" && after.n >= 1', sort="-created")] == [2, 1]
    one = (await entries(api, f'collection = "{coll}" && after.title = "t1"'))[0]
    r = await api.client.get(f"{URL}/{one['id']}", headers=api.su())
    assert r.status_code == 200 and r.json() == one
    for bad in ({"filter": "nope = 1"}, {"filter": "title ="}, {"sort": "before"}, {"sort": "nope"}, {"perPage": "x"}):
        r = await api.client.get(URL, params=bad, headers=api.su())
        assert r.status_code == 400 and set(r.json()) == {"status", "message", "data"}, (bad, r.text)
    for missing in ("999999999", "abc", "1e3"):
        r = await api.client.get(f"{URL}/{missing}", headers=api.su())
        assert r.status_code == 404, r.text
    # A page past any table (its offset beyond what the database takes) is an empty page.
    r = await api.client.get(URL, params={"page": 2**63 - 1, "perPage": 1000}, headers=api.su())
    assert r.status_code == 200 and r.json()["items"] == [] and r.json()["page"] == 2**63 - 1, r.text


async def test_endpoints_are_for_superusers_and_settings_are_checked(api: Api) -> None:
    _, _, user_token = await person(api)
    for method, path in (("GET", URL), ("GET", f"{URL}/1"), ("GET", f"{URL}/settings"), ("PATCH", f"{URL}/settings")):
        r = await api.client.request(method, path, json={} if method == "PATCH" else None)
        assert r.status_code == 401, (method, path)
        r = await api.client.request(method, path, json={} if method == "PATCH" else None,
                                     headers={"Authorization": user_token})  # fmt: skip
        assert r.status_code == 403, (method, path)
    view = await api.create_collection({"name": unique("v"), "type": "view", "viewQuery": "SELECT id FROM _superusers"})
    for body in ({"collections": ["missing"]}, {"collections": "x"}, {"collections": [view["name"]]},
                 {"retentionDays": -1}, {"retentionDays": "7"}, {"retentionDays": True}):  # fmt: skip
        r = await api.client.patch(f"{URL}/settings", json=body, headers=api.su())
        assert r.status_code == 400 and set(r.json()["data"]) <= {"collections", "retentionDays"}, (body, r.text)
    before = (await api.client.get(f"{URL}/settings", headers=api.su())).json()
    r = await api.client.patch(f"{URL}/settings", json={"retentionDays": 7}, headers=api.su())
    assert r.json() == {**before, "retentionDays": 7}
    # PocketBase's settings are untouched by the audit's own.
    assert "audit" not in str((await api.client.get("/api/settings", headers=api.su())).json()).lower()


async def test_old_entries_are_pruned_by_the_cleanup_cron(api: Api) -> None:
    coll = await notes(api)
    await audit(api, coll, retentionDays=30)
    for title in ("old", "new"):
        r = await api.client.post(f"/api/collections/{coll}/records", json={"title": title}, headers=api.su())
        assert r.status_code == 200
    old = (await entries(api, f'collection = "{coll}" && after.title = "old"'))[0]
    h = api.app.state.hearth
    async with h.db.transaction() as tx:  # it and every entry before it written long ago
        p = h.db.dialect.placeholder
        await tx.execute(f"UPDATE _hearth_audit SET created = {p(1)} WHERE id <= {p(2)}",
                         ("2000-01-01 00:00:00.000Z", int(old["id"])))  # fmt: skip
    r = await api.client.post("/api/crons/__hearthAuditCleanup__", headers=api.su())
    assert r.status_code == 204
    end = time.monotonic() + 5
    while len(got := await entries(api, f'collection = "{coll}"')) > 1 and time.monotonic() < end:
        await asyncio.sleep(0.05)
    assert [e["after"]["title"] for e in got] == ["new"]


async def test_the_switch_applies_in_every_process(api: Api) -> None:
    """A second Hearth on the same database (another worker process) follows the switch."""
    coll = await notes(api)
    here = api.app.state.hearth
    app = build_app(here.config)
    await app.on_startup()
    there = app.state.hearth
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
            for on in (True, False):
                await audit(api, *([coll] if on else []))
                end = time.monotonic() + 3  # PostgreSQL: told by NOTIFY, within a second
                while there.collections.revocations != here.collections.revocations and time.monotonic() < end:
                    await asyncio.sleep(0.02)
                    await there.collections.refresh()  # what a request does first
                r = await other.post(f"/api/collections/{coll}/records", json={"title": str(on)}, headers=api.su())
                assert r.status_code == 200, r.text
    finally:
        await app.on_shutdown()
    assert [e["after"]["title"] for e in await entries(api, f'collection = "{coll}"')] == ["True"]


async def test_schema_and_settings_changes_when_turned_on(api: Api) -> None:
    r = await api.client.get(f"{URL}/settings", headers=api.su())
    assert (r.json()["schema"], r.json()["settings"]) == (False, False)  # off by default
    off = await api.create_collection({"name": unique("off"), **OPEN})
    assert await entries(api, f'collection = "_collections" && record = "{off["id"]}"') == []
    await audit(api, schema=True, settings=True)
    try:
        c = await api.create_collection({"name": unique("members"), "type": "auth", **OPEN})
        secret = "s" * 40
        r = await api.client.patch(f"/api/collections/{c['id']}", headers=api.su(),
                                   json={"listRule": None, "authToken": {"secret": secret}})  # fmt: skip
        assert r.status_code == 200, r.text
        r = await api.client.put("/api/collections/import", headers=api.su(), json={"collections": [
            {"name": unique("imported"), "type": "base", "fields": [{"name": "t", "type": "text"}]}]})  # fmt: skip
        assert r.status_code == 204, r.text
        r = await api.client.delete(f"/api/collections/{c['id']}", headers=api.su())
        assert r.status_code == 204
        r = await api.client.patch("/api/settings", json={"meta": {"appName": "Audited"}, "smtp": {"password": "pw-x1"}},
                                   headers=api.su())  # fmt: skip
        assert r.status_code == 200, r.text
    finally:
        r = await api.client.patch("/api/settings", json={"meta": {"appName": "Acme"}}, headers=api.su())
        await audit(api, schema=False, settings=False)
    r = await api.client.get(URL, params={"filter": 'collection = "_collections" || collection = "_params"',
                                          "sort": "id", "perPage": 100}, headers=api.su())  # fmt: skip
    assert secret not in r.text and "pw-x1" not in r.text
    got = r.json()["items"]
    mine = [e for e in got if e["record"] == c["id"]]
    assert [e["action"] for e in mine] == ["create", "update", "delete"]
    create, update, delete = mine
    assert create["after"]["name"] == c["name"] and create["after"]["authToken.secret"] == "[redacted]"
    assert (update["before"]["listRule"], update["after"]["listRule"]) == ("", None)
    assert update["before"]["authToken.secret"] == update["after"]["authToken.secret"] == "[redacted]"
    assert delete["before"]["name"] == c["name"] and delete["after"] is None
    assert (create["actorType"], create["ip"]) == ("superuser", "127.0.0.1")
    assert any(e["action"] == "create" and e["after"]["name"].startswith("imported_") for e in got)
    settings = [e for e in got if e["collection"] == "_params"]
    assert [e["record"] for e in settings] == ["settings", "settings"]  # the change, and the one back
    assert settings[1]["after"] == {"meta": {**settings[0]["after"]["meta"], "appName": "Acme"}}
    assert settings[0]["after"]["meta"]["appName"] == "Audited" and settings[0]["after"]["smtp.password"] == "[redacted]"
    assert "s3" not in settings[0]["after"]  # only the sections that changed
    r = await api.client.patch(f"{URL}/settings", json={"schema": "yes"}, headers=api.su())
    assert r.status_code == 400 and "schema" in r.json()["data"]
