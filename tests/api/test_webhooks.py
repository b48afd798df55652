"""Outbound webhooks through a running Hearth (SQLite and PostgreSQL), delivered to a real HTTP
receiver on loopback: signatures checked with the `standardwebhooks` reference library, a
receiver down then up, filters and events, rolled-back writes, disabled and auto-disabled
endpoints, address refusal (SSRF), ordering, the delivery log and the superuser API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
from standardwebhooks import Webhook

from hearth.errors import BadRequest
from hearth.hooks.events import RecordWrite
from hearth.webhooks.service import Webhooks
from tests.conftest import Api, unique
from tests.support.webhook_receiver import Received, Receiver, running_receiver

OPEN = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async for r in running_receiver():
        yield r


def service(api: Api) -> Webhooks:
    w: Webhooks = api.app.state.hearth.webhooks
    return w


@pytest.fixture
async def hooks_on(api: Api) -> AsyncIterator[Webhooks]:
    """Loopback receivers allowed and quick retries for one test; its endpoints deleted after."""
    w = service(api)
    saved = (w.allow_private, w.backoff, w.max_failures, w.failing_seconds)
    w.allow_private, w.backoff = True, 0.1
    before = {e.id for e in await w.all()}
    yield w
    for e in await w.all():
        if e.id not in before:
            await w.delete(e.id)
    w.allow_private, w.backoff, w.max_failures, w.failing_seconds = saved


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    end = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result or time.monotonic() > end:
            assert result, "condition not met in time"
            return result
        await asyncio.sleep(0.05)


async def collection(api: Api, fields: list[dict[str, Any]] | None = None) -> str:
    name = unique("wh")
    fields = fields or [
        {"name": "title", "type": "text"},
        {"name": "n", "type": "number"},
        {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
    ]
    await api.create_collection({"name": name, "type": "base", **OPEN, "fields": fields})
    return name


async def endpoint(api: Api, **body: Any) -> dict[str, Any]:
    r = await api.client.post("/api/hearth/webhooks", json=body, headers=api.su())
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def create(api: Api, coll: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.client.post(f"/api/collections/{coll}/records", json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def deliveries(api: Api, wid: str) -> list[dict[str, Any]]:
    r = await api.client.get(
        f"/api/hearth/webhooks/{wid}/deliveries", params={"perPage": 500}, headers=api.su()
    )
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


# ----- delivery ---------------------------------------------------------------------------------
async def test_a_receiver_down_at_first_gets_the_delivery_after_retries_signed(
    api: Api, hooks_on: Webhooks
) -> None:
    down = Receiver()  # its port is closed until started
    coll = await collection(api)
    hook = await endpoint(api, url=down.url, collection=coll, events=["create"])
    assert hook["secret"].startswith("whsec_") and hook["active"] is True and hook["collection"] == coll
    started = time.monotonic()
    rec = await create(api, coll, {"title": "hello", "n": 1})
    assert time.monotonic() - started < 2.0  # the write never waits for the receiver
    failed = await eventually(lambda: deliveries(api, hook["id"]))
    assert failed[0]["status"] == 0 and failed[0]["error"] and failed[0]["attempt"] == 1
    await down.start()
    try:
        await eventually(lambda: down.requests)
        (request,) = down.requests
        assert request.method == "POST" and request.headers["content-type"] == "application/json"
        payload = Webhook(hook["secret"]).verify(request.body, request.headers)
        assert payload["type"] == "record.created" and payload["timestamp"]
        assert payload["data"]["collection"] == coll and payload["data"]["action"] == "create"
        assert payload["data"]["record"]["id"] == rec["id"] and payload["data"]["record"]["title"] == "hello"
        assert payload["data"]["record"] == rec  # the record as the API presents it
        log = await eventually(lambda: _with_status(api, hook["id"], 200))
        attempts = sorted(d["attempt"] for d in log)
        assert attempts == list(range(1, len(log) + 1)) and len(log) >= 2
        # One message id across its attempts (receivers dedupe on it); one job for them all.
        assert len({d["message"] for d in log}) == 1 and len({d["job"] for d in log}) == 1
        assert request.headers["webhook-id"] == log[0]["message"]
    finally:
        await down.stop()


async def _with_status(api: Api, wid: str, status: int) -> list[dict[str, Any]] | None:
    log = await deliveries(api, wid)
    return log if any(d["status"] == status for d in log) else None


async def test_each_attempt_is_signed_with_a_fresh_timestamp(
    api: Api, hooks_on: Webhooks, receiver: Receiver
) -> None:
    answers = iter([500, 500])
    receiver.respond = lambda r: (next(answers, 200), b"")
    coll = await collection(api)
    hook = await endpoint(api, url=receiver.url, collection=coll)
    await create(api, coll, {"title": "x"})
    await eventually(lambda: len(receiver.requests) == 3)
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1 and next(iter(ids)).startswith("msg_")
    assert len({r.body for r in receiver.requests}) == 1  # the same bytes every time
    for r in receiver.requests:
        Webhook(hook["secret"]).verify(r.body, r.headers)
    stamps = [int(r.headers["webhook-timestamp"]) for r in receiver.requests]
    assert stamps == sorted(stamps) and abs(stamps[0] - time.time()) < 30


async def test_filters_and_events_choose_what_is_sent(
    api: Api, hooks_on: Webhooks, receiver: Receiver
) -> None:
    coll = await collection(
        api,
        [{"name": "title", "type": "text"}, {"name": "n", "type": "number"},
         {"name": "note", "type": "text", "hidden": True}],
    )  # fmt: skip
    paid = await endpoint(
        api, url=receiver.url + "?paid", collection=coll, events=["update"], filter='title = "paid"'
    )
    big = await endpoint(
        api, url=receiver.url + "?big", collection=coll, events=["create", "delete"], filter="n > 5"
    )
    a = await create(api, coll, {"title": "open", "n": 1, "note": "secret"})
    b = await create(api, coll, {"title": "open", "n": 10, "note": "secret"})  # big: create
    r = await api.client.patch(f"/api/collections/{coll}/records/{a['id']}", json={"title": "paid"})  # paid
    assert r.status_code == 200
    r = await api.client.patch(f"/api/collections/{coll}/records/{b['id']}", json={"title": "pending"})
    assert r.status_code == 200
    for rid in (a["id"], b["id"]):  # only b's delete is big
        assert (await api.client.delete(f"/api/collections/{coll}/records/{rid}")).status_code == 204
    await eventually(lambda: len(receiver.requests) >= 3)
    await asyncio.sleep(0.5)  # nothing else arrives
    seen = sorted((r.path.split("?")[1], r.json()["data"]["action"], r.json()["data"]["record"]["id"])
                  for r in receiver.requests)  # fmt: skip
    assert seen == sorted(
        [("big", "create", b["id"]), ("paid", "update", a["id"]), ("big", "delete", b["id"])]
    )
    for r in receiver.requests:
        body = r.json()
        record = body["data"]["record"]
        assert "note" not in record  # hidden fields are not sent
        assert body["type"] == f"record.{body['data']['action']}d"
        secret = paid["secret"] if r.path.endswith("paid") else big["secret"]
        Webhook(secret).verify(r.body, r.headers)
    update = next(r.json() for r in receiver.requests if r.path.endswith("paid"))
    assert update["data"]["record"]["title"] == "paid"


async def test_a_rolled_back_write_sends_nothing(api: Api, hooks_on: Webhooks, receiver: Receiver) -> None:
    coll = await collection(api)
    await endpoint(api, url=receiver.url, collection=coll)

    async def refuse(e: RecordWrite) -> None:
        await e.next()  # the row and the webhook's job are written...
        if e.record.get("title") == "no":
            raise BadRequest("refused after the write")  # ...then rolled back together

    hooks = api.app.state.hearth.hooks
    hid = hooks.record_create.bind(refuse, tags=[coll])
    try:
        r = await api.client.post(f"/api/collections/{coll}/records", json={"title": "no"})
        assert r.status_code == 400
        await create(api, coll, {"title": "yes"})
    finally:
        hooks.record_create.unbind(hid)
    await eventually(lambda: receiver.requests)
    await asyncio.sleep(0.5)
    assert [r.json()["data"]["record"]["title"] for r in receiver.requests] == ["yes"]
    jobs = await api.client.get("/api/hearth/jobs", params={"name": "hearth:webhook", "perPage": 1000},
                                headers=api.su())  # fmt: skip
    titles = [j["payload"]["event"]["data"]["record"]["title"] for j in jobs.json()["items"]
              if j["payload"]["event"]["data"]["collection"] == coll]  # fmt: skip
    assert titles == ["yes"]


async def test_each_write_becomes_one_message_while_relays_race(
    api: Api, hooks_on: Webhooks, receiver: Receiver
) -> None:
    """The outbox is moved into jobs by every process's worker at once (here the app's own and
    extra relays racing it): each matched write still becomes exactly one message."""
    coll = await collection(api)
    await endpoint(api, url=receiver.url, collection=coll, events=["create"])
    racing = True

    async def relay() -> None:
        while racing:
            await hooks_on.relay()
            await asyncio.sleep(0)

    relays = [asyncio.ensure_future(relay()) for _ in range(3)]
    try:
        created = await asyncio.gather(*(create(api, coll, {"title": f"r{i}"}) for i in range(40)))
    finally:
        racing = False
        await asyncio.gather(*relays)
    ids = sorted(r["id"] for r in created)
    await eventually(lambda: len(receiver.requests) >= 40)
    await asyncio.sleep(0.5)
    got = [r.json()["data"]["record"]["id"] for r in receiver.requests]
    assert sorted(got) == ids  # none lost, none twice
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 40


async def test_a_backlog_of_many_batches_is_all_relayed(
    api: Api, hooks_on: Webhooks, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows written while nothing relayed (a process running no jobs) are moved batch after
    batch, and the worker claims between batches."""
    from hearth.sql import webhooks as wsql
    from hearth.webhooks import service as service_module

    monkeypatch.setattr(service_module, "RELAY_BATCH", 7)
    coll = await collection(api)
    hook = await endpoint(api, url=receiver.url, collection=coll, events=["create"])
    c = api.app.state.hearth.collections.get(coll)
    db = api.app.state.hearth.db
    async with db.transaction() as tx:  # as a `--jobs 0` process leaves them
        for i in range(30):
            entry = {"w": [hook["id"]], "a": "create", "c": c.id, "t": 1, "r": {"id": f"backlog{i:07d}", "title": str(i)}}
            await tx.execute(wsql.insert_outbox(db.dialect), (orjson.dumps(entry).decode(),))
    hooks_on.jobs.added.set()
    await eventually(lambda: len(receiver.requests) >= 30)
    assert sorted(r.json()["data"]["record"]["title"] for r in receiver.requests) == sorted(str(i) for i in range(30))


