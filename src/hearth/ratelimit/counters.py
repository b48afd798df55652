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

    Each hit is one round trip (`SET key 0 PX window NX` + `INCR key` in one MULTI). When Redis
    cannot be reached the counters fall back to this process's memory for a few seconds (and log
    it) instead of failing requests or letting everything through.
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
        self._down_until = 0.0

    def _up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        if self._up():
            log.warning("rate limit counters: Redis unreachable (%s); using process memory", exc)
        self._down_until = time.monotonic() + self._RETRY_AFTER

    async def _incr(self, key: str, window: float) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, px=max(1, int(window * 1000)), nx=True)
            pipe.incr(key)
            _, n = await pipe.execute()
        return int(n)

    async def hit(self, key: str, limit: int, window: float) -> bool:
        if self._up():
            try:
                # Refused hits are counted too; harmless, since they do not extend the window.
                return await self._incr(self.prefix + key, window) <= limit
            except self._errors as exc:
                self._failed(exc)
        return await self.fallback.hit(key, limit, window)

    async def add(self, key: str, window: float) -> int:
        if self._up():
            try:
                return await self._incr(self.prefix + key, window)
            except self._errors as exc:
                self._failed(exc)
        return await self.fallback.add(key, window)

    async def count(self, key: str) -> int:
        if self._up():
            try:
                raw = await self.redis.get(self.prefix + key)
                return int(raw) if raw is not None else 0
            except self._errors as exc:
                self._failed(exc)
        return await self.fallback.count(key)

    async def reset(self, key: str) -> None:
        await self.fallback.reset(key)
        if self._up():
            try:
                await self.redis.delete(self.prefix + key)
            except self._errors as exc:
                self._failed(exc)

    async def clear(self) -> None:
        # Shared keys are left alone (other processes use them); they expire with their window.
        await self.fallback.clear()

    async def close(self) -> None:
        await self.redis.aclose()


def from_env() -> Counters:
    """Redis counters when HEARTH_REDIS_URL is set (prefix HEARTH_REDIS_PREFIX), else memory."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    if not url:
        return MemoryCounters()
    return RedisCounters(url, os.environ.get(REDIS_PREFIX_ENV, DEFAULT_PREFIX))
