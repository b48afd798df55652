"""Local disk storage under `<data_dir>/storage/`, in PocketBase's layout, so a PocketBase data
directory's files are served as they are.

Each file `<collectionId>/<recordId>/<filename>` has a `<filename>.attrs` sidecar as
PocketBase (gocloud's fileblob) writes it: compact JSON with the content type, user metadata
(`original-filename`) and the base64 MD5 of the content. Reading tolerates a missing or broken
sidecar (the type is then guessed from the name). Writes go to a dot-led temporary file in the
same folder, renamed into place once complete, so a reader never sees half a file.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import mimetypes
import os
import shutil
import stat
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from hearth.files.storage import (
    CHUNK_SIZE,
    DEFAULT_CONTENT_TYPE,
    Download,
    FileInfo,
    FileNotFound,
    check_key,
    check_prefix,
)

ATTRS_SUFFIX = ".attrs"
TYPES_CACHED = 4096  # content types remembered (forgotten all at once when full)


def attrs_json(content_type: str, md5: bytes, original_name: str | None) -> bytes:
    """The sidecar exactly as PocketBase writes it (same keys, order and compact form)."""
    meta: dict[str, str] = {"original-filename": original_name} if original_name is not None else {}
    doc: dict[str, Any] = {
        "user.cache_control": "",
        "user.content_disposition": "",
        "user.content_encoding": "",
        "user.content_language": "",
        "user.content_type": content_type,
        "user.metadata": meta,
        "md5": base64.b64encode(md5).decode("ascii"),
    }
    return orjson.dumps(doc)


class LocalStorage:
    def __init__(self, data_dir: str | os.PathLike[str], folder: str = "storage") -> None:
        """`folder`: `backups` for the backup archives (hearth.backups), in the same layout."""
        self.root = Path(data_dir) / folder
        self._root = str(self.root)
        self._types: dict[tuple[str, int, int], str] = {}  # (key, mtime ns, size) -> content type

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _file(self, key: str) -> str:
        """The file's path as a string (cheaper than a Path on the serving path)."""
        return os.path.join(self._root, *check_key(key).split("/"))

    async def put(self, key: str, chunks: AsyncIterator[bytes], content_type: str = DEFAULT_CONTENT_TYPE,
                  original_name: str | None = None) -> int:
        path = self._path(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp_attrs = tmp.with_name(tmp.name + ATTRS_SUFFIX)
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            f: BinaryIO = await asyncio.to_thread(open, tmp, "wb")
            try:
                async for chunk in chunks:
                    if not chunk:
                        continue
                    md5.update(chunk)
                    size += len(chunk)
                    await asyncio.to_thread(f.write, chunk)
            finally:
                await asyncio.to_thread(f.close)
            attrs = attrs_json(content_type, md5.digest(), original_name)
            await asyncio.to_thread(tmp_attrs.write_bytes, attrs)
            await asyncio.to_thread(os.replace, tmp, path)
            await asyncio.to_thread(os.replace, tmp_attrs, path.with_name(path.name + ATTRS_SUFFIX))
        except BaseException:
            for p in (tmp, tmp_attrs):
                p.unlink(missing_ok=True)
            raise
        return size

    def _info(self, key: str) -> FileInfo:
        path = self._file(key)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise FileNotFound(key) from None
        if not stat.S_ISREG(st.st_mode):
            raise FileNotFound(key)
        # The sidecar is read once per version of the file (its size and modification time).
        version = (key, st.st_mtime_ns, st.st_size)
        content_type = self._types.get(version)
        if content_type is None:
            content_type = _content_type(path)
            if len(self._types) >= TYPES_CACHED:
                self._types.clear()
            self._types[version] = content_type
        return FileInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC), content_type)

    # Reads run inline on the event loop, as SQLite's do (docs/files.md, "Serving"): a stat and
    # the read of a small file in the page cache take microseconds, while a hop to a worker
    # thread costs far more under load (the thread waits for the loop to release the GIL).
    # Only a file larger than one chunk is read chunk by chunk in worker threads.
    async def info(self, key: str) -> FileInfo:
        return self._info(key)

    async def open(self, key: str, start: int = 0, end: int | None = None) -> Download:
        info, f, whole = self._open(key, start, end)
        if f is None:
            return Download(info, _one_chunk(whole))
        return Download(info, _read_chunks(f, None if end is None else max(0, end - max(start, 0))))

    def _open(self, key: str, start: int, end: int | None) -> tuple[FileInfo, BinaryIO | None, bytes]:
        info = self._info(key)
        try:
            f: BinaryIO = open(self._file(key), "rb")  # closed here or by the reader
        except FileNotFoundError:
            raise FileNotFound(key) from None
        try:
            if start > 0:
                f.seek(start)
            wanted = (info.size if end is None else end) - max(start, 0)
            if wanted <= CHUNK_SIZE:
                data = f.read(max(0, wanted))
                f.close()
                return info, None, data
        except BaseException:
            f.close()
            raise
        return info, f, b""

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    async def delete(self, key: str) -> None:
        path = self._path(key)

        def rm() -> None:
            path.unlink(missing_ok=True)
            path.with_name(path.name + ATTRS_SUFFIX).unlink(missing_ok=True)

        await asyncio.to_thread(rm)

    async def delete_prefix(self, prefix: str) -> None:
        prefix = check_prefix(prefix, allow_empty=False)
        path = self.root.joinpath(*prefix.split("/"))
        await asyncio.to_thread(shutil.rmtree, path, ignore_errors=True)

    async def list(self, prefix: str = "") -> list[str]:
        prefix = check_prefix(prefix)
        base = self.root.joinpath(*prefix.split("/")) if prefix else self.root

        def walk() -> list[str]:
            out: list[str] = []
            if not base.is_dir():
                return out
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                rel = Path(dirpath).relative_to(self.root).as_posix()
                for name in filenames:
                    if name.startswith(".") or name.endswith(ATTRS_SUFFIX):
                        continue
                    out.append(name if rel == "." else f"{rel}/{name}")
            return sorted(out)

        return await asyncio.to_thread(walk)

    async def close(self) -> None:
        return None


def _content_type(path: str) -> str:
    """The type the sidecar records, else guessed from the name (a missing or broken sidecar)."""
    try:
        with open(path + ATTRS_SUFFIX, "rb") as f:
            attrs = orjson.loads(f.read())
        if isinstance(attrs, dict) and isinstance(attrs.get("user.content_type"), str) and attrs["user.content_type"]:
            return str(attrs["user.content_type"])
    except (OSError, orjson.JSONDecodeError):
        pass
    return mimetypes.guess_type(path)[0] or DEFAULT_CONTENT_TYPE


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


async def _read_chunks(f: BinaryIO, limit: int | None = None) -> AsyncIterator[bytes]:
    """The file's chunks from its position: all of it, or at most `limit` bytes."""
    try:
        left = limit
        while left is None or left > 0:
            chunk = await asyncio.to_thread(f.read, CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
            if not chunk:
                break
            if left is not None:
                left -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(f.close)
