"""Collections API and schema migrations that keep data."""

from __future__ import annotations

from tests.conftest import OPEN, Api, unique


async def test_collections_need_a_superuser(api: Api) -> None:
    r = await api.client.get("/api/collections")
    assert r.status_code == 401
    r = await api.client.post("/api/collections", json={"name": "x"})
    assert r.status_code == 401


async def test_create_collection_shape(api: Api) -> None:
    name = unique("shape")
    c = await api.create_collection(
        {"name": name, "type": "base", "fields": [{"name": "title", "type": "text"}]}
    )
    assert c["id"].startswith("pbc_") and c["name"] == name and c["type"] == "base" and c["system"] is False
    assert [f["name"] for f in c["fields"]] == ["id", "title"]
    assert c["fields"][0]["primaryKey"] is True and c["fields"][0]["id"] == "text3208210256"
    assert c["listRule"] is None and c["indexes"] == []
    r = await api.client.get(f"/api/collections/{c['id']}", headers=api.su())
    assert r.status_code == 200 and r.json()["name"] == name
    r = await api.client.get(f"/api/collections/{name}", headers=api.su())
    assert r.json()["id"] == c["id"]


async def test_name_rules(api: Api) -> None:
    name = unique("dupe")
    await api.create_collection({"name": name, "type": "base"})
    r = await api.client.post(
        "/api/collections", json={"name": name.upper(), "type": "base"}, headers=api.su()
    )
    assert r.status_code == 400 and r.json()["data"]["name"]["code"] == "validation_collection_name_exists"
    r = await api.client.post(
        "/api/collections", json={"name": "bad name!", "type": "base"}, headers=api.su()
    )
    assert r.json()["data"]["name"]["code"] == "validation_match_invalid"
    r = await api.client.post(
        "/api/collections", json={"name": unique("t"), "type": "nope"}, headers=api.su()
    )
    assert r.status_code == 400 and "type" in r.json()["data"]


async def test_schema_change_keeps_data(api: Api) -> None:
    name = unique("evolve")
    c = await api.create_collection(
        {
            "name": name,
            "type": "base",
            **OPEN,
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "rank", "type": "number"},
                {"name": "gone", "type": "text"},
                {"name": "tag", "type": "select", "values": ["a", "b"], "maxSelect": 1},
            ],
        }
    )
    cl = api.client
    rid = (
        await cl.post(
            f"/api/collections/{name}/records", json={"title": "keep", "rank": 5, "gone": "x", "tag": "b"}
        )
    ).json()["id"]
    fields = [f for f in c["fields"] if f["name"] != "gone"]
    for f in fields:
        if f["name"] == "rank":
            f["name"] = "score"
        if f["name"] == "tag":
            f["maxSelect"] = 2
    fields.append({"name": "extra", "type": "bool"})
    new_name = unique("evolved")
    r = await cl.patch(
        f"/api/collections/{c['id']}", json={"name": new_name, "fields": fields}, headers=api.su()
    )
    assert r.status_code == 200, r.text
    rec = (await cl.get(f"/api/collections/{new_name}/records/{rid}")).json()
    assert rec["title"] == "keep" and rec["score"] == 5 and rec["tag"] == ["b"] and rec["extra"] is False
    assert "gone" not in rec and "rank" not in rec
    # Two values in the multi select: turning it single would lose one, so it is refused.
    await cl.patch(f"/api/collections/{new_name}/records/{rid}", json={"tag": ["a", "b"]})
    for f in fields:
        if f["name"] == "tag":
            f["maxSelect"] = 1
    r = await cl.patch(f"/api/collections/{c['id']}", json={"fields": fields}, headers=api.su())
    assert r.status_code == 400
    rec = (await cl.get(f"/api/collections/{new_name}/records/{rid}")).json()
    assert rec["tag"] == ["a", "b"]


