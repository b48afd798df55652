"""Records API, black-box through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from tests.conftest import OPEN, Api, unique

AUTODATES = [
    {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
    {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
]
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$")


async def notes(api: Api, **extra: object) -> str:
    name = unique("notes")
    await api.create_collection(
        {
            "name": name,
            "type": "base",
            **OPEN,
            "fields": [
                {"name": "title", "type": "text", "required": True, "max": 50},
                {"name": "count", "type": "number"},
                {"name": "done", "type": "bool"},
                {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
                *AUTODATES,
            ],
            **extra,
        }
    )
    return name


async def test_create_view_update_delete_roundtrip(api: Api) -> None:
    name = await notes(api)
    c = api.client
    r = await c.post(f"/api/collections/{name}/records", json={"title": "first", "count": 3})
    assert r.status_code == 200, r.text
    rec = r.json()
    assert re.fullmatch(r"[a-z0-9]{15}", rec["id"])
    assert rec["collectionName"] == name and rec["count"] == 3 and rec["done"] is False and rec["tags"] == []
    assert DATE_RE.match(rec["created"]) and rec["created"] == rec["updated"]
    assert list(rec) == sorted(rec), "record keys are sorted like PocketBase's"

    r = await c.get(f"/api/collections/{name}/records/{rec['id']}")
    assert r.status_code == 200 and r.json() == rec

    r = await c.patch(f"/api/collections/{name}/records/{rec['id']}", json={"count": "42", "done": True})
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 42 and r.json()["done"] is True and r.json()["title"] == "first"

    r = await c.delete(f"/api/collections/{name}/records/{rec['id']}")
    assert r.status_code == 204 and r.content == b""
    r = await c.get(f"/api/collections/{name}/records/{rec['id']}")
    assert r.status_code == 404
    assert r.json() == {"data": {}, "message": "The requested resource wasn't found.", "status": 404}


async def test_validation_errors_name_field_and_code_and_write_nothing(api: Api) -> None:
    name = await notes(api)
    r = await api.client.post(f"/api/collections/{name}/records", json={"title": "", "count": "x" * 3})
    assert r.status_code == 400
    body = r.json()
    assert body["message"] == "Failed to create record."
    assert body["data"]["title"]["code"] == "validation_required"
    r = await api.client.post(f"/api/collections/{name}/records", json={"title": "y" * 51})
    assert r.json()["data"]["title"] == {
        "code": "validation_max_text_constraint",
        "message": "Must be no more than 50 character(s).",
        "params": {"max": 50},
    }
    r = await api.client.get(f"/api/collections/{name}/records")
    assert r.json()["totalItems"] == 0


async def test_modifiers_append_prepend_remove_and_number_add(api: Api) -> None:
    name = await notes(api)
    c = api.client
    rid = (
        await c.post(f"/api/collections/{name}/records", json={"title": "t", "tags": ["b"], "count": 5})
    ).json()["id"]
    r = await c.patch(
        f"/api/collections/{name}/records/{rid}", json={"tags+": "c", "+tags": "a", "count+": 2}
    )
    assert r.json()["tags"] == ["a", "b", "c"] and r.json()["count"] == 7
    r = await c.patch(f"/api/collections/{name}/records/{rid}", json={"tags-": ["a", "c"], "count-": 10})
    assert r.json()["tags"] == ["b"] and r.json()["count"] == -3


async def test_custom_id_rules(api: Api) -> None:
    name = await notes(api)
    c = api.client
    r = await c.post(f"/api/collections/{name}/records", json={"id": "customid0000001", "title": "x"})
    assert r.status_code == 200 and r.json()["id"] == "customid0000001"
    r = await c.post(f"/api/collections/{name}/records", json={"id": "customid0000001", "title": "x"})
    assert r.status_code == 400 and r.json()["data"]["id"]["code"] == "validation_not_unique"
    r = await c.post(f"/api/collections/{name}/records", json={"id": "short", "title": "x"})
    assert r.json()["data"]["id"]["code"] == "validation_min_text_constraint"
    r = await c.patch(f"/api/collections/{name}/records/customid0000001", json={"id": "customid0000002"})
    assert r.status_code == 400 and r.json()["data"]["id"]["code"] == "validation_pk_change"


async def test_list_paging_sort_and_skip_total(api: Api) -> None:
    name = await notes(api)
    c = api.client
    for i in range(7):
        await c.post(f"/api/collections/{name}/records", json={"title": f"t{i}", "count": (i * 3) % 7})
    r = await c.get(
        f"/api/collections/{name}/records", params={"page": 2, "perPage": 3, "sort": "-count,title"}
    )
    body = r.json()
    assert (body["page"], body["perPage"], body["totalItems"], body["totalPages"]) == (2, 3, 7, 3)
    assert [x["count"] for x in body["items"]] == [3, 2, 1]
    r = await c.get(f"/api/collections/{name}/records", params={"perPage": 5000, "skipTotal": 1})
    body = r.json()
    assert body["perPage"] == 1000 and body["totalItems"] == -1 and body["totalPages"] == -1
    assert [x["title"] for x in body["items"]] == [f"t{i}" for i in range(7)], "no sort = insertion order"
    r = await c.get(f"/api/collections/{name}/records", params={"sort": "nope"})
    assert r.status_code == 400


async def test_bad_input_gets_envelopes_not_500(api: Api) -> None:
    name = await notes(api)
    c = api.client
    url = f"/api/collections/{name}/records"
    for content in (b"{bad json", b"[1,2]", b'"str"'):
        r = await c.post(url, content=content, headers={"content-type": "application/json"})
        assert r.status_code == 400 and set(r.json()) == {"data", "message", "status"}
    r = await c.get(f"{url}/{'x' * 500}")
    assert r.status_code == 404
    r = await c.get("/api/collections/nope_missing/records")
    assert r.status_code == 404 and r.json()["message"] == "Missing collection context."
    r = await c.post(url, json={"title": {"a": 1}, "count": [1], "done": {}})
    assert r.status_code in (200, 400)
    r = await c.get(url, params={"page": "abc"})
    assert r.status_code in (200, 400) and "status" in r.json() or "items" in r.json()


async def test_null_rules_are_superuser_only(api: Api) -> None:
    name = await notes(api, listRule=None, viewRule=None, createRule=None, updateRule=None, deleteRule=None)
    c = api.client
    r = await c.post(f"/api/collections/{name}/records", json={"title": "x"})
    assert r.status_code == 403 and r.json()["message"] == "Only superusers can perform this action."
    r = await c.post(f"/api/collections/{name}/records", json={"title": "x"}, headers=api.su())
    assert r.status_code == 200
    rid = r.json()["id"]
    assert (await c.get(f"/api/collections/{name}/records")).status_code == 403
    assert (await c.get(f"/api/collections/{name}/records/{rid}")).status_code == 403
    assert (await c.get(f"/api/collections/{name}/records/{rid}", headers=api.su())).status_code == 200


async def test_multipart_with_json_payload_and_coercion(api: Api) -> None:
    name = await notes(api)
    files = [
        ("title", (None, "multi")),
        ("count", (None, "7")),
        ("done", (None, "true")),
        ("@jsonPayload", (None, '{"tags": ["a", "c"]}')),
    ]
    r = await api.client.post(f"/api/collections/{name}/records", files=files)
    assert r.status_code == 200, r.text
    assert (r.json()["title"], r.json()["count"], r.json()["done"], r.json()["tags"]) == (
        "multi",
        7,
        True,
        ["a", "c"],
    )


async def test_relations_integrity_on_create_and_delete(api: Api) -> None:
    authors = unique("authors")
    a = await api.create_collection(
        {"name": authors, "type": "base", **OPEN, "fields": [{"name": "name", "type": "text"}]}
    )
    books = unique("books")
    await api.create_collection(
        {
            "name": books,
            "type": "base",
            **OPEN,
            "fields": [
                {
                    "name": "author",
                    "type": "relation",
                    "collectionId": a["id"],
                    "maxSelect": 1,
                    "required": True,
                },
                {"name": "fans", "type": "relation", "collectionId": a["id"], "maxSelect": 5},
            ],
        }
    )
    c = api.client
    a1 = (await c.post(f"/api/collections/{authors}/records", json={"name": "a1"})).json()["id"]
    a2 = (await c.post(f"/api/collections/{authors}/records", json={"name": "a2"})).json()["id"]
    r = await c.post(f"/api/collections/{books}/records", json={"author": "missingrecord12"})
    assert r.json()["data"]["author"]["code"] == "validation_missing_rel_records"
    b = (await c.post(f"/api/collections/{books}/records", json={"author": a1, "fans": [a1, a2]})).json()
    # a1 is a required single relation of b: deleting it is refused, nothing changes.
    r = await c.delete(f"/api/collections/{authors}/records/{a1}")
    assert r.status_code == 400
    assert (await c.get(f"/api/collections/{authors}/records/{a1}")).status_code == 200
    # a2 is only in the optional multi relation: deleting it removes it from the list.
    assert (await c.delete(f"/api/collections/{authors}/records/{a2}")).status_code == 204
    assert (await c.get(f"/api/collections/{books}/records/{b['id']}")).json()["fans"] == [a1]


async def test_content_types_and_body_limit(api: Api) -> None:
    name = await notes(api)
    url = f"/api/collections/{name}/records"
    c = api.client
    r = await c.post(url, content=b'{"title":"x"}', headers={"content-type": "text/plain"})
    assert r.status_code == 400 and r.json()["message"] == "Unsupported Content-Type."
    r = await c.post(url, content=b"", headers={"content-type": "text/plain"})
    assert r.status_code == 400 and r.json()["data"]["title"]["code"] == "validation_required", (
        "an empty body is {}"
    )
    r = await c.post(
        url, content=b"title=form&count=5", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 200 and (r.json()["title"], r.json()["count"]) == ("form", 5)
    limit = api.app.state.hearth.config.max_body_size
    r = await c.post(
        url, content=b"x", headers={"content-type": "application/json", "content-length": str(limit + 1)}
    )
    assert r.status_code == 413 and r.json() == {
        "data": {},
        "message": "Request entity too large.",
        "status": 413,
    }
    big = b'{"title":"' + b"y" * (limit + 10) + b'"}'
    r = await c.post(url, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413


async def test_fields_projection_on_list_and_view(api: Api) -> None:
    name = await notes(api)
    c = api.client
    rid = (
        await c.post(f"/api/collections/{name}/records", json={"title": "<p>Hello <b>there</b> world</p>"})
    ).json()["id"]
    r = await c.get(
        f"/api/collections/{name}/records/{rid}", params={"fields": "id,title:excerpt(11,true),nope"}
    )
    assert r.json() == {"id": rid, "title": "Hello there..."}
    r = await c.get(f"/api/collections/{name}/records", params={"fields": "id"})
    assert r.json()["items"] == [{"id": rid}] and r.json()["totalItems"] == 1


async def test_list_params_are_parsed_strictly(api: Api) -> None:
    name = await notes(api)
    url = f"/api/collections/{name}/records"
    for params in (
        {"page": "abc"},
        {"perPage": "1.5"},
        {"skipTotal": "maybe"},
        {"sort": ",".join(["title"] * 9)},
    ):
        r = await api.client.get(url, params=params)
        assert r.status_code == 400 and r.json()["data"] == {}, params
    r = await api.client.get(url, params={"page": 0, "perPage": 0, "skipTotal": "TRUE"})
    assert (r.json()["page"], r.json()["perPage"], r.json()["totalItems"]) == (1, 30, -1)


async def test_rules_filter_rows_and_hide_records(api: Api) -> None:
    name = await notes(api, listRule="done = true", viewRule="done = true || count > 10")
    c = api.client
    a = (await c.post(f"/api/collections/{name}/records", json={"title": "a", "done": True})).json()["id"]
    b = (await c.post(f"/api/collections/{name}/records", json={"title": "b", "count": 11})).json()["id"]
    hidden = (await c.post(f"/api/collections/{name}/records", json={"title": "c"})).json()["id"]
    r = await c.get(f"/api/collections/{name}/records")
    assert [x["id"] for x in r.json()["items"]] == [a] and r.json()["totalItems"] == 1
    assert (await c.get(f"/api/collections/{name}/records/{b}")).status_code == 200
    assert (await c.get(f"/api/collections/{name}/records/{hidden}")).status_code == 404
    r = await c.get(f"/api/collections/{name}/records", headers=api.su())
    assert r.json()["totalItems"] == 3, "superusers bypass rules"


async def test_injection_attempts_never_reach_sql_text(api: Api) -> None:
    name = await notes(api)
    c = api.client
    url = f"/api/collections/{name}/records"
    await c.post(url, json={"title": "safe"})
    evil = ["' OR '1'='1", '" OR 1=1 --', f"x'; DROP TABLE {name}; --", "1) OR (1=1"]
    for text in evil:
        assert (await c.get(f"{url}/{text}")).status_code == 404
        r = await c.get(url, params={"filter": f"title = '{text}'"})
        assert r.status_code in (200, 400) and (r.status_code == 400 or r.json()["totalItems"] == 0), text
        r = await c.get(url, params={"sort": text})
        assert r.status_code == 400
        r = await c.post(url, json={"title": text})
        assert r.status_code == 200 and r.json()["title"] == text, "stored verbatim, as data"
    r = await c.get(url, params={"filter": 'title ~ "%\' OR 1=1 --"'})
    assert r.status_code == 200 and r.json()["totalItems"] == 0
    assert (await c.get(url)).json()["totalItems"] == 1 + len(evil)
    r = await c.patch(
        f"/api/collections/{name}",
        json={"indexes": [f"CREATE INDEX i1 ON {name} (title) WHERE title = 'a'' OR 1=1'"]},
        headers=api.su(),
    )
    assert r.status_code == 200, "index literals are parsed and re-quoted, not pasted"


async def test_values_the_engine_cannot_hold_are_client_errors(api: Api) -> None:
    name = await notes(api)
    url = f"/api/collections/{name}/records"
    r = await api.client.post(url, json={"title": "nul\x00byte"})
    assert r.status_code in (200, 400) and "status" in r.json() or "id" in r.json()
    assert (await api.client.get(f"{url}/abc%00def")).status_code == 404
    r = await api.client.get(url, params={"page": str(10**18), "perPage": 1000})
    assert r.status_code == 200 and r.json()["items"] == []
    r = await api.client.get(url, params={"page": str(10**30)})
    assert r.status_code in (200, 400)
    r = await api.client.post(url, json={"title": "big", "count": 10**30})
    assert r.status_code in (200, 400)
