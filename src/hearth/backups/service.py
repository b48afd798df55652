"""Backups: create, list, upload, download, delete and restore, as PocketBase's `/api/backups`.

The archives are kept in the backups storage: `<data dir>/backups/` on local disk, or the
`backups.s3` bucket when enabled (the file storage's own interface, hearth.files). One backup or
restore runs at a time across every process and instance (the engine's lock); `busy()` is what
`/api/health` reports to superusers as `canBackup`.

A restore runs after its request answered 204, as in PocketBase: the archive is fetched and
extracted next to the data, checked, and only then does the engine replace the live database
(see its module for why no connection sees a mix) and the local files' folder is switched by
two renames. Every process then reloads what it caches (the counters moved) and the realtime
clients of every process are disconnected (the `backup_restore` hook), so they reconnect and
subscribe again against the restored data.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from hearth._util import times
from hearth._util.gate import RequestGate
from hearth._util.tasks import BackgroundTasks
from hearth.backups import archive
from hearth.backups.engine import BackupEngine, BackupRefused
from hearth.errors import BadRequest, FieldError, NotFound
from hearth.files.provider import StorageProvider
from hearth.files.storage import CHUNK_SIZE, Download, FileNotFound, Storage
from hearth.files.upload import Upload
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import BackupEvent
from hearth.jobs.cron import Crons
from hearth.schema.repository import CollectionRepository
from hearth.settings.store import SettingsStore

log = logging.getLogger("hearth.backups")

CRON_ID = "__pbAutoBackup__"  # PocketBase's id of the scheduled backup
CRON_TIMEOUT = 6 * 3600.0  # seconds a scheduled backup may take
VALIDATION = "An error occurred while validating the submitted data."
BUSY = "Try again later - another backup/restore process has already been started"
ZIP = "application/zip"
DRAIN_SECONDS = 10.0  # a restore waits this long for this process's requests in flight
SCRATCH = ".hearth_backups_tmp"  # beside the data, so the files' switch is a rename


class Backups:
    def __init__(
        self,
        engine: BackupEngine,
        data_dir: Path,
        files: StorageProvider,
        settings: SettingsStore,
        collections: CollectionRepository,
        hooks: Hooks,
        crons: Crons,
        gate: RequestGate,
    ) -> None:
        self.engine = engine
        self.data_dir = data_dir
        self.files = files  # the records' file storage: local files go into the archive
        self.archives = StorageProvider(data_dir, "backups")
        self.settings = settings
        self.collections = collections
        self.hooks = hooks
        self.crons = crons
        self.gate = gate
        self.active = ""  # the key this process is creating or restoring
        self.background = BackgroundTasks()
        self._schedule = ""

    async def _settings(self) -> dict[str, Any]:
        await self.collections.refresh()
        return await self.settings.get(self.collections.version)

    async def storage(self) -> Storage:
        """Where the archives are: local disk, or the `backups.s3` bucket."""
        return self.archives.for_settings((await self._settings())["backups"])

    async def busy(self) -> bool:
        return bool(self.active) or await self.engine.locked()

    # ----- list, download, delete ------------------------------------------------------------
    async def list(self) -> list[dict[str, Any]]:
        """`[{key, size, modified}]` in key order, as PocketBase lists them."""
        storage = await self.storage()
        out = []
        for key in await storage.list():
            if "/" in key:
                continue
            try:
                info = await storage.info(key)
            except FileNotFound:
                continue  # deleted meanwhile
            out.append({"key": key, "size": info.size, "modified": times.format_datetime(info.modified)})
        return out

    async def open(self, key: str) -> Download:
        if not archive.safe_key(key):
            raise NotFound()
        try:
            return await (await self.storage()).open(key)
        except FileNotFound:
            raise NotFound() from None

    async def delete(self, key: str) -> None:
        if key and key == self.active:
            raise BadRequest("The backup is currently being used and cannot be deleted.")
        storage = await self.storage()
        if not archive.safe_key(key) or not await storage.exists(key):
            raise BadRequest("Invalid or already deleted backup file.")
        await storage.delete(key)

    # ----- create ----------------------------------------------------------------------------
    async def check_name(self, name: str) -> None:
        """PocketBase's checks of a requested name, as its field errors."""
        error: FieldError | None = None
        if len(name) > archive.MAX_NAME:
            error = FieldError(
                "validation_length_out_of_range",
                f"The length must be between 1 and {archive.MAX_NAME}.",
                {"max": archive.MAX_NAME, "min": 1},
            )
        elif not archive.NAME.fullmatch(name):
            error = FieldError("validation_match_invalid", "Must be in a valid format.")
        elif await (await self.storage()).exists(name):
            error = FieldError("validation_backup_name_exists", "The backup file name is invalid or already exists.")
        if error is not None:
            raise BadRequest(VALIDATION, {"name": error})

    async def create(self, name: str = "", auto: bool = False) -> str:
        """Write a backup under `name` (checked by `check_name`; empty: the default name) and
        return its key; BadRequest when another backup or restore runs, or it cannot be taken."""
        if self.active:
            raise BadRequest(BUSY)
        if (missing := self.engine.missing()) is not None:
            raise BackupRefused(f"Failed to create backup: {missing}")
        settings = await self._settings()
        name = name or archive.default_name(str(settings["meta"].get("appName", "")), auto=auto)
        if not await self.engine.try_lock():
            raise BadRequest(BUSY)
        self.active = name
        try:
            await self.hooks.backup_create.trigger(BackupEvent(name), self._create)
        finally:
            self.active = ""
            await self.engine.unlock()
        return name

    async def _create(self, e: BackupEvent) -> None:
        settings = await self._settings()
        local_files = None if (settings.get("s3") or {}).get("enabled") else self.files.local.root
        async with self._scratch() as work:
            names = await self.engine.dump(work)
            zipped = work / "backup.zip"
            await asyncio.to_thread(archive.write, zipped, work, names, local_files)
            storage = self.archives.for_settings(settings["backups"])
            await storage.put(e.name, _chunks(zipped), ZIP, e.name)

    # ----- upload ----------------------------------------------------------------------------
    async def upload(self, upload: Upload | None) -> None:
        def invalid(code: str, message: str) -> BadRequest:
            return BadRequest(VALIDATION, {"file": FieldError(code, message)})

        if upload is None:
            raise invalid("validation_required", "Cannot be blank.")
        if upload.content_type != ZIP:
            raise invalid("validation_invalid_mime_type", f'"{upload.name}" mime type must be one of: {ZIP}.')
        key = upload.original_name
        if not archive.safe_key(key):
            raise invalid("validation_invalid_backup_name", "The file name must not hold a folder or start with a dot.")
        storage = await self.storage()
        if await storage.exists(key):
            raise invalid("validation_backup_name_exists", "Backup file with the specified name already exists.")
        await storage.put(key, upload.chunks(), ZIP, key)

    # ----- restore ---------------------------------------------------------------------------
    async def start_restore(self, key: str) -> None:
        """Take the lock and check the archive exists, then restore in the background (the
        request answers first, as in PocketBase)."""
        if self.active or not await self.engine.try_lock():
            raise BadRequest(BUSY + ".")
        try:
            storage = await self.storage()
            if not archive.safe_key(key) or not await storage.exists(key):
                raise BadRequest("Missing or invalid backup file.")
        except BaseException:
            await self.engine.unlock()
            raise
        self.active = key
        self.background.spawn(self._restore_then_unlock(key))

    async def _restore_then_unlock(self, key: str) -> None:
        try:
            await self.restore(key)
        except BackupRefused as exc:
            log.error("backup %s not restored: %s", key, exc.message)
        except Exception:
            log.exception("backup %s not restored", key)
        finally:
            self.active = ""
            await self.engine.unlock()

    async def restore(self, key: str) -> None:
        """Replace the live data with the archive's (the lock is held by the caller)."""
        await self.hooks.backup_restore.trigger(BackupEvent(key), self._restore)

    async def _restore(self, e: BackupEvent) -> None:
        async with self._scratch() as work:
            zipped = work / "backup.zip"
            download = await (await self.storage()).open(e.name)
            f = await asyncio.to_thread(zipped.open, "wb")
            try:
                async for chunk in download.chunks:
                    await asyncio.to_thread(f.write, chunk)
            finally:
                await asyncio.to_thread(f.close)
            extracted = work / "data"
            names = await asyncio.to_thread(archive.extract, zipped, extracted)
            self.engine.check(names)
            local_storage = (await self._settings()).get("s3", {}).get("enabled") is not True
            has_files = any(n.startswith(archive.STORAGE + "/") for n in names)
            swap = _files_switch(extracted / archive.STORAGE, self.files.local.root, work / "old_storage")
            # This process's requests wait while the data is switched, and the switch waits for
            # those in flight: none of them reads some of its statements before and some after.
            async with self.gate.closed(DRAIN_SECONDS):
                await self.engine.restore(extracted, swap if (has_files or local_storage) else _nothing)
                # This process reloads now; the others at their next request (the counters moved).
                self.collections.db.bump_generation()
                self.collections.version = -1
                await self.collections.refresh()
        log.info("backup %s restored", e.name)

    # ----- the schedule ----------------------------------------------------------------------
    async def follow_schedule(self) -> None:
        """Before each cron tick (hearth.jobs.cron): the scheduled backup's cron follows the
        setting `backups.cron` as every process reads it now."""
        expression = str((await self._settings())["backups"].get("cron") or "")
        if expression == self._schedule:
            return
        if expression:
            self.crons.add(CRON_ID, expression, self.run_scheduled, CRON_TIMEOUT)
        else:
            self.crons.remove(CRON_ID)
        self._schedule = expression

    async def run_scheduled(self) -> None:
        """A scheduled backup, then the oldest scheduled ones beyond `backups.cronMaxKeep` go."""
        try:
            await self.create(auto=True)
        except BadRequest as exc:
            log.warning("scheduled backup skipped: %s", exc.message)
            return
        keep = int((await self._settings())["backups"].get("cronMaxKeep") or 1)
        autos = [b for b in await self.list() if b["key"].startswith(archive.AUTO_PREFIX)]
        autos.sort(key=lambda b: (b["modified"], b["key"]), reverse=True)
        storage = await self.storage()
        for old in autos[keep:]:
            await storage.delete(old["key"])

    async def stop(self) -> None:
        await self.background.drain()
        await self.archives.close()

    # ----- scratch space ---------------------------------------------------------------------
    def _scratch(self) -> _Scratch:
        return _Scratch(self.data_dir / SCRATCH / uuid.uuid4().hex)


class _Scratch:
    """A folder next to the data for one backup or restore, removed afterwards."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def __aenter__(self) -> Path:
        await asyncio.to_thread(self.path.mkdir, parents=True)
        return self.path

    async def __aexit__(self, *_exc: object) -> None:
        await asyncio.to_thread(shutil.rmtree, self.path, ignore_errors=True)


def _files_switch(new: Path, live: Path, old: Path) -> Callable[[], None]:
    """The local files' folder replaced by the restored one: two renames on one filesystem."""

    def switch() -> None:
        new.mkdir(parents=True, exist_ok=True)  # an archive without files: none after the restore
        if live.exists():
            os.rename(live, old)
        os.rename(new, live)

    return switch


def _nothing() -> None:
    return None


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as f:
        while chunk := await asyncio.to_thread(f.read, CHUNK_SIZE):
            yield chunk
