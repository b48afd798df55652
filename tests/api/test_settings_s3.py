"""S3 settings over HTTP, on SQLite and PostgreSQL, against a real S3-protocol server (moto):
POST /api/settings/test/s3 (PocketBase's answers, compared with PocketBase 0.40.6), the `s3`
blocks' validation and secret handling, `h.storage()` following the settings, and a 503 when the
enabled S3 is down."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hearth.db.postgres import STATE_MAX_STALE
from hearth.files.local import LocalStorage
from hearth.files.s3 import S3Storage
from tests.conftest import OPEN, Api, unique
from tests.support.s3_server import closed_port, make_bucket

TEST_S3 = "/api/settings/test/s3"
PW = "memberpass123"
FAILED = "Failed to test the S3 filesystem."
NOT_ENABLED = "Failed to test the S3 filesystem. Raw error: \nS3 storage filesystem is not enabled."
LOAD_FAILED = {"data": {}, "message": "An error occurred while loading the submitted data.", "status": 400}
REQUIRED = {"code": "validation_required", "message": "Cannot be blank."}


def block(endpoint: str, bucket: str, **extra: Any) -> dict[str, Any]:
    return {"enabled": True, "bucket": bucket, "region": "us-east-1", "endpoint": endpoint,
            "accessKey": "test-key", "secret": "test-secret", "forcePathStyle": True, **extra}


async def patch(api: Api, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    r = await api.client.patch("/api/settings", json=body, headers=api.su())
    assert r.status_code == status, r.text
    return dict(r.json())


async def test_s3(api: Api, filesystem: Any = "storage", **kw: Any) -> httpx.Response:
    kw.setdefault("json", {"filesystem": filesystem})
    return await api.client.post(TEST_S3, headers=kw.pop("headers", api.su()), **kw)


test_s3.__test__ = False  # type: ignore[attr-defined]


async def disable(api: Api) -> None:
    await patch(api, {"s3": {"enabled": False}, "backups": {"s3": {"enabled": False}}})


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """Accepts TCP connections (the kernel's backlog) and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        srv.close()


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    r = httpx.get(f"{endpoint}/{bucket}?list-type=2")
    assert r.status_code == 200, r.text
    return [part.split("</Key>")[0] for part in r.text.split("<Key>")[1:]]


# --- POST /api/settings/test/s3 -------------------------------------------------------------


async def test_only_superusers(api: Api) -> None:
    r = await test_s3(api, headers={})
    assert (r.status_code, r.json()) == (401, {
        "data": {}, "message": "The request requires valid record authorization token.", "status": 401})
    email = f"{unique('member')}@example.com"
    r = await api.client.post("/api/collections/users/records",
                              json={"email": email, "password": PW, "passwordConfirm": PW})
    assert r.status_code == 200, r.text
    r = await api.client.post("/api/collections/users/auth-with-password", json={"identity": email, "password": PW})
    r = await test_s3(api, headers={"Authorization": r.json()["token"]})
    assert (r.status_code, r.json()) == (403, {
        "data": {}, "message": "The authorized record is not allowed to perform this action.", "status": 403})


@pytest.mark.parametrize(("body", "code"), [
    (None, "validation_required"),  # no body at all
    ({}, "validation_required"),
    ({"filesystem": ""}, "validation_required"),
    ({"filesystem": None}, "validation_required"),
    ({"filesystem": "x"}, "validation_in_invalid"),
    ({"filesystem": "Storage"}, "validation_in_invalid"),
])
async def test_invalid_filesystem(api: Api, body: Any, code: str) -> None:
    r = await api.client.post(TEST_S3, headers=api.su(), **({} if body is None else {"json": body}))
    message = "Cannot be blank." if code == "validation_required" else "Must be a valid value."
    assert (r.status_code, r.json()) == (400, {
        "data": {"filesystem": {"code": code, "message": message}}, "message": FAILED, "status": 400})


async def test_invalid_filesystem_form_and_unreadable_bodies(api: Api) -> None:
    r = await api.client.post(TEST_S3, headers=api.su(), data={"filesystem": "x"})
    assert r.json()["data"] == {"filesystem": {"code": "validation_in_invalid", "message": "Must be a valid value."}}
    for raw in (b'{"filesystem":1}', b"[]", b"nope", b'{"filesystem":["storage"]}'):
        r = await api.client.post(TEST_S3, content=raw,
                                  headers={**api.su(), "Content-Type": "application/json"})
        assert (r.status_code, r.json()) == (400, LOAD_FAILED), raw


async def test_not_enabled(api: Api) -> None:
    await disable(api)
    for fs in ("storage", "backups"):
        r = await test_s3(api, fs)
        assert (r.status_code, r.json()) == (400, {"data": {}, "message": NOT_ENABLED, "status": 400})
        # PocketBase 0.40.6's bytes.
        assert r.content == (b'{"data":{},"message":"Failed to test the S3 filesystem. Raw error: \\nS3 storage '
                             b'filesystem is not enabled.","status":400}')


async def test_ok_writes_and_removes_a_test_object(api: Api, moto_endpoint: str) -> None:
    bucket = make_bucket(moto_endpoint)
    httpx.put(f"{moto_endpoint}/{bucket}/keep/me.txt", content=b"x")
    await patch(api, {"s3": block(moto_endpoint, bucket)})
    try:
        r = await test_s3(api)
        assert (r.status_code, r.content) == (204, b"")
        assert bucket_keys(moto_endpoint, bucket) == ["keep/me.txt"]  # the test prefix is gone
        # `backups` uses its own block: still disabled.
        assert (await test_s3(api, "backups")).json()["message"] == NOT_ENABLED
    finally:
        await disable(api)


async def test_backups_block(api: Api, moto_endpoint: str) -> None:
    bucket = make_bucket(moto_endpoint)
    await patch(api, {"s3": block(f"http://127.0.0.1:{closed_port()}", "other"),
                      "backups": {"s3": block(moto_endpoint, bucket)}})
    try:
        assert (await test_s3(api, "backups")).status_code == 204
        assert (await test_s3(api, "storage")).status_code == 400
        assert bucket_keys(moto_endpoint, bucket) == []
    finally:
        await disable(api)


def assert_failed(r: httpx.Response, *parts: str) -> str:
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"data", "message", "status"} and body["data"] == {} and body["status"] == 400
    message = str(body["message"])
    prefix = FAILED + " Raw error: \nfailed to upload a test file: [key: pb_settings_test_"
    assert message.startswith(prefix), message
    assert message[len(prefix):len(prefix) + 16].endswith("/test.txt] "), message
    assert message.endswith("."), message
    for part in parts:
        assert part in message, message
    for bad in ("Debug source", "test-secret", "Traceback", "<class", "Error(", "RetryError"):
        assert bad not in message, message
    return message


