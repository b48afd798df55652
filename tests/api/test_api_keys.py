"""API keys: created once by a superuser, scoped, revocable, never stored in clear."""

from __future__ import annotations

from tests.conftest import OPEN, Api, unique

URL = "/api/hearth/api-keys"


async def make_key(api: Api, scopes: list[str], **extra: object) -> dict[str, object]:
    r = await api.client.post(URL, json={"name": "ci", "scopes": scopes, **extra}, headers=api.su())
    assert r.status_code == 200, r.text
    return r.json()


async def test_scoped_keys_reach_only_their_collections(api: Api) -> None:
    locked = {
        **OPEN,
        "listRule": None,
        "viewRule": None,
        "createRule": None,
        "updateRule": None,
        "deleteRule": None,
    }
    a = await api.create_collection(
        {"name": unique("ka"), "type": "base", **locked, "fields": [{"name": "t", "type": "text"}]}
    )
    b = await api.create_collection(
        {"name": unique("kb"), "type": "base", **locked, "fields": [{"name": "t", "type": "text"}]}
    )
    key = await make_key(api, [f"{a['name']}:read", f"{a['name']}:write", f"{b['name']}:read"])
    assert str(key["key"]).startswith("hk_") and key["scopes"] == sorted(key["scopes"])  # type: ignore[arg-type]
    h = {"Authorization": f"Bearer {key['key']}"}
    c = api.client
    # Superuser-only collections (null rules) open up within the scopes.
    r = await c.post(f"/api/collections/{a['name']}/records", json={"t": "x"}, headers=h)
    assert r.status_code == 200, r.text
    assert (await c.get(f"/api/collections/{a['name']}/records", headers=h)).json()["totalItems"] == 1
    # The collection id works like its name.
    assert (await c.get(f"/api/collections/{a['id']}/records", headers=h)).status_code == 200
    assert (await c.get(f"/api/collections/{b['name']}/records", headers=h)).status_code == 200
    r = await c.post(f"/api/collections/{b['name']}/records", json={"t": "x"}, headers=h)
    assert r.status_code == 403 and "write" in r.json()["message"]
    # Nothing beyond the records API without the admin scope.
    assert (await c.get("/api/collections", headers=h)).status_code == 403
    assert (await c.get("/api/settings", headers=h)).status_code == 403
    assert (await c.post(URL, json={"name": "x", "scopes": ["admin"]}, headers=h)).status_code == 403


async def test_keys_are_listed_without_secrets_and_revocable(api: Api) -> None:
    coll = await api.create_collection(
        {"name": unique("kc"), "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]}
    )
    key = await make_key(api, ["*:read", "admin"])
    h = {"Authorization": str(key["key"])}
    c = api.client
    assert (await c.get("/api/collections", headers=h)).status_code == 200, "admin scope"
    listed = (await c.get(URL, headers=api.su())).json()
    mine = next(k for k in listed if k["id"] == key["id"])
    assert "key" not in mine and "secret_hash" not in mine and mine["scopes"] == ["*:read", "admin"]
    # A wrong secret with the right id is nobody.
    forged = str(key["key"])[:-4] + "abcd"
    assert (await c.get("/api/collections", headers={"Authorization": forged})).status_code == 401
    assert (await c.delete(f"{URL}/{key['id']}", headers=api.su())).status_code == 204
    assert (await c.delete(f"{URL}/{key['id']}", headers=api.su())).status_code == 404
    assert (await c.get("/api/collections", headers=h)).status_code == 401
    r = await c.get(f"/api/collections/{coll['name']}/records", headers=h)
    assert r.status_code == 200, "a dead key is a guest on public routes"


async def test_key_management_validation_and_expiry(api: Api) -> None:
    c = api.client
    for body in (
        {},
        {"name": "x"},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["posts:delete"]},
        {"name": "x", "scopes": ["admin"], "duration": -1},
        {"name": "", "scopes": ["admin"]},
    ):
        r = await c.post(URL, json=body, headers=api.su())
        assert r.status_code == 400, body
    assert (await c.get(URL)).status_code == 401
    key = await make_key(api, ["admin"], duration=1)
    h = {"Authorization": str(key["key"])}
    assert (await c.get("/api/collections", headers=h)).status_code == 200
    import asyncio

    await asyncio.sleep(1.2)
    assert (await c.get("/api/collections", headers=h)).status_code == 401
