"""Composition root: builds the services from a Config and wires them. Nothing imports it."""

from __future__ import annotations

from hearth.auth.service import AuthService
from hearth.config import Config
from hearth.db.base import Database
from hearth.db.bootstrap import bootstrap
from hearth.records.service import RecordService
from hearth.schema.repository import CollectionRepository
from hearth.schema.service import CollectionService
from hearth.settings.store import SettingsStore


class Hearth:
    """The running services of one process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.db: Database | None = None

    async def start(self) -> None:
        self.db = await open_database(self.config)
        self.collections = CollectionRepository(self.db)
        self.records = RecordService(self.db, self.collections)
        self.auth = AuthService(self.collections, self.records)
        self.settings = SettingsStore(self.db)
        self.collection_service = CollectionService(self.collections, self.records)
        await bootstrap(self.db, self.collections)

    async def stop(self) -> None:
        if self.db is not None:
            await self.db.close()
            self.db = None


async def open_database(config: Config) -> Database:
    if config.is_postgres:
        from hearth.db.postgres import PostgresDatabase

        return await PostgresDatabase.connect(config.db_url, max_size=config.pg_pool_size)
    from hearth.db.sqlite import SQLiteDatabase

    config.data_dir.mkdir(parents=True, exist_ok=True)
    return SQLiteDatabase(config.sqlite_path)
