"""Schema input that used to answer 500 (issue 9): names, stored options, imports, deep JSON.

Every answer here is either a success or PocketBase's envelope with a 4xx and no Python repr.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from hearth.errors import BadRequest
from hearth.sql.dialect import UnsafeIdentifier, quote
from tests.conftest import OPEN, Api, unique
from tests.support.envelope import assert_error, assert_no_repr


async def _ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text[:500]
    body: dict[str, Any] = orjson.loads(r.content)  # the stdlib's decoder stops near 1000 levels
    return body


# ----- names ---------------------------------------------------------------------------------
async def test_names_starting_with_a_digit_work_end_to_end(api: Api) -> None:
    su = api.su()
    base = unique("1abc")
    coll = await api.create_collection(
        {
            "name": base,
            "type": "base",
            **OPEN,
            "fields": [{"name": "1f", "type": "text"}, {"name": "title", "type": "text"}],
            "indexes": [f"CREATE INDEX idx_{base} ON `{base}` (`1f`)"],
        }
    )
    ref = unique("2ref")
    await api.create_collection(
        {
            "name": ref,
            "type": "base",
            **OPEN,
            "listRule": f"rel.1f != '' || @collection.{base}.title = 'x'",
            "fields": [{"name": "rel", "type": "relation", "collectionId": coll["id"], "maxSelect": 1}],
        }
    )
    rec = await _ok(
        await api.client.post(f"/api/collections/{base}/records", json={"1f": "v1", "title": "x"})
    )
    await _ok(await api.client.patch(f"/api/collections/{base}/records/{rec['id']}", json={"1f": "v2"}))
    one = await _ok(await api.client.get(f"/api/collections/{base}/records/{rec['id']}"))
    assert one["1f"] == "v2"
    await api.client.post(f"/api/collections/{base}/records", json={"1f": "v0", "title": "y"})
    page = await _ok(
        await api.client.get(
            f"/api/collections/{base}/records", params={"filter": "title != ''", "sort": "-1f"}
        )
    )
    assert [i["1f"] for i in page["items"]] == ["v2", "v0"]
    page = await _ok(
        await api.client.get(
            f"/api/collections/{base}/records",
            params={"filter": f"@collection.{base}.title ?= 'y' && title = 'x'"},
            headers=su,
        )
    )
    assert [i["id"] for i in page["items"]] == [rec["id"]]

    await _ok(await api.client.post(f"/api/collections/{ref}/records", json={"rel": rec["id"]}))
    page = await _ok(
        await api.client.get(
            f"/api/collections/{ref}/records",
            params={"filter": "rel.1f = 'v2'", "expand": "rel", "fields": "rel,expand.rel.1f"},
        )
    )
    assert page["items"] == [{"rel": rec["id"], "expand": {"rel": {"1f": "v2"}}}]

    view = unique("3view")
    await api.create_collection(
        {"name": view, "type": "view", "listRule": "", "viewQuery": f'SELECT id, "1f" FROM "{base}"'}
    )
    page = await _ok(await api.client.get(f"/api/collections/{view}/records", params={"sort": "1f"}))
    assert [i["1f"] for i in page["items"]] == ["v0", "v2"]
    # A column the view computes is a json field holding plain text: filters and sorts on it
    # read that text as a JSON string (it used to fail the query on both engines).
    view2 = unique("3view")
    await api.create_collection(
        {
            "name": view2,
            "type": "view",
            "listRule": "",
            "viewQuery": f'SELECT id, "1f" || \'!\' AS label FROM "{base}"',
        }
    )
    for params in ({"filter": "label = 'v2!'"}, {"filter": "label.a = 1 || label != ''", "sort": "-label"}):
        page = await _ok(await api.client.get(f"/api/collections/{view2}/records", params=params))
        assert page["items"] and all(i["label"] in ("v0!", "v2!") for i in page["items"])
    for v in (view, view2):
        assert (await api.client.delete(f"/api/collections/{v}", headers=su)).status_code == 204

    # Renamed (PATCH) to another name starting with a digit: the data and the relation follow.
    renamed = unique("4abc")
    await _ok(await api.client.patch(f"/api/collections/{base}", json={"name": renamed}, headers=su))
    page = await _ok(await api.client.get(f"/api/collections/{renamed}/records"))
    assert page["totalItems"] == 2
    # (the list rule still names the old collection, so only a superuser lists; PocketBase keeps
    # rules as written too)
    page = await _ok(
        await api.client.get(f"/api/collections/{ref}/records", params={"expand": "rel"}, headers=su)
    )
    assert page["items"][0]["expand"]["rel"]["1f"] == "v2"
    assert (await api.client.delete(f"/api/collections/{ref}", headers=su)).status_code == 204

    # An auth collection: its automatic indexes name the table.
    auth = unique("9x")
    await api.create_collection({"name": auth, "type": "auth", "createRule": ""})
    creds = {"email": "a@example.com", "password": "12345678"}
    await _ok(
        await api.client.post(
            f"/api/collections/{auth}/records", json={**creds, "passwordConfirm": "12345678"}
        )
    )
    r = await api.client.post(
        f"/api/collections/{auth}/auth-with-password",
        json={"identity": creds["email"], "password": "12345678"},
    )
    await _ok(r)

    # Imported under such a name.
    imported = unique("7imp")
    r = await api.client.put(
        "/api/collections/import",
        json={"collections": [{"name": imported, "type": "auth"}]},
        headers=su,
    )
    assert r.status_code == 204, r.text
    await _ok(await api.client.get(f"/api/collections/{imported}/records", headers=su))


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a b", "type": "auth"},
        {"name": "", "type": "base", "listRule": "id != ''"},
        {"name": "", "type": "auth", "listRule": "id != ''"},
        {"name": "ñame", "type": "base"},  # Go's \w is ASCII-only
        {"name": "ñame", "type": "auth"},
        {"name": "x-y", "type": "view", "viewQuery": "SELECT id FROM users"},
        {"name": "a\nb", "type": "base", "listRule": ""},
        {"name": "ok", "id": "ñ", "type": "auth"},
    ],
)
async def test_invalid_collection_names_are_400(api: Api, body: dict[str, Any]) -> None:
    r = await api.client.post("/api/collections", json=body, headers=api.su())
    data = assert_error(r, 400)
    assert set(data) & {"name", "id"}, data
    listed = (await api.client.get("/api/collections", params={"perPage": 500}, headers=api.su())).json()
    assert body["name"] not in {c["name"] for c in listed["items"]}


async def test_invalid_names_through_rename_import_and_fields_are_400(api: Api) -> None:
    su = api.su()
    name = unique("ren")
    await api.create_collection({"name": name, "type": "auth"})
    for new_name in ("a b", "ñame", "", "x;drop"):
        assert "name" in assert_error(
            await api.client.patch(f"/api/collections/{name}", json={"name": new_name}, headers=su), 400
        )
    for item in ({"name": "a b", "type": "auth"}, {"name": "ñ", "type": "base", "listRule": "id != ''"}):
        data = assert_error(
            await api.client.put("/api/collections/import", json={"collections": [item]}, headers=su), 400
        )
        assert data["collections"]["code"] == "validation_collections_import_failure"
    for field in ("ñame", "a b", "1-x"):
        data = assert_error(
            await api.client.post(
                "/api/collections",
                json={"name": unique("f"), "type": "base", "fields": [{"name": field, "type": "text"}]},
                headers=su,
            ),
            400,
        )
        assert data["fields"]["1"]["name"]["code"] == "validation_match_invalid"
    # A field name starting with a digit is valid (Go's ^\w+$), in PocketBase as here.
    await api.create_collection(
        {"name": unique("f"), "type": "base", "fields": [{"name": "1f", "type": "text"}]}
    )


async def test_names_the_engines_would_refuse_are_400(api: Api) -> None:
    """Tables and indexes share one namespace (per database, case-insensitive on SQLite, first
    63 bytes on PostgreSQL): every clash is a validation error, never a failing CREATE."""
    su = api.su()
    first = unique("ix")
    await api.create_collection(
        {
            "name": first,
            "type": "base",
            "fields": [{"name": "t", "type": "text"}],
            "indexes": [f"CREATE INDEX idx_{first} ON {first} (t)"],
        }
    )
    bodies = [
        # an index name another collection's index holds
        {
            "name": unique("ix"),
            "fields": [{"name": "t", "type": "text"}],
            "indexes": ["CREATE INDEX idx_{first} ON {name} (t)"],
        },
        # an index named like a table
        {
            "name": unique("ix"),
            "fields": [{"name": "t", "type": "text"}],
            "indexes": ["CREATE INDEX users ON {name} (t)"],
        },
        {
            "name": unique("ix"),
            "fields": [{"name": "t", "type": "text"}],
            "indexes": ["CREATE INDEX {name} ON {name} (t)"],
        },
        {
            "name": unique("ix"),
            "fields": [{"name": "t", "type": "text"}],
            "indexes": ["CREATE INDEX sqlite_x ON {name} (t)"],
        },
        # a table named like an index, or like Hearth's own objects
        {"name": f"idx_{first}"},
        {"name": "idx__collections_name"},
        {"name": "_hearth_x"},
        # two fields, one column
        {
            "name": unique("dup"),
            "fields": [{"name": "Title", "type": "text"}, {"name": "title", "type": "text"}],
        },
        {
            "name": unique("dup"),
            "fields": [{"name": "b" * 70 + "1", "type": "text"}, {"name": "b" * 70 + "2", "type": "text"}],
        },
    ]
    long_name = "c" * 70
    await api.create_collection({"name": long_name + "1", "type": "base"})
    bodies.append({"name": long_name + "2"})  # the same table within PostgreSQL's 63 bytes
    for body in bodies:
        name = body["name"]
        body = {"type": "base", **body}
        body["indexes"] = [i.format(first=first, name=name) for i in body.get("indexes", [])]
        data = assert_error(await api.client.post("/api/collections", json=body, headers=su), 400)
        assert set(data) & {"name", "indexes", "fields"}, (body, data)
        assert (await api.client.get(f"/api/collections/{name}", headers=su)).status_code == 404
    # Renaming into a clash is refused too, and the collection stays as it was.
    other = unique("iy")
    await api.create_collection({"name": other, "type": "base"})
    assert_error(
        await api.client.patch(f"/api/collections/{other}", json={"name": f"idx_{first}"}, headers=su), 400
    )
    assert (await api.client.get(f"/api/collections/{other}", headers=su)).status_code == 200
    # Exact duplicates still merge (the later definition wins), as in PocketBase.
    await api.create_collection(
        {
            "name": unique("dup"),
            "type": "base",
            "fields": [{"name": "a", "type": "text"}, {"name": "a", "type": "number"}],
        }
    )


def test_a_quoting_failure_is_a_400() -> None:
    assert quote("1abc") == '"1abc"'
    for bad in ("", "a b", 'x"y', "ñ", "a\n"):
        with pytest.raises(UnsafeIdentifier) as info:
            quote(bad)
        assert isinstance(info.value, BadRequest) and info.value.status == 400
        assert_no_repr(info.value.envelope())


# ----- stored options ------------------------------------------------------------------------
async def _store_raw(api: Api, name: str, mutate: Any) -> tuple[Any, ...]:
    """Rewrite a collection's `_collections` row through the db layer, the way a PocketBase data
    dir would hold it (`mutate` gets and returns the columns by name, the JSON ones parsed), and
    make every process reload it. Returns the original row."""
    from hearth.schema.repository import collection_row
    from hearth.sql import system

    h = api.app.state.hearth
    c = h.collections.get(name)
    original = collection_row(c)
    columns = dict(zip(system.COLLECTION_COLUMNS, original, strict=True))
    for key in ("fields", "indexes", "options"):
        columns[key] = orjson.loads(columns[key])
    columns = mutate(columns)
    for key in ("fields", "indexes", "options"):
        columns[key] = orjson.dumps(columns[key]).decode()
    await _write_row(api, tuple(columns[k] for k in system.COLLECTION_COLUMNS))
    return original


async def _write_row(api: Api, row: tuple[Any, ...]) -> None:
    from hearth.sql import system

    h = api.app.state.hearth
    d = h.db.dialect
    created = system.COLLECTION_COLUMNS.index("created")
    async with h.db.transaction() as tx:
        await tx.execute(system.update_collection(d), (*row[1:created], *row[created + 1 :], row[0]))
        await tx.execute(system.bump_version(d))
    h.db.bump_generation()


def _pocketbase_forms(columns: dict[str, Any]) -> dict[str, Any]:
    """null for list and object options, missing keys, unknown keys: all forms PocketBase
    itself stores (e.g. `_superusers.options.oauth2.providers: null`)."""
    auth = columns["options"]
    auth["oauth2"]["providers"] = None
    auth["oauth2"]["mappedFields"] = None
    auth["otp"]["emailTemplate"] = None
    auth["authAlert"] = None
    del auth["mfa"]
    del auth["verificationTemplate"]
    auth["futureOption"] = {"x": [1, {"y": None}]}
    auth["authToken"]["extraKey"] = True
    columns["indexes"] = None
    for rule in ("listRule", "viewRule", "createRule", "updateRule", "deleteRule"):
        columns[rule] = None
    return columns


@pytest.mark.parametrize("name", ["_superusers", "users"])
async def test_pocketbase_stored_option_forms_are_tolerated(api: Api, name: str) -> None:
    su = api.su()
    if name == "users":
        await _ok(
            await api.client.post(
                "/api/collections/users/records",
                json={"email": "opt@example.com", "password": "12345678", "passwordConfirm": "12345678"},
            )
        )
    original = await _store_raw(api, name, _pocketbase_forms)
    try:
        listed = await _ok(await api.client.get("/api/collections", params={"perPage": 500}, headers=su))
        shown = next(c for c in listed["items"] if c["name"] == name)
        assert shown["oauth2"]["providers"] == [] and shown["oauth2"]["mappedFields"]["id"] == ""
        assert shown["mfa"] == {"enabled": False, "duration": 600, "rule": ""}
        assert shown["verificationTemplate"]["subject"] and "futureOption" not in shown
        assert_no_repr(shown)
        await _ok(await api.client.get(f"/api/collections/{name}", headers=su))
        await _ok(await api.client.get(f"/api/collections/{name}/records", headers=su))
        await _ok(await api.client.get("/api/collections/users/auth-methods"))
        # The auth flows read the options too.
        who = (
            {"identity": "opt@example.com", "password": "12345678"}
            if name == "users"
            else {"identity": "admin@example.com", "password": "adminpass123"}
        )
        await _ok(await api.client.post(f"/api/collections/{name}/auth-with-password", json=who))
        # Saved again through the API, the options come back whole; null providers are none.
        await _ok(await api.client.patch(f"/api/collections/{name}", json={}, headers=su))
        body = {"oauth2": {"providers": None}}
        got = await _ok(await api.client.patch(f"/api/collections/{name}", json=body, headers=su))
        assert got["oauth2"]["providers"] == []
    finally:
        await _write_row(api, original)


async def test_auth_options_are_typed_as_pocketbase_types_them(api: Api) -> None:
    su = api.su()
    name = unique("opts")
    await api.create_collection(
        {
            "name": name,
            "type": "auth",
            "oauth2": {
                "enabled": True,
                "providers": [
                    {"name": "google", "clientId": "id1", "clientSecret": "secret1", "extra": {"a": [1]}}
                ],
            },
        }
    )
    # null: the option's zero value (PocketBase answers 200 for these too)
    for body in (
        {"oauth2": {"providers": None}},
        {"oauth2": None},
        {"oauth2": {"mappedFields": None}},
        {"passwordAuth": None},
        {"mfa": None},
        {"authRule": None},
    ):
        r = await api.client.patch(f"/api/collections/{name}", json=body, headers=su)
        got = await _ok(r)
        assert got["oauth2"]["providers"] == [] and isinstance(got["oauth2"]["mappedFields"], dict)
        assert isinstance(got["passwordAuth"]["identityFields"], list)
    # null where PocketBase requires a value: its validation errors
    for body, path in (
        ({"authToken": None}, ("authToken", "secret")),
        ({"otp": None}, ("otp", "emailTemplate", "subject")),
        ({"authAlert": {"emailTemplate": None}}, ("authAlert", "emailTemplate", "body")),
        ({"passwordAuth": {"enabled": True, "identityFields": None}}, ("passwordAuth", "identityFields")),
        ({"authToken": {"duration": 5}}, ("authToken", "duration")),
        ({"authToken": {"secret": "short"}}, ("authToken", "secret")),
        ({"otp": {"enabled": True, "duration": 0}}, ("otp", "duration")),
    ):
        data = assert_error(await api.client.patch(f"/api/collections/{name}", json=body, headers=su), 400)
        node: Any = data
        for key in path:
            node = node[key]
        assert node["code"].startswith("validation_"), data
    # a wrong JSON type: PocketBase cannot decode it (400, no data)
    for body in (
        {"mfa": "x"},
        {"otp": {"duration": "x"}},
        {"authToken": {"duration": 1.5}},
        {"passwordAuth": {"identityFields": "email"}},
        {"passwordAuth": {"identityFields": [["email"]]}},
        {"oauth2": {"mappedFields": [1]}},
        {"oauth2": {"mappedFields": {"id": 5}}},
        {"oauth2": {"providers": [1]}},
        {"oauth2": {"providers": {"a": 1}}},
        {"oauth2": {"providers": [{"name": "google", "extra": [1]}]}},
        {"oauth2": {"providers": [{"name": "google", "extra": _nested(100)}]}},
        {"manageRule": 5},
    ):
        r = await api.client.patch(f"/api/collections/{name}", json=body, headers=su)
        assert assert_error(r, 400) == {}, body
        assert r.json()["message"] == "Failed to load the submitted data due to invalid formatting."
    # The collection still answers, and a provider sent without its secret keeps it.
    provider = {"name": "google", "clientId": "id1", "clientSecret": "secret1"}
    await _ok(
        await api.client.patch(
            f"/api/collections/{name}",
            json={"oauth2": {"enabled": True, "providers": [provider]}},
            headers=su,
        )
    )
    r = await api.client.patch(
        f"/api/collections/{name}",
        json={
            "oauth2": {"enabled": True, "providers": [{"name": "google", "clientId": "id2", "unknown": 1}]}
        },
        headers=su,
    )
    got = await _ok(r)
    (provider,) = got["oauth2"]["providers"]
    assert provider["clientId"] == "id2" and "clientSecret" not in provider and "unknown" not in provider
    stored = api.app.state.hearth.collections.get(name).auth["oauth2"]["providers"][0]
    assert stored["clientSecret"] == "secret1"


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


# ----- import --------------------------------------------------------------------------------
def _snapshot(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Collections as an export shows them, minus what a save stamps anew."""
    return {c["name"]: {k: v for k, v in c.items() if k not in ("created", "updated")} for c in items}


