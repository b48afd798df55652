"""S3-compatible storage, configured as PocketBase's settings `s3` block.

Client: obstore (Rust's object_store), chosen by measurement against aiobotocore on a loopback
S3 server (see docs/files.md): faster on small and 1 MiB objects, one self-contained wheel.
Uploads stream as multipart uploads from the chunk iterator; downloads stream the response body.
Keys are stored as PocketBase stores them in S3: `<collectionId>/<recordId>/<filename>`, with the
content type and `original-filename` as object metadata (no `.attrs` sidecars in S3).
Every client error becomes `FileNotFound` (a missing object) or `StorageUnavailable` (a 503),
within the bounded time `Limits` sets.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import string
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store

from hearth._util.outage import OutageLog
from hearth.files.storage import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    Download,
    FileInfo,
    FileNotFound,
    StorageUnavailable,
    check_key,
    check_prefix,
)

if TYPE_CHECKING:
    from obstore import Attributes, GetOptions, GetResult
    from obstore.store import ClientConfig, RetryConfig

log = logging.getLogger("hearth.files")

# Multipart part size: the S3 minimum; the upload holds at most a few parts in memory at once.
PART_SIZE = 5 * 1024 * 1024
DELETE_BATCH = 1000


@dataclass(frozen=True)
class S3Config:
    """PocketBase's settings `s3` block (its JSON names)."""

    bucket: str
    region: str = ""
    endpoint: str = ""
    access_key: str = ""
    secret: str = ""
    force_path_style: bool = False
    enabled: bool = True

    @classmethod
    def from_settings(cls, s3: Mapping[str, Any]) -> S3Config:
        return cls(
            bucket=str(s3.get("bucket", "")),
            region=str(s3.get("region", "")),
            endpoint=str(s3.get("endpoint", "")),
            access_key=str(s3.get("accessKey", "")),
            secret=str(s3.get("secret", "")),
            force_path_style=bool(s3.get("forcePathStyle", False)),
            enabled=bool(s3.get("enabled", False)),
        )


@dataclass(frozen=True)
class Limits:
    """How long the client waits before calling the storage unavailable (seconds).

    There is no limit on a whole request (obstore's default of 30 s would cut a long download
    to a slow client mid-stream): a stalled connection is caught by `read_timeout` instead (no
    byte for that long), an unreachable endpoint by `connect_timeout`. Retries (connection
    errors, 5xx, timeouts of reads) stop after `max_retries` or once `retry_timeout` has passed
    since the first attempt, so an S3 that is down fails in a few seconds, not minutes.
    """

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    max_retries: int = 2
    retry_timeout: float = 4.0
    request_timeout: float = 24 * 3600.0

    def client_options(self, allow_http: bool) -> ClientConfig:
        return {
            "allow_http": allow_http,
            "connect_timeout": timedelta(seconds=self.connect_timeout),
            "read_timeout": timedelta(seconds=self.read_timeout),
            "timeout": timedelta(seconds=self.request_timeout),
        }

    def retry_config(self) -> RetryConfig:
        return {
            "max_retries": self.max_retries,
            "retry_timeout": timedelta(seconds=self.retry_timeout),
            "backoff": {"init_backoff": timedelta(milliseconds=100), "max_backoff": timedelta(seconds=1),
                        "base": 2},
        }


NORMAL = Limits()
# The settings' "test connection": one retry, and at most 10 s per request.
PROBE = Limits(connect_timeout=3.0, read_timeout=5.0, max_retries=1, retry_timeout=2.0, request_timeout=10.0)


def describe(exc: BaseException, secret: str = "") -> str:
    """The client's error as one readable text: obstore's message without its debug dump (a
    Rust struct), plus the root cause it names only there ("Connection refused", a timeout)."""
    text = str(exc) or type(exc).__name__
    head, _, debug = text.partition("Debug source:")
    head = head.strip()
    cause = _CAUSE.search(debug)
    if cause and cause.group(1) not in head:
        head += f" ({cause.group(1)})"
    elif ("TimedOut" in debug or "kind: Timeout" in debug) and "timed out" not in head:
        head += " (timed out)"
    if secret:
        head = head.replace(secret, "***")
    return head


