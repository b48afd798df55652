"""The storage interface, its errors and key validation.

Both directions stream: `put` consumes an async iterator of chunks and `open` hands one back,
so no upload or download is held whole in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hearth.errors import ApiError

DEFAULT_CONTENT_TYPE = "application/octet-stream"
CHUNK_SIZE = 64 * 1024


class StorageError(Exception):
    """A storage failure."""


class InvalidKey(StorageError, ValueError):
    """A key or prefix that could escape the storage root or is not in PocketBase's layout."""


class FileNotFound(StorageError, FileNotFoundError):
    """No file is stored under the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no file is stored under {key!r}")
        self.key = key


class StorageUnavailable(StorageError, ApiError):
    """The storage cannot be used right now: unreachable, too slow, refusing the credentials,
    or its bucket is missing. Answered as a 503 envelope by every route (an `ApiError`, as
    `DatabaseUnavailable` is); `reason` (the client's error, without its debug dump) is for logs
    and for the settings' S3 test."""

    status = 503
    default_message = "The file storage is unavailable. Try again later."
    retry_after = 5

    def __init__(self, reason: str = "", message: str = "") -> None:
        ApiError.__init__(self, message)
        self.reason = reason or "unknown"


@dataclass(frozen=True)
class FileInfo:
    key: str
    size: int
    modified: datetime  # aware, UTC
    content_type: str


@dataclass(frozen=True)
class Download:
    """An opened file: its metadata and its content as chunks (read lazily, once)."""

    info: FileInfo
    chunks: AsyncIterator[bytes]


class Storage(Protocol):
    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str = DEFAULT_CONTENT_TYPE,
                  original_name: str | None = None) -> int:
        """Store the chunks under the key (replacing any file there) and return the size in bytes."""
        ...

    async def open(self, key: str, start: int = 0, end: int | None = None) -> Download:
        """The file's metadata (of the whole file) and its content from byte `start` up to `end`
        (exclusive; None: to the end); FileNotFound when there is none. A range past the end
        yields what there is (nothing when `start` is at or past the end)."""
        ...

    async def info(self, key: str) -> FileInfo:
        """The file's metadata; FileNotFound when there is none."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove the file; a missing file is not an error (as S3's DeleteObject)."""
        ...

    async def delete_prefix(self, prefix: str) -> None:
        """Remove every file under the prefix (e.g. `<collectionId>/<recordId>`)."""
        ...

    async def list(self, prefix: str = "") -> list[str]:
        """Keys under the prefix (whole segments: `a/b` holds `a/b/c`, not `a/bc`), sorted."""
        ...

    async def close(self) -> None: ...


def check_key(key: str) -> str:
    """The key itself when it is safe: relative, `/`-separated, no empty, `.`/`..` or dot-led segment."""
    if not isinstance(key, str) or not key:
        raise InvalidKey("a storage key must be a non-empty string")
    if "\\" in key or "\x00" in key:
        raise InvalidKey(f"invalid storage key {key!r}: backslashes and NUL are not allowed")
    if key.startswith("/") or (len(key) > 1 and key[1] == ":"):
        raise InvalidKey(f"invalid storage key {key!r}: it must be relative")
    for seg in key.split("/"):
        if not seg:
            raise InvalidKey(f"invalid storage key {key!r}: empty segment")
        if seg.startswith("."):
            raise InvalidKey(f"invalid storage key {key!r}: segments may not start with a dot")
    return key


def check_prefix(prefix: str, allow_empty: bool = True) -> str:
    """A prefix is a key of whole segments (a trailing `/` is dropped); empty means everything."""
    prefix = prefix.removesuffix("/") if isinstance(prefix, str) else prefix
    if prefix == "" and allow_empty:
        return ""
    return check_key(prefix)
