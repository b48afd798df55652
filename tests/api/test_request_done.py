"""The request_done event: what request logs and metrics observe of every answered request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hearth.errors import ApiError
from hearth.hooks.events import RequestDone
from tests.conftest import Api


@pytest.fixture
def seen(api: Api) -> Iterator[list[RequestDone]]:
    events: list[RequestDone] = []
    hook = api.app.state.hearth.hooks.request_done

    async def record(e: RequestDone) -> None:
        events.append(e)
        await e.next()

    hid = hook.bind(record)
    try:
        yield events
    finally:
        hook.unbind(hid)


async def test_a_matched_route_names_its_template_status_and_requester(api: Api, seen: list[RequestDone]) -> None:
    r = await api.client.get(
        "/api/collections/_superusers/records?perPage=1",
        headers={**api.su(), "User-Agent": "probe/1", "Referer": "http://x/"},
    )
    assert r.status_code == 200
    [e] = seen
    assert (e.method, e.path, e.query) == ("GET", "/api/collections/_superusers/records", "perPage=1")
    assert e.route == "GET /api/collections/{collection}/records"
    assert e.status == 200 and e.error is None
    assert 0 < e.duration < 5 and e.started > 1.7e9
    assert e.header(b"user-agent") == "probe/1" and e.header(b"referer") == "http://x/"
    assert e.header(b"x-missing") == ""
    assert e.auth is not None and e.auth.is_superuser


async def test_errors_and_unmatched_paths_are_observed_too(api: Api, seen: list[RequestDone]) -> None:
    r = await api.client.get("/api/collections/nope/records")
    assert r.status_code == 404
    r2 = await api.client.get("/api/no/such/route")
    assert r2.status_code == 404
    r3 = await api.client.post("/api/collections", content=b"{", headers=api.su())
    assert r3.status_code == 400
    first, unmatched, bad = seen
    assert first.status == 404 and first.route.endswith("/records") and isinstance(first.error, ApiError)
    assert unmatched.status == 404 and unmatched.route == "" and unmatched.auth is None
    assert bad.status == 400 and bad.route == "POST /api/collections" and isinstance(bad.error, ApiError)


async def test_a_failing_observer_does_not_change_the_answer(api: Api) -> None:
    hook = api.app.state.hearth.hooks.request_done

    def broken(e: Any) -> None:
        raise RuntimeError("observer bug")

    hid = hook.bind(broken)
    try:
        r = await api.client.get("/api/health")
    finally:
        hook.unbind(hid)
    assert r.status_code == 200 and r.json()["message"] == "API is healthy."