_CAUSE = re.compile(r'message: "([^"\\]{1,200})"')
_NO_BUCKET = "<Code>NoSuchBucket</Code>"
_BUCKET = re.compile(r"[A-Za-z0-9._-]{1,255}")
_HOST = re.compile(r"(?:[A-Za-z0-9._~%-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def check_endpoint(endpoint: str) -> None:
    """StorageUnavailable unless the endpoint is empty (AWS) or an http(s) URL with a valid host."""
    if not endpoint:
        return
    problem = ""
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 — raises ValueError on a malformed port
    except ValueError as exc:
        problem = str(exc)
    else:
        if parts.scheme not in ("http", "https"):
            problem = "the scheme must be http or https"
        elif not _HOST.fullmatch(parts.netloc.rpartition("@")[2]):
            problem = "invalid host"
        elif any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in endpoint):
            problem = "it contains spaces or control characters"
    if problem:
        raise StorageUnavailable(f'invalid S3 endpoint "{endpoint}": {problem}')


class S3Storage:
    def __init__(self, config: S3Config, limits: Limits = NORMAL, quiet: bool = False) -> None:
        self._secret = config.secret
        # One line when the storage goes away, one per interval while it stays away, one when
        # it is back (as for the database); `quiet` for the settings' test, which reports itself.
        self.outage: OutageLog | None = None if quiet else OutageLog("S3 storage", log, unit="failed calls")
        endpoint = config.endpoint
        if endpoint and "://" not in endpoint:
            endpoint = "https://" + endpoint
        # The client panics (in Rust, at the first request) on a URL it cannot put in a request
        # line; refuse such values here, as an unavailable storage.
        check_endpoint(endpoint)
        if not _BUCKET.fullmatch(config.bucket):
            raise StorageUnavailable(f'invalid bucket name "{config.bucket}"')
        kwargs: dict[str, Any] = {}
        if endpoint:
            kwargs["endpoint"] = endpoint
        try:
            self._store: S3Store | None = S3Store(
                config.bucket,
                region=config.region or "us-east-1",
                access_key_id=config.access_key or None,
                secret_access_key=config.secret or None,
                virtual_hosted_style_request=not config.force_path_style,
                client_options=limits.client_options(endpoint.startswith("http://")),
                retry_config=limits.retry_config(),
                **kwargs,
            )
        except (BaseError, ValueError) as exc:  # a malformed endpoint or region
            raise StorageUnavailable(describe(exc, self._secret)) from None

    @property
    def store(self) -> S3Store:
        if self._store is None:
            raise StorageUnavailable("the S3 storage is closed")
        return self._store

    def _unavailable(self, exc: BaseException) -> StorageUnavailable:
        reason = describe(exc, self._secret)
        if self.outage is not None:
            self.outage.failed(reason)
        return StorageUnavailable(reason)

    def _ok(self) -> None:
        if self.outage is not None and self.outage.down:
            self.outage.ok()

    @contextmanager
    def _guard(self, missing: str | None = None) -> Iterator[None]:
        """Translate the client's errors: a missing object → FileNotFound(`missing`) when the
        call reads one; anything else (and a missing bucket) → StorageUnavailable."""
        try:
            yield
        except (NotFoundError, FileNotFoundError) as exc:
            if missing is not None and _NO_BUCKET not in str(exc):
                self._ok()
                raise FileNotFound(missing) from None
            raise self._unavailable(exc) from None
        except BaseError as exc:
            raise self._unavailable(exc) from None
        except Exception as exc:
            if type(exc).__name__ != "RustPanic":  # pyo3's, for a request the client could not build
                raise
            raise self._unavailable(exc) from None
        self._ok()

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str = DEFAULT_CONTENT_TYPE,
                  original_name: str | None = None) -> int:
        key = check_key(key)
        size = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal size
            async for chunk in chunks:
                if chunk:
                    size += len(chunk)
                    yield chunk

        attributes: Attributes = {"Content-Type": content_type}
        if original_name is not None:
            attributes["original-filename"] = _header_safe(original_name)
        with self._guard():
            await obstore.put_async(self.store, key, counted(), attributes=attributes,
                                    use_multipart=True, chunk_size=PART_SIZE, max_concurrency=2)
        return size

    @staticmethod
    def _info(key: str, meta: Mapping[str, Any], attributes: Mapping[str, Any] | None) -> FileInfo:
        ct = (attributes or {}).get("Content-Type") or DEFAULT_CONTENT_TYPE
        modified = meta["last_modified"]
        if isinstance(modified, datetime) and modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        return FileInfo(key, int(meta["size"]), modified, str(ct))

    async def _get(self, key: str, head: bool, byte_range: tuple[int, int] | None = None) -> GetResult:
        options: GetOptions | None = None
        if head:
            options = {"head": True}
        elif byte_range is not None:
            options = {"range": byte_range}
        with self._guard(missing=key):
            return await obstore.get_async(self.store, key, options=options)

    async def info(self, key: str) -> FileInfo:
        key = check_key(key)
        res = await self._get(key, head=True)
        return self._info(key, res.meta, res.attributes)

    async def open(self, key: str, start: int = 0, end: int | None = None) -> Download:
        key = check_key(key)
        start = max(start, 0)
        if start > 0 or end is not None:
            # S3 refuses an empty range or one starting past the end: ask for the size first.
            info = await self.info(key)
            stop = info.size if end is None else min(end, info.size)
            if start >= stop:
                return Download(info, _nothing())
            res = await self._get(key, head=False, byte_range=(start, stop))
            info = FileInfo(key, int(res.meta["size"]), info.modified, info.content_type)
        else:
            res = await self._get(key, head=False)
            info = self._info(key, res.meta, res.attributes)

        async def chunks() -> AsyncIterator[bytes]:
            with self._guard():
                async for chunk in res.stream(min_chunk_size=CHUNK_SIZE):
                    yield bytes(chunk)

        return Download(info, chunks())

    async def exists(self, key: str) -> bool:
        key = check_key(key)
        try:
            with self._guard(missing=key):
                await obstore.head_async(self.store, key)
        except FileNotFound:
            return False
        return True

    async def delete(self, key: str) -> None:
        key = check_key(key)
        with self._guard():
            await obstore.delete_async(self.store, key)

    async def delete_prefix(self, prefix: str) -> None:
        keys = await self.list(check_prefix(prefix, allow_empty=False))
        for i in range(0, len(keys), DELETE_BATCH):
            with self._guard():
                await obstore.delete_async(self.store, keys[i:i + DELETE_BATCH])

    async def list(self, prefix: str = "") -> list[str]:
        prefix = check_prefix(prefix)
        out: list[str] = []
        with self._guard():
            async for batch in obstore.list(self.store, prefix or None, chunk_size=1000):
                out.extend(meta["path"] for meta in batch)
        return sorted(out)

    async def close(self) -> None:
        """Drop the client (its connection pool goes with the last reference; a store still
        referenced when the interpreter exits can abort it)."""
        self._store = None


