"""Applying and reverting migration files, recorded in `_migrations`.

One process at a time, across every instance (the MIGRATIONS lock), re-reading what is applied
once it holds the lock: instances starting together apply each file once. A file's changes go
through the collection service (validation, table migrations, hooks), each in its own
transaction as through the API; a file that fails stops the run, and it is not recorded, so the
next run starts with it again (its own changes before the failure stay: write each file so that
running it twice is harmless, or keep one change per file, as the generated ones do).
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol

from hearth.db.base import Database
from hearth.errors import ApiError
from hearth.migrations.files import MigrationError, MigrationFile, discover, write_blank
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository
from hearth.sql import locks
from hearth.sql import migrations as sql

log = logging.getLogger("hearth")

# Set while a migration file runs: its collection changes are not written as new files (auto.py).
replaying: ContextVar[bool] = ContextVar("hearth_migration_replaying", default=False)

READ_ONLY_KEYS = ("created", "updated")


class CollectionChanges(Protocol):
    """What the collection service offers migrations (hearth.collections.service)."""

    async def create(self, payload: Any) -> Collection: ...

    async def update(self, c: Collection, payload: Any) -> Collection: ...

    async def delete(self, c: Collection) -> None: ...


class MigrationApp:
    """What a migration file's up(app) and down(app) get."""

    def __init__(self, db: Database, repo: CollectionRepository, changes: CollectionChanges) -> None:
        self.db = db
        self.repo = repo
        self._changes = changes

    def collection(self, id_or_name: str) -> dict[str, Any] | None:
        c = self.repo.get(id_or_name)
        return None if c is None else c.to_api()

    async def save_collection(self, data: dict[str, Any]) -> None:
        """Create the collection, or update the one with its id (else its name). Token secrets
        are never in migration files: an update keeps the stored ones, a create makes new ones."""
        payload = {k: v for k, v in data.items() if k not in READ_ONLY_KEYS}
        existing = self.repo.get(str(payload.get("id") or "")) or self.repo.get(str(payload.get("name") or ""))
        try:
            if existing is None:
                await self._changes.create(payload)
            else:
                await self._changes.update(existing, payload)
        except ApiError as exc:
            raise MigrationError(_describe(exc, payload.get("name"))) from exc

    async def delete_collection(self, id_or_name: str) -> None:
        c = self.repo.get(id_or_name)
        if c is None:
            return  # already gone: deleting is done
        try:
            await self._changes.delete(c)
        except ApiError as exc:
            raise MigrationError(_describe(exc, c.name)) from exc

    async def execute(self, statement: str, params: Any = ()) -> int:
        return await self.db.execute(statement, tuple(params))

    async def fetch_all(self, statement: str, params: Any = ()) -> list[Any]:
        return list(await self.db.fetch_all(statement, tuple(params)))


def _describe(exc: ApiError, name: Any) -> str:
    details = exc.envelope()["data"]
    return f"collection {name!r}: {exc.message}" + (f" {details}" if details else "")


class Migrations:
    def __init__(self, db: Database, repo: CollectionRepository, changes: CollectionChanges, directory: Path) -> None:
        self.db = db
        self.directory = directory
        self.app = MigrationApp(db, repo, changes)

    async def applied(self) -> list[str]:
        return [str(r[0]) for r in await self.db.fetch_all(sql.applied(self.db.dialect))]

    async def status(self) -> list[tuple[str, bool]]:
        done = set(await self.applied())
        return [(f.name, f.name in done) for f in discover(self.directory)]

    async def up(self) -> list[str]:
        """Apply every file not applied yet, in order; returns their names."""
        ran: list[str] = []
        async with self.db.exclusive(locks.MIGRATIONS):
            done = set(await self.applied())
            for f in discover(self.directory):
                if f.name in done:
                    continue
                up, _ = f.load()
                await self._run(f, up)
                await self.mark(f.name)
                ran.append(f.name)
                log.info("migration %s applied", f.name)
        return ran

    async def down(self, count: int = 1) -> list[str]:
        """Revert the last `count` applied files that still exist, newest first."""
        reverted: list[str] = []
        async with self.db.exclusive(locks.MIGRATIONS):
            files = {f.name: f for f in discover(self.directory)}
            for name in reversed(await self.applied()):
                if len(reverted) >= count:
                    break
                f = files.get(name)
                if f is None:
                    raise MigrationError(f"{name} is applied but its file is gone (hearth migrate history-sync forgets it)")
                _, down = f.load()
                await self._run(f, down)
                await self.db.execute(sql.unmark(self.db.dialect), (name,))
                reverted.append(name)
                log.info("migration %s reverted", name)
        return reverted

    async def history_sync(self) -> list[str]:
        """Forget applied files that no longer exist (PocketBase's `migrate history-sync`)."""
        async with self.db.exclusive(locks.MIGRATIONS):
            present = {f.name for f in discover(self.directory)}
            gone = [name for name in await self.applied() if name not in present]
            for name in gone:
                await self.db.execute(sql.unmark(self.db.dialect), (name,))
        return gone

    def create(self, words: str) -> Path:
        return write_blank(self.directory, words)

    async def mark(self, name: str) -> None:
        await self.db.execute(sql.mark_applied(self.db.dialect), (name, int(time.time() * 1_000_000)))

    async def _run(self, f: MigrationFile, step: Any) -> None:
        token = replaying.set(True)
        try:
            await step(self.app)
        except MigrationError as exc:
            raise MigrationError(f"{f.name}: {exc}") from exc
        except ApiError as exc:
            raise MigrationError(f"{f.name}: {exc.message}") from exc
        except Exception as exc:  # a user's file: reported with its name, the run stops
            raise MigrationError(f"{f.name}: {type(exc).__name__}: {exc}") from exc
        finally:
            replaying.reset(token)
