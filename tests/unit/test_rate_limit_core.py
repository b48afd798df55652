"""The rate limiter's core: PocketBase's rule choice, client IPs, the route → action table and
the fixed-window counters (in memory and in Redis)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

import pytest

from hearth.http.routes import auth, records
from hearth.ratelimit.actions import ACTIONS
from hearth.ratelimit.counters import Counters, MemoryCounters, RedisCounters, from_env
from hearth.ratelimit.ips import in_list, real_ip
from hearth.ratelimit.rules import AUTH_AUDIENCES, GUEST_AUDIENCES, RuleSet

REDIS_URL = os.environ.get("HEARTH_TEST_REDIS", "redis://127.0.0.1:6379/0")


def ruleset(*rules: tuple[str, str], enabled: bool = True) -> RuleSet | None:
    """Rules as (label, audience); maxRequests is the rule's position, to tell them apart."""
    return RuleSet.from_settings(
        {
            "rateLimits": {
                "enabled": enabled,
                "rules": [
                    {"label": lb, "audience": au, "maxRequests": i + 1, "duration": 1}
                    for i, (lb, au) in enumerate(rules)
                ],
            }
        }
    )


def picked(rs: RuleSet | None, labels: list[str], audiences: tuple[str, ...] = GUEST_AUDIENCES) -> str | None:
    assert rs is not None
    rule = rs.find(labels, audiences)
    return None if rule is None else f"{rule.label}{rule.audience}"


# ----- rule choice (core/settings_model.go FindRateLimitRule) -------------------------------


def test_disabled_or_empty_settings_build_no_ruleset() -> None:
    assert ruleset(("/api/", ""), enabled=False) is None
    assert ruleset() is None


def test_labels_are_tried_in_order_exact_before_prefix() -> None:
    rs = ruleset(("/api/", ""), ("*:list", ""), ("posts:list", ""), ("GET /api/x", ""))
    labels = ["posts:list", "*:list", "GET /api/collections/posts/records", "/api/collections/posts/records"]
    assert picked(rs, labels) == "posts:list"
    assert picked(rs, ["other:list", *labels[1:]]) == "*:list"
    assert picked(rs, ["other:view", "*:view", *labels[2:]]) == "/api/"
    assert picked(rs, ["GET /api/x", "/api/x"]) == "GET /api/x"
    assert picked(rs, ["GET /elsewhere", "/elsewhere"]) is None


def test_prefix_rules_match_in_list_order_and_include_the_bare_path() -> None:
    rs = ruleset(("/api/", ""), ("/api/collections/", ""))
    assert picked(rs, ["GET /api/collections/x", "/api/collections/x"]) == "/api/"
    rs = ruleset(("/api/collections/", ""), ("/api/", ""))
    assert picked(rs, ["GET /api/collections/x", "/api/collections/x"]) == "/api/collections/"
    # "/api/" covers "/api" itself (a "/" is appended before comparing), but not "/apix".
    assert picked(rs, ["GET /api", "/api"]) == "/api/"
    assert picked(rs, ["GET /apix", "/apix"]) is None


def test_audience_filters_rules() -> None:
    rs = ruleset(("*:list", "@auth"), ("*:list", "@guest"), ("/api/", ""))
    assert picked(rs, ["*:list", "/api/r"], GUEST_AUDIENCES) == "*:list@guest"
    assert picked(rs, ["*:list", "/api/r"], AUTH_AUDIENCES) == "*:list@auth"
    rs = ruleset(("*:list", "@auth"), ("/api/", "@auth"))
    assert picked(rs, ["*:list", "GET /api/r", "/api/r"], GUEST_AUDIENCES) is None


def test_rule_epoch_changes_with_the_rules_only() -> None:
    a, b, c = ruleset(("/api/", "")), ruleset(("/api/", "")), ruleset(("/api/", "@guest"))
    assert a is not None and b is not None and c is not None
    assert a.epoch == b.epoch != c.epoch


# ----- client IP (core/event_request.go RealIP, apis isIPInList) -----------------------------


def h(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in pairs]


def test_real_ip_from_socket_without_trusted_headers() -> None:
    headers = h(("x-forwarded-for", "1.2.3.4"))
    assert real_ip(headers, ("10.0.0.9", 5555), [], False) == "10.0.0.9"
    assert real_ip([], ("::1", 1), [], False) == "0000:0000:0000:0000:0000:0000:0000:0001"
    assert real_ip([], None, [], False) == ""


def test_real_ip_from_trusted_headers() -> None:
    client = ("10.0.0.9", 5555)
    xff = h(("X-Forwarded-For", "6.6.6.6, junk, 1.2.3.4 , nope"))
    # Rightmost valid address by default, leftmost valid one when asked.
    assert real_ip(xff, client, ["X-Forwarded-For"], False) == "1.2.3.4"
    assert real_ip(xff, client, ["x-forwarded-for"], True) == "6.6.6.6"
    # The last occurrence of the header is the proxy's.
    two = h(("X-Real-IP", "6.6.6.6"), ("X-Real-IP", "7.7.7.7"))
    assert real_ip(two, client, ["X-Real-IP"], False) == "7.7.7.7"
    # Headers are tried in the configured order; an empty or invalid one falls through.
    mixed = h(("X-Real-IP", "garbage"), ("CF-Connecting-IP", "2001:db8::2"))
    got = real_ip(mixed, client, ["X-Real-IP", "CF-Connecting-IP"], False)
    assert got == "2001:0db8:0000:0000:0000:0000:0000:0002"
    assert real_ip(h(("X-Real-IP", "")), client, ["X-Real-IP"], False) == "10.0.0.9"