async def _export(api: Api) -> list[dict[str, Any]]:
    r = await api.client.get("/api/collections", params={"perPage": 1000}, headers=api.su())
    items: list[dict[str, Any]] = (await _ok(r))["items"]
    return items


async def test_export_import_round_trip(api: Api) -> None:
    """The exact JSON `GET /api/collections` answers (system collections, ids, options and all)
    imports back unchanged, with and without deleteMissing, keeping every record."""
    su = api.su()
    target = unique("rt_a")
    a = await api.create_collection(
        {
            "name": target,
            "type": "base",
            **OPEN,
            "fields": [{"name": "t", "type": "text"}, {"name": "j", "type": "json"}],
            "indexes": [f"CREATE INDEX idx_{target}_t ON {target} (t)"],
        }
    )
    auth = unique("rt_u")
    await api.create_collection(
        {
            "name": auth,
            "type": "auth",
            "fields": [{"name": "rel", "type": "relation", "collectionId": a["id"]}],
            "oauth2": {
                "enabled": True,
                "providers": [{"name": "google", "clientId": "c", "clientSecret": "s"}],
            },
        }
    )
    view = unique("rt_v")
    await api.create_collection({"name": view, "type": "view", "viewQuery": f"SELECT id, t FROM {target}"})
    await _ok(await api.client.post(f"/api/collections/{target}/records", json={"t": "keep", "j": {"a": 1}}))
    before = await _export(api)
    for delete_missing in (False, True):
        r = await api.client.put(
            "/api/collections/import",
            json={"collections": before, "deleteMissing": delete_missing},
            headers=su,
        )
        assert r.status_code == 204, r.text
        assert _snapshot(await _export(api)) == _snapshot(before)
        page = await _ok(await api.client.get(f"/api/collections/{target}/records"))
        assert [(i["t"], i["j"]) for i in page["items"]] == [("keep", {"a": 1})]
    # The provider's secret (never exported) survived.
    stored = api.app.state.hearth.collections.get(auth).auth["oauth2"]["providers"][0]
    assert stored["clientSecret"] == "s"


