"""Record writes in the odd cases, pinned to PocketBase 0.40.6's answers (recorded from
`.venv/bin/pocketbase serve` beside Hearth, 2026-12-07), on both databases: an auth record's form
errors come alone, an auth record id is unique across auth collections, and a create rule reads
`@request.body.n` of a modifier (`n+`, `n-`) as the value it gives."""

from __future__ import annotations

import secrets
from typing import Any

from tests.conftest import OPEN, Api, unique

PW = "pass12345678"
BLANK = {"code": "validation_required", "message": "Cannot be blank."}


async def test_an_auth_forms_errors_come_alone(api: Api) -> None:
    c = await api.create_collection({"name": unique("a"), "type": "auth", **OPEN})
    url = f"/api/collections/{c['name']}/records"
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({}, {"password": BLANK, "passwordConfirm": BLANK}),
        ({"email": "bad", "password": "short", "passwordConfirm": "other"},
         {"passwordConfirm": {"code": "validation_values_mismatch", "message": "Values don't match."}}),
        ({"password": PW}, {"passwordConfirm": BLANK}),
        # The form passes: now the fields are checked.
        ({"email": "bad", "password": "short", "passwordConfirm": "short"},
         {"email": {"code": "validation_is_email", "message": "Must be a valid email address."},
          "password": {"code": "validation_min_text_constraint", "message": "Must be at least 8 character(s)."}}),
    ]  # fmt: skip
    for body, data in cases:
        r = await api.client.post(url, json=body)
        assert r.status_code == 400, r.text
        assert r.json()["data"] == data, body


async def test_an_auth_record_id_is_unique_across_auth_collections(api: Api) -> None:
    a = await api.create_collection({"name": unique("a"), "type": "auth", **OPEN})
    b = await api.create_collection({"name": unique("b"), "type": "auth", **OPEN})
    base = await api.create_collection({"name": unique("c"), "type": "base", **OPEN})
    rid = secrets.token_hex(8)[:15]
    body = {"id": rid, "password": PW, "passwordConfirm": PW}
    r = await api.client.post(f"/api/collections/{a['name']}/records", json={**body, "email": "one@example.com"})
    assert r.status_code == 200, r.text
    for headers in ({}, api.su()):
        r = await api.client.post(f"/api/collections/{b['name']}/records", json={**body, "email": "two@example.com"}, headers=headers)
        assert r.status_code == 400, r.text
        assert r.json()["data"] == {"id": {"code": "validation_invalid_auth_id", "message": "Invalid or duplicated auth record id."}}
    # A base collection may reuse it.
    r = await api.client.post(f"/api/collections/{base['name']}/records", json={"id": rid})
    assert r.status_code == 200, r.text


async def test_a_create_rule_reads_a_modifiers_result(api: Api) -> None:
    c = await api.create_collection({
        "name": unique("m"), "type": "base", "listRule": "", "createRule": "@request.body.n < 10",
        "fields": [{"name": "n", "type": "number"}, {"name": "tags", "type": "select", "values": ["a", "b"], "maxSelect": 2}],
    })  # fmt: skip
    url = f"/api/collections/{c['name']}/records"
    for body, status, n in (({"n": 5}, 200, 5), ({"n": 50}, 400, None), ({"n+": 5}, 200, 5),
                            ({"n+": 50}, 400, None), ({"n-": 5}, 200, -5)):  # fmt: skip
        r = await api.client.post(url, json=body)
        assert r.status_code == status, (body, r.text)
        if n is not None:
            assert r.json()["n"] == n
    c2 = await api.create_collection({
        "name": unique("t"), "type": "base", "createRule": "@request.body.tags:length = 2",
        "fields": [{"name": "tags", "type": "select", "values": ["a", "b"], "maxSelect": 2}],
    })  # fmt: skip
    r = await api.client.post(f"/api/collections/{c2['name']}/records", json={"tags+": ["a", "b"]})
    assert r.status_code == 200, r.text
    r = await api.client.post(f"/api/collections/{c2['name']}/records", json={"tags+": "a"})
    assert r.status_code == 400, r.text


async def test_an_update_rule_reads_a_modifiers_result(api: Api) -> None:
    c = await api.create_collection({
        "name": unique("u"), "type": "base", "listRule": "", "viewRule": "", "createRule": "",
        "updateRule": "@request.body.n < 10", "fields": [{"name": "n", "type": "number"}],
    })  # fmt: skip
    url = f"/api/collections/{c['name']}/records"
    rid = (await api.client.post(url, json={"n": 3})).json()["id"]
    r = await api.client.patch(f"{url}/{rid}", json={"n+": 4})  # 7
    assert r.status_code == 200 and r.json()["n"] == 7, r.text
    r = await api.client.patch(f"{url}/{rid}", json={"n+": 4})  # 11: refused, as if missing
    assert r.status_code == 404, r.text
    r = await api.client.patch(f"{url}/{rid}", json={"n-": 1})  # 6
    assert r.status_code == 200 and r.json()["n"] == 6, r.text
