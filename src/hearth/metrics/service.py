"""The metrics of this worker process, and the scrape that answers for the whole instance.

`hearth serve --workers N` runs N processes and a scrape reaches one of them. That one asks the
others for their families over a Unix socket of this machine (the local channel realtime uses,
under a name of its own: the Hearth's data, the parent process, the worker's pid), adds them to
its own (hearth.metrics.families) and adds what the database says once (jobs by state). The
workers of an instance are the children of its server process (granian's), read from /proc. Why
not prometheus_client's multiprocess mode: docs/operations.md, "Metrics".
"""

from __future__ import annotations

import asyncio
import hmac
import os
import platform
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, ProcessCollector
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from hearth.db.base import Database
from hearth.errors import DatabaseUnavailable
from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import OUTERMOST
from hearth.hooks.events import JobRun
from hearth.jobs.queue import JobQueue
from hearth.metrics.families import Family, merge, render, snapshot
from hearth.metrics.requests import RequestMetrics
from hearth.version import __version__

ASK_SECONDS = 2.0  # a worker that does not answer within this is left out of the scrape
DATABASE_SECONDS = 5.0  # the jobs query; Prometheus' scrape timeout is 10 s by default


class RealtimeStats(Protocol):
    """What the realtime hub of this process shows (hearth.realtime.hub.Hub)."""

    @property
    def clients(self) -> Mapping[str, Any]: ...  # each with `.subscriptions`

    @property
    def delivered(self) -> int: ...


Message = dict[str, Any]


class Channel(Protocol):
    """hearth.realtime.local_channel.LocalChannel."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ask(self, tag: str, request: Message, timeout: float) -> Message | None: ...


ChannelFactory = Callable[[str, str, Callable[[Message], Awaitable[Message]]], Channel]


def sibling_pids() -> list[int]:
    """The other children of this process's parent: the instance's other workers (and
    possibly processes that are not Hearth's, which do not listen and are skipped)."""
    parent = os.getppid()
    pids: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{parent}/task"):
            with open(f"/proc/{parent}/task/{task}/children") as f:
                pids.update(int(p) for p in f.read().split())
    except (OSError, ValueError):
        return []  # no /proc (not Linux): this worker answers for itself
    pids.discard(os.getpid())
    return sorted(pids)


class Metrics:
    def __init__(
        self,
        token: str,
        db: Database,
        hooks: Hooks,
        realtime: RealtimeStats,
        jobs: JobQueue,
        in_flight: Callable[[], int],
        channel: ChannelFactory,
        scope: str,
    ) -> None:
        """`token`: what /metrics requires; `in_flight`: the requests this process is handling
        (realtime streams included); `scope`: this Hearth's data on this machine."""
        self._token = token.encode()
        self.db = db
        self.realtime = realtime
        self.jobs = jobs
        self.in_flight = in_flight
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        self.requests = RequestMetrics(hooks)
        self.registry.register(self.requests)
        self.job_runs = Counter(
            "hearth_job_runs", "Durable job attempts this instance ran, by job name.", ("name",), registry=self.registry
        )
        self.job_failures = Counter(
            "hearth_job_failures",
            "Durable job attempts that failed (retried while attempts are left), by job name.",
            ("name",),
            registry=self.registry,
        )
        self.registry.register(_State(self))
        hooks.job_run.bind(self._job_run, id="hearth.metrics", priority=OUTERMOST, observer=True)
        self.database = "postgresql" if db.dialect.name == "postgres" else "sqlite"
        self.channel = channel(f"metrics|{scope}|{os.getppid()}", str(os.getpid()), self._answer)

    async def start(self) -> None:
        await self.channel.start()

    async def stop(self) -> None:
        await self.channel.stop()

    def admits(self, authorization: str) -> bool:
        """Whether an Authorization header carries the token (`Bearer TOKEN`, as Prometheus'
        `authorization` setting sends it); compared in constant time."""
        scheme, _, given = authorization.strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._token)

    async def _job_run(self, e: JobRun) -> None:
        try:
            await e.next()
        except Exception:
            self.job_failures.labels(e.name).inc()
            raise
        finally:
            self.job_runs.labels(e.name).inc()

    # ----- the scrape --------------------------------------------------------------------------
    async def scrape(self) -> bytes:
        """The instance's metrics in Prometheus' text format."""
        asked = await asyncio.gather(*(self._ask(pid) for pid in sibling_pids()))
        workers = [(os.getpid(), snapshot(self.registry)), *(w for w in asked if w is not None)]
        count: Family = [
            "hearth_workers",
            "gauge",
            "Worker processes of this instance whose metrics this answer includes.",
            [["hearth_workers", {}, len(workers)]],
        ]
        shared = [count, *await self._database()]
        return render(merge([*workers, (0, shared)]))

    async def _ask(self, pid: int) -> tuple[int, list[Family]] | None:
        try:
            answer = await self.channel.ask(str(pid), {"metrics": 1}, ASK_SECONDS)
        except Exception:  # it did not answer in time, or stopped meanwhile: left out
            return None
        families = answer.get("families") if answer is not None else None
        return (pid, families) if isinstance(families, list) else None

    async def _answer(self, request: Message) -> Message:
        """Another worker's scrape asks for this process's families."""
        return {"families": snapshot(self.registry)} if request.get("metrics") else {}

    async def _database(self) -> list[Family]:
        """What the database holds for the whole Hearth (reported once, by the scraped worker)."""
        try:
            counts = await asyncio.wait_for(self.jobs.counts(), DATABASE_SECONDS)
        except (DatabaseUnavailable, TimeoutError):
            counts = None
        up: Family = [
            "hearth_database_up",
            "gauge",
            "1 when the scrape's database query succeeded, 0 when the database cannot be used now.",
            [["hearth_database_up", {}, 0 if counts is None else 1]],
        ]
        if counts is None:
            return [up]
        jobs: Family = [
            "hearth_jobs",
            "gauge",
            "Durable jobs in the database by state (the whole database: every instance reports the same).",
            [["hearth_jobs", {"state": state}, n] for state, n in counts.items()],
        ]
        return [up, jobs]


