"""Fixed-window counters: in this process's memory (PocketBase's model), or in Redis when
`HEARTH_REDIS_URL` is set so that every worker process and instance shares one count.

A window opens with the first hit on a key and lasts `window` seconds, as PocketBase's
rateClient does; hits after the limit are refused until it closes (they do not extend it).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Protocol

from hearth._util.outage import OutageLog

log = logging.getLogger("hearth")

REDIS_URL_ENV = "HEARTH_REDIS_URL"
REDIS_PREFIX_ENV = "HEARTH_REDIS_PREFIX"
DEFAULT_PREFIX = "hearth:"


class Counters(Protocol):
    async def hit(self, key: str, limit: int, window: float) -> bool:
        """Count one request; False when the window already holds `limit` of them."""
        ...

    async def add(self, key: str, window: float) -> int:
        """Count one event and return the window's count (the window opens on the first)."""
        ...

    async def count(self, key: str) -> int:
        """Events in the key's open window (0 when none is open)."""
        ...

    async def reset(self, key: str) -> None: ...

    async def clear(self) -> None:
        """Forget every key this process holds (PocketBase does so when settings change)."""
        ...

    async def close(self) -> None: ...


class MemoryCounters:
    """Per-process counters. Closed windows are swept once a minute so memory stays bounded."""

    def __init__(self, sweep_every: float = 60.0) -> None:
        # key -> [window end (monotonic seconds), count]
        self._windows: dict[str, list[float]] = {}
        self._sweep_every = sweep_every
        self._next_sweep = time.monotonic() + sweep_every

    def _open(self, key: str, window: float, now: float) -> list[float]:
        if now >= self._next_sweep:
            self._sweep(now)
        w = self._windows.get(key)
        if w is None or now >= w[0]:
            w = [now + window, 0.0]
            self._windows[key] = w
        return w

    def _sweep(self, now: float) -> None:
        self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
        self._next_sweep = now + self._sweep_every

    def hit_now(self, key: str, limit: int, window: float) -> bool:
        w = self._open(key, window, time.monotonic())
        if w[1] >= limit:
            return False
        w[1] += 1
        return True

    async def hit(self, key: str, limit: int, window: float) -> bool:
        return self.hit_now(key, limit, window)

    async def add(self, key: str, window: float) -> int:
        w = self._open(key, window, time.monotonic())
        w[1] += 1
        return int(w[1])

    async def count(self, key: str) -> int:
        w = self._windows.get(key)
        if w is None or time.monotonic() >= w[0]:
            return 0
        return int(w[1])

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    async def clear(self) -> None:
        self._windows.clear()

    async def close(self) -> None:
        return None

    def __len__(self) -> int:
        return len(self._windows)


class RedisCounters:
    """Counters in Redis, shared by every process using the same server and prefix.

    Each hit is one round trip (`SET key 0 PX window NX` + `INCR key` in one MULTI).

    When Redis cannot be reached (refused, reset, or no answer within `timeout`), the counters
    fall back to this process's memory: requests are neither failed (a 5xx would make Redis a
    single point of failure for the whole API) nor let through uncounted (brute-force protection
    stays, per process). While Redis is away one request every `_RETRY_AFTER` seconds tries it
    again; the others count locally without waiting for it. The outage is logged once when it
    starts, at most once per 10 s while it lasts, and once when Redis is back. Counts made
    locally meanwhile are not carried over into Redis.
    """

    _RETRY_AFTER = 5.0

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX, timeout: float = 0.5) -> None:
        # Imported here: redis costs ~0.1 s of start-up that the default (memory) never needs.
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError

        # redis-py retries 10 times with backoff by default: far too long to hold a request.
        self.redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1)
        )
        self.prefix = prefix
        self._errors: tuple[type[Exception], ...] = (RedisError, OSError)
        self.fallback = MemoryCounters()
        self.outage = OutageLog(
            "Redis (rate limit counters)", log, unit="calls counted in process memory instead"
        )
        self._down_until = 0.0

    def _use_redis(self) -> bool:
        """Whether to ask Redis now: always while it works; while it is away, one caller per
        retry pause (the others count locally without waiting for it)."""
        if not self.outage.down:
            return True
        now = time.monotonic()
        if now < self._down_until:
            self.outage.failed(self.outage.reason)  # counted, for the periodic log line
            return False
        self._down_until = now + self._RETRY_AFTER  # this caller tries; the next one in a while
        return True

    def _worked(self) -> None:
        if self.outage.down:
            self.outage.ok()

    def _failed(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + self._RETRY_AFTER
        text = " ".join(str(exc).split())
        self.outage.failed(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)

    async def _incr(self, key: str, window: float) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, px=max(1, int(window * 1000)), nx=True)
            pipe.incr(key)
            _, n = await pipe.execute()
        return int(n)

    async def hit(self, key: str, limit: int, window: float) -> bool:
        if self._use_redis():
            try:
                # Refused hits are counted too; harmless, since they do not extend the window.
                n = await self._incr(self.prefix + key, window)
            except self._errors as exc:
                self._failed(exc)
            else:
                self._worked()
                return n <= limit
        return await self.fallback.hit(key, limit, window)

    async def add(self, key: str, window: float) -> int:
        if self._use_redis():
            try:
                n = await self._incr(self.prefix + key, window)
            except self._errors as exc:
                self._failed(exc)
            else:
                self._worked()
                return n
        return await self.fallback.add(key, window)

    async def count(self, key: str) -> int:
        if self._use_redis():
            try:
                raw = await self.redis.get(self.prefix + key)
            except self._errors as exc:
                self._failed(exc)
            else:
                self._worked()
                return int(raw) if raw is not None else 0
        return await self.fallback.count(key)

    async def reset(self, key: str) -> None:
        await self.fallback.reset(key)
        if self._use_redis():
            try:
                await self.redis.delete(self.prefix + key)
            except self._errors as exc:
                self._failed(exc)
            else:
                self._worked()

    async def clear(self) -> None:
        # Shared keys are left alone (other processes use them); they expire with their window.
        await self.fallback.clear()

    async def close(self) -> None:
        try:
            await self.redis.aclose()
        except self._errors:
            pass  # nothing to say goodbye to


def from_env() -> Counters:
    """Redis counters when HEARTH_REDIS_URL is set (prefix HEARTH_REDIS_PREFIX), else memory."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    if not url:
        return MemoryCounters()
    return RedisCounters(url, os.environ.get(REDIS_PREFIX_ENV, DEFAULT_PREFIX))