async def test_unique_index_enforced_and_reported_per_field(api: Api) -> None:
    name = unique("uniq")
    await api.create_collection(
        {
            "name": name,
            "type": "base",
            **OPEN,
            "fields": [
                {"name": "code", "type": "text"},
                {"name": "a", "type": "text"},
                {"name": "b", "type": "text"},
            ],
            "indexes": [
                f"CREATE UNIQUE INDEX idx_code_{name} ON {name} (code)",
                f"CREATE UNIQUE INDEX idx_ab_{name} ON {name} (a, b)",
            ],
        }
    )
    cl = api.client
    url = f"/api/collections/{name}/records"
    assert (await cl.post(url, json={"code": "X1", "a": "p", "b": "q"})).status_code == 200
    r = await cl.post(url, json={"code": "X1", "a": "p2", "b": "q2"})
    assert r.status_code == 400 and r.json()["data"] == {
        "code": {"code": "validation_not_unique", "message": "Value must be unique."}
    }
    r = await cl.post(url, json={"code": "X2", "a": "p", "b": "q"})
    assert set(r.json()["data"]) == {"a", "b"}
    r = await cl.patch(f"/api/collections/{name}", json={"indexes": ["CREATE INDEX oops"]}, headers=api.su())
    assert r.json()["data"]["indexes"]["0"]["code"] == "validation_invalid_index_expression"
    r = await cl.patch(
        f"/api/collections/{name}",
        json={"indexes": [f"CREATE INDEX x ON {name} (code); DROP TABLE {name}"]},
        headers=api.su(),
    )
    assert r.status_code == 400
    assert (await cl.get(url)).status_code == 200


async def test_delete_refused_while_referenced_then_allowed(api: Api) -> None:
    target = await api.create_collection({"name": unique("target"), "type": "base"})
    src = await api.create_collection(
        {
            "name": unique("src"),
            "type": "base",
            "fields": [{"name": "r", "type": "relation", "collectionId": target["id"]}],
        }
    )
    r = await api.client.delete(f"/api/collections/{target['id']}", headers=api.su())
    assert r.status_code == 400 and src["name"] in r.json()["message"]
    assert (await api.client.delete(f"/api/collections/{src['id']}", headers=api.su())).status_code == 204
    assert (await api.client.delete(f"/api/collections/{target['id']}", headers=api.su())).status_code == 204
    assert (await api.client.get(f"/api/collections/{target['id']}", headers=api.su())).status_code == 404


