"""Failed login attempts per identity: against password/OTP guessing spread over many IPs.

The per-IP rate limiter (http/rate_limit.py) cannot stop a botnet trying one account's password
from thousands of addresses. This counts failures per (collection, identity) instead: the first
failure opens a window of `rateLimits.identity.duration` seconds; once it holds `maxFailures`
failures, every further attempt on that identity is refused (429) until the window closes, even
with the right password. A success clears the count. The counters live in process memory, or
in Redis when HEARTH_REDIS_URL is set, so that all workers and instances share them. While Redis
is unreachable they fall back to process memory (ratelimit/counters.py): logins are neither
failed nor left uncounted, only counted per process until Redis is back.

The limiter wraps every credential check (the `record_credential_check` hook that
auth-with-password and auth-with-otp trigger): a blocked identity is refused before its password
is even looked at, and the outcome is counted after.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hearth.errors import TooManyRequests
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import CredentialCheck
from hearth.ratelimit import counters as counters_mod

ATTEMPTS_MESSAGE = "Too many failed attempts, please try again later."
OTP_ATTEMPTS_MESSAGE = "Too many attempts, please try again later with a new OTP."

SettingsSource = Callable[[], Awaitable[Mapping[str, Any]]]


class AttemptLimiter:
    def __init__(
        self,
        settings: SettingsSource,
        counters: counters_mod.Counters | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        """`settings` returns the current settings (e.g. `lambda: store.get(repo.version)`);
        `counters` defaults to Redis when HEARTH_REDIS_URL is set, else process memory. With
        `hooks`, every credential check goes through the limiter."""
        self._settings = settings
        self.counters = counters if counters is not None else counters_mod.from_env()
        if hooks is not None:
            hooks.record_credential_check.bind(self._guard, id="hearth.attempts", priority=-1000)

    async def _guard(self, e: CredentialCheck) -> None:
        identity = e.identity if e.method == "password" else f"{e.method}:{e.identity}"
        key = self.key(e.collection.id, identity)
        if await self.blocked(key):
            # Checked before the secret: guessing stops here.
            raise TooManyRequests(ATTEMPTS_MESSAGE if e.method == "password" else OTP_ATTEMPTS_MESSAGE)
        await e.next()
        await (self.succeeded(key) if e.ok else self.failed(key))

    @staticmethod
    def key(collection_id: str, identity: str) -> str:
        """The counter key of an identity (an email, username or OTP owner) in a collection.

        Case-folded, so `Bob@x.io` and `bob@x.io` share one count (an identity lookup that
        ignores case must not give an attacker one budget per spelling); hashed, so Redis holds
        no addresses and keys stay short whatever was submitted.
        """
        digest = hashlib.sha256(identity.strip().casefold().encode()).hexdigest()[:32]
        return f"attempts:{collection_id}:{digest}"

    async def _limits(self) -> tuple[int, float] | None:
        """(maxFailures, duration) when the limit is on, else None."""
        cfg = (await self._settings()).get("rateLimits", {}).get("identity") or {}
        if not cfg.get("enabled", True):
            return None
        return int(cfg.get("maxFailures", 10)), float(cfg.get("duration", 600))

    async def blocked(self, key: str) -> bool:
        """True when `key` used up its failures in the open window: refuse the attempt."""
        limits = await self._limits()
        if limits is None:
            return False
        return await self.counters.count(key) >= limits[0]

    async def failed(self, key: str) -> None:
        """Record one failed attempt (the first opens the window)."""
        limits = await self._limits()
        if limits is not None:
            await self.counters.add(key, limits[1])

    async def succeeded(self, key: str) -> None:
        """A successful login forgets the identity's failures."""
        await self.counters.reset(key)

    async def close(self) -> None:
        await self.counters.close()
