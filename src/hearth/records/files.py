"""The files of record writes: where uploads join a submitted body, storing them before the
transaction, and removing files only once the outcome is known.

Uploads are stored BEFORE the write's transaction opens (a large upload never holds SQLite's write
lock; a batch stores inside its own transaction, as PocketBase does). Then:
- the transaction rolls back → the files stored for it are deleted;
- it commits → the files the record no longer holds (replaced, removed, unset; or uploaded but
  dropped by a hook) are deleted, never before the commit;
- a record delete commits → its whole folder goes (`<collectionId>/<recordId>`, thumbs included).
A crash between the store and the commit can leave an unreferenced upload; it is never served
(a download checks the record holds the name).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any

from hearth.db.base import Transaction
from hearth.errors import ApiError
from hearth.files.storage import Storage, StorageError
from hearth.files.upload import Upload
from hearth.schema.collection import Collection
from hearth.schema.fields.file import FileField, file_names

log = logging.getLogger("hearth.files")

StorageSource = Callable[[], Awaitable[Storage]]


class StorageFailed(ApiError):
    status = 503
    default_message = "The file storage is unavailable; nothing was saved. Try again later."


def file_fields(c: Collection) -> list[FileField]:
    return [f for f in c.fields if isinstance(f, FileField)]


def body_limit(c: Collection, default: int) -> int:
    """PocketBase's body limit for a record write: the default plus what each file field may
    hold (maxSize × maxSelect); a view takes no files."""
    return default + (0 if c.is_view else sum(f.max_body_size for f in file_fields(c)))


def merge_uploads(c: Collection, body: dict[str, Any], uploads: Mapping[str, list[Upload]]) -> dict[str, Any]:
    """The body with the request's uploads joined in, as PocketBase reads a multipart record
    form: files under a file field's key `f`, `+f` or `f+` (others are ignored); under `f` they
    follow the names sent as `f` too (the names to keep)."""
    if not uploads:
        return body
    out = dict(body)
    for f in file_fields(c):
        for key in (f.name, "+" + f.name, f.name + "+"):
            files = uploads.get(key)
            if not files:
                continue
            kept: list[Any] = file_names(body.get(key)) if key == f.name and body.get(key) is not None else []
            out[key] = [*kept, *files]
    return out


def batch_uploads(c: Collection, body: dict[str, Any], uploads: Mapping[str, list[Upload]]) -> dict[str, Any]:
    """A batch sub-request's files (`requests.N.<key>`) replace the body's value under a file
    field's key `f`, `+f` or `f+`, as PocketBase's batch does; others are ignored."""
    if not uploads:
        return body
    keys = {k for f in file_fields(c) for k in (f.name, "+" + f.name, f.name + "+")}
    return {**body, **{k: list(v) for k, v in uploads.items() if k in keys and v}}


def uploads_in(body: Mapping[str, Any]) -> dict[str, Upload]:
    """Every upload a body holds, by stored name."""
    return {u.name: u for value in body.values() for u in _walk(value)}


def _walk(value: Any) -> Iterator[Upload]:
    # Uploads are a body value or items of one (flat): JSON values may nest deeper than any walk.
    if isinstance(value, Upload):
        yield value
    elif isinstance(value, list):
        yield from (item for item in value if isinstance(item, Upload))


def without_uploads(body: dict[str, Any]) -> dict[str, Any]:
    """The body as rules see `@request.body` (uploaded files are not body values)."""
    return {k: v for k, v in body.items() if not any(True for _ in _walk(v))}


def held_names(c: Collection, values: Mapping[str, Any]) -> set[str]:
    return {name for f in file_fields(c) for name in file_names(values.get(f.name))}


class RecordFiles:
    def __init__(self, storage: StorageSource) -> None:
        self.storage = storage

    @staticmethod
    def key(c: Collection, rid: str, name: str) -> str:
        return f"{c.id}/{rid}/{name}"

    async def store(self, c: Collection, rid: str, uploads: Iterable[Upload]) -> list[str]:
        """Store the uploads under the record's folder; all or none (what was stored is removed
        when one fails). Returns the keys written."""
        stored: list[str] = []
        storage = await self.storage()
        try:
            for upload in uploads:
                key = self.key(c, rid, upload.name)
                await storage.put(key, upload.chunks(), upload.content_type, upload.original_name)
                stored.append(key)
        except StorageError as exc:
            log.warning("storing uploads for %s/%s failed: %s", c.id, rid, exc)
            await self._delete(stored)
            raise StorageFailed() from None
        except BaseException:
            await self._delete(stored)
            raise
        return stored

    def settle(
        self,
        tx: Transaction,
        c: Collection,
        stored: list[str],
        old: Mapping[str, Any] | None,
        final: Callable[[], Mapping[str, Any]],
    ) -> None:
        """Once `tx` ends: on rollback, delete what was stored for it; on commit, delete the
        files of `old` and the stored uploads that the final record does not hold."""
        old_names = held_names(c, old) if old is not None else set()
        if not stored and not old_names:
            return

        async def committed() -> None:
            record = final()
            keep = held_names(c, record)
            rid = str(record.get("id", ""))
            gone = [self.key(c, rid, n) for n in sorted(old_names - keep)]
            gone += [k for k in stored if k.rsplit("/", 1)[-1] not in keep]
            await self._delete(gone, thumbs=True)

        async def rolled_back() -> None:
            await self._delete(stored)

        tx.after_commit(committed)
        if stored:
            tx.after_rollback(rolled_back)

    async def discard(self, stored: list[str]) -> None:
        """Delete uploads stored for a write that never ran."""
        await self._delete(stored)

    def remove_record(self, tx: Transaction, c: Collection, rid: str) -> None:
        """After `tx` commits, the record's whole folder goes."""
        if not file_fields(c):
            return

        async def committed() -> None:
            await self._delete_prefix(f"{c.id}/{rid}")

        tx.after_commit(committed)

    async def remove_collection(self, collection_id: str) -> None:
        await self._delete_prefix(collection_id)

    async def _delete(self, keys: list[str], thumbs: bool = False) -> None:
        if not keys:
            return
        try:
            storage = await self.storage()
            for key in keys:
                await storage.delete(key)
                if thumbs:
                    folder, name = key.rsplit("/", 1)
                    await storage.delete_prefix(f"{folder}/thumbs_{name}")
        except Exception as exc:  # the write's outcome stands; a leftover file is only space
            log.warning("deleting files %s failed: %s", keys[:5], exc)

    async def _delete_prefix(self, prefix: str) -> None:
        try:
            await (await self.storage()).delete_prefix(prefix)
        except Exception as exc:
            log.warning("deleting the files under %s failed: %s", prefix, exc)
