"""Files: every stored file copied key by key, streamed, between two storages (PocketBase's
layout, `<collectionId>/<recordId>/<name>`, on both sides; thumbnails included)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hearth.files.storage import InvalidKey, Storage, StorageError
from hearth.transfer.source import TransferError

PROGRESS_EVERY = 1000  # a progress line per this many files


@dataclass
class FilesCopied:
    source: int = 0
    copied: int = 0
    bytes: int = 0
    target: int = 0  # files the target lists afterwards
    note: str = ""


async def copy_files(src: Storage, dst: Storage, progress: Callable[[str], None]) -> FilesCopied:
    out = FilesCopied()
    try:
        keys = await src.list("")
    except StorageError as exc:
        raise TransferError(f"cannot list the source's files: {exc}") from None
    out.source = len(keys)
    for key in keys:
        try:
            download = await src.open(key)
            out.bytes += await dst.put(key, download.chunks, download.info.content_type)
        except InvalidKey:
            continue  # a name outside PocketBase's layout: not a record's file
        except (StorageError, OSError) as exc:
            raise TransferError(f"cannot copy the file {key}: {exc}") from None
        out.copied += 1
        if out.copied % PROGRESS_EVERY == 0:
            progress(f"  files: {out.copied:,} / {out.source:,}")
    out.target = len(await dst.list(""))
    return out
