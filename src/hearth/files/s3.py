"""S3-compatible storage, configured as PocketBase's settings `s3` block.

Client: obstore (Rust's object_store), chosen by measurement against aiobotocore on a loopback
S3 server (see docs/files.md): faster on small and 1 MiB objects, one self-contained wheel.
Uploads stream as multipart uploads from the chunk iterator; downloads stream the response body.
Keys are stored as PocketBase stores them in S3: `<collectionId>/<recordId>/<filename>`, with the
content type and `original-filename` as object metadata (no `.attrs` sidecars in S3).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from hearth.files.storage import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    Download,
    FileInfo,
    FileNotFound,
    check_key,
    check_prefix,
)

if TYPE_CHECKING:
    from obstore import Attributes, GetOptions, GetResult

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


class S3Storage:
    def __init__(self, config: S3Config) -> None:
        endpoint = config.endpoint
        if endpoint and "://" not in endpoint:
            endpoint = "https://" + endpoint
        kwargs: dict[str, Any] = {}
        if endpoint:
            kwargs["endpoint"] = endpoint
        self.store = S3Store(
            config.bucket,
            region=config.region or "us-east-1",
            access_key_id=config.access_key or None,
            secret_access_key=config.secret or None,
            virtual_hosted_style_request=not config.force_path_style,
            client_options={"allow_http": endpoint.startswith("http://")},
            **kwargs,
        )

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
            attributes["original-filename"] = original_name
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
        try:
            return await obstore.get_async(self.store, key, options=options)
        except (NotFoundError, FileNotFoundError):
            raise FileNotFound(key) from None

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
            async for chunk in res.stream(min_chunk_size=CHUNK_SIZE):
                yield bytes(chunk)

        return Download(info, chunks())

    async def exists(self, key: str) -> bool:
        key = check_key(key)
        try:
            await obstore.head_async(self.store, key)
        except (NotFoundError, FileNotFoundError):
            return False
        return True

    async def delete(self, key: str) -> None:
        await obstore.delete_async(self.store, check_key(key))

    async def delete_prefix(self, prefix: str) -> None:
        keys = await self.list(check_prefix(prefix, allow_empty=False))
        for i in range(0, len(keys), DELETE_BATCH):
            await obstore.delete_async(self.store, keys[i:i + DELETE_BATCH])

    async def list(self, prefix: str = "") -> list[str]:
        prefix = check_prefix(prefix)
        out: list[str] = []
        async for batch in obstore.list(self.store, prefix or None, chunk_size=1000):
            out.extend(meta["path"] for meta in batch)
        return sorted(out)

    async def close(self) -> None:
        return None


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing
