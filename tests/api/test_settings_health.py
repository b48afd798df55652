"""Settings API and health."""

from __future__ import annotations

from tests.conftest import Api


async def test_settings_defaults_hide_secrets(api: Api) -> None:
    r = await api.client.get("/api/settings")
    assert r.status_code == 401
    r = await api.client.get("/api/settings", headers=api.su())
    body = r.json()
    assert body["meta"]["appName"] == "Acme" and body["batch"]["enabled"] is False
    assert "password" not in body["smtp"] and "secret" not in body["s3"]


async def test_settings_patch_validates_and_persists(api: Api) -> None:
    r = await api.client.patch("/api/settings", json={"meta": {"appName": ""}}, headers=api.su())
    assert r.status_code == 400 and r.json()["data"]["meta"]["appName"]["code"] == "validation_required"
    r = await api.client.patch("/api/settings", json={"smtp": {"tls": "yes"}}, headers=api.su())
    assert r.status_code == 400
    r = await api.client.patch(
        "/api/settings",
        json={"meta": {"appName": "Hearth Test"}, "smtp": {"password": "s3cret"}},
        headers=api.su(),
    )
    assert r.status_code == 200 and r.json()["meta"]["appName"] == "Hearth Test"
    assert "password" not in r.json()["smtp"]
    r = await api.client.get("/api/settings", headers=api.su())
    assert r.json()["meta"]["appName"] == "Hearth Test"
    await api.client.patch("/api/settings", json={"meta": {"appName": "Acme"}}, headers=api.su())


async def test_health(api: Api) -> None:
    r = await api.client.get("/api/health")
    assert r.json() == {"message": "API is healthy.", "code": 200, "data": {}}
    r = await api.client.get("/api/health", headers=api.su())
    assert r.json()["data"]["canBackup"] is True


async def test_unknown_routes_and_methods_are_404_envelopes(api: Api) -> None:
    for method, url in (("GET", "/api/nope"), ("PUT", "/api/health"), ("GET", "/nope")):
        r = await api.client.request(method, url)
        assert r.status_code == 404 and set(r.json()) == {"data", "message", "status"}
