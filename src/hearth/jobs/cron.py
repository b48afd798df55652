"""Cron: functions run on a schedule, once per tick across every process and instance.

Expressions are PocketBase's: five fields (minute hour day-of-month month day-of-week) or a macro
(`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`), in UTC, parsed
by cronsim (docs/background.md says why that library). Standard (Vixie) cron semantics: when both
day fields are restricted a day matching either one is due (PocketBase requires both).

Each process runs a scheduler; at every minute it enqueues, for each cron due at that minute, a
durable job named `cron:<id>` with the idempotency key `cron:<id>:<minute>`. However many
processes and instances enqueue it, one job exists per cron and tick (the key's unique index is
the lease), and one worker runs it. Ticks while no process was running are not replayed: a
scheduler starts from the minute it starts in (a nightly report missed during an outage is not
sent late at an unexpected time; run it by hand with `POST /api/crons/{id}`). Not silently: a
starting scheduler logs, per cron, how many ticks fell since its last one. Within a running
process, minutes its loop overslept (a stalled machine) are caught up, up to CATCH_UP minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cronsim import CronSim, CronSimError

from hearth.errors import DatabaseUnavailable
from hearth.hooks.events import JobRun
from hearth.jobs.queue import JobQueue
from hearth.jobs.worker import DEFAULT_TIMEOUT, JobFunctions

log = logging.getLogger("hearth.jobs")

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
JOB_PREFIX = "cron:"
CATCH_UP = 5  # minutes a late scheduler still enqueues
MAX_MISSED_COUNTED = 1000
MAX_ID = 100
_ID = re.compile(r"[A-Za-z0-9_.:-]+")
CronFunction = Callable[..., Awaitable[Any] | Any]


class CronExpressionError(ValueError):
    """Not a valid cron expression (five fields or a macro)."""


def parse(expression: str) -> str:
    """The five-field form of `expression` (a macro expanded); CronExpressionError if invalid."""
    if not isinstance(expression, str):
        raise CronExpressionError("a cron expression must be a string")
    fields = MACROS.get(expression.strip(), expression.strip())
    if len(fields.split()) != 5:
        raise CronExpressionError(
            f"invalid cron expression {expression!r}: use five fields (minute hour day month weekday) or a macro "
            f"({', '.join(MACROS)})"
        )
    try:
        next(CronSim(fields, datetime(2000, 1, 1, tzinfo=UTC)))
    except (CronSimError, StopIteration) as exc:
        raise CronExpressionError(f"invalid cron expression {expression!r}: {exc}") from None
    return fields


def is_due(fields: str, minute: datetime) -> bool:
    """Whether the five-field schedule has a run at `minute` (UTC, seconds zero)."""
    return next(CronSim(fields, minute - timedelta(minutes=1))) == minute


@dataclass(frozen=True, slots=True)
class Cron:
    id: str
    expression: str  # as given (a macro stays a macro in the API, as PocketBase shows it)
    fields: str
    fn: CronFunction
    timeout: float

    def public(self) -> dict[str, str]:
        return {"id": self.id, "expression": self.expression}


class Crons:
    """The registered crons; each is also a job function (`cron:<id>`) so a worker can run it."""

    def __init__(self, functions: JobFunctions) -> None:
        self.functions = functions
        self._by_id: dict[str, Cron] = {}

    def add(self, cron_id: str, expression: str, fn: CronFunction, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not isinstance(cron_id, str) or not _ID.fullmatch(cron_id) or len(cron_id) > MAX_ID:
            raise ValueError(f"a cron id is 1-{MAX_ID} letters, digits, '_', '.', ':' or '-'")
        if not callable(fn):
            raise TypeError("a cron function must be callable")
        cron = Cron(cron_id, expression, parse(expression), fn, float(timeout))
        self._by_id[cron_id] = cron
        self.functions.register(JOB_PREFIX + cron_id, _runner(fn), timeout)

    def remove(self, cron_id: str) -> None:
        if self._by_id.pop(cron_id, None) is not None:
            self.functions.unregister(JOB_PREFIX + cron_id)

    def get(self, cron_id: str) -> Cron | None:
        return self._by_id.get(cron_id)

    def all(self) -> list[Cron]:
        """Sorted by id, Hearth's own (`__…`) last, as PocketBase lists its own."""
        return sorted(self._by_id.values(), key=lambda c: (c.id.startswith("__"), c.id))