def test_in_list_addresses_and_subnets() -> None:
    items = ["10.0.0.0/8", "192.168.1.5", "2001:db8::/32", "10.1.2.3/8", "bad"]
    assert in_list(items, "10.200.0.1")
    assert in_list(items, "192.168.1.5")
    assert not in_list(items, "192.168.1.6")
    assert in_list(items, "2001:0db8:0000:0000:0000:0000:0000:0002")
    assert not in_list(items, "2001:db9::1")
    assert not in_list(items, "")
    assert not in_list([], "10.0.0.1")


# ----- route → action tags ------------------------------------------------------------------

POCKETBASE_TAGS = {
    "list", "view", "create", "update", "delete", "listAuthMethods", "authRefresh", "auth",
    "authWithPassword", "authWithOAuth2", "authWithOTP", "requestOTP", "requestPasswordReset",
    "confirmPasswordReset", "requestVerification", "confirmVerification", "requestEmailChange",
    "confirmEmailChange", "file",
}  # fmt: skip


def test_action_table_covers_pocketbase_tags_and_existing_routes() -> None:
    assert {t for tags in ACTIONS.values() for t in tags} == POCKETBASE_TAGS
    # Every tagged pattern is spelled as the router spells its routes ("METHOD /path").
    routed = {f"{r.method} {r.path}" for r in [*records.routes, *auth.routes]}
    for pattern in (
        "GET /api/collections/{collection}/records",
        "POST /api/collections/{collection}/records",
        "GET /api/collections/{collection}/records/{id}",
        "PATCH /api/collections/{collection}/records/{id}",
        "DELETE /api/collections/{collection}/records/{id}",
        "POST /api/collections/{collection}/auth-with-password",
        "GET /api/collections/{collection}/auth-methods",
        "POST /api/collections/{collection}/auth-refresh",
    ):
        assert pattern in routed and pattern in ACTIONS, pattern
    # PocketBase's auth routes are tagged whether or not Hearth serves them yet; impersonate
    # is not (PocketBase leaves it to the global limiter).
    for endpoint in (
        "auth-with-oauth2", "request-otp", "auth-with-otp", "request-verification",
        "confirm-verification", "request-password-reset", "confirm-password-reset",
        "request-email-change", "confirm-email-change",
    ):  # fmt: skip
        assert f"POST /api/collections/{{collection}}/{endpoint}" in ACTIONS, endpoint
    assert not [p for p in ACTIONS if "impersonate" in p]
    assert ACTIONS["POST /api/collections/{collection}/auth-with-otp"] == ("authWithOTP", "auth")
    assert ACTIONS["POST /api/collections/{collection}/auth-with-oauth2"] == ("authWithOAuth2", "auth")


# ----- counters -----------------------------------------------------------------------------


async def _redis_or_skip() -> RedisCounters:
    counters = RedisCounters(REDIS_URL, prefix=f"hearth-test-{secrets.token_hex(4)}:")
    try:
        await counters.redis.ping()
    except Exception:
        await counters.close()
        pytest.skip(f"Redis not reachable at {REDIS_URL} (set HEARTH_TEST_REDIS)")
    return counters


@pytest.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    c: Counters = MemoryCounters() if request.param == "memory" else await _redis_or_skip()
    try:
        yield c
    finally:
        await c.close()


async def test_fixed_window_allows_limit_then_refuses_until_it_closes(counters: Counters) -> None:
    assert [await counters.hit("k", 3, 0.4) for _ in range(5)] == [True, True, True, False, False]
    assert await counters.hit("other", 3, 0.4), "keys count separately"
    await asyncio.sleep(0.45)
    assert [await counters.hit("k", 3, 0.4) for _ in range(4)] == [True, True, True, False]


async def test_refused_hits_do_not_extend_the_window(counters: Counters) -> None:
    assert await counters.hit("k", 1, 0.4)
    for _ in range(3):
        await asyncio.sleep(0.1)
        assert not await counters.hit("k", 1, 0.4)
    await asyncio.sleep(0.15)
    assert await counters.hit("k", 1, 0.4)


async def test_add_count_reset(counters: Counters) -> None:
    assert await counters.count("f") == 0
    assert [await counters.add("f", 0.4) for _ in range(3)] == [1, 2, 3]
    assert await counters.count("f") == 3
    await counters.reset("f")
    assert await counters.count("f") == 0
    await counters.add("f", 0.3)
    await asyncio.sleep(0.35)
    assert await counters.count("f") == 0, "the window closed"


async def test_memory_counters_sweep_closed_windows() -> None:
    c = MemoryCounters(sweep_every=0.0)  # sweep on every hit
    for i in range(50):
        await c.hit(f"k{i}", 1, 0.05)
    await asyncio.sleep(0.06)
    await c.hit("last", 1, 10)
    assert len(c) == 1


async def test_redis_counters_fall_back_to_memory_when_redis_is_down() -> None:
    c = RedisCounters("redis://127.0.0.1:1/0", timeout=0.2)
    try:
        # Still limited (per process), and the request is not failed.
        assert [await c.hit("k", 2, 5) for _ in range(3)] == [True, True, False]
        assert await c.add("f", 5) == 1 and await c.count("f") == 1
    finally:
        await c.close()


def test_backend_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEARTH_REDIS_URL", raising=False)
    assert isinstance(from_env(), MemoryCounters)
    monkeypatch.setenv("HEARTH_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("HEARTH_REDIS_PREFIX", "app1:")
    c = from_env()
    assert isinstance(c, RedisCounters) and c.prefix == "app1:"
