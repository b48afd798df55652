"""Keep-alive over a real `hearth serve`: a request whose body the server did not read (a 401 to a
large upload) must not break the next request on the same connection (found by tests/fuzz)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.conftest import ADMIN, hearth_cli, running_server


def test_next_request_after_an_unread_body(tmp_path: Path) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path) as url, httpx.Client(base_url=url, timeout=10) as client:
        for size in (1_000, 200_000, 2_000_000):
            r = client.put(
                "/api/collections/import", content=b"x" * size, headers={"content-type": "application/json"}
            )
            assert r.status_code == 401
            # Same client, pooled connection: must not fail with "server disconnected".
            for _ in range(3):
                assert client.get("/api/health").status_code == 200
