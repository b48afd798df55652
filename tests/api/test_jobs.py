"""Durable jobs through a running Hearth (SQLite and PostgreSQL): functions run by the in-process
worker, retries with backoff, dead letters, the transaction a job belongs to, idempotency keys,
an expired lease, and the superuser API (`/api/hearth/jobs`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from hearth.errors import BadRequest
from hearth.hooks.events import JobRun, RecordWrite
from hearth.jobs.queue import JobQueue
from hearth.jobs.worker import JobFunctions
from tests.conftest import Api, unique

OPEN = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}


def queue_of(api: Api) -> JobQueue:
    q: JobQueue = api.app.state.hearth.jobs
    return q


def functions_of(api: Api) -> JobFunctions:
    f: JobFunctions = api.app.state.hearth.job_functions
    return f


@pytest.fixture
async def registered(api: Api) -> AsyncIterator[Callable[[str, Any], str]]:
    """Register job functions under unique names for one test."""
    names: list[str] = []

    def add(prefix: str, fn: Any, timeout: float = 30.0) -> str:
        name = unique(prefix)
        functions_of(api).register(name, fn, timeout)
        names.append(name)
        return name

    yield add
    for name in names:
        functions_of(api).unregister(name)


async def job_state(api: Api, jid: str) -> dict[str, Any]:
    r = await api.client.get(f"/api/hearth/jobs/{jid}", headers=api.su())
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def wait_state(api: Api, jid: str, state: str, timeout: float = 10.0) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        job = await job_state(api, jid)
        if job["state"] == state or time.monotonic() > end:
            assert job["state"] == state, job
            return job
        await asyncio.sleep(0.05)


async def test_a_job_runs_with_its_payload(api: Api, registered: Any) -> None:
    seen: list[tuple[Any, int, str]] = []

    async def work(e: JobRun) -> None:
        seen.append((e.payload, e.attempt, e.id))

    name = registered("invoice", work)
    job = await queue_of(api).enqueue(name, {"order": 42, "items": ["a", "b"]})
    assert job.new and job.state == "pending"
    done = await wait_state(api, job.id, "done")
    assert seen == [({"order": 42, "items": ["a", "b"]}, 1, job.id)]
    assert done["attempts"] == 1 and done["lastError"] == "" and done["finished"] != ""
    assert done["name"] == name and done["payload"] == {"order": 42, "items": ["a", "b"]}


async def test_a_plain_function_runs_in_a_thread(api: Api, registered: Any) -> None:
    import threading

    threads: list[str] = []
    name = registered("plain", lambda e: threads.append(threading.current_thread().name))
    job = await queue_of(api).enqueue(name)
    await wait_state(api, job.id, "done")
    assert threads and threads[0] != threading.main_thread().name


async def test_fails_twice_then_succeeds(api: Api, registered: Any) -> None:
    attempts: list[float] = []

    async def flaky(e: JobRun) -> None:
        attempts.append(time.monotonic())
        if e.attempt < 3:
            raise ConnectionError(f"partner down (attempt {e.attempt})")

    name = registered("flaky", flaky)
    job = await queue_of(api).enqueue(name, retries=3, backoff=0.2)
    done = await wait_state(api, job.id, "done")
    assert len(attempts) == 3 and done["attempts"] == 3
    # Backoff with jitter: 0.1-0.2 s before the 2nd attempt, 0.2-0.4 s before the 3rd.
    assert attempts[1] - attempts[0] >= 0.1 and attempts[2] - attempts[1] >= 0.2
    assert done["lastError"] == "ConnectionError: partner down (attempt 2)"


async def test_attempts_used_up_leave_a_dead_letter_that_can_be_retried(api: Api, registered: Any) -> None:
    fail = [True]

    async def work(e: JobRun) -> None:
        if fail[0]:
            raise ValueError("bad invoice")

    name = registered("dead", work)
    job = await queue_of(api).enqueue(name, retries=1, backoff=0.05)
    dead = await wait_state(api, job.id, "failed")
    assert dead["attempts"] == 2 and dead["lastError"] == "ValueError: bad invoice"
    r = await api.client.get("/api/hearth/jobs", params={"state": "failed", "name": name}, headers=api.su())
    assert r.status_code == 200 and [j["id"] for j in r.json()["items"]] == [job.id]
    # Fixed: retried by hand, with its attempts counted afresh.
    fail[0] = False
    r = await api.client.post(f"/api/hearth/jobs/{job.id}/retry", headers=api.su())
    assert r.status_code == 200 and r.json()["state"] == "pending" and r.json()["attempts"] == 0
    done = await wait_state(api, job.id, "done")
    assert done["attempts"] == 1
    r = await api.client.post(f"/api/hearth/jobs/{job.id}/retry", headers=api.su())
    assert r.status_code == 400 and "done" in r.json()["message"]


async def test_a_pending_job_can_be_cancelled(api: Api, registered: Any) -> None:
    ran: list[str] = []
    name = registered("later", lambda e: ran.append(e.id))
    job = await queue_of(api).enqueue(name, delay=0.5)
    r = await api.client.post(f"/api/hearth/jobs/{job.id}/cancel", headers=api.su())
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    await asyncio.sleep(1.5)
    assert ran == [] and (await job_state(api, job.id))["state"] == "cancelled"
    r = await api.client.post(f"/api/hearth/jobs/{job.id}/cancel", headers=api.su())
    assert r.status_code == 400


async def test_run_at_is_respected(api: Api, registered: Any) -> None:
    ran: list[float] = []
    name = registered("timed", lambda e: ran.append(time.time()))
    at = time.time() + 1.2
    job = await queue_of(api).enqueue(name, run_at=at)
    await wait_state(api, job.id, "done", timeout=5)
    assert ran[0] >= at - 0.01


async def test_a_key_enqueues_once(api: Api, registered: Any) -> None:
    ran: list[Any] = []
    name = registered("once", lambda e: ran.append(e.payload))
    key = unique("order-7-paid")
    first = await queue_of(api).enqueue(name, {"n": 1}, key=key)
    second = await queue_of(api).enqueue(name, {"n": 2}, key=key)
    assert first.new and not second.new and second.id == first.id
    await wait_state(api, first.id, "done")
    third = await queue_of(api).enqueue(name, {"n": 3}, key=key)  # done, still kept: still once
    assert third.id == first.id
    await asyncio.sleep(0.3)
    assert ran == [{"n": 1}]


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(api: Api, registered: Any) -> None:
    ran: list[Any] = []
    name = registered("paid", lambda e: ran.append(e.payload))
    coll = unique("orders")
    assert (await api.client.post("/api/collections", headers=api.su(), json={
        "name": coll, "type": "base", **OPEN, "fields": [{"name": "title", "type": "text"}],
    })).status_code == 200  # fmt: skip
    hooks = api.app.state.hearth.hooks

    async def enqueue_then_maybe_fail(e: RecordWrite) -> None:
        await e.next()
        await queue_of(api).enqueue(name, {"title": e.record["title"]}, key=f"{coll}:{e.record['title']}", tx=e.tx)
        if e.record["title"] == "refused":
            raise BadRequest("refused after the job was enqueued")

    hid = hooks.record_create.bind(enqueue_then_maybe_fail, tags=[coll])
    try:
        r = await api.client.post(f"/api/collections/{coll}/records", json={"title": "refused"})
        assert r.status_code == 400, r.text
        r = await api.client.post(f"/api/collections/{coll}/records", json={"title": "kept"})
        assert r.status_code == 200, r.text
    finally:
        hooks.record_create.unbind(hid)
    r = await api.client.get("/api/hearth/jobs", params={"name": name}, headers=api.su())
    jobs = r.json()["items"]
    assert [j["payload"] for j in jobs] == [{"title": "kept"}]
    await wait_state(api, jobs[0]["id"], "done")
    await asyncio.sleep(0.2)
    assert ran == [{"title": "kept"}]


async def test_a_job_whose_worker_died_is_claimed_again_after_its_lease(api: Api, registered: Any) -> None:
    """A worker that claimed the job and vanished (its lease left to expire): the job runs."""
    ran: list[int] = []
    name = registered("orphan", lambda e: ran.append(e.attempt))
    q = queue_of(api)
    worker = api.app.state.hearth.job_worker
    worker.halt()  # this process's worker takes nothing while the "dead" one claims
    try:
        job = await q.enqueue(name, retries=2)
        claimed = await q.claim(10, "a-dead-worker", lease=0.3)
        assert [c.id for c in claimed if c.name == name] == [job.id]
        assert (await job_state(api, job.id))["state"] == "running"
    finally:
        await worker.stop(0)
        worker.stopping = False
        await worker.start()
    done = await wait_state(api, job.id, "done", timeout=5)
    assert ran == [2] and done["attempts"] == 2  # the lost run counted as an attempt
    # The dead worker's late answer is not the job's.
    from hearth.jobs.queue import Claimed

    await q.fail(Claimed(job.id, name, None, 1, 3, 2.0, None), "a-dead-worker", "late")
    assert (await job_state(api, job.id))["state"] == "done"


async def test_a_job_without_a_function_fails_and_says_why(api: Api) -> None:
    job = await queue_of(api).enqueue(unique("nobody"), retries=0)
    dead = await wait_state(api, job.id, "failed")
    assert "no function is registered" in dead["lastError"]


async def test_a_job_past_its_timeout_fails(api: Api, registered: Any) -> None:
    async def slow(e: JobRun) -> None:
        await asyncio.sleep(5)

    name = registered("slow", slow, timeout=0.2)
    job = await queue_of(api).enqueue(name, retries=0)
    dead = await wait_state(api, job.id, "failed")
    assert dead["lastError"] == "timed out after 0.2 s"


async def test_job_run_hook_wraps_every_job(api: Api, registered: Any) -> None:
    seen: list[tuple[str, str]] = []
    name = registered("wrapped", lambda e: seen.append(("fn", e.name)))
    hooks = api.app.state.hearth.hooks

    async def around(e: JobRun) -> None:
        seen.append(("before", e.name))
        await e.next()
        seen.append(("after", e.name))

    hid = hooks.job_run.bind(around, tags=[name])
    try:
        job = await queue_of(api).enqueue(name)
        await wait_state(api, job.id, "done")
    finally:
        hooks.job_run.unbind(hid)
    assert seen == [("before", name), ("fn", name), ("after", name)]


async def test_enqueue_refuses_what_it_cannot_store(api: Api) -> None:
    q = queue_of(api)
    for kwargs in ({"name": ""}, {"name": "x", "payload": {1, 2}}, {"name": "x", "retries": -1},
                   {"name": "x", "key": ""}, {"name": "x", "payload": "a" * (2 << 20)}):  # fmt: skip
        with pytest.raises(ValueError):
            await q.enqueue(**kwargs)


async def test_jobs_api_is_for_superusers_and_checks_its_input(api: Api) -> None:
    r = await api.client.get("/api/hearth/jobs")
    assert r.status_code == 401 and r.json()["message"] == "The request requires valid record authorization token."
    r = await api.client.get("/api/hearth/jobs", params={"state": "exploded"}, headers=api.su())
    assert r.status_code == 400 and set(r.json()) == {"status", "message", "data"}
    r = await api.client.get("/api/hearth/jobs", params={"perPage": "x"}, headers=api.su())
    assert r.status_code == 400
    for method, path in (("GET", "/api/hearth/jobs/nope"), ("POST", "/api/hearth/jobs/nope/retry"),
                         ("POST", "/api/hearth/jobs/nope/cancel")):  # fmt: skip
        r = await api.client.request(method, path, headers=api.su())
        assert r.status_code == 404 and r.json()["message"] == "The job does not exist.", r.text
    r = await api.client.get("/api/hearth/jobs", params={"page": 2**62, "perPage": 1000}, headers=api.su())
    assert r.status_code == 200 and r.json()["items"] == []
    r = await api.client.get("/api/hearth/jobs", params={"page": 1, "perPage": 2}, headers=api.su())
    body = r.json()
    assert r.status_code == 200 and body["perPage"] == 2 and len(body["items"]) <= 2
    assert body["totalPages"] == -(-body["totalItems"] // 2)


async def test_a_backlog_drains_without_waiting_for_the_poll(api: Api, registered: Any) -> None:
    """200 jobs committed at once, 4 run at a time: the worker claims the next ones as slots free
    (one that waited for its 1 s poll between batches would take 50 s)."""
    done: list[int] = []

    async def quick(e: JobRun) -> None:
        done.append(e.payload)

    name = registered("backlog", quick)
    db = api.app.state.hearth.db
    async with db.transaction() as tx:
        for i in range(200):
            await queue_of(api).enqueue(name, i, tx=tx)
    began = time.monotonic()
    while len(done) < 200 and time.monotonic() - began < 20:
        await asyncio.sleep(0.02)
    assert sorted(done) == list(range(200))
    assert time.monotonic() - began < 3
