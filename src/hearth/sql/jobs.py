"""SQL for durable jobs (`_hearth_jobs`): enqueue, claim, finish, list. Times are epoch ms.

A job is `pending` (waiting for `run_at`), `running` (claimed by a worker until `lease_until`;
an expired lease makes it claimable again: the worker died), then `done`, `failed` (attempts
used up: the dead letters) or `cancelled`. `job_key` makes an enqueue idempotent: at most one job
holds a key while its row is kept.
"""

from __future__ import annotations

from hearth.sql.dialect import Dialect

COLUMN_NAMES = (
    "id", "name", "payload", "state", "job_key", "attempts", "max_attempts", "backoff", "run_at",
    "lease_until", "worker", "last_error", "created", "updated", "finished",
)  # fmt: skip
COLUMNS = ", ".join(COLUMN_NAMES)
STATES = ("pending", "running", "done", "failed", "cancelled")


def bootstrap_statements(d: Dialect) -> list[str]:
    # An integer id is the table's own key (SQLite's rowid, PostgreSQL's identity): no separate
    # index to update per job, and ids in enqueue order (the API lists newest first by it).
    # Enqueueing sits on the write path (a webhook's delivery joins the record's transaction),
    # so the table has one more index only: the one claims read.
    ident = "INTEGER PRIMARY KEY" if d.name == "sqlite" else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    return [
        f"CREATE TABLE IF NOT EXISTS _hearth_jobs (id {ident}, name TEXT NOT NULL, payload TEXT NOT NULL,"
        " state TEXT NOT NULL, job_key TEXT, attempts INTEGER NOT NULL DEFAULT 0,"
        " max_attempts INTEGER NOT NULL, backoff DOUBLE PRECISION NOT NULL,"
        " run_at BIGINT NOT NULL, lease_until BIGINT NOT NULL DEFAULT 0, worker TEXT NOT NULL DEFAULT '',"
        " last_error TEXT NOT NULL DEFAULT '', created BIGINT NOT NULL, updated BIGINT NOT NULL,"
        " finished BIGINT NOT NULL DEFAULT 0)",
        # What a worker looks for: due pending jobs, and running ones whose lease ran out.
        "CREATE INDEX IF NOT EXISTS idx__hearth_jobs_due ON _hearth_jobs (state, run_at)",
        "CREATE UNIQUE INDEX IF NOT EXISTS idx__hearth_jobs_key ON _hearth_jobs (job_key) WHERE job_key IS NOT NULL",
    ]


def insert(d: Dialect) -> str:
    """A new pending job; its id is returned, no row when its key is taken (the caller then reads
    that job). PostgreSQL also wakes every listening worker, in the same round trip."""
    p = d.placeholder
    notify = ", pg_notify('hearth_jobs', '')" if d.name == "postgres" else ""
    return (
        "INSERT INTO _hearth_jobs (name, payload, state, job_key, max_attempts, backoff, run_at, created, updated)"
        f" VALUES ({p(1)}, {p(2)}, 'pending', {p(3)}, {p(4)}, {p(5)}, {p(6)}, {p(7)}, {p(8)})"
        f" ON CONFLICT (job_key) WHERE job_key IS NOT NULL DO NOTHING RETURNING id{notify}"
    )


def insert_plain(d: Dialect) -> str:
    """A new pending job without a key (sent many at once: nothing returned)."""
    p = d.placeholder
    return (
        "INSERT INTO _hearth_jobs (name, payload, state, max_attempts, backoff, run_at, created, updated)"
        f" VALUES ({p(1)}, {p(2)}, 'pending', {p(3)}, {p(4)}, {p(5)}, {p(6)}, {p(7)})"
    )


def notify_workers(d: Dialect) -> str | None:
    """Wake every listening worker at commit (PostgreSQL; SQLite workers poll)."""
    return "SELECT pg_notify('hearth_jobs', '')" if d.name == "postgres" else None


def select_by_key(d: Dialect) -> str:
    return f"SELECT {COLUMNS} FROM _hearth_jobs WHERE job_key = {d.placeholder(1)}"


def select_one(d: Dialect) -> str:
    return f"SELECT {COLUMNS} FROM _hearth_jobs WHERE id = {d.placeholder(1)}"


