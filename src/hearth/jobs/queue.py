"""Durable jobs in the application's own database (`_hearth_jobs`; SQL in hearth.sql.jobs).

Kept beside the data so that a job enqueued in a write's transaction exists exactly when the
write does: `enqueue(..., tx=e.tx)` in a record hook is rolled back with the record. Claiming is
an UPDATE ... RETURNING of due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers on many
instances never take the same row; SQLite: its single writer). A claim leases the job for
`LEASE_SECONDS`, renewed while it runs; a worker that dies leaves the lease to expire and the job
is claimed again (at-least-once). Failures retry with exponential backoff and jitter until the
attempts are used up, then the job stays `failed` (the dead letters) until retried by hand.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from hearth._util import deepjson
from hearth._util.times import format_datetime
from hearth.db.base import Database, Executor, Transaction
from hearth.errors import BadRequest, NotFound
from hearth.sql import jobs as sql

LEASE_SECONDS = 30.0
MAX_BACKOFF = 3600.0  # seconds: the longest wait between two attempts
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 2.0  # seconds before the first retry; doubled for each one after
MAX_PAYLOAD = 1 << 20  # bytes of JSON
MAX_NAME = 100
KEEP_SECONDS = 7 * 86400  # ended jobs are forgotten this long after they ended
STATES = sql.STATES


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    name: str
    payload: Any
    state: str
    key: str | None
    attempts: int
    max_attempts: int
    backoff: float
    run_at: int  # epoch ms
    lease_until: int
    worker: str
    last_error: str
    created: int
    updated: int
    finished: int
    new: bool = False  # returned by `enqueue`: added now (not a job already holding the key)

    @classmethod
    def from_row(cls, row: Any) -> Job:
        (jid, name, payload, state, key, attempts, max_attempts, backoff, run_at, lease_until, worker,
         last_error, created, updated, finished) = row  # fmt: skip
        return cls(str(jid), str(name), orjson.loads(payload), str(state), key, int(attempts), int(max_attempts),
                   float(backoff), int(run_at), int(lease_until), str(worker), str(last_error), int(created),
                   int(updated), int(finished))  # fmt: skip

    def public(self) -> dict[str, Any]:
        """The job as the API shows it (times in PocketBase's datetime form, "" when unset)."""
        return {
            "id": self.id,
            "name": self.name,
            "payload": self.payload,
            "state": self.state,
            "key": self.key or "",
            "attempts": self.attempts,
            "maxAttempts": self.max_attempts,
            "runAt": _when(self.run_at),
            "lastError": self.last_error,
            "created": _when(self.created),
            "updated": _when(self.updated),
            "finished": _when(self.finished),
        }


@dataclass(frozen=True, slots=True)
class Claimed:
    """A job a worker holds: run it, then `succeed` or `fail` it."""

    id: str
    name: str
    payload: Any
    attempt: int  # 1 for the first run
    max_attempts: int
    backoff: float
    key: str | None


def _job_id(text: str) -> int | None:
    """A job id as the API gives it (decimal digits), or None when it cannot be one."""
    if not isinstance(text, str) or not text.isdecimal() or not text.isascii() or len(text) > 18:
        return None
    return int(text)


def _check_options(name: str, retries: int, backoff: float) -> None:
    if not isinstance(name, str) or not name or len(name) > MAX_NAME or not name.isprintable():
        raise ValueError(f"a job name is 1-{MAX_NAME} printable characters")
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 100:
        raise ValueError("retries must be an integer from 0 to 100")
    if not isinstance(backoff, int | float) or not 0 <= backoff <= MAX_BACKOFF:
        raise ValueError(f"backoff must be 0-{MAX_BACKOFF:g} seconds")


def _encoded(payload: Any) -> bytes:
    try:
        body = deepjson.dumps(payload)
    except TypeError as exc:
        raise ValueError(f"the payload must be JSON-serializable: {exc}") from None
    if len(body) > MAX_PAYLOAD:
        raise ValueError(f"the payload is over {MAX_PAYLOAD} bytes of JSON")
    return body


def now_ms() -> int:
    return int(time.time() * 1000)


def _when(ms: int) -> str:
    return format_datetime(datetime.fromtimestamp(ms / 1000, UTC)) if ms else ""


def retry_delay(attempt: int, backoff: float, rand: random.Random | None = None) -> float:
    """Seconds before the attempt after failed attempt number `attempt` (1-based): `backoff`
    doubled for each earlier failure, capped at MAX_BACKOFF, then "equal jitter" (half fixed,
    half random) so that jobs failing together do not all retry at the same moment."""
    base = min(MAX_BACKOFF, backoff * math.pow(2, min(attempt - 1, 40)))
    r = (rand or random).random()
    return base / 2 + r * base / 2


class JobQueue:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Set when a job was committed here (enqueued or retried): this process's worker looks
        # at once rather than at its next poll.
        self.added = asyncio.Event()

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
        """Store a job for `name`'s handler. `run_at` (a datetime, or epoch seconds) or `delay`
        (seconds from now) says when it may run; `retries`: runs after a failed one; `key`: an
        idempotency key (a job with that key already kept is returned instead of adding one);
        `tx`: the transaction the job belongs to (it exists only if that commits)."""
        _check_options(name, retries, backoff)
        if key is not None and (not isinstance(key, str) or not key or len(key) > 255):
            raise ValueError("a job key is a string of 1-255 characters")
        body = _encoded(payload)
        created = now_ms()
        due = created + int(max(0.0, delay) * 1000)
        if isinstance(run_at, datetime):
            due = int((run_at if run_at.tzinfo else run_at.replace(tzinfo=UTC)).timestamp() * 1000)
        elif run_at is not None:
            due = int(float(run_at) * 1000)
        params = (name, body.decode(), key, retries + 1, float(backoff), due, created, created)
        if tx is not None:
            added, found = await self._insert(tx, params, key)
            tx.after_commit(self._committed)
        else:
            async with self.db.transaction() as own:
                added, found = await self._insert(own, params, key)
            await self._committed()
        if found is not None:
            return found
        # Added now: the job is what was given (no need to read it back and decode it again).
        return Job(str(added), name, payload, "pending", key, 0, retries + 1, float(backoff), due, 0, "", "",
                   created, created, 0, new=True)  # fmt: skip

    async def enqueue_many(
        self,
        name: str,
        payloads: Sequence[Any],
        *,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        tx: Transaction,
    ) -> None:
        """One job per payload, due now, in `tx`, sent in one batch (the webhook relay: many
        messages at once). No keys, and the ids are not returned."""
        _check_options(name, retries, backoff)
        if not payloads:
            return
        now = now_ms()
        rows = [(name, _encoded(p).decode(), retries + 1, float(backoff), now, now, now) for p in payloads]
        d = self.db.dialect
        await tx.execute_many(sql.insert_plain(d), rows)
        notify = sql.notify_workers(d)
        if notify is not None:
            await tx.execute(notify)
        tx.after_commit(self._committed)

    async def _insert(self, ex: Executor, params: tuple[Any, ...], key: str | None) -> tuple[int, Job | None]:
        """Insert: the new job's id, or the job already holding `key`."""
        d = self.db.dialect
        rows = await ex.fetch_all(sql.insert(d), params)  # all: SQLite finishes the statement
        if rows:
            return int(rows[0][0]), None
        found = await ex.fetch_one(sql.select_by_key(d), (key,))  # the key was taken
        assert found is not None
        return 0, Job.from_row(found)

    async def _committed(self) -> None:
        # Only this process's worker is woken: other processes hear of the job through
        # PostgreSQL's NOTIFY (sent by the INSERT itself) or, on SQLite, at their next poll (a
        # second at most). Not through the shared change counter: bumping it makes every process
        # re-read the schema counters on its next request, a query per write for nothing.
        self.added.set()

    # ----- workers ------------------------------------------------------------------------------
    async def claim(self, limit: int, worker: str, lease: float = LEASE_SECONDS) -> list[Claimed]:
        now = now_ms()
        d = self.db.dialect
        async with self.db.transaction() as tx:
            await tx.execute(sql.reclaim(d), (now, now))
            rows = await tx.fetch_all(sql.claim(d), (now + int(lease * 1000), worker, now, now, limit))
        return [
            Claimed(str(r[0]), str(r[1]), orjson.loads(r[2]), int(r[3]), int(r[4]), float(r[5]), r[6])
            for r in rows
        ]

    async def due(self) -> bool:
        """Whether a job can be claimed now (a read: cheaper than trying a claim)."""
        now = now_ms()
        row = await self.db.fetch_one(sql.any_due(self.db.dialect), (now, now))
        return row is not None

    async def last_run_at(self, name: str) -> int | None:
        """Epoch ms when the latest job named `name` was due, if any is kept."""
        row = await self.db.fetch_one(sql.last_run_at(self.db.dialect), (name,))
        return int(row[0]) if row and row[0] is not None else None

    async def extend(self, job: Claimed, worker: str, lease: float = LEASE_SECONDS) -> bool:
        """Renew the lease; False when the job is no longer this worker's."""
        now = now_ms()
        changed = await self.db.execute(sql.extend_lease(self.db.dialect), (now + int(lease * 1000), now, int(job.id), worker))
        return changed > 0

    async def succeed(self, job: Claimed, worker: str) -> None:
        now = now_ms()
        await self.db.execute(sql.succeed(self.db.dialect), (now, now, int(job.id), worker))

    async def fail(
        self, job: Claimed, worker: str, error: str, rand: random.Random | None = None
    ) -> tuple[str, int]:
        """Record a failed attempt: pending again after the backoff, or `failed` when the
        attempts are used up. Returns the new state and when the job runs next (epoch ms; 0:
        never)."""
        now = now_ms()
        error = error[:2000]
        d = self.db.dialect
        if job.attempt < job.max_attempts:
            at = now + int(retry_delay(job.attempt, job.backoff, rand) * 1000)
            await self.db.execute(sql.reschedule(d), (at, error, now, int(job.id), worker))
            return "pending", at
        await self.db.execute(sql.finish(d), ("failed", error, now, now, int(job.id), worker))
        return "failed", 0

    async def release(self, job: Claimed, worker: str) -> None:
        """Give back a job this worker will not finish (the process is stopping): pending now,
        the attempt not counted."""
        now = now_ms()
        await self.db.execute(sql.release(self.db.dialect), (now, now, int(job.id), worker))

    async def prune(self) -> int:
        return await self.db.execute(sql.prune(self.db.dialect), (now_ms() - KEEP_SECONDS * 1000,))

    async def counts(self) -> dict[str, int]:
        """How many jobs are in each state (every state named, 0 when none)."""
        counts = dict.fromkeys(STATES, 0)
        for state, n in await self.db.fetch_all(sql.count_by_state(self.db.dialect)):
            counts[str(state)] = int(n)
        return counts

    # ----- the superuser API ----------------------------------------------------------------------
    async def get(self, jid: str) -> Job:
        key = _job_id(jid)
        row = await self.db.fetch_one(sql.select_one(self.db.dialect), (key,)) if key is not None else None
        if row is None:
            raise NotFound("The job does not exist.")
        return Job.from_row(row)

    async def list(
        self, *, state: str = "", name: str = "", page: int = 1, per_page: int = 30
    ) -> tuple[list[Job], int]:
        d = self.db.dialect
        where: list[str] = []
        params: list[Any] = []
        if state:
            if state not in STATES:
                raise BadRequest("Invalid job state.", {"state": {"code": "validation_invalid_value",
                                 "message": f"Must be one of: {', '.join(STATES)}."}})  # fmt: skip
            params.append(state)
            where.append(f"state = {d.placeholder(len(params))}")
        if name:
            params.append(name)
            where.append(f"name = {d.placeholder(len(params))}")
        total_row = await self.db.fetch_one(sql.count_jobs(d, where), params)
        total = int(total_row[0]) if total_row else 0
        limit_ph, offset_ph = d.placeholder(len(params) + 1), d.placeholder(len(params) + 2)
        rows = await self.db.fetch_all(
            # An offset past any table, but within a 64-bit integer (a huge `page` is no error).
            sql.list_jobs(d, where, limit_ph, offset_ph), [*params, per_page, min((page - 1) * per_page, 2**62)]
        )
        return [Job.from_row(r) for r in rows], total

    async def retry(self, jid: str) -> Job:
        """Run a failed or cancelled job again (its attempts counted afresh)."""
        job = await self.get(jid)
        now = now_ms()
        changed = await self.db.execute(sql.retry(self.db.dialect), (now, now, int(job.id)))
        if not changed:
            raise BadRequest(f"Only a failed or cancelled job can be retried (this one is {job.state}).")
        await self._committed()
        return await self.get(jid)

    async def cancel(self, jid: str) -> Job:
        """Cancel a job that has not started."""
        job = await self.get(jid)
        now = now_ms()
        changed = await self.db.execute(sql.cancel(self.db.dialect), (now, now, int(job.id)))
        if not changed:
            raise BadRequest(f"Only a pending job can be cancelled (this one is {job.state}).")
        return await self.get(jid)
