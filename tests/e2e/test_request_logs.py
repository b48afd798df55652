"""`hearth serve --workers 2 --log-format json` on SQLite: both worker processes write their request
log entries into auxiliary.db side by side (none lost, no lock error reaching a request), what
they still held is written when they stop, and stdout is JSON lines, request entries included."""

from __future__ import annotations

import http.client
import json
import sqlite3
from pathlib import Path

from tests.e2e.conftest import ADMIN, hearth_cli, start_server, stop_server

N = 60


def test_workers_log_every_request_and_print_json_lines(tmp_path: Path) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    server = start_server(tmp_path, "", 2, "--log-format", "json")
    try:
        for i in range(N):  # a connection each: the kernel spreads them over both workers
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", f"/api/health?i={i}", headers={"User-Agent": "e2e-logs"})
            assert conn.getresponse().status == 200
            conn.close()
    finally:
        stop_server(server)  # no wait for the flush interval: the stop writes what is left
    with sqlite3.connect(tmp_path / "auxiliary.db") as db:
        [(stored,)] = db.execute("SELECT COUNT(*) FROM _logs WHERE json_extract(data, '$.userAgent') = 'e2e-logs'")
    assert stored == N
    banner, *lines = [line for line in server.log().splitlines() if line.strip()]
    assert banner.startswith("Hearth ")
    parsed = [json.loads(line) for line in lines]  # every line after the banner is one JSON object
    requests = [p for p in parsed if p["logger"] == "hearth.request" and p["data"]["userAgent"] == "e2e-logs"]
    assert len(requests) == N and {p["level"] for p in requests} == {"INFO"}
    assert sorted(int(p["data"]["url"].rpartition("=")[2]) for p in requests) == list(range(N))
