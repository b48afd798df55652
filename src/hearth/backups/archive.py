"""Backup names and the zip archive.

Names as PocketBase 0.40.6 gives and checks them (compared with the real binary): a requested
name is 1-150 characters of `[a-z0-9_-]` ending in `.zip`; without one, `pb_backup_<app>_<UTC
YYYYMMDDHHmmss>.zip`, and the schedule's `@auto_pb_backup_<app>_<…>.zip`, where `<app>` is
the app name in snake case.

The layout is PocketBase's where it applies: the database files at the top (`data.db`,
`auxiliary.db`; on PostgreSQL `hearth_postgres.dump`) and the local files under `storage/`,
so an archive of either is readable by the other's tools. Extraction refuses any entry that would
land outside its folder (absolute, `..`, links).
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from hearth.backups.engine import BackupRefused

NAME = re.compile(r"[a-z0-9_-]+\.zip")
MAX_NAME = 150
AUTO_PREFIX = "@auto_pb_backup_"
MANUAL_PREFIX = "pb_backup_"
STORAGE = "storage"


def snake(text: str) -> str:
    """`SeaDex` → `sea_dex`, `My App!` → `my_app` (PocketBase's app name in backup names)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def default_name(app_name: str, auto: bool = False, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    prefix = AUTO_PREFIX if auto else MANUAL_PREFIX
    return f"{prefix}{snake(app_name)}_{moment.strftime('%Y%m%d%H%M%S')}.zip"


def safe_key(name: str) -> bool:
    """Whether a name can be a key in the backups storage (an uploaded file keeps its own name,
    as in PocketBase, but never one with a folder or a leading dot)."""
    return bool(name) and len(name) <= 255 and "/" not in name and "\\" not in name and "\x00" not in name and (
        not name.startswith(".")
    )


def write(target: Path, root: Path, names: Iterable[str], storage: Path | None) -> None:
    """The zip at `target`: each of `names` (files under `root`), then every file under
    `storage` (the local file storage, its `.attrs` sidecars included) as `storage/…`."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name in names:
            zf.write(root / name, name)
        if storage is not None and storage.is_dir():
            for path in sorted(storage.rglob("*")):
                rel = path.relative_to(storage)
                # Dot-led names are uploads still being written (hearth.files.local).
                if path.is_file() and not path.is_symlink() and not any(p.startswith(".") for p in rel.parts):
                    zf.write(path, f"{STORAGE}/{rel.as_posix()}")


def entries(path: Path) -> list[str]:
    """The archive's entry names; BackupRefused when it is no zip."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BackupRefused("The backup is not a valid zip archive.") from exc


def extract(path: Path, into: Path) -> list[str]:
    """Every entry of the zip into `into`; BackupRefused for an entry that would land outside it."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            for info in infos:
                name = PurePosixPath(info.filename)
                mode = info.external_attr >> 16
                if name.is_absolute() or ".." in name.parts or "\\" in info.filename or stat.S_ISLNK(mode):
                    raise BackupRefused(f"The backup holds an unsafe entry ({info.filename[:100]!r}).")
            zf.extractall(into)
            return [info.filename for info in infos]
    except zipfile.BadZipFile as exc:
        raise BackupRefused("The backup is not a valid zip archive.") from exc
