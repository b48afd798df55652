"""File storage: one small interface (`Storage`) over local disk and S3-compatible storage.

Keys are `<collectionId>/<recordId>/<filename>` (thumbs: `…/thumbs_<filename>/<size>_<filename>`),
PocketBase's layout. Record writes store uploads through it (`hearth.records.files`) and
`/api/files/...` serves them (`hearth.http.routes.files`; thumbnails: `thumbs.py`).
"""

from __future__ import annotations

from hearth.files.storage import (
    Download,
    FileInfo,
    FileNotFound,
    InvalidKey,
    Storage,
    StorageError,
    StorageUnavailable,
)

__all__ = ["Download", "FileInfo", "FileNotFound", "InvalidKey", "Storage", "StorageError", "StorageUnavailable"]
