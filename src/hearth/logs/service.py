"""Request logs and the application's log entries, PocketBase's `_logs` (docs/operations.md).

The `request_done` handler only appends the event to a bounded in-memory buffer: building each
entry's data, its JSON and the database write happen in a flusher task, every FLUSH_INTERVAL or as
soon as BATCH entries wait, one transaction per batch. When the buffer is full (the database is
away or slower than the traffic) new entries are dropped and counted, with a warning at most
every 10 s, rather than memory growing or requests slowing. A stop flushes what is left.

Log records of `app.logger` (hooks, custom routes) and Hearth's own warnings and errors (the
`hearth` logger) become entries too, with PocketBase's levels (DEBUG -4, INFO 0, WARN 4,
ERROR 8) and their extra attributes as `data`, subject to the `logs` settings as requests are.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import orjson

from hearth._util import ids, times
from hearth._util.jsonlog import record_extras
from hearth._util.outage import Throttle
from hearth.db.base import UniqueViolation
from hearth.errors import ApiError, DatabaseUnavailable
from hearth.hooks.events import RequestDone
from hearth.logs.store import LogStore, Row
from hearth.ratelimit.ips import real_ip

log = logging.getLogger("hearth.logs")  # never stored itself: a failing store must not feed itself
stdout_log = logging.getLogger("hearth.request")  # request entries as JSON lines (--log-format json)

DEBUG, INFO, WARN, ERROR = -4, 0, 4, 8
FLUSH_INTERVAL = 1.0  # seconds between writes while entries trickle in
BATCH = 200  # entries that wake the flusher before its interval
MAX_BUFFER = 10_000  # entries held per process at most; beyond, new ones are dropped and counted
LOGS_API = "/api/logs"  # its successful requests are not logged (PocketBase's SkipSuccessActivityLog)
TRUNCATED = "__pb_truncated__"


def pb_level(levelno: int) -> int:
    """A Python logging level as PocketBase's (slog's): DEBUG -4, INFO 0, WARNING 4, ERROR+ 8."""
    if levelno < logging.INFO:
        return DEBUG
    if levelno < logging.WARNING:
        return INFO
    return WARN if levelno < logging.ERROR else ERROR


@dataclass(frozen=True, slots=True)
class Options:
    """The `logs` settings (and the trusted proxy headers for `userIP`) of one settings version."""

    max_days: int
    min_level: int
    log_ip: bool
    log_auth_id: bool
    max_data_size: int
    proxy_headers: tuple[str, ...] = ()
    leftmost: bool = False

    @classmethod
    def of(cls, settings: dict[str, Any]) -> Options:
        logs, proxy = settings["logs"], settings.get("trustedProxy") or {}
        return cls(
            int(logs["maxDays"]), int(logs["minLevel"]), bool(logs["logIP"]), bool(logs["logAuthId"]),
            int(logs.get("maxDataSize") or 0), tuple(proxy.get("headers") or ()), bool(proxy.get("useLeftmostIP")),
        )  # fmt: skip


OFF = Options(0, 0, True, False, 0)


class RequestLogs:
    def __init__(
        self,
        store: LogStore,
        settings: Callable[[], Awaitable[dict[str, Any]]],
        cached: Callable[[], dict[str, Any] | None],
        logger: logging.Logger,
        json_lines: bool = False,
    ) -> None:
        """`settings`: the current settings (cached per version by the settings store); `cached`:
        them without a read when they are loaded already (the request path's usual case).
        `logger`: app.logger, whose records become entries. `json_lines`: request entries are
        also printed as JSON lines (through the `hearth.request` logger)."""
        self.store = store
        self._settings = settings
        self._cached = cached
        self._seen: dict[str, Any] | None = None
        self.options = OFF
        self.logger = logger
        self.json_lines = json_lines
        # A request: (event, level, options); a log record: a finished row. Appends and pops of a
        # deque are atomic, so records logged from worker threads (sync hooks) need no lock.
        self._buffer: collections.deque[tuple[RequestDone, int, Options] | Row] = collections.deque()
        self._retry: list[Row] = []  # a batch whose write failed, written first next time
        self.dropped = 0  # entries refused because the buffer was full
        self._warn = Throttle(10.0)
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._capture = _Capture(self)
        self._own = _Capture(self, logging.WARNING)
        self._ips: dict[str, str] = {}
        self._second: tuple[int, str] = (-1, "")

    async def start(self) -> None:
        await self.refresh()
        # A filter rather than the logger's level: logging caches a level's answer per logger,
        # and only for the loggers of its registry (app.logger is not in it).
        self.logger.setLevel(logging.DEBUG)
        self.logger.addFilter(self._at_min_level)
        self.logger.addHandler(self._capture)
        logging.getLogger("hearth").addHandler(self._own)
        self._task = asyncio.create_task(self._run(), name="hearth request logs")

    async def refresh(self) -> Options:
        """The options of the current settings (read again only when their version moved)."""
        current = self._cached()
        if current is None:
            try:
                current = await self._settings()
            except DatabaseUnavailable:  # an outage (the db layer logged it): the last options
                return self.options
        if current is not self._seen:
            self._seen = current
            self.options = Options.of(current)
        return self.options

    # ----- the request path: one append -------------------------------------------------------
    async def on_request(self, e: RequestDone) -> None:
        await e.next()
        opts = await self.refresh()
        if opts.max_days == 0 and not self.json_lines:
            return  # PocketBase: no retention, no logging
        failed = e.status >= 400 or e.error is not None
        if not failed and e.path.startswith(LOGS_API) and e.path[len(LOGS_API) : len(LOGS_API) + 1] in ("", "/"):
            return
        level = ERROR if failed else INFO
        if level < opts.min_level:
            return
        self._push((e, level, opts))
        if len(self._buffer) >= BATCH:
            self._wake.set()

    def _push(self, item: tuple[RequestDone, int, Options] | Row) -> None:
        if len(self._buffer) >= MAX_BUFFER:
            self.dropped += 1
            held = self._warn.admit("full")
            if held is not None:
                log.warning(
                    "request logs: %d entries waiting to be written, new ones are dropped (%d so far)",
                    len(self._buffer), self.dropped,
                )  # fmt: skip
            return
        self._buffer.append(item)

    def _at_min_level(self, record: logging.LogRecord) -> bool:
        """app.logger's records below `minLevel` are dropped before any handler (stdout too)."""
        return pb_level(record.levelno) >= self.options.min_level

    def add_record(self, record: logging.LogRecord) -> None:
        """A log record of app.logger or of Hearth (from any thread)."""
        opts = self.options
        level = pb_level(record.levelno)
        if opts.max_days == 0 or level < opts.min_level:
            return
        data = record_extras(record)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            data.setdefault("error", f"{type(exc).__name__}: {exc}")
        if record.name != self.logger.name:
            data.setdefault("logger", record.name)
        created = self._stamp(record.created)
        self._push((ids.record_id(), level, _clean(record.getMessage()), _dumps(data, opts.max_data_size), created))

    # ----- the flusher ------------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), FLUSH_INTERVAL)
            except TimeoutError:
                pass
            self._wake.clear()
            if self.store.waiting:
                continue
            try:
                await self.flush()
            except DatabaseUnavailable:
                pass  # the db layer logs the outage, once per interval; the batch waits for the next round
            except Exception:  # never ends the flusher: the next round tries again
                if self._warn.admit("flush") is not None:
                    log.exception("request logs: writing entries failed")

    async def flush(self) -> int:
        """Write what waits now; returns the number of entries stored. A batch the database
        cannot take now stays for the next round (within the buffer's bound) and the error is
        raised; a row it refuses is dropped alone (counted)."""
        async with self._flushing:
            stored = 0
            # Only what waits now: entries arriving during a write wait for the next round. Else,
            # while requests keep coming, each awaited write (a round trip on PostgreSQL) is
            # followed at once by another of the few that came meanwhile: a transaction per
            # couple of entries instead of batches.
            pending = len(self._buffer)
            while self._retry or (pending and self._buffer):
                rows, self._retry = self._retry, []
                # Rows whose last write's outcome is unknown (its answer was lost): a duplicate id
                # then means that write landed, not a refusal.
                unsure = {row[0] for row in rows}
                holes: list[int] = []  # request rows, whose ids are drawn at once below
                while pending and self._buffer and len(rows) < BATCH * 5:
                    pending -= 1
                    item = self._buffer.popleft()
                    if len(item) == 3:
                        row = self._request_row(*item)
                        if row is not None:
                            holes.append(len(rows))
                            rows.append(row)
                    else:
                        rows.append(item)
                for at, new_id in zip(holes, ids.record_ids(len(holes)), strict=True):
                    rows[at] = (new_id, *rows[at][1:])
                if not rows:
                    continue
                try:
                    await self.store.write(rows)
                except (DatabaseUnavailable, asyncio.CancelledError):
                    self._keep(rows)
                    raise
                except Exception:  # a row the database refuses: the others are written one by one
                    stored += await self._one_by_one(rows, unsure)
                    continue
                stored += len(rows)
            return stored

    def _keep(self, rows: list[Row]) -> None:
        """A batch the database could not take now is written first next round (within the
        buffer's bound; beyond it, counted as dropped)."""
        self._retry = rows[: max(0, MAX_BUFFER - len(self._buffer))]
        self.dropped += len(rows) - len(self._retry)

    async def _one_by_one(self, rows: list[Row], unsure: set[str]) -> int:
        stored = 0
        for at, row in enumerate(rows):
            try:
                await self.store.write([row])
            except (DatabaseUnavailable, asyncio.CancelledError):
                self._keep(rows[at:])
                raise
            except Exception as exc:
                if isinstance(exc, UniqueViolation) and row[0] in unsure:
                    stored += 1  # the attempt whose answer was lost wrote it
                    continue
                self.dropped += 1
                if self._warn.admit("refused") is not None:
                    log.warning("request logs: an entry the database refused was dropped (%s): %s", exc, row[2][:200])
                continue
            stored += 1
        return stored

    def _request_row(self, e: RequestDone, level: int, opts: Options) -> Row | None:
        data: dict[str, Any] = {"type": "request", "execTime": e.duration * 1000}
        if level == ERROR:
            err = e.error
            if isinstance(err, ApiError):  # its message, and its field errors or cause
                data["error"] = err.message
                cause = err.__cause__
                data["details"] = err.envelope()["data"] or (str(cause) if cause is not None else None)
            elif err is not None:  # a failure (answered 500)
                data["error"] = f"{type(err).__name__}: {err}"
        url = e.path + ("?" + e.query if e.query else "")
        url = _cut(url, 3000)
        method = _cut(e.method.upper(), 50)
        data["url"] = url
        data["method"] = method
        data["status"] = e.status
        data["referer"] = _cut(e.header(b"referer"), 2000)
        data["userAgent"] = _cut(e.header(b"user-agent"), 2000)
        auth = e.auth
        if auth is not None and getattr(auth, "record", None) is not None and auth.collection is not None:
            data["auth"] = auth.collection.name
            if opts.log_auth_id:
                data["authId"] = auth.id
        else:
            data["auth"] = ""
        if opts.log_ip:
            data["userIP"] = self._user_ip(e, opts)
            data["remoteIP"] = e.remote_ip
        message = _clean(f"{method} {unquote(url)}")
        created = self._stamp(e.started + e.duration)
        if self.json_lines:
            stdout_log.log(logging.ERROR if level == ERROR else logging.INFO, "%s", message, extra={"data": data})
        if opts.max_days == 0:
            return None
        return ("", level, message, _dumps(data, opts.max_data_size), created)

    def _user_ip(self, e: RequestDone, opts: Options) -> str:
        """The client's IP as the trusted proxy headers give it; without such headers, the peer's
        (its normalised form kept per address: the same few clients send most requests)."""
        client = (e.remote_ip,) if e.remote_ip else None
        if opts.proxy_headers:
            return real_ip(e.headers, client, opts.proxy_headers, opts.leftmost)
        ip = self._ips.get(e.remote_ip)
        if ip is None:
            if len(self._ips) >= 1024:
                self._ips.clear()
            ip = self._ips[e.remote_ip] = real_ip((), client, (), False)
        return ip

    def _stamp(self, ts: float) -> str:
        """`ts` (epoch seconds) in PocketBase's datetime form; the second's text is kept (entries
        come many per second)."""
        sec = int(ts)
        cached = self._second
        if cached[0] != sec:
            cached = self._second = (sec, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec)))
        return f"{cached[1]}.{min(999, int((ts - sec) * 1000)):03d}Z"

    async def prune(self) -> int:
        """Entries older than `maxDays` days are removed (with maxDays 0, as PocketBase: all)."""
        opts = await self.refresh()
        before = times.format_datetime(datetime.now(UTC) - timedelta(days=opts.max_days))
        return await self.store.prune(before)

    async def stop(self) -> None:
        """Stop capturing, then write what is left (the caller bounds the wait)."""
        self.logger.removeHandler(self._capture)
        self.logger.removeFilter(self._at_min_level)
        logging.getLogger("hearth").removeHandler(self._own)
        task, self._task = self._task, None
        if task is not None:
            try:
                # Not in the middle of a write: cancelled while awaiting its commit, the batch
                # would be kept and written again below although it may have landed.
                async with self._flushing:
                    task.cancel()
                    try:
                        await task
                    except asyncio.CancelledError:
                        pass
            finally:
                task.cancel()  # this stop was cut short while a write went on: it ends too
        try:
            if not self.store.waiting:
                await self.flush()
        except DatabaseUnavailable:
            pass  # logged by the db layer; what is left is counted below
        finally:
            left = len(self._buffer) + len(self._retry)
            if left:
                log.warning("request logs: %d entries not written before the stop", left)
            await self.store.close()


