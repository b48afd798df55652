"""GET /metrics (docs/operations.md, "Metrics"): the token, Prometheus' text format, and figures
that follow what the instance did. Across worker processes: tests/e2e/test_metrics.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hearth.config import Config
from hearth.hooks.events import JobRun
from tests.api.test_outage import _pg_addr, proxied_url
from tests.conftest import OPEN, Api, module_config, start_api, unique
from tests.support.realtime import next_chunk
from tests.support.tcp_proxy import TcpProxy

TOKEN = "metrics-token-" + "x" * 20
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def mapi(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_database: str | None
) -> AsyncIterator[Api]:
    """A Hearth with metrics on."""
    config = await module_config(request.param, tmp_path_factory, pg_database, metrics_token=TOKEN)
    async for api in start_api(config, request.param):
        yield api


async def scrape(api: Api) -> tuple[Samples, dict[str, Any]]:
    """The samples of one scrape, and its families by name (parsed by prometheus_client)."""
    r = await api.client.get("/metrics", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    samples = {(s.name, frozenset(s.labels.items())): s.value for f in families.values() for s in f.samples}
    return samples, families


def value(samples: Samples, sample: str, /, **labels: str) -> float:
    return samples.get((sample, frozenset(labels.items())), 0.0)


async def test_off_without_a_token_as_an_unknown_path(tmp_path: Path) -> None:
    # SQLite only: whether metrics are on does not depend on the database (and a second Hearth
    # on the module's PostgreSQL database would run its jobs).
    async for api in start_api(Config(data_dir=tmp_path), "sqlite"):
        r = await api.client.get("/metrics", headers=AUTH)
        unknown = await api.client.get("/no-such-path")
        assert r.status_code == 404 and r.json() == unknown.json()
        assert api.app.state.hearth.metrics is None
        assert "hearth.metrics" not in api.app.state.hearth.hooks.request_done.ids()


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-of-some-length"}, {"Authorization": TOKEN},
     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"}],
)  # fmt: skip
async def test_refused_without_the_right_token(mapi: Api, headers: dict[str, str]) -> None:
    r = await mapi.client.get("/metrics", headers=headers)
    assert r.status_code == 401
    assert r.json() == {
        "status": 401,
        "message": "The request requires the metrics token (Authorization: Bearer TOKEN).",
        "data": {},
    }


async def test_the_text_format_parses_with_help_for_every_family(mapi: Api) -> None:
    r = await mapi.client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert r.status_code == 200
    _, families = await scrape(mapi)
    for name in (
        "hearth_http_requests", "hearth_http_request_duration_seconds", "hearth_http_requests_in_flight",
        "hearth_realtime_clients", "hearth_realtime_subscriptions", "hearth_realtime_events_sent",
        "hearth_jobs", "hearth_job_runs", "hearth_job_failures", "hearth_db_connections",
        "hearth_db_connections_in_use", "hearth_db_connections_max", "hearth_build_info", "hearth_workers",
        "hearth_database_up", "process_resident_memory_bytes", "process_cpu_seconds",
    ):  # fmt: skip
        assert name in families and families[name].documentation, name
    assert all(n.startswith(("hearth_", "process_")) for n in families)
    [info] = families["hearth_build_info"].samples
    assert info.labels["database"] == ("postgresql" if mapi.dialect == "postgres" else "sqlite")
    samples, _ = await scrape(mapi)
    assert value(samples, "hearth_workers") == 1 and value(samples, "hearth_database_up") == 1


async def test_requests_are_counted_by_route_template_never_by_path(mapi: Api) -> None:
    name = unique("notes")
    await mapi.create_collection({"name": name, "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]})
    rid = (await mapi.client.post(f"/api/collections/{name}/records", json={"t": "a"})).json()["id"]
    route = "/api/collections/{collection}/records/{id}"
    before, _ = await scrape(mapi)
    for _ in range(3):
        assert (await mapi.client.get(f"/api/collections/{name}/records/{rid}")).status_code == 200
    assert (await mapi.client.get(f"/api/collections/{name}/records/{'q' * 15}")).status_code == 404
    after, families = await scrape(mapi)

    def moved(sample: str, **labels: str) -> float:
        return value(after, sample, **labels) - value(before, sample, **labels)

    assert moved("hearth_http_requests_total", method="GET", route=route, status="200") == 3
    assert moved("hearth_http_requests_total", method="GET", route=route, status="404") == 1
    ok = {"method": "GET", "route": route, "status_class": "2xx"}
    assert moved("hearth_http_request_duration_seconds_count", **ok) == 3
    assert moved("hearth_http_request_duration_seconds_bucket", le="+Inf", **ok) == 3
    assert 0 < moved("hearth_http_request_duration_seconds_sum", **ok) < 3
    labels = {v for f in families.values() for s in f.samples for v in s.labels.values()}
    assert not any(name in v or rid in v for v in labels)  # neither the collection nor the id
    # The scrape before this one is counted too, once answered.
    assert moved("hearth_http_requests_total", method="GET", route="/metrics", status="200") >= 1


async def test_unmatched_paths_and_odd_methods_share_one_label_value(mapi: Api) -> None:
    before, families = await scrape(mapi)
    routes_before = {s.labels["route"] for s in families["hearth_http_requests"].samples}
    for i in range(5):
        assert (await mapi.client.get(f"/no/such/{unique('path')}/{i}")).status_code == 404
    assert (await mapi.client.request("BREW", "/coffee")).status_code == 404
    after, families = await scrape(mapi)
    routes = {s.labels["route"] for s in families["hearth_http_requests"].samples}
    assert routes - routes_before <= {"unmatched", "/metrics"}
    assert value(after, "hearth_http_requests_total", method="GET", route="unmatched", status="404") - value(
        before, "hearth_http_requests_total", method="GET", route="unmatched", status="404"
    ) == 5
    assert value(after, "hearth_http_requests_total", method="other", route="unmatched", status="404") >= 1
    assert all(s.labels["method"] != "BREW" for s in families["hearth_http_requests"].samples)


async def test_realtime_gauges_follow_clients_subscriptions_and_events(mapi: Api) -> None:
    hub = mapi.app.state.hearth.realtime
    name = unique("live")
    await mapi.create_collection({"name": name, "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]})
    before, _ = await scrape(mapi)
    a, b = await hub.connect("127.0.0.1"), await hub.connect("127.0.0.1")
    try:
        for client, subs in ((a, [name]), (b, [name, f"{name}/x", "users"])):
            r = await mapi.client.post("/api/realtime", json={"clientId": client.id, "subscriptions": subs})
            assert r.status_code == 204, r.text
        now, _ = await scrape(mapi)
        assert value(now, "hearth_realtime_clients") == value(before, "hearth_realtime_clients") + 2
        assert value(now, "hearth_realtime_subscriptions") == value(before, "hearth_realtime_subscriptions") + 4
        assert (await mapi.client.post(f"/api/collections/{name}/records", json={"t": "hi"})).status_code == 200
        for client in (a, b):
            while b'"action":"create"' not in (await asyncio.wait_for(next_chunk(client), 5) or b""):
                pass
        sent, _ = await scrape(mapi)
        assert value(sent, "hearth_realtime_events_sent_total") - value(before, "hearth_realtime_events_sent_total") == 2
    finally:
        hub.disconnect(a)
        hub.disconnect(b)
    gone, _ = await scrape(mapi)
    assert value(gone, "hearth_realtime_clients") == value(before, "hearth_realtime_clients")


async def test_job_gauges_and_counters_follow_the_queue(mapi: Api) -> None:
    hearth = mapi.app.state.hearth
    name = unique("flaky")
    runs: list[int] = []

    async def work(e: JobRun) -> None:
        runs.append(e.attempt)
        if e.attempt == 1:
            raise ValueError("first attempt fails")

    hearth.job_functions.register(name, work, 30.0)
    try:
        before, _ = await scrape(mapi)
        later = await hearth.jobs.enqueue(name, delay=3600)
        now, _ = await scrape(mapi)
        assert value(now, "hearth_jobs", state="pending") == value(before, "hearth_jobs", state="pending") + 1
        await hearth.jobs.cancel(later.id)
        now, _ = await scrape(mapi)
        assert value(now, "hearth_jobs", state="cancelled") == value(before, "hearth_jobs", state="cancelled") + 1
        await hearth.jobs.enqueue(name, retries=1, backoff=0.05)
        end = time.monotonic() + 10
        while len(runs) < 2 and time.monotonic() < end:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)  # the second attempt's end is counted after its function returns
        done, _ = await scrape(mapi)
        assert value(done, "hearth_job_runs_total", name=name) == 2
        assert value(done, "hearth_job_failures_total", name=name) == 1
    finally:
        hearth.job_functions.unregister(name)


async def test_pool_gauges(mapi: Api) -> None:
    samples, _ = await scrape(mapi)
    open_, in_use, most = (value(samples, f"hearth_db_connections{s}") for s in ("", "_in_use", "_max"))
    if mapi.dialect == "postgres":
        # Its own pool's figures: the LISTEN connection is always checked out, the scrape's
        # jobs query was given back before the gauges were read.
        assert most == mapi.app.state.hearth.config.pg_pool_size
        assert 1 <= in_use <= open_ <= most
    else:
        assert (open_, in_use, most) == (2, 0, 2)


async def test_during_a_postgres_outage_metrics_answer_and_health_refuses(
    pg_database: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readiness: /api/health is 503 while the database cannot be reached, 200 once it can
    again; /metrics keeps answering and says so (hearth_database_up)."""
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    monkeypatch.setenv("HEARTH_DB_TIMEOUT", "1")
    monkeypatch.setenv("HEARTH_DB_QUERY_TIMEOUT", "2")
    with TcpProxy(*_pg_addr()) as proxy:
        config = Config(
            data_dir=tmp_path, db_url=proxied_url(proxy, pg_database.rsplit("/", 1)[1]), jobs=0, metrics_token=TOKEN
        )
        async for api in start_api(config, "postgres"):
            proxy.cut()
            # At once, or as soon as the lost LISTEN connection is noticed (the schema counter is
            # read from the database again on each request then; at the latest after 1 s).
            await until_health(api, 503, within=3)
            samples, families = await scrape(api)
            assert value(samples, "hearth_database_up") == 0 and "hearth_jobs" not in families
            assert value(samples, "hearth_http_requests_total", method="GET", route="/api/health", status="503") >= 1
            proxy.restore()
            await until_health(api, 200, within=10)
            samples, _ = await scrape(api)
            assert value(samples, "hearth_database_up") == 1


async def until_health(api: Api, status: int, within: float) -> None:
    end = time.monotonic() + within
    while (r := await api.client.get("/api/health")).status_code != status:
        assert time.monotonic() < end, (status, r.status_code, r.text)
        await asyncio.sleep(0.05)


async def test_requests_in_flight(mapi: Api) -> None:
    from starlette.requests import Request
    from starlette.responses import Response

    from hearth.http.router import route

    started, release = asyncio.Event(), asyncio.Event()

    async def slow(request: Request) -> Response:
        started.set()
        await release.wait()
        return Response(b"done")

    extra = route("GET", f"/api/{unique('slow')}", slow)
    mapi.app.router.add(extra)
    try:
        pending = asyncio.create_task(mapi.client.get(extra.path))
        await asyncio.wait_for(started.wait(), 5)
        during, _ = await scrape(mapi)
        release.set()
        assert (await pending).status_code == 200
        after, _ = await scrape(mapi)
    finally:
        mapi.app.router.remove(extra)
    assert value(during, "hearth_http_requests_in_flight") == 2  # the slow request and the scrape
    assert value(after, "hearth_http_requests_in_flight") == 1