async def test_wrong_bucket(api: Api, moto_endpoint: str) -> None:
    await patch(api, {"s3": block(moto_endpoint, "no-such-bucket-" + unique("b").replace("_", "-"))})
    try:
        assert_failed(await test_s3(api), "404 Not Found", "NoSuchBucket")
    finally:
        await disable(api)


async def test_closed_endpoint(api: Api) -> None:
    # moto accepts any credentials; refused connections stand for an endpoint that says no.
    await patch(api, {"s3": block(f"http://127.0.0.1:{closed_port()}", "bucket")})
    try:
        t = time.monotonic()
        assert_failed(await test_s3(api), "Connection refused")
        assert time.monotonic() - t < 3
    finally:
        await disable(api)


async def test_unanswering_endpoint_is_bounded(api: Api, silent_endpoint: str) -> None:
    await patch(api, {"s3": block(silent_endpoint, "bucket")})
    try:
        t = time.monotonic()
        assert_failed(await test_s3(api), "timed out")
        assert time.monotonic() - t < 15
    finally:
        await disable(api)


async def test_endpoint_without_scheme_is_https(api: Api, moto_endpoint: str) -> None:
    """As PocketBase: `127.0.0.1:PORT` is accepted and used as https (moto speaks http: fails)."""
    await patch(api, {"s3": block(moto_endpoint.removeprefix("http://"), make_bucket(moto_endpoint))})
    try:
        assert_failed(await test_s3(api), "https://127.0.0.1:")
    finally:
        await disable(api)


