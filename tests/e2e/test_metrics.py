"""GET /metrics of a real `hearth serve --workers 2`: a scrape reaches one worker and answers for
both (their requests, realtime clients, pools and processes), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import running_server
from tests.e2e.test_realtime import Stream

TOKEN = "e2e-metrics-token-" + "z" * 16
REQUESTS = 40


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_scrape_answers_for_every_worker(tmp_path: Path, database: str, request: pytest.FixtureRequest) -> None:
    db_url = request.getfixturevalue("pg_url") if database == "postgres" else ""
    with running_server(tmp_path, db_url, 2, "--metrics-token", TOKEN) as url:
        # A client id starts with the tag of the process holding its stream: open streams until
        # both workers hold some (each worker knows only its own).
        streams: list[Stream] = []
        try:
            while len({s.client_id[:8] for s in streams}) < 2:
                assert len(streams) < 30, "every stream went to one worker"
                streams.append(Stream(url))
            # No keep-alive: each request a new connection, which either worker may accept.
            with httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as http:
                for _ in range(REQUESTS):
                    assert http.get(url + "/api/health").status_code == 200
                assert http.get(url + "/metrics").status_code == 401
                answers = [http.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}) for _ in range(6)]
        finally:
            for s in streams:
                s.close()
    for r in answers:
        assert r.status_code == 200, r.text
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(r.text)
            for s in f.samples
        }
        assert samples[("hearth_workers", ())] == 2
        health = ("hearth_http_requests_total", (("method", "GET"), ("route", "/api/health"), ("status", "200")))
        assert samples[health] >= REQUESTS  # the health checks of the start too
        assert samples[("hearth_realtime_clients", ())] == len(streams)
        pids = {dict(labels)["pid"] for name, labels in samples if name == "process_start_time_seconds"}
        assert len(pids) == 2
        if database == "postgres":
            assert samples[("hearth_db_connections_max", ())] == 2 * 10  # each worker's pool
