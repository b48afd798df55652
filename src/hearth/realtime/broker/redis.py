"""The realtime broker for many instances: one Redis stream (`<prefix>rt`).

A publish is an XADD (the stream is trimmed to about MAX_EVENTS); every process reads it with a
blocking XREAD from the last entry it saw, so events come in publish order and a process that
lost Redis for a moment reads on from where it was once Redis is back: nothing published while
Redis was up is skipped. Events of a transaction are added after it commits (a process that
dies in between loses them: realtime is a notification, not a record of the write).

While Redis is away: publishing an event about a client (a subscription passed to its process)
raises BrokerUnavailable (its request answers 503); record events of committed writes are
dropped with one log line per interval; the reader retries with a growing pause and heals by
itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson

from hearth._util import deepjson
from hearth._util.outage import OutageLog
from hearth._util.tasks import cancel
from hearth.db.base import Transaction
from hearth.errors import DatabaseUnavailable
from hearth.realtime.broker.base import Active, BrokerUnavailable, Coalescer, Handler

log = logging.getLogger("hearth.realtime")

MAX_EVENTS = 100_000  # kept in the stream (approximately): minutes of traffic for a reader to catch up
BLOCK_MS = 1000
BATCH = 500
RETRY_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0)


class RedisBroker:
    writes_in_transaction = False  # an event of a transaction is added after its commit

    def __init__(
        self, url: str, handle: Handler, active: Active, prefix: str = "hearth:", timeout: float = 2.0
    ) -> None:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        # The reader blocks BLOCK_MS in XREAD: its socket timeout must be longer than that.
        self.redis = Redis.from_url(url, socket_timeout=timeout + BLOCK_MS / 1000, socket_connect_timeout=timeout)
        self.key = prefix + "rt"
        self.handle = handle
        self.active = active
        self._errors: tuple[type[Exception], ...] = (RedisError, OSError)
        self._last = "0-0"
        self._task: asyncio.Task[None] | None = None
        self._adds: Coalescer[tuple[str, bytes]] = Coalescer(self._write)
        self.outage = OutageLog("Redis (realtime)", log, unit="calls")

    async def start(self) -> None:
        try:
            self._last = await self._tail()
        except self._errors as exc:
            self._failed(exc)  # read on from the stream's start once Redis answers
        self._task = asyncio.get_running_loop().create_task(self._read(), name="hearth-realtime-redis")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel(self._task)
            self._task = None
        with contextlib.suppress(Exception):
            await self.redis.aclose()

    async def _tail(self) -> str:
        """The id of the newest entry ("0-0" for an empty stream)."""
        newest: Any = await self.redis.xrevrange(self.key, count=1)
        return str(newest[0][0].decode()) if newest else "0-0"

    async def catch_up(self) -> None:
        with contextlib.suppress(*self._errors):
            self._last = max(self._last, await self._tail(), key=_order)

    def wake(self) -> None:
        return None  # the reader is blocked in XREAD, which returns as soon as anything is added

    async def publish(self, target: str, payload: dict[str, Any], tx: Transaction | None = None) -> None:
        data = deepjson.dumps(payload)
        if tx is None:
            await self._add(target, data)
            return

        async def after_commit() -> None:
            try:
                await self._add(target, data)
            except BrokerUnavailable:
                pass  # counted in the outage log: the write stands, its event is lost

        tx.after_commit(after_commit)

    async def _add(self, target: str, data: bytes) -> None:
        """Events added at the same moment go in one pipeline (one round trip, one connection);
        this returns once its own is in the stream."""
        await self._adds.add((target, data))

    async def _write(self, rows: list[tuple[str, bytes]]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for target, data in rows:
                    pipe.xadd(self.key, {"t": target, "p": data}, maxlen=MAX_EVENTS, approximate=True)
                await pipe.execute()
        except self._errors as exc:
            self._failed(exc)
            raise BrokerUnavailable() from None
        if self.outage.down:
            self.outage.ok()

    def _failed(self, exc: Exception) -> None:
        text = " ".join(str(exc).split())
        self.outage.failed(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)

    async def _read(self) -> None:
        failures = 0
        while True:
            try:
                answer: Any = await self.redis.xread({self.key: self._last}, count=BATCH, block=BLOCK_MS)
                if self.outage.down:
                    self.outage.ok()
                failures = 0
                for _key, entries in answer or ():
                    for entry_id, fields in entries:
                        if self.active():
                            await self._deliver(fields)
                        self._last = entry_id.decode()
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable:
                # Handled again, from this event on, once the database answers (as the database
                # broker does): a client's subscription must not be lost to an outage.
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1
            except self._errors as exc:
                self._failed(exc)
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1

    async def _deliver(self, fields: dict[bytes, bytes]) -> None:
        try:
            target, payload = fields[b"t"].decode(), orjson.loads(fields[b"p"])
        except (KeyError, UnicodeDecodeError, orjson.JSONDecodeError):
            log.warning("realtime: an unreadable entry in %s was skipped", self.key)
            return
        try:
            await self.handle(target, payload)
        except DatabaseUnavailable:
            raise
        except Exception:
            log.exception("realtime event failed")


def _order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms or 0), int(seq or 0)