class _State:
    """Gauges read when collected: nothing is counted on the hot paths for them."""

    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.m
        clients = m.realtime.clients
        yield GaugeMetricFamily(
            "hearth_http_requests_in_flight",
            "HTTP requests being handled now (realtime streams not counted).",
            value=max(0, m.in_flight() - len(clients)),
        )
        yield GaugeMetricFamily("hearth_realtime_clients", "Realtime (SSE) clients connected.", value=len(clients))
        yield GaugeMetricFamily(
            "hearth_realtime_subscriptions",
            "Subscriptions of the connected realtime clients.",
            value=sum(len(c.subscriptions) for c in list(clients.values())),
        )
        yield CounterMetricFamily(
            "hearth_realtime_events_sent",
            "Record events queued to realtime clients (one per client and subscription it matched).",
            value=m.realtime.delivered,
        )
        size, in_use, most = m.db.usage()
        pool = "PostgreSQL: asyncpg pool, its LISTEN connection included" if m.database == "postgresql" else (
            "SQLite: a reader and the writer, in use while a write holds it"
        )  # fmt: skip
        yield GaugeMetricFamily("hearth_db_connections", f"Database connections open ({pool}).", value=size)
        yield GaugeMetricFamily("hearth_db_connections_in_use", f"Database connections in use ({pool}).", value=in_use)
        yield GaugeMetricFamily("hearth_db_connections_max", f"Database connections allowed ({pool}).", value=most)
        info = GaugeMetricFamily(
            "hearth_build_info", "Hearth's version, database and Python (always 1).", labels=("version", "database", "python")
        )
        info.add_metric((__version__, m.database, platform.python_version()), 1)
        yield info