async def test_an_unreadable_outbox_row_is_dropped_and_later_writes_still_go(
    api: Api, hooks_on: Webhooks, receiver: Receiver
) -> None:
    """A row this version cannot turn into messages (corrupt, or its collection deleted since)
    is logged and dropped; it does not stall the worker or the rows after it."""
    from hearth.sql import webhooks as wsql

    coll = await collection(api)
    hook = await endpoint(api, url=receiver.url, collection=coll, events=["create"])
    db = api.app.state.hearth.db
    gone = {"w": [hook["id"]], "a": "create", "c": "pbc_no_such_one", "t": 1, "r": {"id": "x"}}
    for payload in ("{not json", orjson.dumps(gone).decode()):
        await db.execute(wsql.insert_outbox(db.dialect), (payload,))
    rec = await create(api, coll, {"title": "after"})
    await eventually(lambda: receiver.requests)
    assert [r.json()["data"]["record"]["id"] for r in receiver.requests] == [rec["id"]]
    assert await db.fetch_one(wsql.any_outbox(db.dialect)) is None


async def test_a_disabled_endpoint_gets_nothing_until_enabled(
    api: Api, hooks_on: Webhooks, receiver: Receiver
) -> None:
    coll = await collection(api)
    hook = await endpoint(api, url=receiver.url, collection=coll, active=False)
    await create(api, coll, {"title": "while disabled"})
    await asyncio.sleep(0.5)
    assert receiver.requests == []
    r = await api.client.patch(f"/api/hearth/webhooks/{hook['id']}", json={"active": True}, headers=api.su())
    assert r.status_code == 200 and r.json()["active"] is True
    await create(api, coll, {"title": "enabled"})
    await eventually(lambda: receiver.requests)
    assert [r.json()["data"]["record"]["title"] for r in receiver.requests] == ["enabled"]


