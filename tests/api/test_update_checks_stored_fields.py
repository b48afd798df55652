"""An update checks every field of the merged record, as PocketBase's does (checked on the 0.40.6
binary: a text field made `required` after a record stored "" refuses an update of another field
with `validation_required`), also when the update is sent as one statement that reads nothing
first (PostgreSQL, hearth.records.service `_update_in_one`: the fields it leaves alone are checked
by the UPDATE's WHERE, hearth.sql.checks)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Api, unique


async def _collection(api: Api, fields: list[dict[str, Any]], rules: str | None = "") -> dict[str, Any]:
    return await api.create_collection(
        {"name": unique("checked"), "type": "base", "fields": fields,
         "listRule": rules, "viewRule": rules, "createRule": rules, "updateRule": rules}
    )  # fmt: skip


async def _tighten(api: Api, c: dict[str, Any], name: str, **options: Any) -> None:
    fields = [dict(f, **options) if f["name"] == name else f for f in c["fields"]]
    r = await api.client.patch(f"/api/collections/{c['id']}", json={"fields": fields}, headers=api.su())
    assert r.status_code == 200, r.text


async def _update(api: Api, c: dict[str, Any], rid: str, body: dict[str, Any]) -> Any:
    return await api.client.patch(f"/api/collections/{c['name']}/records/{rid}", json=body)


async def test_a_stored_value_the_schema_no_longer_accepts_refuses_an_update_of_another_field(api: Api) -> None:
    c = await _collection(
        api,
        [{"name": "t", "type": "text"}, {"name": "n", "type": "number"},
         {"name": "body", "type": "editor"}, {"name": "ok", "type": "bool"}],
    )  # fmt: skip
    r = await api.client.post(f"/api/collections/{c['name']}/records", json={"t": "", "n": 3, "body": "<p>hello</p>"})
    assert r.status_code == 200, r.text
    rid = r.json()["id"]

    await _tighten(api, c, "t", required=True)
    r = await _update(api, c, rid, {"n": 5})
    assert r.status_code == 400, r.text
    assert r.json()["data"] == {"t": {"code": "validation_required", "message": "Cannot be blank."}}
    # Nothing was written, and setting the field itself makes the record valid again.
    r = await _update(api, c, rid, {"t": "now set"})
    assert r.status_code == 200 and r.json()["n"] == 3 and r.json()["t"] == "now set", r.text

    await _tighten(api, c, "n", min=10)
    r = await _update(api, c, rid, {"t": "again"})
    assert r.status_code == 400 and set(r.json()["data"]) == {"n"}, r.text
    assert (await _update(api, c, rid, {"n": 12})).status_code == 200

    await _tighten(api, c, "body", maxSize=5)
    r = await _update(api, c, rid, {"n": 13})
    assert r.status_code == 400 and set(r.json()["data"]) == {"body"}, r.text
    assert (await _update(api, c, rid, {"body": "<b/>"})).status_code == 200

    await _tighten(api, c, "ok", required=True)
    r = await _update(api, c, rid, {"n": 14})
    assert r.status_code == 400 and set(r.json()["data"]) == {"ok"}, r.text
    r = await _update(api, c, rid, {"ok": True, "n": 15})
    assert r.status_code == 200, r.text
    got = (await api.client.get(f"/api/collections/{c['name']}/records/{rid}")).json()
    assert (got["t"], got["n"], got["body"], got["ok"]) == ("now set", 15, "<b/>", True)


async def test_the_answer_is_the_record_as_stored_and_the_rule_still_holds(api: Api) -> None:
    c = await _collection(
        api,
        [{"name": "t", "type": "text", "max": 5}, {"name": "n", "type": "number", "onlyInt": True},
         {"name": "created", "type": "autodate", "onCreate": True},
         {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}],
        rules="n < 100",
    )  # fmt: skip
    r = await api.client.post(f"/api/collections/{c['name']}/records", json={"t": "abc", "n": 1})
    rid = r.json()["id"]
    created = r.json()
    r = await _update(api, c, rid, {"n": 2, "unknown": "ignored"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["t"] == "abc" and body["n"] == 2 and body["created"] == created["created"]
    assert body["updated"] >= created["updated"]
    assert body == (await api.client.get(f"/api/collections/{c['name']}/records/{rid}")).json()
    # The body's own values are checked before anything is sent.
    r = await _update(api, c, rid, {"t": "too long", "n": 2.5})
    assert r.status_code == 400 and set(r.json()["data"]) == {"t", "n"}, r.text
    # The rule: a record that no longer meets it answers 404 and is left as it was.
    assert (await _update(api, c, rid, {"n": 500})).status_code == 200  # the rule reads the row before
    r = await _update(api, c, rid, {"n": 3})
    assert r.status_code == 404, r.text
    assert (await api.client.get(f"/api/collections/{c['name']}/records/{rid}", headers=api.su())).json()["n"] == 500
    assert (await _update(api, c, "nosuchrecord123", {"n": 3})).status_code == 404


async def test_concurrent_updates_of_one_record_each_answer_what_they_wrote(api: Api) -> None:
    c = await _collection(api, [{"name": "n", "type": "number"}, {"name": "t", "type": "text"}])
    rid = (await api.client.post(f"/api/collections/{c['name']}/records", json={"n": 0, "t": "x"})).json()["id"]
    answers = await asyncio.gather(*(_update(api, c, rid, {"n": i}) for i in range(1, 21)))
    assert [a.status_code for a in answers] == [200] * 20
    assert sorted(a.json()["n"] for a in answers) == list(range(1, 21))
    assert all(a.json()["t"] == "x" for a in answers)
    final = (await api.client.get(f"/api/collections/{c['name']}/records/{rid}")).json()["n"]
    assert final in range(1, 21)
