"""The router's rate limit hook: PocketBase's `rateLimit` and `collectionPathRateLimit` middlewares.

It sits on the path of every request, so the disabled case (PocketBase's default) is decided
synchronously by `idle()` from the settings this process already holds: no await, no allocation.
The settings and collections it reads are those of the previous request's freshness check, so a
change made through another process is enforced at most one request late.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.types import Scope

from hearth.errors import ApiError, TooManyRequests
from hearth.http import responses
from hearth.query.context import GUEST, AuthState
from hearth.ratelimit import counters as counters_mod
from hearth.ratelimit.actions import ACTIONS, WRITES
from hearth.ratelimit.ips import in_list, real_ip
from hearth.ratelimit.rules import AUTH_AUDIENCES, GUEST_AUDIENCES, RuleSet

if TYPE_CHECKING:
    from hearth.app import Hearth

log = logging.getLogger("hearth")

# The scope key under which the hook leaves the resolved caller, so the handler need not
# resolve the token a second time (see http/context.begin).
AUTH_SCOPE_KEY = "hearth.auth"

_UNSEEN: Any = object()


class RateLimitGate:
    def __init__(self, state: Any, counters: counters_mod.Counters | None = None) -> None:
        self._state = state  # the App's state; `state.hearth` exists once the app is built
        self._seen: Any = _UNSEEN  # the settings object `_rules` was compiled from
        self._rules: RuleSet | None = None
        self._counters = counters

    @property
    def counters(self) -> counters_mod.Counters:
        """Created on first use from the environment (HEARTH_REDIS_URL), unless set before."""
        if self._counters is None:
            self._counters = counters_mod.from_env()
        return self._counters

    @counters.setter
    def counters(self, value: counters_mod.Counters) -> None:
        self._counters = value

    def idle(self) -> bool:
        """True when rate limiting is known to be off: the router then skips `check`.
        (~0.1 µs: the settings object this process holds is the one found disabled before.)"""
        if self._rules is not None:
            return False
        h: Hearth | None = self._state.__dict__.get("hearth")
        if h is None or h.db is None:
            return True
        return h.settings.cached(h.collections.version) is self._seen

    async def check(self, scope: Scope, found: tuple[Any, Mapping[str, str]] | None) -> Response | None:
        """A 429 response when the request is over its rule's limit, else None (go on)."""
        try:
            if await self._allowed(scope, found):
                return None
            return responses.error(TooManyRequests())
        except ApiError as exc:
            return responses.error(exc)
        except Exception:
            log.exception("rate limit check failed on %s %s", scope["method"], scope["path"])
            err = ApiError()
            err.status = 500
            return responses.error(err)

    async def _load(self, h: Hearth) -> RuleSet | None:
        settings = await h.settings.get(h.collections.version)
        if settings is not self._seen:
            old, new = self._rules, RuleSet.from_settings(settings)
            if new is not None and (old is None or old.epoch != new.epoch):
                # PocketBase drops its limiters when the settings change; keys carry the epoch,
                # so this only frees the memory of the old ones.
                await self.counters.clear()
            self._seen, self._rules = settings, new
        return self._rules

    async def _allowed(self, scope: Scope, found: tuple[Any, Mapping[str, str]] | None) -> bool:
        h: Hearth = self._state.hearth
        rules = await self._load(h)
        if rules is None:
            return True
        ip = real_ip(scope["headers"], scope.get("client"), rules.trusted_headers, rules.leftmost_ip)
        if not ip or in_list(rules.excluded_ips, ip):
            return True
        auth = await self._auth(h, scope)
        if auth.is_superuser:
            return True
        audiences = GUEST_AUDIENCES if auth.is_guest else AUTH_AUDIENCES
        method, path = scope["method"], scope["path"]
        path_labels = (f"{method} {path}", path)
        pattern = found[0].pattern if found is not None else ""
        tags = ACTIONS.get(pattern)
        if tags is None or found is None:
            # PocketBase's global middleware: one counter per rule, shared by every path it covers
            # (unknown paths included: PocketBase routes them to a catch-all handler).
            rule = rules.find(path_labels, audiences)
            if rule is None:
                return True
            key = rule.label + rule.audience
        else:
            c = h.collections.get(found[1].get("collection", ""))
            if c is None or (c.is_view and tags[0] in WRITES):
                return True  # the handler refuses it (404/400) before PocketBase would count it
            labels = [f"{c.name}:{t}" for t in tags]
            labels += [f"*:{t}" for t in tags]
            labels += path_labels
            rule = rules.find(labels, audiences)
            if rule is None:
                return True
            # As PocketBase: one counter per collection and route, whichever rule matched.
            key = c.id + pattern + "".join(tags) + rule.audience
        return await self.counters.hit(f"rl:{rules.epoch}:{key}:{ip}", rule.max_requests, rule.duration)

    async def _auth(self, h: Hearth, scope: Scope) -> AuthState:
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        auth = await h.auth.resolve(header) if header else GUEST
        scope[AUTH_SCOPE_KEY] = auth
        return auth

    async def close(self) -> None:
        if self._counters is not None:
            await self._counters.close()