async def test_import_new_collections_with_ids_and_deleteMissing(api: Api) -> None:
    su = api.su()
    first, second = unique("imp"), unique("imp")
    # Items carry their ids (an export from another instance) and point at each other in any order.
    items = [
        {
            "id": f"id_{first}",
            "name": first,
            "type": "base",
            "listRule": "",
            "fields": [{"name": "other", "type": "relation", "collectionId": f"id_{second}"}],
        },
        {
            "id": f"id_{second}",
            "name": second,
            "type": "auth",
            "fields": [{"id": "text_keep", "name": "keep", "type": "text"}],
        },
    ]
    r = await api.client.put("/api/collections/import", json={"collections": items}, headers=su)
    assert r.status_code == 204, r.text
    got = await _ok(await api.client.get(f"/api/collections/{first}", headers=su))
    assert got["id"] == f"id_{first}" and got["fields"][1]["collectionId"] == f"id_{second}"
    await _ok(await api.client.post(f"/api/collections/{first}/records", json={}, headers=su))

    # Without deleteMissing, fields an item leaves out stay (and so does their data) …
    r = await api.client.put(
        "/api/collections/import",
        json={"collections": [{"id": f"id_{second}", "name": second, "type": "auth", "fields": []}]},
        headers=su,
    )
    assert r.status_code == 204, r.text
    got = await _ok(await api.client.get(f"/api/collections/{second}", headers=su))
    assert "keep" in [f["name"] for f in got["fields"]]
    # … with it, they go, and so do collections the import leaves out (never system ones).
    everything = [c for c in await _export(api) if c["name"] not in (first, second, "_mfas")]
    r = await api.client.put(
        "/api/collections/import",
        json={
            "collections": [
                *everything,
                {"id": f"id_{second}", "name": second, "type": "auth", "fields": []},
            ],
            "deleteMissing": True,
        },
        headers=su,
    )
    assert r.status_code == 204, r.text
    got = await _ok(await api.client.get(f"/api/collections/{second}", headers=su))
    assert "keep" not in [f["name"] for f in got["fields"]] and "email" in [f["name"] for f in got["fields"]]
    names = {c["name"] for c in await _export(api)}
    assert first not in names and {"_superusers", "users", "_mfas"} <= names