async def test_failing_endpoint_is_disabled_then_re_enabled(
    api: Api, hooks_on: Webhooks, receiver: Receiver
) -> None:
    hooks_on.max_failures, hooks_on.failing_seconds = 4, 0.0
    receiver.respond = lambda r: (500, b"broken")
    coll = await collection(api)
    hook = await endpoint(api, url=receiver.url, collection=coll)
    await create(api, coll, {"title": "a"})
    await create(api, coll, {"title": "b"})

    async def disabled() -> dict[str, Any] | None:
        r = await api.client.get(f"/api/hearth/webhooks/{hook['id']}", headers=api.su())
        body: dict[str, Any] = r.json()
        return body if not body["active"] else None

    off = await eventually(disabled)
    assert "4 failed attempts in a row" in off["disabledReason"] and "500" in off["disabledReason"]
    log = await deliveries(api, hook["id"])
    assert (
        len(log) >= 4 and {d["status"] for d in log} == {500} and {d["response"] for d in log} == {"broken"}
    )
    await asyncio.sleep(0.3)  # an attempt already under way when it was disabled may still land
    count = len(receiver.requests)
    await asyncio.sleep(0.6)  # the retries still pending are dropped, not sent
    assert len(receiver.requests) == count
    receiver.respond = lambda r: (204, b"")
    r = await api.client.patch(f"/api/hearth/webhooks/{hook['id']}", json={"active": True}, headers=api.su())
    assert (
        r.status_code == 200
        and r.json()["active"]
        and r.json()["disabledReason"] == ""
        and r.json()["failures"] == 0
    )
    await create(api, coll, {"title": "c"})
    await eventually(lambda: any(r.json()["data"]["record"]["title"] == "c" for r in receiver.requests))


