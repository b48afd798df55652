"""Composition root: builds the services from a Config and wires them. Nothing imports it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hearth._util.gate import RequestGate
from hearth.audit import service as audit
from hearth.auth.account import AccountFlows
from hearth.auth.attempts import AttemptLimiter
from hearth.auth.otp import OTPFlows
from hearth.auth.service import AuthService
from hearth.backups.engine import BackupEngine
from hearth.backups.service import Backups
from hearth.collections.service import CollectionService
from hearth.config import Config
from hearth.db.base import Database
from hearth.files.provider import StorageProvider
from hearth.files.storage import Storage
from hearth.files.thumbs import Thumbnailer
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import Lifecycle
from hearth.jobs.cron import Crons, CronScheduler
from hearth.jobs.queue import JobQueue
from hearth.jobs.worker import JobFunctions, JobWorker
from hearth.logs.service import RequestLogs
from hearth.logs.store import LogStore
from hearth.mail.delivery import AuthMailDelivery
from hearth.mail.sender import Mailer
from hearth.metrics.service import Metrics
from hearth.openapi.document import OpenAPIDocument
from hearth.realtime.hub import Hub
from hearth.realtime.local_channel import LocalChannel
from hearth.records.downloads import RecordDownloads
from hearth.records.playground import RulesPlayground
from hearth.records.present import RecordPresenter
from hearth.records.reads import RecordReader
from hearth.records.service import RecordService
from hearth.schema.bootstrap import bootstrap
from hearth.schema.repository import CollectionRepository
from hearth.settings.store import SettingsStore
from hearth.sqlconsole.service import SqlConsole
from hearth.webhooks.service import Webhooks

log = logging.getLogger("hearth")
STOP_RESERVE = 0.2  # seconds of the stop deadline kept for closing the database
JOBS_STOP_WAIT = 5.0  # seconds running jobs get to finish when a stop has no deadline
JOBS_CLEANUP = "__hearthJobsCleanup__"  # the built-in cron that forgets old ended jobs
LOGS_CLEANUP = "__hearthLogsCleanup__"  # the built-in cron that removes logs older than maxDays


class Hearth:
    """The running services of one process."""

    def __init__(self, config: Config, in_flight: Callable[[], int] = lambda: 0) -> None:
        """`in_flight`: how many requests the server is handling now (for metrics)."""
        self.config = config
        self.in_flight = in_flight
        self.db: Database | None = None
        self.metrics: Metrics | None = None  # built by start when config.metrics_token is set
        # Bound to before start (user hooks) and by each service as start builds it.
        self.hooks = Hooks()
        # What runs each durable job and cron (registered before start, as hooks are).
        self.job_functions = JobFunctions()
        self.crons = Crons(self.job_functions)
        self.crons.add(JOBS_CLEANUP, "0 * * * *", self._prune_jobs)
        self.crons.add(LOGS_CLEANUP, "0 */6 * * *", self._prune_logs)
        self.crons.add(audit.CLEANUP, audit.CLEANUP_SCHEDULE, self._prune_audit)
        # app.logger: its records become request log entries (bound when the logs are built).
        # One per Hearth, outside logging's registry; printed through the `hearth` logger.
        self.logger = logging.Logger("hearth.app")
        self.logger.parent = log
        self.stop_deadline: float | None = None  # loop time; set when a signal starts the stop
        # Every API request passes it (http.request_hooks); a restore closes it (hearth.backups).
        self.gate = RequestGate(config.data_dir)
        self.background = False

    async def start(self, background: bool = False) -> None:
        """Build the services; each capability that reacts to events binds its handlers to
        `self.hooks` as it is built (hearth.hooks.catalog lists them). `background`: also run
        durable jobs and the cron schedule (a server or worker process, not a CLI command)."""
        self.db = await open_database(self.config)
        self.collections = CollectionRepository(self.db)
        self.settings = SettingsStore(self.db)
        self.files = StorageProvider(self.config.data_dir)
        reads = RecordReader(self.db)
        self.records = RecordService(self.db, self.collections, self.hooks, reads, self.storage)
        self.presenter = RecordPresenter(reads, self.collections, self.hooks)
        self.playground = RulesPlayground(reads, self.presenter, self.collections)
        self.sql_console = SqlConsole(self.db)
        self.downloads = RecordDownloads(reads, self.hooks)
        self.thumbs = Thumbnailer()
        self.auth = AuthService(self.collections, self.records, self.presenter, self.hooks)
        self.account = AccountFlows(self.auth)
        self.otp = OTPFlows(self.records, self.auth.logins)
        self.attempts = AttemptLimiter(lambda: self.settings.get(self.collections.version), hooks=self.hooks)
        self.realtime = Hub(self.records, self.presenter, self.hooks, scope=self.config.data_identity)
        self.mailer = Mailer(self.settings)
        self.mail_delivery = AuthMailDelivery(self.hooks, self.mailer, self.settings, self.collections)
        self.collection_service = CollectionService(self.collections, self.records, self.hooks)
        self.openapi = OpenAPIDocument(self.collections)
        await bootstrap(self.db, self.collections)
        watch = getattr(self.db, "watch_state", None)
        if watch is not None:
            await watch()
        await self.records.auth_records.start()
        self.logs = RequestLogs(
            await LogStore.open(self.config, self.db),
            lambda: self.settings.get(self.collections.version),
            lambda: self.settings.cached(self.collections.version),
            self.logger,
            json_lines=self.config.log_format == "json",
        )
        await self.logs.start()
        self.hooks.request_done.bind(self.logs.on_request, id="hearth.logs", observer=True)
        await self.hooks.bootstrap.trigger(Lifecycle(self))
        self.jobs = JobQueue(self.db)
        self.audit = audit.AuditTrail(self.db, self.collections, self.settings, self.hooks)
        self.webhooks = Webhooks(
            self.db, self.collections, reads, self.jobs, self.job_functions, self.hooks, self.config.webhooks_private
        )
        self.job_worker = JobWorker(
            self.db, self.jobs, self.job_functions, self.hooks, self.config.jobs, lease=self.config.job_lease,
            feeders=(self.webhooks.relay,),
        )  # fmt: skip
        self.backups = Backups(
            backup_engine(self.config, self.db), self.config.data_dir, self.files, self.settings, self.collections,
            self.hooks, self.crons, self.gate,
        )  # fmt: skip
        self.cron = CronScheduler(self.crons, self.jobs, before_tick=self.backups.follow_schedule)
        await self.realtime.start()
        if background and self.config.metrics_token:
            self.metrics = Metrics(
                self.config.metrics_token, self.db, self.hooks, self.realtime, self.jobs, self.in_flight,
                LocalChannel, self.config.data_identity,
            )  # fmt: skip
            await self.metrics.start()
        if background:
            self.background = True
            await self.job_worker.start()
            await self.cron.start()
        await self.hooks.serve.trigger(Lifecycle(self))

    async def serve(self) -> None:
        """Start as a server process: services and the background work."""
        await self.start(background=True)

    async def _prune_jobs(self) -> None:
        removed = await self.jobs.prune()
        if removed:
            log.info("jobs: %d ended job(s) older than 7 days removed", removed)

    async def _prune_logs(self) -> None:
        removed = await self.logs.prune()
        if removed:
            log.info("logs: %d entries older than the logs' maxDays removed", removed)
    async def _prune_audit(self) -> None:
        await self.audit.prune()

    async def storage(self) -> Storage:
        """The file storage the current settings choose (local disk, or S3 when enabled)."""
        return self.files.for_settings(await self.settings.get(self.collections.version))

    def stopping(self, deadline: float) -> None:
        """The server began to stop (SIGTERM/SIGINT) and must be done by `deadline` (loop time):
        realtime streams end now so that only real requests are waited for."""
        self.stop_deadline = deadline
        if self.background:
            self.job_worker.halt()  # no new jobs; running ones get until the deadline
        self.draining()

    def draining(self) -> None:
        """SIGUSR2 (hearth.http.drain): realtime streams end now, and new ones are refused; the
        clients reconnect through the load balancer to another instance."""
        if self.db is not None:
            self.realtime.close_all()

    async def stop(self) -> None:
        """Release everything; within the stop deadline when a signal set one (what is still
        running past it is cancelled: the process is about to be ended anyway)."""
        if self.db is None:
            return
        deadline = self.stop_deadline
        jobs_wait = deadline_left(deadline, reserve=STOP_RESERVE * 3)
        background = (
            (("cron", self.cron.stop()), ("jobs", self.job_worker.stop(JOBS_STOP_WAIT if jobs_wait is None else jobs_wait)))
            if self.background
            else ()
        )
        steps = (
            *background,
            ("terminate hooks", self.hooks.terminate.trigger(Lifecycle(self))),
            ("realtime", self.realtime.stop()),
            ("mail", self._drain_mail()),
            ("login attempts", self.attempts.close()),
            ("file storage", self.files.close()),
            ("webhooks", self.webhooks.stop()),
            *((("metrics", self.metrics.stop()),) if self.metrics is not None else ()),
            ("request logs", self.logs.stop()),  # last: what the steps above logged is written
            ("backups", self.backups.stop()),
        )
        for what, step in steps:
            try:
                await asyncio.wait_for(step, deadline_left(deadline, reserve=STOP_RESERVE))
            except TimeoutError:
                log.warning("stopping: %s cleanup cut short by the shutdown timeout", what)
            except Exception:
                log.exception("stopping: %s cleanup failed", what)
        self.gate.close()
        db, self.db = self.db, None
        try:
            await asyncio.wait_for(db.close(), deadline_left(deadline))
        except TimeoutError:
            log.warning("stopping: the database did not close within the shutdown timeout")
        else:
            if deadline is not None:  # a signalled stop: the operator sees it ended cleanly
                log.info("stopped: database closed")

    async def _drain_mail(self) -> None:
        await self.account.background.drain()
        await self.otp.background.drain()


def deadline_left(deadline: float | None, reserve: float = 0.0) -> float | None:
    """Seconds until `deadline` (loop time) less `reserve`, never negative; None: no deadline."""
    if deadline is None:
        return None
    return max(0.0, deadline - asyncio.get_running_loop().time() - reserve)


def backup_engine(config: Config, db: Database) -> BackupEngine:
    if config.is_postgres:
        from hearth.backups.postgres import PostgresBackups
        from hearth.db.postgres import PostgresDatabase

        assert isinstance(db, PostgresDatabase)
        return PostgresBackups(db, config.db_url)
    from hearth.backups.sqlite import SQLiteBackups

    return SQLiteBackups(config.sqlite_path)


async def open_database(config: Config) -> Database:
    if config.is_postgres:
        from hearth.db.postgres import PostgresDatabase

        return await PostgresDatabase.connect(config.db_url, max_size=config.pg_pool_size)
    from hearth.db.sqlite import SQLiteDatabase

    config.data_dir.mkdir(parents=True, exist_ok=True)
    return SQLiteDatabase(config.sqlite_path)
