"""Cron through a running Hearth: PocketBase's crons API, the schedule's ticks becoming one job per
cron and minute however many schedulers (processes, instances) enqueue it, and the expressions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from hearth.jobs.cron import CronExpressionError, Crons, CronScheduler, is_due, parse
from hearth.jobs.queue import JobQueue
from tests.api.test_jobs import wait_state
from tests.conftest import Api, unique


def crons_of(api: Api) -> Crons:
    c: Crons = api.app.state.hearth.crons
    return c


@pytest.fixture
async def cron(api: Api) -> AsyncIterator[Callable[..., str]]:
    ids: list[str] = []

    def add(prefix: str, expression: str, fn: Any) -> str:
        cid = unique(prefix)
        crons_of(api).add(cid, expression, fn)
        ids.append(cid)
        return cid

    yield add
    for cid in ids:
        crons_of(api).remove(cid)


async def test_crons_api_lists_and_runs(api: Api, cron: Any) -> None:
    ran: list[str] = []
    # Schedules that do not come due while the test runs (the app's scheduler is live).
    digest = cron("digest", "0 7 1 1 *", lambda: ran.append("digest"))
    hourly = cron("cleanup", "@yearly", lambda: ran.append("cleanup"))
    r = await api.client.get("/api/crons", headers=api.su())
    assert r.status_code == 200
    listed = r.json()
    assert {"id": digest, "expression": "0 7 1 1 *"} in listed
    assert {"id": hourly, "expression": "@yearly"} in listed
    own = [c for c in listed if c["id"].startswith("__hearth")]
    assert {"id": "__hearthJobsCleanup__", "expression": "0 * * * *"} in own
    assert own and listed[-len(own) :] == own  # Hearth's own last
    ids = [c["id"] for c in listed if not c["id"].startswith("__")]
    assert ids == sorted(ids)
    r = await api.client.post(f"/api/crons/{digest}", headers=api.su())
    assert r.status_code == 204 and r.content == b""
    end = time.monotonic() + 5
    while not ran and time.monotonic() < end:
        await asyncio.sleep(0.05)
    assert ran == ["digest"]


async def test_crons_api_refuses(api: Api) -> None:
    for method, path in (("GET", "/api/crons"), ("POST", "/api/crons/__hearthJobsCleanup__")):
        r = await api.client.request(method, path)
        assert r.status_code == 401
        assert r.json() == {"data": {}, "message": "The request requires valid record authorization token.",
                            "status": 401}  # fmt: skip
    r = await api.client.post("/api/crons/nope", headers=api.su())
    assert r.status_code == 404 and r.json() == {"data": {}, "message": "Missing or invalid cron job.", "status": 404}


async def test_one_job_per_cron_and_tick_whatever_the_number_of_schedulers(api: Api, cron: Any) -> None:
    """Three schedulers (three processes or instances) tick the same minute: one job runs."""
    ran: list[Any] = []

    async def report(e: Any) -> None:
        ran.append(e.payload)

    # Due at the test's minute, and not while the test runs (the app's own scheduler ticks too).
    every = cron("may6", "8 7 6 5 *", report)
    never = cron("never", "0 0 1 1 *", lambda: ran.append("never"))
    db = api.app.state.hearth.db
    schedulers = [CronScheduler(crons_of(api), JobQueue(db)) for _ in range(3)]
    minute = datetime(2024, 5, 6, 7, 8, tzinfo=UTC)  # not January 1st: `never` is not due
    added = await asyncio.gather(*(s.tick(minute) for s in schedulers))
    assert sorted(added) == [0, 0, 1]
    r = await api.client.get("/api/hearth/jobs", params={"name": f"cron:{every}"}, headers=api.su())
    jobs = r.json()["items"]
    assert len(jobs) == 1 and jobs[0]["key"] == f"cron:{every}:{int(minute.timestamp() * 1000)}"
    await wait_state(api, jobs[0]["id"], "done")
    assert ran == [{"cron": every, "tick": minute.isoformat()}]
    r = await api.client.get("/api/hearth/jobs", params={"name": f"cron:{never}"}, headers=api.su())
    assert r.json()["totalItems"] == 0


async def test_ticks_missed_while_nothing_ran_are_reported_not_replayed(
    api: Api, cron: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Every 5 minutes of one hour a year: the app's own scheduler does not tick it meanwhile.
    every = cron("every5", "*/5 7 6 5 *", lambda: None)
    db = api.app.state.hearth.db
    last = datetime(2024, 5, 6, 7, 5, tzinfo=UTC)
    assert await CronScheduler(crons_of(api), JobQueue(db)).tick(last) == 1
    # Started again at 08:00:30: 07:10 ... 07:55 fell while nothing ran (10 ticks).
    later = CronScheduler(crons_of(api), JobQueue(db), clock=lambda: datetime(2024, 5, 6, 8, 0, 30, tzinfo=UTC).timestamp())
    with caplog.at_level("WARNING", logger="hearth.jobs"):
        missed = await later.report_missed()
    assert missed[every] == 10
    assert any(f"cron {every}: 10 tick(s) since 2024-05-06T07:05:00+00:00" in r.getMessage() for r in caplog.records)
    r = await api.client.get("/api/hearth/jobs", params={"name": f"cron:{every}"}, headers=api.su())
    assert r.json()["totalItems"] == 1  # reported, not replayed


def test_expressions() -> None:
    assert parse("@daily") == "0 0 * * *" and parse("@annually") == "0 0 1 1 *"
    assert parse("*/5 1-3 * * 1-5") == "*/5 1-3 * * 1-5"
    for bad in ("* * * *", "* * * * * *", "60 * * * *", "*/0 * * * *", "@every 5m", "a b c d e", "", "0 0 31 2 *"):
        with pytest.raises(CronExpressionError):
            parse(bad)
    at = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # a Monday
    assert is_due("0 7 * * *", at) and not is_due("0 7 * * *", at.replace(minute=1))
    assert is_due("0 7 * * 1", at) and not is_due("0 7 * * 0", at)
    assert is_due("*/15 * * * *", at.replace(minute=45)) and not is_due("*/15 * * * *", at.replace(minute=44))
    # Standard cron: both day fields restricted, either one matching is enough (7th is a Monday).
    assert is_due("0 7 1 * 1", at)


async def test_cron_ids_and_expressions_are_checked(api: Api) -> None:
    with pytest.raises(CronExpressionError):
        crons_of(api).add("bad", "every day", lambda: None)
    with pytest.raises(ValueError):
        crons_of(api).add("has space", "@daily", lambda: None)
    assert crons_of(api).get("bad") is None