async def test_a_failing_delivery_does_not_hold_back_later_ones(
    api: Api, hooks_on: Webhooks, receiver: Receiver
) -> None:
    """Not FIFO per endpoint (docs/webhooks.md): a message being retried does not block the next."""
    hooks_on.backoff = 0.5
    first_ok = [False]

    def respond(r: Received) -> tuple[int, bytes]:
        if r.json()["data"]["record"]["title"] == "first" and not first_ok[0]:
            return 503, b"busy"
        return 200, b""

    receiver.respond = respond
    coll = await collection(api)
    await endpoint(api, url=receiver.url, collection=coll, events=["create", "update"])
    first = await create(api, coll, {"title": "first"})
    await create(api, coll, {"title": "second"})
    await eventually(lambda: any(r.json()["data"]["record"]["title"] == "second" for r in receiver.requests))
    first_ok[0] = True
    await eventually(
        lambda: sum(r.json()["data"]["record"]["title"] == "first" for r in receiver.requests) >= 2
    )
    titles = [r.json()["data"]["record"]["title"] for r in receiver.requests]
    assert titles.index("second") < len(titles) - 1 - titles[::-1].index(
        "first"
    )  # delivered before first's success
    # What lets receivers order them: the event time and the record's `updated`.
    body = next(r.json() for r in receiver.requests if r.json()["data"]["record"]["title"] == "first")
    assert body["timestamp"] and body["data"]["record"]["updated"] == first["updated"]


