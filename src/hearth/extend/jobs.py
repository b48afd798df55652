"""`app.jobs`: durable jobs from hooks, routes and library code."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from hearth.db.base import Transaction
from hearth.jobs.queue import DEFAULT_BACKOFF, DEFAULT_RETRIES, Job

if TYPE_CHECKING:
    from hearth.app import Hearth


class Jobs:
    def __init__(self, hearth: Hearth) -> None:
        self._hearth = hearth

    async def enqueue(
        self,
        name: str,
        payload: Any = None,
        *,
        run_at: datetime | float | None = None,
        delay: float = 0.0,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        key: str | None = None,
        tx: Transaction | None = None,
    ) -> Job:
        """Store a job for the function registered as `name` (`@app.job(name)`); it runs once
        a worker of any process is free and `run_at`/`delay` has come. Inside a record hook pass
        `tx=e.tx`: the job then exists only if the record's transaction commits. `retries`:
        attempts after a failed one, `backoff` seconds before the first retry (doubled after
        each, with jitter); `key`: enqueue at most once per key (the existing job is returned)."""
        queue = getattr(self._hearth, "jobs", None)
        if queue is None:
            raise RuntimeError("Hearth has not started: enqueue jobs from hooks, routes or after start")
        job: Job = await queue.enqueue(
            name, payload, run_at=run_at, delay=delay, retries=retries, backoff=backoff, key=key, tx=tx
        )
        return job