async def test_truncate_and_import(api: Api) -> None:
    name = unique("trunc")
    await api.create_collection(
        {"name": name, "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]}
    )
    for i in range(3):
        await api.client.post(f"/api/collections/{name}/records", json={"t": str(i)})
    assert (await api.client.delete(f"/api/collections/{name}/truncate", headers=api.su())).status_code == 204
    assert (await api.client.get(f"/api/collections/{name}/records")).json()["totalItems"] == 0

    imported = unique("imp")
    r = await api.client.put(
        "/api/collections/import",
        json={
            "collections": [{"name": imported, "type": "base", "fields": [{"name": "x", "type": "number"}]}]
        },
        headers=api.su(),
    )
    assert r.status_code == 204, r.text
    assert (await api.client.get(f"/api/collections/{imported}", headers=api.su())).status_code == 200
    r = await api.client.put("/api/collections/import", json={"collections": []}, headers=api.su())
    assert r.status_code == 400 and r.json()["data"]["collections"]["code"] == "validation_required"


async def test_scaffolds(api: Api) -> None:
    r = await api.client.get("/api/collections/meta/scaffolds", headers=api.su())
    body = r.json()
    assert set(body) == {"auth", "base", "view"}
    assert [f["name"] for f in body["auth"]["fields"]] == [
        "id",
        "password",
        "tokenKey",
        "email",
        "emailVisibility",
        "verified",
    ]
    assert body["base"]["name"] == "" and body["base"]["id"] == ""


async def test_view_collection_infers_fields_and_is_read_only(api: Api) -> None:
    src = unique("vsrc")
    await api.create_collection(
        {
            "name": src,
            "type": "base",
            **OPEN,
            "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}],
        }
    )
    for i in range(3):
        await api.client.post(f"/api/collections/{src}/records", json={"title": f"t{i}", "n": i})
    view = unique("vview")
    c = await api.create_collection(
        {
            "name": view,
            "type": "view",
            "listRule": "",
            "viewRule": "",
            "viewQuery": f"SELECT id, title, n * 2 AS dbl FROM {src}",
        }
    )
    assert [(f["name"], f["type"]) for f in c["fields"]] == [
        ("id", "text"),
        ("title", "text"),
        ("dbl", "json"),
    ]
    assert c["createRule"] is None and c["viewQuery"].startswith("SELECT")
    r = await api.client.get(f"/api/collections/{view}/records", params={"sort": "-title"})
    assert [(x["title"], x["dbl"]) for x in r.json()["items"]] == [("t2", 4), ("t1", 2), ("t0", 0)]
    r = await api.client.post(f"/api/collections/{view}/records", json={"title": "x"})
    assert r.status_code == 400 and r.json()["message"] == "Unsupported collection type."
    # The source cannot go while the view reads it.
    r = await api.client.delete(f"/api/collections/{src}", headers=api.su())
    assert r.status_code == 400 and view in r.json()["message"]
    for bad in (
        f"SELECT title FROM {src}",
        f"DELETE FROM {src}",
        f"SELECT id FROM {src}; DROP TABLE {src}",
        "SELECT nope FROM",
    ):
        r = await api.client.post(
            "/api/collections",
            json={"name": unique("bad"), "type": "view", "viewQuery": bad},
            headers=api.su(),
        )
        assert r.status_code == 400 and "viewQuery" in r.json()["data"], bad


async def test_collection_validation_answers(api: Api) -> None:
    su = api.su()
    post = api.client.post
    r = await post("/api/collections", json={"name": "x" * 256, "type": "base"}, headers=su)
    assert r.json()["data"]["name"]["code"] == "validation_length_out_of_range"
    for reserved in ("_collections", "_PARAMS", "sqlite_master", "_hearth_api_keys", "__hearth_snapshot"):
        r = await post("/api/collections", json={"name": reserved, "type": "base"}, headers=su)
        assert r.status_code == 400 and "name" in r.json()["data"], reserved
    r = await post(
        "/api/collections",
        json={"name": unique("f"), "fields": [{"name": "id", "type": "number"}]},
        headers=su,
    )
    assert r.json()["data"]["fields"]["1"]["name"]["code"] == "validation_duplicated_field_name"
    r = await post(
        "/api/collections",
        json={"name": unique("f"), "fields": [{"name": "expand", "type": "text"}]},
        headers=su,
    )
    assert r.json()["data"]["fields"]["1"]["name"]["code"] == "validation_not_in_invalid"
    for bad in ({"listRule": 123}, {"fields": "abc"}, {"fields": [{"name": "a", "type": "nope"}]}):
        r = await post("/api/collections", json={"name": unique("f"), **bad}, headers=su)
        assert r.status_code == 400 and r.json()["data"] == {}, bad
    r = await post("/api/collections", json={"name": unique("f"), "listRule": "nofield = 1"}, headers=su)
    assert r.json()["data"]["listRule"]["code"] == "validation_invalid_rule"
    r = await post("/api/collections", json={"name": unique("f"), "listRule": "title ="}, headers=su)
    assert r.json()["data"]["listRule"]["code"] == "validation_invalid_rule"
    # Valid PocketBase rules are accepted even where the engine does not evaluate them yet.
    c = await api.create_collection(
        {
            "name": unique("ok"),
            "fields": [{"name": "tags", "type": "json"}],
            "listRule": "tags.a = 1 && @collection.users.id ?= id",
        }
    )
    r = await api.client.patch(f"/api/collections/{c['id']}", json={"type": "auth"}, headers=su)
    assert r.json()["data"]["type"]["code"] == "validation_collection_type_change"


async def test_field_type_and_system_field_changes_are_refused(api: Api) -> None:
    c = await api.create_collection(
        {"name": unique("typed"), "type": "auth", "fields": [{"name": "t", "type": "text"}]}
    )
    fields = c["fields"]
    changed = [dict(f, type="number") if f["name"] == "t" else f for f in fields]
    r = await api.client.patch(f"/api/collections/{c['id']}", json={"fields": changed}, headers=api.su())
    assert r.json()["data"]["fields"]["1"]["code"] == "validation_field_type_change"
    renamed = [dict(f, name="mail") if f["name"] == "email" else f for f in fields]
    r = await api.client.patch(f"/api/collections/{c['id']}", json={"fields": renamed}, headers=api.su())
    assert r.json()["data"]["fields"]["code"] == "validation_system_field_change"
    r = await api.client.patch("/api/collections/_superusers", json={"name": "admins"}, headers=api.su())
    assert r.json()["data"]["name"]["code"] == "validation_collection_system_name_change"
