"""S3 storage when the S3 service fails: every operation raises StorageUnavailable (a 503
ApiError) within a few seconds, never a client error or a hang; PocketBase's "test connection"
probe; the provider's client reuse. Against moto's server (tests/support/s3_server.py), a closed
port, and a socket that accepts connections but never answers."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.s3_server import MotoServer, closed_port, make_bucket

from hearth.errors import ApiError
from hearth.files.local import LocalStorage
from hearth.files.provider import StorageProvider
from hearth.files.s3 import NORMAL, Limits, S3Config, S3Storage, describe, probe
from hearth.files.storage import FileNotFound, StorageError, StorageUnavailable

KEY = "c/r/a.txt"


async def chunks_of(*parts: bytes) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


def config(endpoint: str, bucket: str = "bucket") -> S3Config:
    return S3Config(bucket=bucket, region="us-east-1", endpoint=endpoint, access_key="key",
                    secret="sEcReT-value", force_path_style=True)


def operations(st: S3Storage) -> dict[str, Callable[[], Awaitable[Any]]]:
    async def read() -> bytes:
        d = await st.open(KEY)
        return b"".join([c async for c in d.chunks])

    return {
        "put": lambda: st.put(KEY, chunks_of(b"x")),
        "open": read,
        "info": lambda: st.info(KEY),
        "exists": lambda: st.exists(KEY),
        "delete": lambda: st.delete(KEY),
        "delete_prefix": lambda: st.delete_prefix("c/r"),
        "list": lambda: st.list("c"),
    }


async def assert_unavailable(call: Callable[[], Awaitable[Any]], within: float) -> StorageUnavailable:
    t = time.monotonic()
    with pytest.raises(StorageUnavailable) as e:
        await call()
    assert time.monotonic() - t < within
    exc = e.value
    assert isinstance(exc, StorageError) and isinstance(exc, ApiError)
    assert exc.status == 503 and exc.retry_after == 5
    assert exc.envelope() == {"data": {}, "message": "The file storage is unavailable. Try again later.",
                              "status": 503}
    assert "Debug source" not in exc.reason and "sEcReT-value" not in exc.reason
    return exc


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


async def test_closed_port_every_operation_unavailable_fast() -> None:
    """Connection refused: retried (at most NORMAL.max_retries) and reported in well under 3 s."""
    st = S3Storage(config(f"http://127.0.0.1:{closed_port()}"))
    for name, call in operations(st).items():
        exc = await assert_unavailable(call, within=3)
        assert "Connection refused" in exc.reason, (name, exc.reason)
    await st.close()


async def test_silent_server_bounded_by_read_timeout(silent_endpoint: str) -> None:
    st = S3Storage(config(silent_endpoint), Limits(connect_timeout=1, read_timeout=1, max_retries=1,
                                                   retry_timeout=0.5))
    for call in operations(st).values():
        exc = await assert_unavailable(call, within=4)
        assert "timed out" in exc.reason
    await st.close()


def test_normal_limits_are_bounded() -> None:
    # A down endpoint: at most two connect timeouts (a retry only starts within retry_timeout);
    # a hung one: one read timeout. Never the client's default of 10 retries over 3 minutes.
    assert NORMAL.connect_timeout * 2 + 1 <= 8
    assert NORMAL.read_timeout <= 10 and NORMAL.retry_timeout < NORMAL.read_timeout
    assert NORMAL.max_retries <= 2
    # …and no limit on a whole request: a long download to a slow client is not cut.
    assert NORMAL.request_timeout >= 3600
    opts = NORMAL.client_options(True)
    assert opts["allow_http"] is True and "read_timeout" in opts and "connect_timeout" in opts


async def test_missing_bucket_is_unavailable_not_missing_file(moto_endpoint: str) -> None:
    st = S3Storage(config(moto_endpoint, bucket="no-such-bucket-here"))
    # (A HEAD's 404 has no body to tell a missing bucket from a missing object: `info` and
    # `exists` say "not found".)
    for name in ("put", "open", "list", "delete"):
        exc = await assert_unavailable(operations(st)[name], within=3)
        assert "NoSuchBucket" in exc.reason
    await st.close()


async def test_missing_object_is_still_file_not_found(moto_endpoint: str) -> None:
    st = S3Storage(config(moto_endpoint, make_bucket(moto_endpoint)))
    with pytest.raises(FileNotFound):
        await st.open("c/r/none.txt")
    assert not await st.exists("c/r/none.txt")
    await st.close()


async def test_server_goes_away_and_comes_back(caplog: pytest.LogCaptureFixture) -> None:
    server = MotoServer().start()
    try:
        bucket = make_bucket(server.url)
        st = S3Storage(config(server.url, bucket))
        await st.put(KEY, chunks_of(b"hello"))
        server.stop()
        caplog.set_level(logging.INFO, logger="hearth.files")
        for call in operations(st).values():
            await assert_unavailable(call, within=3)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "S3 storage unavailable" in warnings[0].getMessage()
        server.start()  # same port; moto starts empty
        httpx.put(f"{server.url}/{bucket}")
        await st.put(KEY, chunks_of(b"again"))
        assert any("S3 storage available again" in r.getMessage() for r in caplog.records)
        await st.close()
    finally:
        server.stop()


async def test_closed_storage_is_unavailable() -> None:
    st = S3Storage(config("http://127.0.0.1:9"))
    await st.close()
    await assert_unavailable(lambda: st.exists(KEY), within=1)


def test_malformed_endpoint_is_unavailable() -> None:
    with pytest.raises(StorageUnavailable) as e:
        S3Storage(config("http://exa mple.com:x"))
    assert e.value.reason and "Debug source" not in e.value.reason


def test_describe_keeps_the_cause_and_drops_the_debug_dump() -> None:
    raw = ('Generic S3 error: Error performing PUT http://h/b/k in 1ms - HTTP error: error sending request\n\n'
           'Debug source:\nGeneric {\n  source: Os {\n  code: 111,\n  message: "Connection refused",\n }\n}')
    assert describe(Exception(raw)) == ("Generic S3 error: Error performing PUT http://h/b/k in 1ms - "
                                        "HTTP error: error sending request (Connection refused)")
    assert describe(Exception("bad key s3cr3t"), secret="s3cr3t") == "bad key ***"
    assert describe(Exception()) == "Exception"


# PocketBase's "test connection" (POST /api/settings/test/s3 calls it).


async def test_probe_ok_leaves_nothing(moto_endpoint: str) -> None:
    bucket = make_bucket(moto_endpoint)
    await probe(config(moto_endpoint, bucket))
    st = S3Storage(config(moto_endpoint, bucket))
    assert await st.list() == []
    await st.close()


async def test_probe_failures_read_as_pocketbase(moto_endpoint: str, silent_endpoint: str) -> None:
    with pytest.raises(StorageUnavailable) as e:
        await probe(config(moto_endpoint, bucket="no-such-bucket-here"))
    assert e.value.reason.startswith("failed to upload a test file: [key: pb_settings_test_")
    assert "/test.txt] " in e.value.reason and "NoSuchBucket" in e.value.reason

    t = time.monotonic()
    with pytest.raises(StorageUnavailable) as e:
        await probe(config(f"http://127.0.0.1:{closed_port()}"))
    assert time.monotonic() - t < 3
    assert "Connection refused" in e.value.reason

    with pytest.raises(StorageUnavailable) as e:
        await probe(config("http://exa mple.com:x"))
    assert e.value.reason.startswith("failed to initialize the S3 filesystem: ")


async def test_probe_of_a_hung_server_is_bounded(silent_endpoint: str) -> None:
    t = time.monotonic()
    with pytest.raises(StorageUnavailable) as e:
        await probe(config(silent_endpoint))
    assert time.monotonic() - t < 15
    assert e.value.reason.startswith("failed to upload a test file:") and "timed out" in e.value.reason


# The provider: one client per `s3` block, local when disabled.


async def test_provider_reuses_one_client_per_block(tmp_path: Path, moto_endpoint: str) -> None:
    p = StorageProvider(tmp_path)
    block = {"enabled": True, "bucket": "b", "region": "us-east-1", "endpoint": moto_endpoint,
             "accessKey": "k", "secret": "s", "forcePathStyle": True}
    assert isinstance(p.for_settings({"s3": {**block, "enabled": False}}), LocalStorage)
    first = p.for_settings({"s3": block})
    assert isinstance(first, S3Storage)
    assert all(p.for_settings({"s3": dict(block)}) is first for _ in range(100))
    second = p.for_settings({"s3": {**block, "bucket": "other"}})
    assert second is not first and isinstance(second, S3Storage)
    assert isinstance(p.for_settings({"s3": block | {"enabled": False}}), LocalStorage)
    with pytest.raises(StorageUnavailable):
        p.for_settings({"s3": {**block, "endpoint": "http://exa mple.com:x"}})
    await p.close()
    assert p._s3 is None


async def test_many_concurrent_failures_all_bounded() -> None:
    st = S3Storage(config(f"http://127.0.0.1:{closed_port()}"))
    t = time.monotonic()
    results = await asyncio.gather(*(st.exists(f"c/r/{i}.txt") for i in range(50)), return_exceptions=True)
    assert time.monotonic() - t < 5
    assert all(isinstance(r, StorageUnavailable) for r in results)
    await st.close()