async def test_the_delivery_log(api: Api, hooks_on: Webhooks, receiver: Receiver) -> None:
    hooks_on.keep_deliveries = 3
    try:
        receiver.respond = lambda r: (201, b"x" * 5000)
        coll = await collection(api)
        hook = await endpoint(api, url=receiver.url, collection=coll)
        for i in range(5):
            await create(api, coll, {"title": f"t{i}"})
        await eventually(lambda: len(receiver.requests) == 5)
        await asyncio.sleep(0.3)
        log = await deliveries(api, hook["id"])
        assert len(log) == 3  # bounded: the oldest are pruned
        for d in log:
            assert d["status"] == 201 and d["attempt"] == 1 and d["error"] == "" and d["latency"] >= 0
            assert (
                d["response"] == "x" * 1024 and d["created"].endswith("Z") and d["message"].startswith("msg_")
            )
        assert [d["created"] for d in log] == sorted((d["created"] for d in log), reverse=True)
    finally:
        hooks_on.keep_deliveries = 100


# ----- addresses (SSRF) ---------------------------------------------------------------------
async def test_private_addresses_are_refused(api: Api, hooks_on: Webhooks, receiver: Receiver) -> None:
    coll = await collection(api)
    hook = await endpoint(api, url=receiver.url, collection=coll)  # allowed while the test allows it
    hooks_on.allow_private = False
    for url in ("http://127.0.0.1/", "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/",
                "http://10.1.2.3/", "http://localhost/", "http://192.168.0.1/", receiver.url):  # fmt: skip
        r = await api.client.post(
            "/api/hearth/webhooks", json={"url": url, "collection": coll}, headers=api.su()
        )
        assert r.status_code == 400, url
        assert r.json()["data"]["url"]["code"] == "validation_invalid_url", r.text
    # At delivery time too: the connection is refused before anything is sent.
    await create(api, coll, {"title": "x"})
    log = await eventually(lambda: deliveries(api, hook["id"]))
    assert log[0]["status"] == 0 and log[0]["error"].startswith("refused:") and "127.0.0.1" in log[0]["error"]
    assert receiver.requests == []


# ----- the API ------------------------------------------------------------------------------
async def test_the_api_is_for_superusers(api: Api) -> None:
    r = await api.client.get("/api/hearth/webhooks")
    assert r.status_code == 401 and set(r.json()) == {"status", "message", "data"}
    users = unique("whusers")
    await api.create_collection({"name": users, "type": "auth", **OPEN, "fields": []})
    r = await api.client.post(f"/api/collections/{users}/records",
                              json={"email": "u@example.com", "password": "pass12345", "passwordConfirm": "pass12345"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = await api.client.post(f"/api/collections/{users}/auth-with-password",
                              json={"identity": "u@example.com", "password": "pass12345"})  # fmt: skip
    user = {"Authorization": r.json()["token"]}
    for method, path in (("GET", "/api/hearth/webhooks"), ("POST", "/api/hearth/webhooks"),
                         ("GET", "/api/hearth/webhooks/x"), ("PATCH", "/api/hearth/webhooks/x"),
                         ("DELETE", "/api/hearth/webhooks/x"), ("GET", "/api/hearth/webhooks/x/deliveries")):  # fmt: skip
        r = await api.client.request(
            method, path, headers=user, json={} if method in ("POST", "PATCH") else None
        )
        assert r.status_code == 403, (method, path, r.text)
        r = await api.client.request(method, path, json={} if method in ("POST", "PATCH") else None)
        assert r.status_code == 401, (method, path)


async def test_bad_input_is_refused_per_field(api: Api, hooks_on: Webhooks) -> None:
    coll = await collection(api)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"collection": coll}, "url", "validation_required"),
        ({"url": "ftp://example.com/x", "collection": coll}, "url", "validation_invalid_url"),
        ({"url": "http:///nohost", "collection": coll}, "url", "validation_invalid_url"),
        ({"url": "http://u:p@example.com/", "collection": coll}, "url", "validation_invalid_url"),
        ({"url": "http://example.com/"}, "collection", "validation_missing_collection"),
        ({"url": "http://example.com/", "collection": "nope_nothing"}, "collection", "validation_invalid_collection"),
        ({"url": "http://example.com/", "collection": coll, "events": ["created"]}, "events", "validation_invalid_value"),
        ({"url": "http://example.com/", "collection": coll, "events": []}, "events", "validation_invalid_value"),
        ({"url": "http://example.com/", "collection": coll, "events": "create"}, "events", "validation_invalid_value"),
        ({"url": "http://example.com/", "collection": coll, "filter": "title = "}, "filter", "validation_invalid_filter"),
        ({"url": "http://example.com/", "collection": coll, "filter": "nofield = 1"}, "filter", "validation_invalid_filter"),
        ({"url": "http://example.com/", "collection": coll, "filter": "@request.auth.id != ''"}, "filter",
         "validation_invalid_filter"),
        ({"url": "http://example.com/", "collection": coll, "secret": "abc"}, "secret", "validation_invalid_secret"),
        ({"url": "http://example.com/", "collection": coll, "active": "yes"}, "active", "validation_invalid_value"),
        ({"url": "http://example.com/", "collection": coll, "colour": "red"}, "colour", "validation_unknown_field"),
    ]  # fmt: skip
    for body, key, code in cases:
        r = await api.client.post("/api/hearth/webhooks", json=body, headers=api.su())
        assert r.status_code == 400, (body, r.text)
        out = r.json()
        assert out["status"] == 400 and out["message"] == "Failed to create webhook.", out
        assert out["data"][key]["code"] == code, (body, out)
    r = await api.client.post(
        "/api/hearth/webhooks", content=b"[1]", headers={**api.su(), "content-type": "application/json"}
    )
    assert r.status_code == 400
    # Several at once, each named.
    r = await api.client.post(
        "/api/hearth/webhooks", json={"url": "x", "collection": "y", "events": [1]}, headers=api.su()
    )
    assert set(r.json()["data"]) == {"url", "collection", "events"}
    for method, path in (("GET", "/api/hearth/webhooks/nope"), ("PATCH", "/api/hearth/webhooks/nope"),
                         ("DELETE", "/api/hearth/webhooks/nope"), ("GET", "/api/hearth/webhooks/nope/deliveries")):  # fmt: skip
        r = await api.client.request(method, path, headers=api.su(), json={} if method == "PATCH" else None)
        assert r.status_code == 404 and r.json()["message"] == "The webhook does not exist.", r.text