async def test_import_of_a_pocketbase_export(api: Api) -> None:
    """A collection exactly as PocketBase 0.40's `GET /api/collections` shows it."""
    name = unique("pbexp")
    pb_item = {
        "id": f"pbc_{name}",
        "listRule": "",
        "viewRule": "",
        "createRule": None,
        "updateRule": None,
        "deleteRule": None,
        "name": name,
        "type": "base",
        "fields": [
            {
                "autogeneratePattern": "[a-z0-9]{15}",
                "hidden": False,
                "id": "text3208210256",
                "max": 15,
                "min": 15,
                "name": "id",
                "pattern": "^[a-z0-9]+$",
                "presentable": False,
                "primaryKey": True,
                "required": True,
                "system": True,
                "type": "text",
            },
            {
                "hidden": False,
                "id": "json1326724116",
                "maxSize": 0,
                "name": "data",
                "presentable": False,
                "required": False,
                "system": False,
                "type": "json",
            },
        ],
        "indexes": [],
        "created": "2026-01-01 00:00:00.000Z",
        "updated": "2026-01-01 00:00:00.000Z",
        "system": False,
    }
    r = await api.client.put("/api/collections/import", json={"collections": [pb_item]}, headers=api.su())
    assert r.status_code == 204, r.text
    got = await _ok(await api.client.get(f"/api/collections/{name}", headers=api.su()))
    assert got["id"] == f"pbc_{name}" and [f["name"] for f in got["fields"]] == ["id", "data"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"collections": [{"name": "a b", "type": "base"}]}, '(pbc_2404009634):\n{\n  "name": '),
        ({"collections": [{"name": "users", "type": "base"}]}, '"users" (_pb_users_auth_)'),
        (
            {"collections": [{"name": "x", "type": "base", "fields": [{"name": "a b", "type": "text"}]}]},
            '"fields"',
        ),
        ({"collections": [{"name": "x", "type": "base", "listRule": "nope = 1"}]}, '"listRule"'),
        ({"collections": [{"name": "x", "type": "base"}], "deleteMissing": "yes"}, None),
        ({"collections": [{"name": "x", "type": "base"}, 5]}, None),
        ({"collections": [{"name": ["x"], "type": "base"}]}, None),
        ({"collections": [{"id": ["x"], "name": "x", "type": "base"}]}, None),
    ],
)
async def test_import_failures_are_clean(api: Api, body: dict[str, Any], expected: str | None) -> None:
    r = await api.client.put("/api/collections/import", json=body, headers=api.su())
    data = assert_error(r, 400)
    if expected is None:
        assert data == {}
    else:
        assert data["collections"]["code"] == "validation_collections_import_failure"
        assert expected in data["collections"]["message"], data


