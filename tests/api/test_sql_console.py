"""`POST /api/sql`, the superuser SQL console, as PocketBase 0.40.6 answers it (recorded from the
real binary: shapes, messages, the 1000-row cap, the 5000-character limit); on both databases."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api, unique


async def sql(api: Api, body: Any, headers: dict[str, str] | None = None) -> Any:
    r = await api.client.post("/api/sql", json=body, headers=api.su() if headers is None else headers)
    return r.status_code, r.json()


async def test_a_query_answers_its_columns_and_rows_as_text(api: Api) -> None:
    table = unique("console")
    status, body = await sql(api, {"query": f"CREATE TABLE {table} (a INT, b TEXT)"})
    assert status == 200 and body["columns"] == [] and body["rows"] == [], body
    status, body = await sql(api, {"query": f"INSERT INTO {table} VALUES (1, 'x'), (2, NULL)"})
    assert status == 200 and body["affectedRows"] == 2 and body["columns"] == [], body
    status, body = await sql(api, {"query": f"SELECT a, b, a * 1.5 AS f FROM {table} ORDER BY a"})
    assert status == 200, body
    assert [c["name"] for c in body["columns"]] == ["a", "b", "f"]
    assert all(c["nullable"] is True and isinstance(c["type"], str) for c in body["columns"])
    assert body["rows"] == [["1", "x", "1.5"], ["2", None, "3.0"]] and body["affectedRows"] == 0
    assert isinstance(body["execTime"], int)
    status, body = await sql(api, {"query": f"UPDATE {table} SET b = 'y'"})
    assert (status, body["affectedRows"]) == (200, 2)
    status, body = await sql(api, {"query": f"DROP TABLE {table}"})
    assert status == 200


async def test_at_most_1000_rows(api: Api) -> None:
    q = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1005) SELECT x FROM c"
    status, body = await sql(api, {"query": q})
    assert status == 200 and len(body["rows"]) == 1000 and body["rows"][-1] == ["1000"]


async def test_mistakes_are_answered_as_pocketbase_answers_them(api: Api) -> None:
    status, body = await sql(api, {"query": "selec x"})
    assert status == 400 and body["message"].startswith("Failed to execute query. Raw error:\n") and body["data"] == {}
    assert "selec" in body["message"]
    for empty in ({"query": ""}, {}):
        status, body = await sql(api, empty)
        assert (status, body) == (400, {"data": {"query": {"code": "validation_required", "message": "Cannot be blank."}},
                                        "message": "An error occurred while validating the submitted data.", "status": 400})  # fmt: skip
    status, body = await sql(api, {"query": "select " + "x" * 5001})
    assert status == 400 and body["data"]["query"] == {
        "code": "validation_length_too_long", "message": "The length must be no more than 5000.",
        "params": {"max": 5000, "min": 0},
    }  # fmt: skip
    for wrong in ({"query": 5}, {"query": ["select 1"]}):
        status, body = await sql(api, wrong)
        assert (status, body["message"]) == (400, "An error occurred while loading the submitted data.")
    # The failed statements left nothing behind: the database still answers.
    assert (await sql(api, {"query": "SELECT 1 AS one"}))[1]["rows"] == [["1"]]


async def test_only_superusers(api: Api) -> None:
    status, body = await sql(api, {"query": "SELECT 1"}, headers={})
    assert (status, body["message"]) == (401, "The request requires valid record authorization token.")
    email = f"{unique('sql')}@example.com"
    r = await api.client.post("/api/collections/users/records", json={"email": email, "password": "12345678",
                                                                        "passwordConfirm": "12345678"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = await api.client.post("/api/collections/users/auth-with-password", json={"identity": email, "password": "12345678"})
    status, body = await sql(api, {"query": "SELECT 1"}, headers={"Authorization": r.json()["token"]})
    assert (status, body["message"]) == (403, "The authorized record is not allowed to perform this action.")