def reclaim(d: Dialect) -> str:
    """Running jobs whose lease expired before p2 (their process died) are pending again, due at
    once (p1: now); the lost run stays counted in `attempts`."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_jobs SET state = 'pending', worker = '', lease_until = 0, updated = {p(1)}"
        f" WHERE state = 'running' AND lease_until < {p(2)}"
    )


def claim(d: Dialect) -> str:
    """Take up to p5 due pending jobs (run_at <= p4), oldest first (the (state, run_at) index
    gives the order: no sort of every due row); they become running, leased until p1 by worker
    p2 (p3: now). PostgreSQL skips rows other workers are claiming; SQLite has one writer at a
    time anyway. (Placeholders are numbered in the order they appear: SQLite's `?` are
    positional.)"""
    p = d.placeholder
    lock = " FOR UPDATE SKIP LOCKED" if d.name == "postgres" else ""
    return (
        f"UPDATE _hearth_jobs SET state = 'running', attempts = attempts + 1, lease_until = {p(1)},"
        f" worker = {p(2)}, updated = {p(3)}"
        " WHERE id IN (SELECT id FROM _hearth_jobs"
        f" WHERE state = 'pending' AND run_at <= {p(4)} ORDER BY run_at LIMIT {p(5)}{lock})"
        " RETURNING id, name, payload, attempts, max_attempts, backoff, job_key"
    )


def any_due(d: Dialect) -> str:
    """One claimable job, if any (p1 = p2 = now): what a worker reads before trying a claim."""
    p = d.placeholder
    return (
        f"SELECT id FROM _hearth_jobs WHERE (state = 'pending' AND run_at <= {p(1)})"
        f" OR (state = 'running' AND lease_until < {p(2)}) LIMIT 1"
    )


def release(d: Dialect) -> str:
    """A job its worker gives back unfinished (the process stops): pending at p1 (= p2, now),
    the attempt not counted."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_jobs SET state = 'pending', run_at = {p(1)}, attempts = attempts - 1, updated = {p(2)},"
        f" lease_until = 0, worker = '' WHERE id = {p(3)} AND worker = {p(4)} AND state = 'running'"
    )


def extend_lease(d: Dialect) -> str:
    """Keep a running job's lease (p1: until, p2: now) while worker p4 still holds it (id p3)."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_jobs SET lease_until = {p(1)}, updated = {p(2)}"
        f" WHERE id = {p(3)} AND worker = {p(4)} AND state = 'running'"
    )


def finish(d: Dialect) -> str:
    """The job ends (p1: failed; p3 = p4: now), if worker p6 still holds it (its lease may have
    expired and another worker taken it: then this worker's answer is not the job's)."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_jobs SET state = {p(1)}, last_error = {p(2)}, finished = {p(3)}, updated = {p(4)},"
        f" lease_until = 0 WHERE id = {p(5)} AND worker = {p(6)} AND state = 'running'"
    )


def succeed(d: Dialect) -> str:
    """The job is done (p1 = p2: now), if worker p4 still holds it; `last_error` keeps the
    error of an earlier failed attempt, if any."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_jobs SET state = 'done', finished = {p(1)}, updated = {p(2)}, lease_until = 0"
        f" WHERE id = {p(3)} AND worker = {p(4)} AND state = 'running'"
    )


def reschedule(d: Dialect) -> str:
    """A failed attempt with attempts left: pending again at p1."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_jobs SET state = 'pending', run_at = {p(1)}, last_error = {p(2)}, updated = {p(3)},"
        f" lease_until = 0 WHERE id = {p(4)} AND worker = {p(5)} AND state = 'running'"
    )


def retry(d: Dialect) -> str:
    """A failed or cancelled job runs again now (p1 = p2), with its attempts counted afresh."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_jobs SET state = 'pending', run_at = {p(1)}, attempts = 0, finished = 0,"
        f" updated = {p(2)}, lease_until = 0, worker = '' WHERE id = {p(3)} AND state IN ('failed', 'cancelled')"
    )


def cancel(d: Dialect) -> str:
    """A job that has not started (pending) is cancelled; a running one is left to finish."""
    p = d.placeholder
    return (
        f"UPDATE _hearth_jobs SET state = 'cancelled', finished = {p(1)}, updated = {p(2)}"
        f" WHERE id = {p(3)} AND state = 'pending'"
    )


def list_jobs(d: Dialect, where: list[str], limit_ph: str, offset_ph: str) -> str:
    cond = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {COLUMNS} FROM _hearth_jobs{cond} ORDER BY id DESC LIMIT {limit_ph} OFFSET {offset_ph}"


def count_jobs(d: Dialect, where: list[str]) -> str:
    cond = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT COUNT(*) FROM _hearth_jobs{cond}"


def count_by_state(d: Dialect) -> str:
    """Jobs per state (metrics at scrape time: the table is pruned of ended jobs after 7 days)."""
    return "SELECT state, COUNT(*) FROM _hearth_jobs GROUP BY state"


def last_run_at(d: Dialect) -> str:
    """When the latest job of name p1 was due (a cron's last tick that was enqueued)."""
    return f"SELECT MAX(run_at) FROM _hearth_jobs WHERE name = {d.placeholder(1)}"


def prune(d: Dialect) -> str:
    """Ended jobs (done, failed, cancelled) finished before p1 are forgotten."""
    return (
        "DELETE FROM _hearth_jobs WHERE state IN ('done', 'failed', 'cancelled')"
        f" AND finished > 0 AND finished < {d.placeholder(1)}"
    )
