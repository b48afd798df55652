"""`POST /api/realtime` validation, pinned to PocketBase 0.40.6's answers (recorded from
`.venv/bin/pocketbase serve` with an open stream per server, 2026-12-07): lengths in bytes, the
index of a topic that is too long, too many topics, null as an empty value, and a non-string
topic as a plain 400."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

GENERIC = "Something went wrong while processing your request."


def too_long(limit: int) -> dict[str, Any]:
    return {"code": "validation_length_too_long", "message": f"The length must be no more than {limit}.",
            "params": {"max": limit, "min": 0}}  # fmt: skip


@pytest.mark.parametrize(
    ("subscriptions", "status", "data"),
    [
        (["posts/*"], 204, None),
        ([], 204, None),
        ([""], 204, None),  # an empty topic is kept and matches nothing
        ([None], 204, None),  # null is an empty topic
        (["   "], 204, None),
        ([1, 2], 400, {}),
        (["posts/*", 5], 400, {}),
        (["x" * 2500], 204, None),
        (["é" * 1250], 204, None),  # 2500 bytes
        (["é" * 1251], 400, {"subscriptions": {"0": too_long(2500)}}),
        (["x" * 2501, "ok", "y" * 3000], 400, {"subscriptions": {"0": too_long(2500), "2": too_long(2500)}}),
        ([f"t/{i}" for i in range(1000)], 204, None),
        ([f"t/{i}" for i in range(1001)], 400, {"subscriptions": too_long(1000)}),
        (["x" * 2501] * 1001, 400, {"subscriptions": too_long(1000)}),  # the count is checked first
    ],
)
async def test_subscriptions(api: Api, subscriptions: list[Any], status: int, data: dict[str, Any] | None) -> None:
    hub = api.app.state.hearth.realtime
    client = await hub.connect("")
    try:
        r = await api.client.post("/api/realtime", json={"clientId": client.id, "subscriptions": subscriptions})
        assert r.status_code == status, r.text
        if data is not None:
            assert r.json() == {"data": data, "message": GENERIC, "status": 400}
    finally:
        hub.disconnect(client)


@pytest.mark.parametrize(
    ("client_id", "data"),
    [
        (None, {"clientId": {"code": "validation_required", "message": "Cannot be blank."}}),
        ("", {"clientId": {"code": "validation_required", "message": "Cannot be blank."}}),
        ("a" * 256, {"clientId": {"code": "validation_length_out_of_range",
                                  "message": "The length must be between 1 and 255.", "params": {"max": 255, "min": 1}}}),
        (5, {}),
    ],
)  # fmt: skip
async def test_client_id(api: Api, client_id: Any, data: dict[str, Any]) -> None:
    r = await api.client.post("/api/realtime", json={"clientId": client_id, "subscriptions": ["posts/*"]})
    assert r.json() == {"data": data, "message": GENERIC, "status": 400}