def _runner(fn: CronFunction) -> Callable[[JobRun], Awaitable[None]]:
    """A cron function takes no argument (as in PocketBase) or the JobRun event."""
    try:
        takes_event = bool(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        takes_event = False

    async def run(e: JobRun) -> None:
        args = (e,) if takes_event else ()
        if inspect.iscoroutinefunction(fn):
            await fn(*args)
            return
        result = await asyncio.to_thread(fn, *args)
        if inspect.isawaitable(result):
            await result

    return run


def minute_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


class CronScheduler:
    """Enqueues each due cron's job at every minute (in every process; the key dedupes)."""

    def __init__(
        self,
        crons: Crons,
        queue: JobQueue,
        clock: Callable[[], float] = time.time,
        before_tick: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`before_tick`: brings crons that follow settings up to date (the scheduled backup)."""
        self.crons = crons
        self.queue = queue
        self.clock = clock
        self.before_tick = before_tick
        self._task: asyncio.Task[None] | None = None

    async def _prepare(self, minute: datetime | None = None) -> None:
        """`before_tick`, whose failure never keeps the tick (or the start) from going on."""
        if self.before_tick is None:
            return
        try:
            await self.before_tick()
        except DatabaseUnavailable:
            log.warning("cron: the settings could not be read before the tick at %s", minute or "start")
        except Exception:
            log.exception("cron: preparing the tick at %s failed", minute or "start")

    async def start(self) -> None:
        # Crons that follow settings are registered before anything runs: a job another process
        # enqueued for one finds its function here too.
        await self._prepare()
        try:
            await self.report_missed()
        except Exception:  # a report only: never keeps the schedule from starting
            log.exception("cron: the missed ticks could not be checked")
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="hearth-cron")

    async def report_missed(self) -> dict[str, int]:
        """Log, per cron, the ticks that fell since its last enqueued one while no process ran
        (they are not replayed: docs/background.md). Returns the counts (tests)."""
        now = minute_of(datetime.fromtimestamp(self.clock(), UTC))
        missed: dict[str, int] = {}
        for cron in self.crons.all():
            last = await self.queue.last_run_at(JOB_PREFIX + cron.id)
            if last is None:
                continue  # never ran here (or its jobs were forgotten): nothing to compare with
            count = 0
            for moment in CronSim(cron.fields, datetime.fromtimestamp(last / 1000, UTC)):
                if moment > now or count >= MAX_MISSED_COUNTED:
                    break
                count += 1
            if count:
                missed[cron.id] = count
                more = "+" if count >= MAX_MISSED_COUNTED else ""
                log.warning(
                    "cron %s: %d%s tick(s) since %s fell while no process was running; they are not "
                    "replayed (POST /api/crons/%s runs it now)",
                    cron.id, count, more, datetime.fromtimestamp(last / 1000, UTC).isoformat(), cron.id,
                )  # fmt: skip
        return missed

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        last = minute_of(datetime.fromtimestamp(self.clock(), UTC))  # ticks before the start: not replayed
        while True:
            now = self.clock()
            following = last + timedelta(minutes=1)
            await asyncio.sleep(max(0.0, following.timestamp() - now) + 0.01)
            current = minute_of(datetime.fromtimestamp(self.clock(), UTC))
            if current <= last:
                continue  # woke early (the clock moved back)
            first = max(last + timedelta(minutes=1), current - timedelta(minutes=CATCH_UP - 1))
            minute = first
            while minute <= current:
                await self.tick(minute)
                minute += timedelta(minutes=1)
            last = current

    async def tick(self, minute: datetime) -> int:
        """Enqueue the jobs of the crons due at `minute`; the number this process added."""
        added = 0
        stamp = int(minute.timestamp() * 1000)
        await self._prepare(minute)
        for cron in self.crons.all():
            try:
                if not is_due(cron.fields, minute):
                    continue
                job = await self.queue.enqueue(
                    JOB_PREFIX + cron.id,
                    {"cron": cron.id, "tick": minute.isoformat()},
                    key=f"{JOB_PREFIX}{cron.id}:{stamp}",
                    retries=0,
                    run_at=minute,
                )
                added += job.new
            except DatabaseUnavailable:
                log.warning("cron %s: the tick at %s was not enqueued: the database is unavailable", cron.id, minute)
            except Exception:
                log.exception("cron %s: the tick at %s was not enqueued", cron.id, minute)
        return added

    async def run_now(self, cron: Cron) -> None:
        """`POST /api/crons/{id}`: one run as soon as a worker is free (not tied to a tick)."""
        await self.queue.enqueue(JOB_PREFIX + cron.id, {"cron": cron.id, "tick": ""}, retries=0)