class _Capture(logging.Handler):
    """Hands log records to the request logs. Each record is taken once (app.logger's records
    also reach the `hearth` logger's handlers), and never those of the logs themselves."""

    def __init__(self, logs: RequestLogs, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.logs = logs

    def emit(self, record: logging.LogRecord) -> None:
        if record.name in (log.name, stdout_log.name) or getattr(record, "hearth_logged", False):
            return
        setattr(record, "hearth_logged", True)  # noqa: B010 - an attribute LogRecord does not declare
        try:
            self.logs.add_record(record)
        except Exception:
            self.handleError(record)


def _clean(text: str) -> str:
    """NUL characters (a `%00` in a URL) as U+FFFD: PostgreSQL's text and jsonb refuse them."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _cut(text: str, limit: int) -> str:
    return text[:limit] + "..." if len(text) > limit else text


def _dumps(data: dict[str, Any], limit: int) -> str:
    """`data` as JSON; over `limit` bytes (maxDataSize, 0: none), as PocketBase: the keys in name
    order while they fit, the first that does not as null, and `__pb_truncated__`."""
    text = _nul_free(orjson.dumps(data, default=str, option=orjson.OPT_SORT_KEYS).decode())
    if limit <= 0 or len(text) <= limit:
        return text
    kept: dict[str, Any] = {TRUNCATED: True}
    size = 2  # {}
    for key in sorted(data):
        piece = len(orjson.dumps({key: data[key]}, default=str)) - 1
        if size + piece > limit:
            kept[key] = None
            break
        kept[key] = data[key]
        size += piece
    return _nul_free(orjson.dumps(kept, default=str, option=orjson.OPT_SORT_KEYS).decode())


def _nul_free(text: str) -> str:
    """JSON text without escaped NULs (`\\u0000`), which jsonb refuses: U+FFFD instead."""
    return text.replace("\\u0000", "\\ufffd") if "\\u0000" in text else text
