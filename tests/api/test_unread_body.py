"""An answer given before the request body was read keeps the connection usable or says it closes.

Found by the request fuzzer (tests/fuzz): a 401 to a 200 kB import from a guest came back without
`Connection: close`, then the server dropped the socket, so a keep-alive client's next request
failed with "server disconnected". Like Go's net/http (PocketBase), Hearth now reads up to 256 KiB
of an unread body and otherwise announces `Connection: close`.
"""

from __future__ import annotations

from tests.conftest import Api


async def test_unread_small_body_is_drained(api: Api) -> None:
    r = await api.client.put(
        "/api/collections/import", content=b"x" * 200_000, headers={"content-type": "application/json"}
    )
    assert r.status_code == 401
    assert "connection" not in r.headers


async def test_unread_large_body_closes_the_connection(api: Api) -> None:
    for method, url in [("PUT", "/api/collections/import"), ("POST", "/api/nope"), ("PATCH", "/api/settings")]:
        r = await api.client.request(
            method, url, content=b"x" * 1_000_000, headers={"content-type": "application/json"}
        )
        assert 400 <= r.status_code < 500
        assert r.headers["connection"] == "close", (method, url)
        assert set(r.json()) == {"status", "message", "data"}


async def test_read_body_keeps_the_connection(api: Api) -> None:
    coll = "unread_" + api.dialect
    await api.create_collection(
        {"name": coll, "type": "base", "createRule": "", "fields": [{"name": "t", "type": "text"}]}
    )
    r = await api.client.post(f"/api/collections/{coll}/records", json={"t": "x" * 4000})
    assert r.status_code == 200 and "connection" not in r.headers
