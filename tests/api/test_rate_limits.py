"""Rate limiting through the HTTP API: PocketBase's `rateLimits` settings, answered with 429.

Each test enables its own rules and restores the defaults when it ends (the app is shared by the
module). Counters are per process by default; the Redis tests at the end run two apps (two
"processes" on one database) against one Redis and check that they share the count.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from hearth.config import Config
from hearth.http.server import build_app
from hearth.ratelimit.counters import RedisCounters
from hearth.settings import model
from tests.conftest import OPEN, Api, start_api, unique

TOO_MANY = {"data": {}, "message": "Too Many Requests.", "status": 429}
REDIS_URL = os.environ.get("HEARTH_TEST_REDIS", "redis://127.0.0.1:6379/0")
SAVE_FAILED = "An error occurred while saving the new settings."


def rule(label: str, max_requests: int, duration: int = 10, audience: str = "") -> dict[str, Any]:
    return {"label": label, "maxRequests": max_requests, "duration": duration, "audience": audience}


async def patch_settings(client: httpx.AsyncClient, token: str, body: dict[str, Any]) -> httpx.Response:
    return await client.patch("/api/settings", json=body, headers={"Authorization": token})


@asynccontextmanager
async def limits(api: Api, rules: list[dict[str, Any]], **extra: Any) -> AsyncIterator[None]:
    """Rate limiting on with `rules` (and extra top-level settings), defaults restored after."""
    body = {"rateLimits": {"enabled": True, "rules": rules, **extra.pop("rate_limits", {})}, **extra}
    r = await patch_settings(api.client, api.token, body)
    assert r.status_code == 200, r.text
    try:
        yield
    finally:
        defaults = model.defaults()
        r = await patch_settings(
            api.client,
            api.token,
            {"rateLimits": defaults["rateLimits"], "trustedProxy": defaults["trustedProxy"]},
        )
        assert r.status_code == 200, r.text


@pytest.fixture
async def restore(api: Api) -> AsyncIterator[None]:
    """Default rate limit settings again after the test, whatever it left."""
    yield
    defaults = model.defaults()
    body = {"rateLimits": defaults["rateLimits"], "trustedProxy": defaults["trustedProxy"]}
    r = await patch_settings(api.client, api.token, body)
    assert r.status_code == 200, r.text


async def notes(api: Api) -> str:
    c = await api.create_collection(
        {"name": unique("notes"), "type": "base", **OPEN, "fields": [{"name": "title", "type": "text"}]}
    )
    return str(c["name"])


async def statuses(client: httpx.AsyncClient, method: str, url: str, n: int, **kw: Any) -> list[int]:
    return [(await client.request(method, url, **kw)).status_code for _ in range(n)]


async def test_disabled_rate_limits_never_limit(api: Api, restore: None) -> None:
    r = await patch_settings(
        api.client, api.token, {"rateLimits": {"enabled": False, "rules": [rule("/api/", 1)]}}
    )
    assert r.status_code == 200, r.text
    assert await statuses(api.client, "GET", "/api/health", 5) == [200] * 5


async def test_prefix_rule_is_one_counter_for_every_path_under_it(api: Api) -> None:
    name = await notes(api)
    async with limits(api, [rule("/api/", 2)]):
        assert await statuses(api.client, "GET", "/api/health", 2) == [200, 200]
        r = await api.client.get("/api/health")
        assert r.status_code == 429
        assert r.json() == TOO_MANY
        # Same rule, same counter (PocketBase keys the global limiter by rule): other paths under
        # /api/ are refused as well, unknown ones included, before any 404 or handler.
        assert (await api.client.get("/api/nowhere")).status_code == 429
        assert (await api.client.post("/api/batch", json={})).status_code == 429
        # Collection routes count per collection and route even when a path rule matched them.
        url = f"/api/collections/{name}/records"
        assert await statuses(api.client, "GET", url, 3) == [200, 200, 429]
        # Outside the prefix nothing applies.
        assert (await api.client.get("/other")).status_code == 404


async def test_limited_request_never_reaches_the_handler(api: Api) -> None:
    name = await notes(api)
    async with limits(api, [rule(f"POST /api/collections/{name}/records", 2)]):
        codes = [
            (await api.client.post(f"/api/collections/{name}/records", json={"title": str(i)})).status_code
            for i in range(4)
        ]
        assert codes == [200, 200, 429, 429]
        # `METHOD /path` applies to that method only.
        assert await statuses(api.client, "GET", f"/api/collections/{name}/records", 3) == [200] * 3
    r = await api.client.get(f"/api/collections/{name}/records")
    assert r.json()["totalItems"] == 2, "a refused create must not have created anything"


async def test_collection_rule_beats_wildcard_and_wildcard_counts_per_collection(api: Api) -> None:
    a, b, c = await notes(api), await notes(api), await notes(api)
    # Order in the list does not matter: `a:list` is tried before `*:list`, which is tried
    # before the path labels.
    rules = [rule("/api/", 100), rule("*:list", 3), rule(f"{a}:list", 1)]
    async with limits(api, rules):
        assert await statuses(api.client, "GET", f"/api/collections/{a}/records", 2) == [200, 429]
        assert await statuses(api.client, "GET", f"/api/collections/{b}/records", 4) == [200] * 3 + [429]
        # The wildcard rule keeps one counter per collection (PocketBase keys it by collection).
        assert await statuses(api.client, "GET", f"/api/collections/{c}/records", 3) == [200] * 3
        # The view route has its own action: `*:list` does not limit it.
        r = await api.client.post(f"/api/collections/{b}/records", json={"title": "x"}, headers=api.su())
        rid = r.json()["id"]
        assert await statuses(api.client, "GET", f"/api/collections/{b}/records/{rid}", 4) == [200] * 4


async def test_exact_method_path_label_beats_a_prefix_listed_first(api: Api) -> None:
    async with limits(api, [rule("/api/", 1), rule("GET /api/health", 3)]):
        assert await statuses(api.client, "GET", "/api/health", 4) == [200, 200, 200, 429]
        # HEAD is its own method label: it falls back to the prefix rule.
        assert await statuses(api.client, "HEAD", "/api/health", 2) == [200, 429]


async def test_first_matching_prefix_in_rule_order_wins(api: Api) -> None:
    # PocketBase takes prefix rules in list order, not the longest one.
    async with limits(api, [rule("/api/", 1), rule("/api/collections/", 5)]):
        assert await statuses(api.client, "GET", "/api/collections/no/such/route", 2) == [404, 429]


async def test_unknown_collection_is_not_counted(api: Api) -> None:
    # PocketBase looks the collection up first and answers 404 without counting.
    async with limits(api, [rule("*:list", 1), rule("/api/", 1)]):
        assert await statuses(api.client, "GET", "/api/collections/nope/records", 3) == [404] * 3


async def test_audience_guest_and_auth(api: Api) -> None:
    name = await notes(api)
    people = await api.create_collection({"name": unique("people"), "type": "auth", **OPEN, "fields": []})
    pw = "Secret-pass-123"
    r = await api.client.post(
        f"/api/collections/{people['name']}/records",
        json={"email": "aud@example.com", "password": pw, "passwordConfirm": pw},
    )
    assert r.status_code == 200, r.text
    r = await api.client.post(
        f"/api/collections/{people['name']}/auth-with-password",
        json={"identity": "aud@example.com", "password": pw},
    )
    user = {"Authorization": r.json()["token"]}
    url = f"/api/collections/{name}/records"
    async with limits(api, [rule("*:list", 1, audience="@guest"), rule("*:list", 3, audience="@auth")]):
        assert await statuses(api.client, "GET", url, 2) == [200, 429]
        assert await statuses(api.client, "GET", url, 4, headers=user) == [200, 200, 200, 429]
        # An invalid token is a guest.
        assert await statuses(api.client, "GET", url, 1, headers={"Authorization": "nope"}) == [429]
    async with limits(api, [rule("*:list", 1, audience="@auth")]):
        # A rule for authenticated callers leaves guests alone.
        assert await statuses(api.client, "GET", url, 3) == [200] * 3
        assert await statuses(api.client, "GET", url, 2, headers=user) == [200, 429]


async def test_auth_routes_use_pocketbase_action_tags(api: Api) -> None:
    people = await api.create_collection({"name": unique("people"), "type": "auth", **OPEN, "fields": []})
    url = f"/api/collections/{people['name']}/auth-with-password"
    body = {"identity": "nobody@example.com", "password": "wrong-password"}
    async with limits(api, [rule("*:auth", 2), rule("*:listAuthMethods", 1)]):
        assert await statuses(api.client, "POST", url, 3, json=body) == [400, 400, 429]
        methods = f"/api/collections/{people['name']}/auth-methods"
        assert await statuses(api.client, "GET", methods, 2) == [200, 429]
    async with limits(api, [rule("*:auth", 1), rule(f"{people['name']}:authWithPassword", 3)]):
        # `authWithPassword` is the more specific of the route's two tags.
        assert await statuses(api.client, "POST", url, 4, json=body) == [400, 400, 400, 429]


async def test_window_resets(api: Api) -> None:
    async with limits(api, [rule("GET /api/health", 1, duration=1)]):
        assert await statuses(api.client, "GET", "/api/health", 2) == [200, 429]
        await asyncio.sleep(1.05)
        assert await statuses(api.client, "GET", "/api/health", 2) == [200, 429]


async def test_superusers_are_exempt(api: Api) -> None:
    async with limits(api, [rule("/api/", 1)]):
        assert await statuses(api.client, "GET", "/api/collections", 5, headers=api.su()) == [200] * 5
        assert await statuses(api.client, "GET", "/api/health", 2) == [200, 429]


async def test_trusted_proxy_header_and_excluded_ips(api: Api) -> None:
    settings = {"trustedProxy": {"headers": ["X-Forwarded-For"], "useLeftmostIP": False}}
    excluded = {"excludedIPs": ["198.51.100.0/24", "2001:db8::1"]}

    def via(ip: str) -> dict[str, str]:
        return {"X-Forwarded-For": ip}

    async with limits(api, [rule("/api/", 1)], rate_limits=excluded, **settings):
        assert await statuses(api.client, "GET", "/api/health", 2, headers=via("203.0.113.5")) == [200, 429]
        # Another client behind the proxy has its own count.
        assert await statuses(api.client, "GET", "/api/health", 1, headers=via("203.0.113.6")) == [200]
        # The rightmost address is the one the proxy appended: a client prepending a fake one
        # is still counted as itself.
        spoofed = via("10.9.9.9, 203.0.113.5")
        assert await statuses(api.client, "GET", "/api/health", 1, headers=spoofed) == [429]
        # Excluded addresses and subnets are never limited; IPv6 compares in expanded form.
        assert await statuses(api.client, "GET", "/api/health", 3, headers=via("198.51.100.7")) == [200] * 3
        v6 = via("2001:0db8:0:0::1")
        assert await statuses(api.client, "GET", "/api/health", 3, headers=v6) == [200] * 3
    lefty = {"trustedProxy": {"headers": ["X-Forwarded-For"], "useLeftmostIP": True}}
    async with limits(api, [rule("/api/", 1)], **lefty):
        assert await statuses(api.client, "GET", "/api/health", 1, headers=via("203.0.113.9, 10.0.0.1")) == [
            200
        ]
        # Leftmost: 203.0.113.9 again, whatever the proxies appended after it.
        assert await statuses(api.client, "GET", "/api/health", 1, headers=via("203.0.113.9, 10.0.0.2")) == [
            429
        ]


async def test_settings_validation_matches_pocketbase(api: Api, restore: None) -> None:
    async def errors(rate_limits: dict[str, Any]) -> Any:
        r = await patch_settings(api.client, api.token, {"rateLimits": rate_limits})
        assert r.status_code == 400, r.text
        assert r.json()["message"] == SAVE_FAILED
        return r.json()["data"]["rateLimits"]

    req = {"code": "validation_required", "message": "Cannot be blank."}
    min1 = {
        "code": "validation_min_greater_equal_than_required",
        "message": "Must be no less than 1.",
        "params": {"threshold": 1},
    }
    bad_label = {"code": "validation_match_invalid", "message": "Must be in a valid format."}
    got = await errors(
        {"rules": [{"label": "bad label!", "maxRequests": 0, "duration": -1, "audience": "x"}]}
    )
    assert got == {
        "rules": {
            "0": {
                "label": bad_label,
                "maxRequests": req,
                "duration": min1,
                "audience": {"code": "validation_in_invalid", "message": "Must be a valid value."},
            }
        }
    }
    got = await errors({"rules": [rule("ok", 1), {"label": "", "maxRequests": -1, "duration": 0}]})
    assert got == {"rules": {"1": {"label": req, "maxRequests": min1, "duration": req}}}
    assert await errors({"enabled": True, "rules": []}) == {"rules": req}
    for label in ("x\n", "GET /api/é", "get/api", "* :list", "/api/?x"):
        assert await errors({"rules": [rule(label, 1)]}) == {"rules": {"0": {"label": bad_label}}}, label
    # `x` for everyone conflicts with `x` for @auth (PocketBase compares label@@audience prefixes).
    got = await errors({"rules": [rule("x", 1), rule("x", 1, audience="@auth")]})
    assert got == {
        "rules": {
            "1": {
                "label": {
                    "code": "validation_conflicting_rate_limit_rule",
                    "message": "Rate limit rule configuration with label x already exists or conflicts "
                    "with another rule.",
                    "params": {"label": "x"},
                }
            }
        }
    }
    got = await errors({"rules": [], "excludedIPs": ["", "10.0.0.0/8", "::1", "nope", " 1.2.3.4"]})
    bad_ip = {"code": "validation_invlaid_ip_or_subnet", "message": "Invalid IP or CIDR subnet."}
    assert got == {"excludedIPs": {"0": req, "3": bad_ip, "4": bad_ip}}
    got = await errors({"rules": [], "identity": {"maxFailures": 0, "duration": -5}})
    assert got == {"identity": {"maxFailures": req, "duration": min1}}
    # Values Go cannot decode into the settings are a loading error.
    for bad in (
        {"rules": [{"label": "x", "maxRequests": 1.5, "duration": 1}]},
        {"rules": [{"label": "x", "maxRequests": "1", "duration": 1}]},
        {"rules": [{"label": 5, "maxRequests": 1, "duration": 1}]},
        {"rules": [5]},
        {"excludedIPs": [5]},
        {"enabled": "yes"},
        {"identity": {"enabled": "yes"}},
    ):
        r = await patch_settings(api.client, api.token, {"rateLimits": bad})
        assert r.status_code == 400, bad
        assert r.json() == {
            "data": {},
            "message": "An error occurred while loading the submitted data.",
            "status": 400,
        }
    # Every label form PocketBase documents is accepted, and nothing was saved by the failures.
    ok = [
        rule("tag", 1),
        rule("users:auth", 1),
        rule("*:file", 1),
        rule("/", 1),
        rule("GET /api/x-y", 1),
        rule("/api/collections/", 1, audience="@guest"),
    ]
    r = await patch_settings(api.client, api.token, {"rateLimits": {"rules": ok}})
    assert r.status_code == 200, r.text
    assert r.json()["rateLimits"]["rules"] == ok


async def test_settings_round_trip_keeps_identity_block(api: Api, restore: None) -> None:
    r = await api.client.get("/api/settings", headers=api.su())
    got = r.json()
    assert got["rateLimits"]["identity"] == {"enabled": True, "maxFailures": 10, "duration": 600}
    # The SDK sends back what it read, as a whole: it must be accepted unchanged.
    got["rateLimits"]["identity"]["maxFailures"] = 4
    r = await patch_settings(api.client, api.token, got)
    assert r.status_code == 200, r.text
    assert r.json()["rateLimits"]["identity"]["maxFailures"] == 4
    r = await patch_settings(api.client, api.token, {"rateLimits": model.defaults()["rateLimits"]})
    assert r.json()["rateLimits"]["identity"]["maxFailures"] == 10


# ----- Redis: one count for every process ---------------------------------------------------


async def _redis_reachable() -> bool:
    counters = RedisCounters(REDIS_URL, prefix="hearth-test-probe:")
    try:
        await counters.redis.ping()
        return True
    except Exception:
        return False
    finally:
        await counters.close()


@pytest.fixture
async def two_processes(tmp_path: Path) -> AsyncIterator[tuple[Api, httpx.AsyncClient]]:
    """Two apps on one SQLite database (like two workers), both counting in one Redis."""
    if not await _redis_reachable():
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set HEARTH_TEST_REDIS)")
    prefix = f"hearth-test-{secrets.token_hex(4)}:"
    config = Config(data_dir=tmp_path)
    async for first in start_api(config, "sqlite"):
        first.app.rate_limit.counters = RedisCounters(REDIS_URL, prefix=prefix)
        second_app = build_app(config)
        await second_app.on_startup()
        second_app.rate_limit.counters = RedisCounters(REDIS_URL, prefix=prefix)
        try:
            transport = httpx.ASGITransport(app=second_app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as second:
                yield first, second
        finally:
            await second_app.rate_limit.close()
            await second_app.on_shutdown()
            await first.app.rate_limit.close()


async def test_redis_counters_are_shared_by_processes(two_processes: tuple[Api, httpx.AsyncClient]) -> None:
    first, second = two_processes
    async with limits(first, [rule("GET /api/health", 3, duration=2)]):
        # The second process learns of the new settings on its next request.
        assert (await second.get("/api/settings", headers=first.su())).status_code == 200
        got = [
            (await client.get("/api/health")).status_code
            for client in (first.client, second, first.client, second)
        ]
        # In process memory each would allow 3; shared, the fourth request is over the limit.
        assert got == [200, 200, 200, 429]
        r = await second.get("/api/health")
        assert r.status_code == 429 and r.json() == TOO_MANY
