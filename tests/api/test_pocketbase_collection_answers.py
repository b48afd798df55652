"""Collection saves in the odd cases, pinned to PocketBase 0.40.6's answers (recorded from
`.venv/bin/pocketbase serve` beside Hearth, request by request, 2026-12-07), on both databases:
fields given under a system field's name, reserved names, index names, identity fields, the
primary key, a new view's id field, and a unique index the stored records break."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import OPEN, Api, unique

FAILED_CREATE, FAILED_UPDATE = "Failed to create collection.", "Failed to update collection."


async def create(api: Api, body: dict[str, Any]) -> httpx.Response:
    return await api.client.post("/api/collections", json=body, headers=api.su())


def field(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in body["fields"] if f["name"] == name)


def error(r: httpx.Response, message: str) -> dict[str, Any]:
    assert r.status_code == 400, r.text
    assert r.json()["message"] == message
    return dict(r.json()["data"])


async def test_a_field_named_like_a_system_field_becomes_it(api: Api) -> None:
    # Another type: the system definition, under the id the given field would have had.
    r = await create(api, {"name": unique("a"), "type": "auth", "fields": [{"name": "password", "type": "text"}]})
    assert r.status_code == 200, r.text
    pw = field(r.json(), "password")
    assert (pw["type"], pw["id"], pw["min"], pw["required"], pw["hidden"], pw["system"]) == (
        "password", "text901924565", 8, True, True, True)  # fmt: skip
    r = await create(api, {"name": unique("a"), "type": "auth", "fields": [{"name": "verified", "type": "text"}]})
    assert field(r.json(), "verified")["type"] == "bool"
    # The same type: its options kept, what the system needs forced.
    r = await create(api, {"name": unique("a"), "type": "auth", "fields": [
        {"name": "password", "type": "password", "required": False, "min": 12, "hidden": False},
        {"name": "email", "type": "email", "required": False, "onlyDomains": ["x.com"]},
        {"name": "tokenKey", "type": "text"},
    ]})  # fmt: skip
    assert r.status_code == 200, r.text
    pw, mail, key = (field(r.json(), n) for n in ("password", "email", "tokenKey"))
    assert (pw["min"], pw["required"], pw["hidden"]) == (12, True, True)
    assert (mail["required"], mail["onlyDomains"], mail["system"]) == (False, ["x.com"], True)
    assert (key["required"], key["hidden"], key["min"], key["max"]) == (True, True, 0, 0)
    # A text `id` is the primary key: its own options, with the key's pattern when it has none.
    r = await create(api, {"name": unique("b"), "type": "base", "fields": [{"name": "id", "type": "text", "max": 20}]})
    assert r.status_code == 200, r.text
    (pk,) = r.json()["fields"]
    assert (pk["primaryKey"], pk["required"], pk["system"], pk["max"], pk["autogeneratePattern"], pk["pattern"]) == (
        True, True, True, 20, "", "^[a-z0-9]+$")  # fmt: skip
    # Its primary key renamed: one error for the whole list.
    r = await create(api, {"name": unique("b"), "type": "base"})
    fields = [dict(f, name="pk") if f["name"] == "id" else f for f in r.json()["fields"]]
    r = await api.client.patch(f"/api/collections/{r.json()['id']}", json={"fields": fields}, headers=api.su())
    assert error(r, FAILED_UPDATE) == {"fields": {"code": "validation_missing_primary_key", "message": 'Missing or invalid "id" PK field.'}}


async def test_reserved_names_and_index_names(api: Api) -> None:
    reserved = {"code": "validation_reserved_field_name", "message": "The field name is reserved and cannot be used."}
    for name in ("passwordConfirm", "oldPassword"):
        r = await create(api, {"name": unique("a"), "type": "auth", "fields": [{"name": name, "type": "text"}]})
        assert error(r, FAILED_CREATE) == {"fields": {"1": {"name": reserved}}}
        r = await create(api, {"name": unique("b"), "type": "base", "fields": [{"name": name, "type": "text"}]})
        assert r.status_code == 200, r.text  # only auth forms read these keys
    name = unique("ix")
    r = await create(api, {"name": name, "type": "base", "fields": [{"name": "t", "type": "text"}],
                           "indexes": [f"CREATE INDEX idx_{name} ON {name} (t)", f"CREATE INDEX idx_{name} ON {name} (id)"]})  # fmt: skip
    assert error(r, FAILED_CREATE) == {"indexes": {"1": {"code": "validation_duplicated_index_name", "message": "The index name already exists."}}}
    # A column the collection lacks fails when the index is made: reported only once all else is valid.
    body = {"name": name, "type": "base", "fields": [{"name": "t", "type": "text"}],
            "indexes": [f"CREATE INDEX idx_{name} ON {name} (nope)"]}  # fmt: skip
    assert error(await create(api, body), FAILED_CREATE) == {"indexes": {"0": {
        "code": "validation_invalid_index_expression",
        "message": f"Failed to create index idx_{name} - SQL logic error: no such column: nope (1)."}}}  # fmt: skip
    body["fields"].append({"name": "", "type": "text"})
    assert set(error(await create(api, body), FAILED_CREATE)) == {"fields"}


async def test_identity_fields(api: Api) -> None:
    r = await create(api, {"name": unique("a"), "type": "auth", "passwordAuth": {"enabled": True, "identityFields": ["nope"]}})
    assert error(r, FAILED_CREATE) == {"passwordAuth": {"identityFields": {
        "code": "validation_missing_field", "message": "Invalid or missing field nope.", "params": {"fieldName": "nope"}}}}  # fmt: skip
    body = {"name": unique("a"), "type": "auth", "fields": [{"name": "nick", "type": "text"}],
            "passwordAuth": {"enabled": True, "identityFields": ["email", "nick"]}}  # fmt: skip
    assert error(await create(api, body), FAILED_CREATE) == {"passwordAuth": {"identityFields": {
        "code": "validation_missing_unique_constraint", "message": "The field nick doesn't have a UNIQUE constraint.",
        "params": {"fieldName": "nick"}}}}  # fmt: skip
    body["indexes"] = [f"CREATE UNIQUE INDEX idx_nick_{body['name']} ON {body['name']} (nick)"]
    r = await create(api, body)
    assert r.status_code == 200, r.text
    # Not checked while password sign-in is off.
    r = await create(api, {"name": unique("a"), "type": "auth", "passwordAuth": {"enabled": False, "identityFields": ["nope"]}})
    assert r.status_code == 200, r.text


async def test_a_new_views_id_is_read_not_generated(api: Api) -> None:
    src = await api.create_collection({"name": unique("src"), "type": "base", **OPEN})
    r = await create(api, {"name": unique("v"), "type": "view", "viewQuery": f"SELECT id FROM {src['name']}"})
    assert r.status_code == 200, r.text
    pk = field(r.json(), "id")
    assert (pk["autogeneratePattern"], pk["min"], pk["max"], pk["primaryKey"]) == ("", 0, 0, True)


async def test_a_unique_index_over_duplicates_is_refused_whole(api: Api) -> None:
    c = await api.create_collection({"name": unique("d"), "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]})
    name = c["name"]
    for _ in range(2):
        r = await api.client.post(f"/api/collections/{name}/records", json={"t": "same"})
        assert r.status_code == 200
    indexes = [f"CREATE INDEX idx_plain_{name} ON {name} (id)", f"CREATE UNIQUE INDEX idx_u_{name} ON {name} (t)"]
    r = await api.client.patch(f"/api/collections/{name}", json={"indexes": indexes}, headers=api.su())
    assert error(r, FAILED_UPDATE) == {"indexes": {"1": {
        "code": "validation_invalid_index_expression",
        "message": f"Failed to create index idx_u_{name} - constraint failed: UNIQUE constraint failed: {name}.t (2067)."}}}  # fmt: skip
    # Nothing of it was applied: neither index, and the records are intact.
    r = await api.client.get(f"/api/collections/{name}", headers=api.su())
    assert r.json()["indexes"] == []
    r = await api.client.get(f"/api/collections/{name}/records")
    assert r.json()["totalItems"] == 2
