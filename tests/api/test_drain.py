"""Draining (SIGUSR2, hearth.http.drain): requests a load balancer may send elsewhere are answered
503 without being run, POST and PATCH are served, every response closes its connection."""

from __future__ import annotations

from tests.conftest import OPEN, Api, unique


async def test_draining_sends_away_all_but_post_and_patch(api: Api) -> None:
    name = unique("drained")
    await api.create_collection(
        {"name": name, "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]}
    )
    base = f"/api/collections/{name}/records"
    r = await api.client.post(base, json={"t": "before"})
    assert r.status_code == 200 and "connection" not in r.headers
    rid = r.json()["id"]
    drain = api.app.drain
    drain.begin()
    try:
        proxied = {"X-Forwarded-For": "203.0.113.7"}
        for method, url in (("GET", base), ("GET", f"{base}/{rid}"), ("DELETE", f"{base}/{rid}"),
                            ("GET", "/api/health"), ("PUT", "/api/collections/import")):  # fmt: skip
            r = await api.client.request(method, url, headers=proxied)
            assert r.status_code == 503, (method, url, r.text)
            assert r.headers["connection"] == "close" and r.headers["retry-after"] == "1"
            assert r.json() == {
                "status": 503,
                "message": "This server is being taken out of service; try again.",
                "data": {},
            }
        # Not run: the record is still there once the drain is over (checked below).
        assert drain.proxied == 5
        r = await api.client.get("/api/health")  # not through a proxy: not counted as sent away
        assert r.status_code == 503 and r.headers["x-hearth-sent-away"] == "5"
        r = await api.client.post(base, json={"t": "during"})
        assert r.status_code == 200 and r.headers["connection"] == "close", r.text
        r = await api.client.patch(f"{base}/{rid}", json={"t": "patched"})
        assert r.status_code == 200 and r.headers["connection"] == "close", r.text
    finally:
        drain.active = False
    r = await api.client.get(f"{base}/{rid}")
    assert r.status_code == 200 and r.json()["t"] == "patched"
