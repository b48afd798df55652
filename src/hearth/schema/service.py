"""Collection changes as the API offers them: create, update, delete, truncate, import."""

from __future__ import annotations

import logging
from typing import Any

from hearth.db.base import DatabaseError, Executor, UniqueViolation
from hearth.errors import BadRequest, FieldError, NotFound, ValidationFailed
from hearth.records.service import RecordService
from hearth.schema import migrate
from hearth.schema.collection import Collection
from hearth.schema.form import build_collection
from hearth.schema.repository import CollectionRepository
from hearth.schema.rule_check import check_rule

CREATE_FAILED = "Failed to create collection."
UPDATE_FAILED = "Failed to update collection."
IMPORT_FAILED = "Failed to import collections."

log = logging.getLogger("hearth")


class CollectionService:
    def __init__(self, repo: CollectionRepository, records: RecordService) -> None:
        self.repo = repo
        self.records = records

    def get(self, id_or_name: str) -> Collection:
        c = self.repo.get(id_or_name)
        if c is None:
            raise NotFound()
        return c

    async def list(
        self, *, page: int, per_page: int, sort: str, filter_text: str, skip_total: bool
    ) -> tuple[list[dict[str, Any]], int, int, int, int]:
        from hearth.query.collections import select_collections

        page = page if page > 0 else 1
        per_page = min(per_page if per_page > 0 else 30, 1000)
        await self.repo.refresh()
        items, total = await select_collections(self.repo, page, per_page, sort, filter_text, skip_total)
        pages = -1 if skip_total else (total + per_page - 1) // per_page
        return [c.to_api() for c in items], page, per_page, (-1 if skip_total else total), pages

    async def create(self, payload: Any) -> Collection:
        try:
            c = build_collection(payload, None, self.repo.get, check_rule, self.repo.all)
        except ValidationFailed as exc:
            raise BadRequest(CREATE_FAILED, exc.errors) from exc
        try:
            await self.repo.create(c)
        except ValidationFailed as exc:
            raise BadRequest(CREATE_FAILED, exc.errors) from exc
        except UniqueViolation as exc:
            raise BadRequest(
                CREATE_FAILED,
                {
                    "name": FieldError(
                        "validation_collection_name_exists",
                        "Collection name must be unique (case insensitive).",
                    )
                },
            ) from exc
        except DatabaseError as exc:
            # The engine refused the DDL (a name its namespace already holds, …): nothing was
            # written (one transaction), and the cause is the submitted schema.
            log.warning("collection %s not created: %s", c.name, exc)
            raise BadRequest(CREATE_FAILED) from exc
        return self.get(c.id)

    async def update(self, c: Collection, payload: Any) -> Collection:
        try:
            new = build_collection(payload, c, self.repo.get, check_rule, self.repo.all)
            await self.repo.update(c, new)
        except ValidationFailed as exc:
            raise BadRequest(UPDATE_FAILED, exc.errors) from exc
        except UniqueViolation as exc:
            raise BadRequest(
                UPDATE_FAILED,
                {
                    "indexes": FieldError(
                        "validation_invalid_index_expression",
                        "An index could not be created: existing records hold duplicate values.",
                    )
                },
            ) from exc
        return self.get(new.id)

    async def delete(self, c: Collection) -> None:
        if c.system:
            raise BadRequest("Failed to delete collection due to system collection.")
        for other, _ in self.repo.referencing(c):
            if other.id != c.id:
                raise BadRequest(
                    f"Failed to delete collection probably due to existing reference in {other.name}."
                )
        for view in self.repo.views_reading(c):
            raise BadRequest(
                f"Failed to delete collection probably due to existing reference in {view.name}."
            )
        try:
            await self.repo.delete(c)
        except DatabaseError as exc:
            raise BadRequest("Failed to delete collection: other database objects depend on it.") from exc

    async def truncate(self, c: Collection) -> None:
        if c.is_view:
            raise BadRequest("View collections cannot be truncated since they don't store their own records.")
        await self.records.truncate(c)

    async def import_collections(self, payload: Any) -> None:
        if not isinstance(payload, dict):
            raise BadRequest("Failed to load the submitted data due to invalid formatting.")
        items = payload.get("collections")
        delete_missing = bool(payload.get("deleteMissing", False))
        if not isinstance(items, list):
            if items is None:
                raise BadRequest(
                    IMPORT_FAILED, {"collections": FieldError("validation_required", "Cannot be blank.")}
                )
            raise BadRequest("Failed to load the submitted data due to invalid formatting.")
        if not items:
            raise BadRequest(
                IMPORT_FAILED, {"collections": FieldError("validation_required", "Cannot be blank.")}
            )

        # Validate against a staged view of the schema: imported collections may reference
        # each other in any order.
        staged: dict[str, Collection] = {}
        existing_by_key = {k: c for c in self.repo.all() for k in (c.id, c.name.lower())}

        def lookup(key: str) -> Collection | None:
            return (
                staged.get(key)
                or staged.get(key.lower())
                or existing_by_key.get(key)
                or existing_by_key.get(key.lower())
            )

        plans: list[tuple[Collection | None, Collection]] = []
        for item in items:
            if not isinstance(item, dict):
                raise BadRequest("Failed to load the submitted data due to invalid formatting.")
            old = None
            if item.get("id"):
                old = existing_by_key.get(str(item["id"]))
            if old is None and item.get("name"):
                old = existing_by_key.get(str(item["name"]).lower())
            placeholder = Collection(id=str(item.get("id") or ""), name=str(item.get("name") or ""))
            if placeholder.id:
                staged[placeholder.id] = placeholder
            plans.append((old, placeholder))
        built: list[tuple[Collection | None, Collection]] = []
        for (old, _), item in zip(plans, items, strict=True):
            try:
                new = build_collection(item, old, lookup, check_rule)
            except ValidationFailed as exc:
                name = item.get("name", "")
                raise BadRequest(
                    IMPORT_FAILED,
                    {
                        "collections": FieldError(
                            "validation_collections_import_failure",
                            f'Data validations failed for collection "{name}" ({item.get("id", "")}): {exc.errors}',
                        )
                    },
                ) from exc
            staged[new.id] = new
            staged[new.name.lower()] = new
            built.append((old, new))
        keep = {new.id for _, new in built}
        to_delete = (
            [c for c in self.repo.all() if c.id not in keep and not c.system] if delete_missing else []
        )

        async def apply(tx: Executor) -> None:
            d = self.repo.db.dialect
            for c in to_delete:
                await migrate.drop_collection_table(tx, c)
                await self.repo.delete_row(tx, c)
            for old, new in built:
                if old is None:
                    await migrate.create_collection_table(tx, d, new, self.repo.all)
                    await self.repo.save_row(tx, new, insert=True)
                else:
                    await migrate.migrate_collection_table(tx, d, old, new, self.repo.all)
                    await self.repo.save_row(tx, new, insert=False)

        try:
            await self.repo.run_in_transaction(apply)
        except ValidationFailed as exc:
            raise BadRequest(
                IMPORT_FAILED,
                {"collections": FieldError("validation_collections_import_failure", str(exc.errors))},
            ) from exc
