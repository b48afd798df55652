"""File storage: one small interface (`Storage`) over local disk and S3-compatible storage.

Keys are `<collectionId>/<recordId>/<filename>` (thumbs: `…/thumbs_<filename>/<size>_<filename>`),
PocketBase's layout. Nothing is wired into the HTTP API yet: uploads are still refused with the
existing 400 and `/api/files` is not served; this package is the first slice of issue 11.
"""

from __future__ import annotations

from hearth.files.storage import Download, FileInfo, FileNotFound, InvalidKey, Storage, StorageError

__all__ = ["Download", "FileInfo", "FileNotFound", "InvalidKey", "Storage", "StorageError"]
