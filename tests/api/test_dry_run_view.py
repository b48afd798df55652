"""`POST /api/collections/meta/dry-run-view`: the fields a view collection would get and up to 10
sample records, with nothing stored; PocketBase 0.40.6's answers (recorded from the real binary)
for the shapes and the messages. On both databases."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, unique


async def dry_run(api: Api, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    r = await api.client.post("/api/collections/meta/dry-run-view", json=body,
                              headers=api.su() if headers is None else headers)  # fmt: skip
    return r.status_code, r.json()


async def test_fields_and_sample_without_storing_anything(api: Api) -> None:
    for i in range(12):
        r = await api.client.post("/api/collections/users/records", json={
            "email": f"{unique('dry')}@example.com", "password": "12345678", "passwordConfirm": "12345678",
            "name": f"<b>{i}</b>",
        })  # fmt: skip
        assert r.status_code == 200, r.text
    before = (await api.client.get("/api/collections", params={"perPage": 500}, headers=api.su())).json()["totalItems"]
    status, body = await dry_run(api, {"query": "SELECT id, email, name, verified, password, 1 + 1 AS two FROM users"})
    assert status == 200, body
    assert [(f["name"], f["type"]) for f in body["fields"]] == [
        ("id", "text"), ("email", "email"), ("name", "text"), ("verified", "bool"), ("password", "password"), ("two", "json"),
    ]  # fmt: skip
    assert len(body["sample"]) == 10
    first = body["sample"][0]
    assert first["collectionName"].startswith("temp_view_") and first["two"] == 2
    assert "password" not in first and "@example.com" in first["email"]
    after = (await api.client.get("/api/collections", params={"perPage": 500}, headers=api.su())).json()["totalItems"]
    assert after == before  # nothing stored
    r = await api.client.get(f"/api/collections/{first['collectionName']}", headers=api.su())
    assert r.status_code == 404


async def test_mistakes(api: Api) -> None:
    status, body = await dry_run(api, {"query": "SELECT email FROM users"})
    assert status == 400 and body["message"].startswith("Invalid view query. Raw error: \n") and body["data"] == {}
    status, body = await dry_run(api, {"query": "SELECT x FROM no_such_table_here"})
    assert status == 400 and body["message"].startswith("Invalid view query. Raw error: \n")
    status, body = await dry_run(api, {"query": "SELECT id FROM users; DELETE FROM users"})
    assert status == 400 and body["message"].startswith("Invalid view query. Raw error: \n")
    for empty in ({"query": ""}, {}):
        status, body = await dry_run(api, empty)
        assert (status, body["data"]) == (400, {"query": {"code": "validation_required", "message": "Cannot be blank."}})
    status, body = await dry_run(api, {"query": 5})
    assert (status, body["message"]) == (400, "An error occurred while loading the submitted data.")
    status, body = await dry_run(api, {"query": "SELECT id FROM users"}, headers={})
    assert status == 401
    # The users are still there (the DELETE above never ran).
    r = await api.client.get("/api/collections/users/records", params={"perPage": 1}, headers=api.su())
    assert r.json()["totalItems"] >= 12