async def probe(config: S3Config) -> None:
    """PocketBase's S3 "test connection": upload a 4-byte `pb_settings_test_<5 chars>/test.txt`
    and delete that prefix (which lists it too), with the short `PROBE` limits. Raises
    StorageUnavailable whose `reason` reads as PocketBase's ("failed to upload a test file: …")."""
    try:
        storage = S3Storage(config, PROBE, quiet=True)
    except StorageUnavailable as exc:
        raise StorageUnavailable(f"failed to initialize the S3 filesystem: {exc.reason}") from None
    prefix = "pb_settings_test_" + "".join(secrets.choice(_ALPHANUM) for _ in range(5))
    key = prefix + "/test.txt"

    async def content() -> AsyncIterator[bytes]:
        yield b"test"

    try:
        async with asyncio.timeout(PROBE_DEADLINE):
            try:
                await storage.put(key, content(), "text/plain; charset=utf-8")
            except StorageUnavailable as exc:
                raise StorageUnavailable(f"failed to upload a test file: [key: {key}] {exc.reason}") from None
            try:
                await storage.delete_prefix(prefix)
            except StorageUnavailable as exc:
                raise StorageUnavailable(f"failed to delete a test file: {exc.reason}") from None
    except TimeoutError:
        raise StorageUnavailable(f"the S3 filesystem did not answer within {PROBE_DEADLINE:g} s") from None
    finally:
        await storage.close()


_ALPHANUM = string.ascii_letters + string.digits
PROBE_DEADLINE = 20.0


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


def _header_safe(value: str) -> str:
    """Object metadata travels as HTTP headers: printable ASCII as is, anything else
    percent-encoded (a client's file name may hold any character)."""
    if value.isascii() and value.isprintable():
        return value
    return quote(value, safe=" !#$&'()*+,/:;=?@[]~")
