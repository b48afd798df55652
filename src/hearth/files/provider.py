"""Which storage holds the files: local disk under the data directory, or S3 when the settings'
`s3` block is enabled. Chosen from the settings each time (they are cached per process and
reloaded when any instance changes them), so every instance follows a settings change.

One S3 client is kept while the `s3` block stays the same (a client holds a connection pool: one
per call would leak). When the block changes, the old client is dropped, not closed: a download
still streaming from it keeps it alive until it ends."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hearth.files.local import LocalStorage
from hearth.files.storage import Storage

log = logging.getLogger("hearth.files")


class StorageProvider:
    def __init__(self, data_dir: Path, folder: str = "storage") -> None:
        """`folder` under the data directory for local disk; the backups' provider is given
        `settings["backups"]`, whose `s3` block has the same shape."""
        self.local = LocalStorage(data_dir, folder)
        self._s3: Storage | None = None
        self._s3_block: dict[str, Any] | None = None

    def for_settings(self, settings: Mapping[str, Any]) -> Storage:
        block = settings.get("s3") or {}
        if not block.get("enabled"):
            return self.local
        if self._s3 is None or block != self._s3_block:
            from hearth.files.s3 import S3Config, S3Storage  # imported only when S3 is used

            # StorageUnavailable (a 503) when the block cannot make a client (a malformed endpoint).
            self._s3 = S3Storage(S3Config.from_settings(block))
            self._s3_block = dict(block)
        return self._s3

    async def close(self) -> None:
        await self.local.close()
        s3, self._s3, self._s3_block = self._s3, None, None
        if s3 is not None:
            await s3.close()