# --- PATCH /api/settings: validation and the secret -------------------------------------------


async def test_enabled_block_requires_everything(api: Api) -> None:
    empty = {"enabled": False, "bucket": "", "region": "", "endpoint": "", "accessKey": "", "secret": ""}
    await patch(api, {"s3": empty, "backups": {"s3": empty}})
    want = {k: REQUIRED for k in ("accessKey", "bucket", "endpoint", "region", "secret")}
    for body, where in (({"s3": {"enabled": True}}, ("s3",)),
                        ({"backups": {"s3": {"enabled": True}}}, ("backups", "s3"))):
        r = await api.client.patch("/api/settings", json=body, headers=api.su())
        data: Any = {where[-1]: want}
        if len(where) == 2:
            data = {"backups": data}
        assert (r.status_code, r.json()) == (400, {
            "data": data, "message": "An error occurred while saving the new settings.", "status": 400})
        if len(where) == 1:  # PocketBase 0.40.6's bytes (its keys sorted)
            assert r.content == (
                b'{"data":{"s3":{' + b",".join(b'"%s":{"code":"validation_required","message":"Cannot be blank."}'
                                              % k.encode() for k in want)
                + b'}},"message":"An error occurred while saving the new settings.","status":400}')


async def test_endpoint_must_be_a_url_even_when_disabled(api: Api) -> None:
    r = await api.client.patch("/api/settings", json={"s3": {"enabled": False, "endpoint": "not a url"}},
                               headers=api.su())
    assert (r.status_code, r.json()) == (400, {
        "data": {"s3": {"endpoint": {"code": "validation_is_url", "message": "Must be a valid URL."}}},
        "message": "An error occurred while saving the new settings.", "status": 400})
    r = await api.client.patch("/api/settings", json={"backups": {"s3": {"endpoint": "not a url"}}},
                               headers=api.su())
    assert r.json()["data"] == {"backups": {"s3": {"endpoint": {"code": "validation_is_url",
                                                                "message": "Must be a valid URL."}}}}
    for ok in ("127.0.0.1:9000", "https://s3.eu-central-1.amazonaws.com", "ftp://x", ""):
        await patch(api, {"s3": {"enabled": False, "endpoint": ok}})


async def test_secret_is_masked_and_kept(api: Api, moto_endpoint: str) -> None:
    h = api.app.state.hearth
    bucket = make_bucket(moto_endpoint)
    answer = await patch(api, {"s3": block(moto_endpoint, bucket, secret="very-secret"),
                               "backups": {"s3": block(moto_endpoint, bucket, secret="backup-secret")}})
    try:
        r = await api.client.get("/api/settings", headers=api.su())
        for view in (answer, r.json()):
            assert "secret" not in view["s3"] and "secret" not in view["backups"]["s3"]
            assert view["s3"]["accessKey"] == "test-key"
            assert "very-secret" not in str(view) and "backup-secret" not in str(view)
        # A PATCH without the secret (what the dashboard sends back) keeps it.
        answer = await patch(api, {"s3": {**{k: v for k, v in answer["s3"].items()}, "region": "eu-west-1"}})
        assert "secret" not in answer["s3"]
        saved = await h.settings.get(h.collections.version)
        assert saved["s3"]["secret"] == "very-secret" and saved["s3"]["region"] == "eu-west-1"
        assert saved["backups"]["s3"]["secret"] == "backup-secret"
        assert (await test_s3(api)).status_code == 204
        # An empty secret is a change: refused while enabled, as PocketBase does.
        r = await api.client.patch("/api/settings", json={"s3": {"secret": ""}}, headers=api.su())
        assert (r.status_code, r.json()["data"]) == (400, {"s3": {"secret": REQUIRED}})
    finally:
        await disable(api)


# --- h.storage() follows the settings; S3 down → 503 ---------------------------------------


