"""`hearth serve --dev`: every collection change (API, dashboard, import) is also written as a
migration file, recorded as applied here, so a schema change made by clicking can be committed
and replayed elsewhere (PocketBase's automigrate). Token secrets are left out of the files."""

from __future__ import annotations

import logging
from typing import Any

from hearth.hooks.catalog import Hooks
from hearth.hooks.events import CollectionChange, RequestEvent
from hearth.migrations.files import write_snapshot
from hearth.migrations.runner import Migrations, replaying

log = logging.getLogger("hearth")


class AutoMigrate:
    def __init__(self, migrations: Migrations, hooks: Hooks) -> None:
        self.migrations = migrations
        for hook, action in (
            (hooks.collection_after_create_success, "created"),
            (hooks.collection_after_update_success, "updated"),
            (hooks.collection_after_delete_success, "deleted"),
        ):
            hook.bind(self._writer(action), id="hearth.automigrate", observer=True)
        # An import changes several collections in one transaction, without their own events.
        hooks.request_hook("collections_import_request").bind(self._import, id="hearth.automigrate", observer=True)
        self._repo = migrations.app.repo

    async def _import(self, e: RequestEvent) -> None:
        before = {c.id: c.to_api() for c in self._repo.all()}
        await e.next()
        if e.response is None or not 200 <= int(e.response.status_code) < 300:
            return
        after = {c.id: c.to_api() for c in self._repo.all()}
        for cid in [*before, *(k for k in after if k not in before)]:
            old, new = before.get(cid), after.get(cid)
            if old == new:
                continue
            action = "created" if old is None else "deleted" if new is None else "updated"
            name = str((new or old or {}).get("name"))
            await self._write(action, name, old, new)

    async def _write(self, action: str, name: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        if replaying.get():
            return  # a migration file's own change: it is in version control already
        title = f"Written by hearth serve --dev: collection {name!r} {action}."
        path = write_snapshot(self.migrations.directory, f"{action}_{name}", title, before, after)
        await self.migrations.mark(path.name)  # the change is already made here
        log.info("migration %s written", path)

    def _writer(self, action: str) -> Any:
        async def write(e: CollectionChange) -> None:
            await e.next()
            c, old = e.collection, e.old
            before = None if action == "created" else (old or c).to_api()
            after = None if action == "deleted" else c.to_api()
            await self._write(action, c.name, before, after)

        return write
