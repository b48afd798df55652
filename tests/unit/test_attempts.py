"""AttemptLimiter: failed logins per identity, in memory and in Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from hearth.auth.attempts import AttemptLimiter
from hearth.ratelimit.counters import Counters, MemoryCounters, RedisCounters
from hearth.settings import model

REDIS_URL = os.environ.get("HEARTH_TEST_REDIS", "redis://127.0.0.1:6379/0")


class Settings:
    """A settings source whose identity block a test can change."""

    def __init__(self, **identity: Any) -> None:
        self.value = model.defaults()
        self.value["rateLimits"]["identity"].update(identity)

    async def __call__(self) -> Mapping[str, Any]:
        return self.value


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    if request.param == "memory":
        yield MemoryCounters()
        return
    c = RedisCounters(REDIS_URL, prefix=f"hearth-test-{secrets.token_hex(4)}:")
    try:
        await c.redis.ping()
    except Exception:
        await c.close()
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set HEARTH_TEST_REDIS)")
    try:
        yield c
    finally:
        await c.close()


async def test_blocks_after_max_failures_until_the_window_closes(counters: Counters) -> None:
    limiter = AttemptLimiter(Settings(maxFailures=3, duration=1), counters)
    key = limiter.key("users", "bob@example.com")
    for _ in range(3):
        assert not await limiter.blocked(key)
        await limiter.failed(key)
    assert await limiter.blocked(key)
    # Blocked stays blocked whatever happens in between (the caller refuses before checking
    # the password, so a right password cannot clear it).
    assert await limiter.blocked(key)
    other = limiter.key("users", "alice@example.com")
    assert not await limiter.blocked(other), "identities count separately"
    assert not await limiter.blocked(limiter.key("admins", "bob@example.com")), "and per collection"
    await asyncio.sleep(1.05)
    assert not await limiter.blocked(key)


async def test_success_forgets_failures(counters: Counters) -> None:
    limiter = AttemptLimiter(Settings(maxFailures=2, duration=60), counters)
    key = limiter.key("users", "bob@example.com")
    await limiter.failed(key)
    await limiter.succeeded(key)
    await limiter.failed(key)
    assert not await limiter.blocked(key), "only one failure since the success"
    await limiter.failed(key)
    assert await limiter.blocked(key)


async def test_identity_spellings_share_one_count(counters: Counters) -> None:
    limiter = AttemptLimiter(Settings(maxFailures=2, duration=60), counters)
    await limiter.failed(limiter.key("users", "Bob@Example.com"))
    await limiter.failed(limiter.key("users", " bob@example.com "))
    assert await limiter.blocked(limiter.key("users", "BOB@EXAMPLE.COM"))
    assert "bob" not in limiter.key("users", "bob@example.com"), "keys hold no identities"


async def test_disabled_never_blocks(counters: Counters) -> None:
    settings = Settings(enabled=False, maxFailures=1, duration=60)
    limiter = AttemptLimiter(settings, counters)
    key = limiter.key("users", "bob@example.com")
    for _ in range(3):
        await limiter.failed(key)
    assert not await limiter.blocked(key)
    # Settings are read on every call: turning it on applies at once.
    settings.value["rateLimits"]["identity"]["enabled"] = True
    await limiter.failed(key)
    assert await limiter.blocked(key)


async def test_defaults_allow_ten_failures() -> None:
    limiter = AttemptLimiter(Settings(), MemoryCounters())
    key = limiter.key("users", "x")
    for _ in range(9):
        await limiter.failed(key)
    assert not await limiter.blocked(key)
    await limiter.failed(key)
    assert await limiter.blocked(key)
