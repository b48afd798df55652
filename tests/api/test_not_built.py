"""PocketBase endpoints Hearth has not built yet answer so, naming the feature (not a generic 404)."""

from __future__ import annotations

from tests.conftest import Api


async def test_features_not_built_yet_say_so(api: Api) -> None:
    for method, path, feature in (("GET", "/api/logs", "Request logs"), ("GET", "/api/logs/stats", "Request logs")):
        assert (await api.client.request(method, path)).status_code == 401
        r = await api.client.request(method, path, headers=api.su())
        assert r.status_code == 404 and r.json()["message"] == f"{feature} are not built in Hearth yet.", r.text