# ----- deep JSON -----------------------------------------------------------------------------
def _arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def _objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _id_of(r: Any) -> str:
    """The record id of a response too deep for the stdlib's JSON decoder (httpx's .json())."""
    assert r.status_code == 200, r.text[:300]
    text: str = r.text
    return text.split('"id":"', 1)[1].split('"', 1)[0]


async def _post_raw(api: Api, url: str, body: str, method: str = "POST", **kw: Any) -> Any:
    headers = {"content-type": "application/json", **kw.pop("headers", {})}
    return await api.client.request(method, url, content=body.encode(), headers=headers, **kw)


async def test_deeply_nested_json_is_stored_and_read_back_or_refused_with_a_400(api: Api) -> None:
    """A guest may send a json field nested 1000 levels deep (it used to be a 500 from 254 on,
    after the record was written); every read of it works on both engines; deeper is a 400."""
    name = unique("deep")
    await api.create_collection(
        {
            "name": name,
            "type": "base",
            **OPEN,
            # the rule reads the submitted value, in SQL, three ways
            "createRule": "@request.body.j != 'x' && @request.body.j:lower != 'y' && @request.body.s:each != 'z'",
            "updateRule": "@request.body.j:changed = true || @request.body.j:changed = false",
            "fields": [
                {"name": "j", "type": "json"},
                {"name": "t", "type": "text"},
                {"name": "s", "type": "select", "values": ["a", "b"], "maxSelect": 2},
            ],
        }
    )
    url = f"/api/collections/{name}/records"
    for depth in (300, 1000):
        for text in (_arrays(depth), _objects(depth)):
            rid = _id_of(await _post_raw(api, url, '{"j":' + text + ',"t":"x"}'))
            for r in (
                await api.client.get(f"{url}/{rid}"),
                await api.client.get(url, params={"filter": f"id = '{rid}'"}),
                await api.client.get(url, params={"filter": "j.a.a = 1 || j = 5", "sort": "-j,t"}),
                await api.client.get(f"{url}/{rid}", params={"fields": "j" + ".a" * 1100}),
                await api.client.get(url, params={"fields": "*,j" + ".a" * 1100}),
            ):
                assert r.status_code == 200, r.text[:300]
            view = await api.client.get(f"{url}/{rid}")
            assert view.text.count("[") + view.text.count('{"a"') >= depth  # all of it came back
            # the same value again (no change), another field, a new deep value
            assert _id_of(await _post_raw(api, f"{url}/{rid}", '{"j":' + text + "}", "PATCH")) == rid
            await _ok(await api.client.patch(f"{url}/{rid}", json={"t": "y"}))
            assert (
                _id_of(await _post_raw(api, f"{url}/{rid}", '{"j":' + _arrays(depth) + "}", "PATCH")) == rid
            )
    # other ways in: a JSON string, a multipart @jsonPayload, a select given nested arrays
    _id_of(await api.client.post(url, json={"j": _arrays(1000)}))
    _id_of(await api.client.post(url, files={"@jsonPayload": (None, '{"j":' + _arrays(1000) + "}")}))
    # (an array holding a non-scalar is no value at all for a select, as PocketBase reads it)
    r = await _post_raw(api, url, '{"s":["a",' + _arrays(1000) + "]}")
    assert (await _ok(r))["s"] == []

    # One level more than SQLite's JSON functions read: a 400 naming the field.
    for body in ('{"j":' + _arrays(1001) + "}", '{"j":' + _objects(1020) + "}"):
        data = assert_error(await _post_raw(api, url, body), 400)
        assert data["j"]["code"] == "validation_json_depth_limit"
    data = assert_error(await api.client.post(url, json={"j": _arrays(1001)}), 400)
    assert data["j"]["code"] == "validation_json_depth_limit"
    # Past what the JSON decoder reads at all (PocketBase's stops at 10000): a 400 too.
    for depth in (5000, 100_000):
        assert_error(await _post_raw(api, url, '{"j":' + _arrays(depth) + "}"), 400)
    # Nothing half-written: only the accepted records exist.
    page = await _ok(await api.client.get(url, params={"perPage": 1, "fields": "id"}))
    assert page["totalItems"] == 7

    # A batch carries the same values.
    await _ok(await api.client.patch("/api/settings", json={"batch": {"enabled": True}}, headers=api.su()))
    try:
        sub = '{"method":"POST","url":"' + url + '","body":{"j":' + _arrays(1000) + "}}"
        r = await _post_raw(api, "/api/batch", '{"requests":[' + sub + "]}")
        assert r.status_code == 200, r.text[:300]
        sub = '{"method":"POST","url":"' + url + '","body":{"j":' + _arrays(1001) + "}}"
        assert_error(await _post_raw(api, "/api/batch", '{"requests":[' + sub + "]}"), 400)
    finally:
        await api.client.patch("/api/settings", json={"batch": {"enabled": False}}, headers=api.su())


