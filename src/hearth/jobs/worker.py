"""The job worker of one process: claims due jobs and runs them through the `job_run` hook.

Every `hearth serve` process runs one (and `hearth worker` runs only that), up to `concurrency`
jobs at once. It looks for due jobs when this process enqueues one, when PostgreSQL's NOTIFY says
another process did, and every `poll` seconds anyway (jobs scheduled for later; SQLite processes
have no NOTIFY). While a job runs its lease is renewed; a job that fails is retried with backoff
(hearth.jobs.queue) and one that outlives its function's timeout counts as failed. When the
process stops, running jobs get until the stop deadline, then are given back (pending again,
the attempt not counted) so another process takes them at once rather than after the lease.

Before each claim the worker runs its feeders, one batch each: the webhook relay moves matched
writes from the outbox into delivery jobs there (hearth.webhooks.service).

A job claimed again after its worker died counts that lost run as an attempt: a job that kills
its process every time ends up `failed` instead of killing processes forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hearth._util.ids import LOWER_ALNUM, random_string
from hearth._util.outage import Throttle
from hearth.db.base import Database
from hearth.errors import DatabaseUnavailable
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import JobRun
from hearth.jobs.queue import LEASE_SECONDS, Claimed, JobQueue, now_ms

log = logging.getLogger("hearth.jobs")

JobFunction = Callable[[JobRun], Awaitable[Any] | Any]
# Adds jobs from elsewhere before each claim (the webhook outbox); returns how many rows it took.
Feeder = Callable[[], Awaitable[int]]
DEFAULT_TIMEOUT = 600.0  # seconds a job's function may run
DEFAULT_CONCURRENCY = 4
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)  # pauses after the worker loop fails (database away)


@dataclass(frozen=True, slots=True)
class Registered:
    fn: JobFunction
    timeout: float


class JobFunctions:
    """What runs each job name (registered before the process starts: `@app.job(name)`)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Registered] = {}

    def register(self, name: str, fn: JobFunction, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not callable(fn):
            raise TypeError("a job function must be callable")
        if not timeout > 0:
            raise ValueError("a job timeout must be a positive number of seconds")
        self._by_name[name] = Registered(fn, float(timeout))

    def unregister(self, name: str) -> None:
        self._by_name.pop(name, None)

    def get(self, name: str) -> Registered | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return sorted(self._by_name)


def describe(exc: BaseException) -> str:
    """An error as the jobs API shows it: its type and message, no traceback."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class JobWorker:
    def __init__(
        self,
        db: Database,
        queue: JobQueue,
        functions: JobFunctions,
        hooks: Hooks,
        concurrency: int = DEFAULT_CONCURRENCY,
        poll: float = 1.0,
        lease: float = LEASE_SECONDS,
        feeders: Sequence[Feeder] = (),
    ) -> None:
        self.db = db
        self.feeders = tuple(feeders)
        self.queue = queue
        self.functions = functions
        self.hooks = hooks
        self.concurrency = concurrency
        self.poll = poll
        self.lease = lease
        self.id = f"{random_string(8, LOWER_ALNUM)}"  # this process's worker, in `worker` columns
        self._running: dict[str, asyncio.Task[None]] = {}
        self._freed = asyncio.Event()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._listener: Any = None
        self._errors = Throttle()
        self.stopping = False
        self._soonest: int | None = None  # epoch ms of the earliest retry this worker scheduled

    async def start(self) -> None:
        if self.concurrency <= 0:
            return
        listen = getattr(self.db, "listen", None)
        if listen is not None:
            with contextlib.suppress(Exception):  # without NOTIFY the poll still finds jobs
                self._listener = await listen("hearth_jobs", self._wake.set)
        self._loop_task = asyncio.get_running_loop().create_task(self._loop(), name="hearth-jobs")

    def halt(self) -> None:
        """Claim no more jobs (the process begins to stop); running ones carry on."""
        self.stopping = True
        if self._loop_task is not None:
            self._loop_task.cancel()

    async def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; let running jobs finish within `timeout` seconds, then give them back."""
        self.stopping = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        running = list(self._running.values())
        if running:
            await asyncio.wait(running, timeout=timeout)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if self._listener is not None:
            listener, self._listener = self._listener, None
            with contextlib.suppress(Exception):
                await listener.close()

    async def _loop(self) -> None:
        failures = 0
        more = False  # the last claim filled every free slot: more jobs may be due
        while True:
            try:
                fed = await self._feed()
                free = self.concurrency - len(self._running)
                if free > 0 and (more or fed or await self.queue.due()):
                    claimed = await self.queue.claim(free, self.id, self.lease)
                    for job in claimed:
                        self._running[job.id] = asyncio.get_running_loop().create_task(
                            self._run(job), name=f"hearth-job-{job.name}"
                        )
                    more = len(claimed) == free
                    if more and len(self._running) < self.concurrency:
                        continue  # slots freed while claiming, and more jobs may be due
                if fed:
                    continue  # the outbox may hold more: move it before waiting
                await self._idle(full=len(self._running) >= self.concurrency)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not isinstance(exc, DatabaseUnavailable):  # logged by the db layer
                    held = self._errors.admit(type(exc).__name__)
                    if held is not None:
                        log.exception("the job worker failed; retrying (%d more like it held back)", held)
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1

    async def _feed(self) -> bool:
        """One batch from each feeder (not until they are empty: under a steady stream of writes
        that would starve the claims); True when one may have more."""
        more = False
        for feed in self.feeders:
            try:
                more = await feed() > 0 or more
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable:
                raise
            except Exception:  # a feeder's bug must not stop the jobs already queued
                held = self._errors.admit("feeder")
                if held is not None:
                    log.exception("a job feeder failed (%d more like it held back)", held)
        return more

    async def _idle(self, full: bool) -> None:
        """Wait for a reason to look again: a slot freed (when full), a job added, the poll."""
        waits = [self._freed.wait()] if full else [self._wake.wait(), self.queue.added.wait()]
        tasks = [asyncio.ensure_future(w) for w in waits]
        timeout = self.poll
        if self._soonest is not None:
            # A retry this worker scheduled comes before the next poll: look then.
            timeout = min(timeout, max(0.0, (self._soonest - now_ms()) / 1000))
            if timeout < self.poll:
                self._soonest = None
        try:
            await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
        self._freed.clear()
        self._wake.clear()
        self.queue.added.clear()

    async def _run(self, job: Claimed) -> None:
        keeper = asyncio.get_running_loop().create_task(self._keep_leased(job))
        try:
            if job.attempt > job.max_attempts:
                # Claimed again after its worker died, with no attempts left.
                await self._settle(lambda: self.queue.fail(job, self.id, "the process running it stopped; no attempts left"))
                return
            registered = self.functions.get(job.name)
            event = JobRun(job.id, job.name, job.payload, job.attempt, job.max_attempts, job.key)
            timeout = registered.timeout if registered is not None else DEFAULT_TIMEOUT
            try:
                async with asyncio.timeout(timeout):
                    await self.hooks.job_run.trigger(event, self._call)
            except TimeoutError:
                error, failure = f"timed out after {timeout:g} s", None
            except asyncio.CancelledError:
                if self.stopping:
                    keeper.cancel()
                    await self._settle(lambda: self.queue.release(job, self.id))
                raise
            except Exception as exc:
                error, failure = describe(exc), exc
            else:
                await self._settle(lambda: self.queue.succeed(job, self.id))
                return
            state, again = await self._settle(lambda: self.queue.fail(job, self.id, error))
            if again:
                self._soonest = min(self._soonest or again, again)
            # The traceback goes to the log (not to the API's lastError).
            log.warning("job %s (%s) attempt %d/%d failed: %s%s", job.id, job.name, job.attempt,
                        job.max_attempts, error, "; no attempts left" if state == "failed" else "",
                        exc_info=failure)  # fmt: skip
        finally:
            keeper.cancel()
            self._running.pop(job.id, None)
            self._freed.set()

    async def _call(self, e: JobRun) -> None:
        registered = self.functions.get(e.name)
        if registered is None:
            raise LookupError(f"no function is registered for the job {e.name!r} in this process")
        if inspect.iscoroutinefunction(registered.fn):
            await registered.fn(e)
            return
        result = await asyncio.to_thread(registered.fn, e)
        if inspect.isawaitable(result):
            await result

    async def _keep_leased(self, job: Claimed) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not await self.queue.extend(job, self.id, self.lease):
                    log.warning("job %s (%s): its lease was lost; another worker may run it too", job.id, job.name)
                    return
            except Exception:  # the database is away: try again at the next beat
                continue

    async def _settle(self, write: Callable[[], Awaitable[Any]]) -> Any:
        """Record a job's outcome; while the database is away, keep trying for about a lease
        (after that the job is claimed again anyway)."""
        deadline = time.monotonic() + self.lease
        delay = 0.2
        while True:
            try:
                return await write()
            except DatabaseUnavailable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)