async def test_enabling_s3_switches_storage(api: Api, moto_endpoint: str) -> None:
    h = api.app.state.hearth
    await disable(api)
    assert isinstance(await h.storage(), LocalStorage)
    bucket = make_bucket(moto_endpoint)
    await patch(api, {"s3": block(moto_endpoint, bucket)})
    try:
        st = await h.storage()
        assert isinstance(st, S3Storage)
        assert await h.storage() is st  # one client while the block stays the same
        c = await api.create_collection({"name": unique("s3docs"), "type": "base", **OPEN,
                                         "fields": [{"name": "doc", "type": "file", "maxSelect": 1}]})
        r = await api.client.post(f"/api/collections/{c['name']}/records",
                                  files=[("doc", ("hello.txt", b"hello s3", "text/plain"))])
        assert r.status_code == 200, r.text
        rec = r.json()
        key = f"{c['id']}/{rec['id']}/{rec['doc']}"
        assert bucket_keys(moto_endpoint, bucket) == [key]
        assert httpx.get(f"{moto_endpoint}/{bucket}/{key}").content == b"hello s3"
        # A changed block: a new client.
        await patch(api, {"s3": {"region": "eu-west-1"}})
        assert (await h.storage()) is not st
    finally:
        await disable(api)
    assert isinstance(await h.storage(), LocalStorage)


async def storage_soon(other: Any, kind: type, dialect: str) -> None:
    """`other` (another process on the database) uses storage of `kind` on its next request, or
    on PostgreSQL within the bounded staleness of the change feed: its NOTIFY arrives a moment
    after the commit, and the counters are read at least every STATE_MAX_STALE seconds."""
    deadline = time.monotonic() + (STATE_MAX_STALE + 1.0 if dialect == "postgres" else 0.0)
    while True:
        await other.collections.refresh()  # what every request does first
        if isinstance(await other.storage(), kind) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    assert isinstance(await other.storage(), kind)


async def test_another_instance_follows_the_settings(api: Api, moto_endpoint: str) -> None:
    """A second process (another worker) on the same database picks S3 up on its next request."""
    from hearth.app import Hearth

    h = api.app.state.hearth
    other = Hearth(h.config)
    await other.start()
    try:
        await disable(api)
        await storage_soon(other, LocalStorage, api.dialect)
        await patch(api, {"s3": block(moto_endpoint, make_bucket(moto_endpoint))})
        await storage_soon(other, S3Storage, api.dialect)
        await disable(api)
        await storage_soon(other, LocalStorage, api.dialect)
    finally:
        await other.stop()
        await disable(api)


async def test_s3_down_is_503(api: Api, moto_endpoint: str) -> None:
    c = await api.create_collection({"name": unique("s3down"), "type": "base", **OPEN,
                                     "fields": [{"name": "doc", "type": "file", "maxSelect": 1}]})
    bucket = make_bucket(moto_endpoint)
    await patch(api, {"s3": block(moto_endpoint, bucket)})
    r = await api.client.post(f"/api/collections/{c['name']}/records",
                              files=[("doc", ("kept.txt", b"kept", "text/plain"))])
    assert r.status_code == 200, r.text
    rec = r.json()
    download = f"/api/files/{c['name']}/{rec['id']}/{rec['doc']}"
    assert (await api.client.get(download)).content == b"kept"
    await patch(api, {"s3": {"endpoint": f"http://127.0.0.1:{closed_port()}"}})
    try:
        t = time.monotonic()
        r = await api.client.get(download)
        assert time.monotonic() - t < 5
        assert r.status_code == 503 and r.json()["status"] == 503, r.text
        t = time.monotonic()
        r = await api.client.post(f"/api/collections/{c['name']}/records",
                                  files=[("doc", ("hello.txt", b"hello", "text/plain"))])
        assert time.monotonic() - t < 5
        assert r.status_code == 503, r.text
        assert set(r.json()) == {"data", "message", "status"} and r.json()["data"] == {}
        # Records without files still work.
        r = await api.client.post(f"/api/collections/{c['name']}/records", json={})
        assert r.status_code == 200, r.text
    finally:
        await disable(api)
