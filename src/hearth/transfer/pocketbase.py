"""`hearth import pocketbase PB_DATA` and `hearth export pocketbase OUT`.

Import: the PocketBase directory is read-only; the target PostgreSQL database is bootstrapped
(Hearth's tables and built-in collections), must hold nothing else (or --force replaces what it
holds), and is filled in ONE transaction: an interrupted import leaves it as it was, and running
the same command again starts over. Files are copied first (each put replaces the file under its
key, so a second run rewrites them).

Export: a new directory gets data.db in PocketBase's layout (Hearth's own SQLite layout, plus the
`_migrations` rows PocketBase 0.40 looks for so it does not try to create its tables again),
auxiliary.db with the request logs, and storage/ with the files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from hearth.config import Config, redact
from hearth.db.base import Database, Row, Transaction
from hearth.files.local import LocalStorage
from hearth.files.provider import StorageProvider
from hearth.schema.bootstrap import bootstrap
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository
from hearth.settings import model
from hearth.sql import migrations, system, transfer
from hearth.sql.dialect import Dialect
from hearth.transfer.copy import (
    Copied,
    Reader,
    clear_target,
    copy_logs,
    copy_migrations,
    copy_params,
    copy_records,
    create_collections,
    read_collections,
    target_holds_data,
)
from hearth.transfer.files import FilesCopied, copy_files
from hearth.transfer.report import Report
from hearth.transfer.source import (
    AUX_FILE,
    DATA_FILE,
    ReadOnlySQLite,
    TransferError,
    open_pocketbase_dir,
    pocketbase_code,
)

Progress = Callable[[str], None]

# The migrations PocketBase 0.40 runs on a new data directory (their names as it records them in
# `_migrations`, data.db's and auxiliary.db's): an exported directory lists them as applied.
POCKETBASE_SYSTEM_MIGRATIONS = (
    "1640988000_aux_init.go",
    "1640988000_init.go",
    "1717233556_v0.23_migrate.go",
    "1717233557_v0.23_migrate2.go",
    "1717233558_v0.23_migrate3.go",
    "1717233559_v0.23_migrate4.go",
    "1763020353_update_default_auth_alert_templates.go",
    "1778828400_normalize_indexes.go",
)


async def _settings(source: Reader) -> dict[str, Any]:
    row = await source.fetch_one(system.select_param(source.dialect), ("settings",))
    stored: Any = {}
    if row is not None and row[0]:
        try:
            stored = orjson.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]
        except orjson.JSONDecodeError:
            stored = {}  # encrypted: copy_params refuses it with the reason
    return model.merge(model.defaults(), stored if isinstance(stored, dict) else {})


async def _files(source_settings: dict[str, Any], src: LocalStorage | None, src_dir: Path, dst: Any,
                 progress: Progress) -> FilesCopied:  # fmt: skip
    if (source_settings.get("s3") or {}).get("enabled"):
        return FilesCopied(note="the settings keep files in S3: they stay in that bucket, which the copied settings name")
    provider = StorageProvider(src_dir)
    try:
        return await copy_files(src or provider.local, dst, progress)
    finally:
        await provider.close()


async def import_pocketbase(pb_dir: Path, config: Config, force: bool, progress: Progress) -> Report:
    started = time.monotonic()
    data, aux = open_pocketbase_dir(pb_dir)
    warnings = pocketbase_code(pb_dir)
    try:
        from hearth.db.postgres import PostgresDatabase

        target = await PostgresDatabase.connect(config.db_url, min_size=1, max_size=2)
        try:
            return await _import(data, aux, pb_dir, target, config, force, progress, warnings, started)
        finally:
            await target.close()
    finally:
        data.close()
        if aux is not None:
            aux.close()


async def _import(data: ReadOnlySQLite, aux: ReadOnlySQLite | None, pb_dir: Path, target: Database, config: Config,
                  force: bool, progress: Progress, warnings: list[str], started: float) -> Report:  # fmt: skip
    d = target.dialect
    await bootstrap(target, CollectionRepository(target))
    held = await target_holds_data(target)
    if held and not force:
        listed = ", ".join(held[:5]) + (", …" if len(held) > 5 else "")
        raise TransferError(
            f"the target database already holds data ({listed}): import into an empty database, "
            "or pass --force to replace its collections, records, settings and logs"
        )
    collections = await read_collections(data)
    settings = await _settings(data)
    progress(f"Importing {pb_dir} ({len(collections)} collections) into PostgreSQL {redact(config.db_url)}")
    target_storage = StorageProvider(config.data_dir)
    try:
        files = await _files(settings, LocalStorage(pb_dir), pb_dir, target_storage.for_settings(settings), progress)
    finally:
        await target_storage.close()
    if files.source:
        progress(f"  files: {files.copied:,} copied to {config.data_dir / 'storage'}")
    copied = Copied()
    async with target.transaction() as tx:
        await _copy_data(data, tx, d, collections, copied, progress)
        await copy_migrations(data, tx, d, leave_out=POCKETBASE_SYSTEM_MIGRATIONS)
        if aux is not None:
            copied.logs = await copy_logs(aux, tx, d, progress)
        await tx.execute(system.bump_version(d))
    target.bump_generation()
    return Report(copied, files, time.monotonic() - started, warnings)


async def export_pocketbase(config: Config, out: Path, progress: Progress) -> Report:
    started = time.monotonic()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TransferError(f"{out} already exists and is not an empty directory: give a new directory to export into")
    source = await _open_source(config)
    try:
        out.mkdir(parents=True, exist_ok=True)
        from hearth.db.sqlite import SQLiteDatabase

        target = SQLiteDatabase(out / DATA_FILE)
        try:
            return await _export(source, config, target, out, progress, started)
        finally:
            await target.close()
            for side in out.glob("*.db-hearth.*"):  # Hearth's cross-process lock files: not PocketBase's
                side.unlink(missing_ok=True)
    finally:
        if isinstance(source, ReadOnlySQLite):
            source.close()
        else:
            await source.close()


async def _open_source(config: Config) -> Database | ReadOnlySQLite:
    """PostgreSQL through Hearth's pool; SQLite read-only, so that exporting writes nothing
    beside the source (Hearth's own connections keep lock files there)."""
    if config.is_postgres:
        from hearth.db.postgres import PostgresDatabase

        return await PostgresDatabase.connect(config.db_url, min_size=1, max_size=2)
    if not config.sqlite_path.is_file():
        raise TransferError(f"{config.data_dir} holds no Hearth database ({DATA_FILE}): give its --dir, or --db")
    return ReadOnlySQLite(config.sqlite_path)


async def _copy_data(
    source: Reader, tx: Transaction, d: Dialect, collections: list[tuple[Row, Collection]], copied: Copied,
    progress: Progress,
) -> None:
    """What both directions copy, inside the target's transaction: the target emptied, then the
    collections, their records and the settings."""
    await clear_target(tx, d)
    made = await create_collections(tx, d, collections, copied, progress, source.dialect)
    await copy_records(source, tx, d, made, copied, progress)
    await copy_params(source, tx, d, copied)


async def _export(source: Reader, config: Config, target: Database, out: Path, progress: Progress,
                  started: float) -> Report:  # fmt: skip
    d = target.dialect
    collections = await read_collections(source)
    settings = await _settings(source)
    where = f"PostgreSQL {redact(config.db_url)}" if config.is_postgres else str(config.sqlite_path)
    progress(f"Exporting {where} ({len(collections)} collections) into {out}")
    await bootstrap(target, CollectionRepository(target))
    copied = Copied()
    async with target.transaction() as tx:
        await _copy_data(source, tx, d, collections, copied, progress)
        now = int(time.time() * 1_000_000)  # PocketBase records microseconds
        for name in POCKETBASE_SYSTEM_MIGRATIONS:
            await tx.execute(migrations.mark_applied(d), (name, now))
        await copy_migrations(source, tx, d)
        await tx.execute(system.bump_version(d))
    copied.logs = await _export_logs(source, config, out, progress)
    files = await _files(settings, None, config.data_dir, LocalStorage(out), progress)
    return Report(copied, files, time.monotonic() - started)


async def _export_logs(source: Reader, config: Config, out: Path, progress: Progress) -> Any:
    from hearth.db.sqlite import SQLiteDatabase

    logs_source: Reader | None = source if config.is_postgres else None
    own: ReadOnlySQLite | None = None
    if logs_source is None and (config.data_dir / AUX_FILE).is_file():
        own = ReadOnlySQLite(config.data_dir / AUX_FILE)
        logs_source = own
    if logs_source is not None and not await logs_source.fetch_one(transfer.table_exists(logs_source.dialect), ("_logs",)):
        logs_source = None
    aux = SQLiteDatabase(out / AUX_FILE)
    try:
        async with aux.transaction() as tx:
            if logs_source is None:
                from hearth.sql import logs as logs_sql

                for stmt in logs_sql.bootstrap_statements(aux.dialect):
                    await tx.execute(stmt)
                return None
            return await copy_logs(logs_source, tx, aux.dialect, progress)
    finally:
        await aux.close()
        if own is not None:
            own.close()