async def test_create_view_update_list_delete(api: Api, hooks_on: Webhooks, receiver: Receiver) -> None:
    coll = await collection(api)
    hook = await endpoint(api, name="orders", url=receiver.url, collection=coll, events=["delete", "create"],
                          filter="n >= 2")  # fmt: skip
    assert set(hook) == {"id", "name", "url", "collection", "collectionId", "events", "filter", "secret", "active",
                         "disabledReason", "failures", "created", "updated"}  # fmt: skip
    assert (
        hook["events"] == ["create", "delete"] and hook["filter"] == "n >= 2" and hook["disabledReason"] == ""
    )
    Webhook(hook["secret"])  # a secret the reference library accepts
    r = await api.client.get(f"/api/hearth/webhooks/{hook['id']}", headers=api.su())
    assert r.status_code == 200 and r.json() == hook
    r = await api.client.get("/api/hearth/webhooks", headers=api.su())
    assert r.status_code == 200 and hook["id"] in [w["id"] for w in r.json()["items"]]
    new_secret = (await endpoint(api, url=receiver.url, collection=coll))["secret"]
    r = await api.client.patch(f"/api/hearth/webhooks/{hook['id']}",
                               json={"name": "renamed", "filter": "", "secret": new_secret, "active": False},
                               headers=api.su())  # fmt: skip
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["name"] == "renamed" and changed["filter"] == "" and changed["secret"] == new_secret
    assert (
        changed["active"] is False
        and changed["url"] == receiver.url
        and changed["events"] == ["create", "delete"]
    )
    r = await api.client.patch(
        f"/api/hearth/webhooks/{hook['id']}", json={"events": ["nope"]}, headers=api.su()
    )
    assert r.status_code == 400 and r.json()["message"] == "Failed to update webhook."
    r = await api.client.delete(f"/api/hearth/webhooks/{hook['id']}", headers=api.su())
    assert r.status_code == 204
    r = await api.client.get(f"/api/hearth/webhooks/{hook['id']}", headers=api.su())
    assert r.status_code == 404
