"""Settings stored as one `_params` row; cached per process and reloaded with the schema counter."""

from __future__ import annotations

from typing import Any

import orjson

from hearth._util import times
from hearth.db.base import Database
from hearth.errors import BadRequest, ValidationFailed
from hearth.settings import model
from hearth.sql import system

PARAM_ID = "settings"
# PocketBase's messages for a settings PATCH (checked against v0.40).
FAILED = "An error occurred while saving the new settings."
LOAD_FAILED = "An error occurred while loading the submitted data."


class SettingsStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, Any] | None = None
        self._version = -1

    async def get(self, version: int) -> dict[str, Any]:
        """Current settings; `version` is the schema/settings counter already read this request."""
        if self._cache is None or version != self._version:
            row = await self.db.fetch_one(system.select_param(self.db.dialect), (PARAM_ID,))
            stored = {}
            if row is not None and row[0]:
                raw = row[0]
                stored = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
            self._cache = model.merge(model.defaults(), stored)
            self._version = version
        return self._cache

    async def current(self) -> dict[str, Any]:
        """The settings at the last counter this process read (reloaded after an update here), for
        code without a request at hand, such as the mailer."""
        return await self.get(self._version)

    def cached(self, version: int) -> dict[str, Any] | None:
        """The settings already loaded for `version`, or None when `get` would have to read them.
        Synchronous, for checks on every request (the rate limiter's "is it on?")."""
        return self._cache if version == self._version else None

    async def update(self, version: int, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict) or not model.check_types(patch):
            raise BadRequest(LOAD_FAILED)
        current = await self.get(version)
        new = model.merge(current, patch)
        try:
            model.validate(new)
        except ValidationFailed as exc:
            raise BadRequest(FAILED, exc.errors) from exc
        async with self.db.transaction() as tx:
            await tx.execute(
                system.upsert_param(self.db.dialect),
                (PARAM_ID, orjson.dumps(new).decode(), times.now(), times.now()),
            )
            await tx.execute(system.bump_version(self.db.dialect))
        self.db.bump_generation()
        self._cache = None
        return new