async def test_deep_values_in_settings_are_400(api: Api) -> None:
    su = api.su()
    for body in (
        '{"trustedProxy":{"headers":' + _arrays(1000) + "}}",
        '{"superuserIPs":[' + _objects(900) + "]}",
        '{"meta":{"appName":' + _objects(1000) + "}}",
        '{"rateLimits":{"rules":' + _arrays(1000) + "}}",
    ):
        assert_error(await _post_raw(api, "/api/settings", body, "PATCH", headers=su), 400)
    # An unknown key inside a rule is dropped (Go ignores it), however deep.
    rule = '{"label":"/api/x","duration":1,"maxRequests":5,"x":' + _arrays(1000) + "}"
    r = await _post_raw(api, "/api/settings", '{"rateLimits":{"rules":[' + rule + "]}}", "PATCH", headers=su)
    assert r.status_code == 200, r.text[:300]
    (kept,) = r.json()["rateLimits"]["rules"]
    assert kept["label"] == "/api/x" and "x" not in kept


async def test_array_body_values_in_rules_compare_as_json_text(api: Api) -> None:
    """`@request.body.x` holding an array raised while the request ran (a 500 for any guest);
    PocketBase compares it as its JSON text."""
    name = unique("arr")
    await api.create_collection(
        {
            "name": name,
            "type": "base",
            "createRule": "@request.body.j = '[1,2]' || @request.body.s = 'a'",
            "fields": [
                {"name": "j", "type": "json"},
                {"name": "s", "type": "select", "values": ["a", "b"], "maxSelect": 2},
            ],
        }
    )
    url = f"/api/collections/{name}/records"
    await _ok(await api.client.post(url, json={"j": [1, 2]}))
    assert_error(await api.client.post(url, json={"j": [2, 1]}), 400)
    assert_error(await api.client.post(url, json={"s": ["a", "b"]}), 400)  # '["a","b"]' is not 'a'
    assert_error(await api.client.post(url, json={"j": {"x": [[[1]]]}, "s": [["a"]]}), 400)
