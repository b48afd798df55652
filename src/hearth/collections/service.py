"""Collection changes as the API offers them: create, update, delete, truncate, import."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from hearth._util.ids import checksum_id
from hearth.auth.oauth2.registry import PROVIDERS
from hearth.collections.rule_check import check_rule
from hearth.db.base import DatabaseError, Executor, UniqueViolation
from hearth.errors import ApiError, BadRequest, FieldError, NotFound, ValidationFailed
from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import Hook
from hearth.hooks.events import CollectionChange
from hearth.records.service import RecordService
from hearth.schema import migrate
from hearth.schema.collection import Collection
from hearth.schema.form import build_collection
from hearth.schema.indexes import IndexSyntaxError, parse_index
from hearth.schema.repository import CollectionRepository

CREATE_FAILED = "Failed to create collection."
UPDATE_FAILED = "Failed to update collection."
IMPORT_FAILED = "Failed to import collections."
LOAD_FAILED = "Failed to load the submitted data due to invalid formatting."

log = logging.getLogger("hearth")


class CollectionService:
    def __init__(self, repo: CollectionRepository, records: RecordService, hooks: Hooks) -> None:
        self.repo = repo
        self.records = records
        self.hooks = hooks

    async def _changing(
        self,
        hook: Hook[CollectionChange],
        after: Hook[CollectionChange],
        new: Collection,
        old: Collection | None,
        change: Callable[[], Awaitable[None]],
    ) -> None:
        """One schema change inside its hook (`next()` makes it), then its after-success event."""

        async def make(e: CollectionChange) -> None:
            await change()

        await hook.trigger(CollectionChange(new, old), make)
        await after.trigger(CollectionChange(new, old))

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
            c = build_collection(payload, None, self.repo.get, check_rule, self.repo.all, providers=PROVIDERS)
        except ValidationFailed as exc:
            raise BadRequest(CREATE_FAILED, exc.errors) from exc
        try:
            await self._changing(
                self.hooks.collection_create, self.hooks.collection_after_create_success, c, None,
                lambda: self.repo.create(c),
            )  # fmt: skip
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

    async def dry_run_view(self, payload: Any) -> dict[str, Any]:
        """`POST /api/collections/meta/dry-run-view`: the fields a view collection with this query
        would get, and up to 10 of its records as a superuser sees them; the view is created in a
        transaction that is rolled back, so nothing is stored."""
        query = payload.get("query") if isinstance(payload, dict) else None
        if query is None:
            query = ""
        if not isinstance(query, str):
            raise BadRequest("An error occurred while loading the submitted data.")
        if not query.strip():
            raise BadRequest(
                "An error occurred while validating the submitted data.",
                {"query": FieldError("validation_required", "Cannot be blank.")},
            )
        name = f"temp_view_{secrets.token_hex(4)}"
        try:
            c = build_collection({"name": name, "type": "view", "viewQuery": query}, None, self.repo.get,
                                 check_rule, self.repo.all, providers=PROVIDERS)  # fmt: skip
            answer: dict[str, Any] = {}
            try:
                async with self.repo.db.transaction() as tx:
                    await migrate.create_collection_table(tx, self.repo.db.dialect, c, self.repo.all)
                    codec = self.records.reads.codec(c)
                    rows = await tx.fetch_all(codec.sql.select("", "", "10", "0"))
                    answer["fields"] = [f.to_dict() for f in c.fields]
                    answer["sample"] = [codec.to_api(codec.values_from_row(r)) for r in rows]
                    raise _DryRun
            except _DryRun:
                return answer
        except ValidationFailed as exc:
            error = exc.errors.get("viewQuery")
            reason = error.message if isinstance(error, FieldError) else "the query cannot make a view."
            raise BadRequest(f"Invalid view query. Raw error: \n{reason}") from exc
        except DatabaseError as exc:
            raise BadRequest(f"Invalid view query. Raw error: \n{exc}") from exc

    async def update(self, c: Collection, payload: Any) -> Collection:
        try:
            new = build_collection(payload, c, self.repo.get, check_rule, self.repo.all, providers=PROVIDERS)
            await self._changing(
                self.hooks.collection_update, self.hooks.collection_after_update_success, new, c,
                lambda: self.repo.update(c, new),
            )  # fmt: skip
        except ValidationFailed as exc:
            raise BadRequest(UPDATE_FAILED, exc.errors) from exc
        except UniqueViolation as exc:
            raise BadRequest(UPDATE_FAILED, {"indexes": _duplicates_error(c, new, exc)}) from exc
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
            await self._changing(
                self.hooks.collection_delete, self.hooks.collection_after_delete_success, c, c,
                lambda: self.repo.delete(c),
            )  # fmt: skip
        except DatabaseError as exc:
            raise BadRequest("Failed to delete collection: other database objects depend on it.") from exc
        if not c.is_view:
            # Its files go once the delete has committed (never before: a failed delete keeps them).
            await self.records.files.remove_collection(c.id)

    async def truncate(self, c: Collection) -> None:
        if c.is_view:
            raise BadRequest("View collections cannot be truncated since they don't store their own records.")
        if c.is_superusers:
            # PocketBase deletes record by record and refuses to delete the last superuser, so
            # the whole truncate rolls back: a 400, never an instance nobody can administer.
            raise BadRequest(
                "Failed to truncate collection (most likely due to required cascade delete record references)."
            )
        await self.records.truncate(c)

    async def import_collections(self, payload: Any) -> None:
        """PocketBase's import: each item updates the collection with its id (its name when it
        has no id) or creates it; with deleteMissing, non-system collections not imported are
        deleted first and non-system fields not imported are dropped. All or nothing."""
        if not isinstance(payload, dict):
            raise BadRequest(LOAD_FAILED)
        items = payload.get("collections")
        if not isinstance(payload.get("deleteMissing"), bool | None):
            raise BadRequest(LOAD_FAILED)
        delete_missing = bool(payload.get("deleteMissing"))
        if not isinstance(items, list):
            if items is None:
                raise BadRequest(
                    IMPORT_FAILED, {"collections": FieldError("validation_required", "Cannot be blank.")}
                )
            raise BadRequest(LOAD_FAILED)
        if not items:
            raise BadRequest(
                IMPORT_FAILED, {"collections": FieldError("validation_required", "Cannot be blank.")}
            )
        if not all(isinstance(item, dict) for item in items):
            raise BadRequest(LOAD_FAILED)

        existing = self.repo.all()
        by_id = {c.id: c for c in existing}
        by_name = {c.name.lower(): c for c in existing}
        olds: list[Collection | None] = []
        for item in items:
            key = item.get("id") or item.get("name")
            olds.append(
                (by_id.get(key) or by_name.get(key.lower())) if isinstance(key, str) and key else None
            )
        matched = {old.id for old in olds if old is not None}
        to_delete = [c for c in existing if delete_missing and c.id not in matched and not c.system]

        # The schema as it will be, item by item: survivors of the deletion, replaced by their
        # imported version once built. New items with an id are known by it from the start, so
        # relations between imported collections resolve in any order.
        current: dict[str, Collection] = {c.id: c for c in existing if c not in to_delete}
        pending: dict[str, Collection] = {}
        for item, old in zip(items, olds, strict=True):
            cid = item.get("id")
            if old is None and isinstance(cid, str) and cid:
                pending[cid] = Collection(id=cid, name=str(item.get("name") or ""))

        def staged(own: str) -> tuple[Callable[[str], Collection | None], Callable[[], list[Collection]]]:
            def lookup(key: str) -> Collection | None:
                lowered = key.lower()
                for c in current.values():
                    if c.id == key or c.name.lower() == lowered:
                        return c
                found = pending.get(key)
                return found if found is not None and found.id != own else None

            return lookup, lambda: list(current.values())

        built: list[tuple[Collection | None, Collection]] = []
        for item, old in zip(items, olds, strict=True):
            if old is not None:
                item = _with_kept_fields(item, old, delete_missing)
            own = str(item.get("id") or "")
            lookup, others = staged(own)
            try:
                new = build_collection(item, old, lookup, check_rule, others, providers=PROVIDERS)
            except ValidationFailed as exc:
                raise _import_failure(item, old, exc.errors) from exc
            pending.pop(new.id, None)
            current[new.id] = new
            built.append((old, new))
        # Views last: their queries read the other tables.
        built.sort(key=lambda pair: pair[1].is_view)

        async def apply(tx: Executor) -> None:
            d = self.repo.db.dialect
            for c in to_delete:
                await migrate.drop_collection_table(tx, c)
                await self.repo.delete_row(tx, c)
            for old, new in built:
                if old is None:
                    await migrate.create_collection_table(tx, d, new, lambda: list(current.values()))
                    await self.repo.save_row(tx, new, insert=True)
                else:
                    await migrate.migrate_collection_table(tx, d, old, new, lambda: list(current.values()))
                    await self.repo.save_row(tx, new, insert=False)

        try:
            await self.repo.run_in_transaction(apply)
        except ValidationFailed as exc:
            raise BadRequest(
                IMPORT_FAILED,
                {"collections": FieldError("validation_collections_import_failure", _describe(exc.errors))},
            ) from exc
        except (UniqueViolation, DatabaseError) as exc:
            # The engine refused a change (a name its namespace holds, existing records breaking a
            # new unique index, …): everything is rolled back.
            log.warning("collections import failed: %s", exc)
            raise BadRequest(
                IMPORT_FAILED,
                {
                    "collections": FieldError(
                        "validation_collections_import_failure",
                        "Failed to import the collections configuration.",
                    )
                },
            ) from exc
        for c in to_delete:
            if not c.is_view:
                await self.records.files.remove_collection(c.id)


def _with_kept_fields(item: dict[str, Any], old: Collection, delete_missing: bool) -> dict[str, Any]:
    """An import item's fields merged with the existing ones, as PocketBase merges them: an
    item field named like an existing field of the same type takes its id (so its column and
    data stay), and existing fields the item leaves out are kept — system fields always, the
    others unless deleteMissing (which also clears the fields of an item that lists none)."""
    raw = item.get("fields")
    if raw is None and not delete_missing:
        return item
    fields = [dict(f) if isinstance(f, dict) else f for f in raw] if isinstance(raw, list) else []
    listed_ids = {f.get("id") for f in fields if isinstance(f, dict) and f.get("id")}
    for f in old.fields:
        if f.id in listed_ids:
            continue
        twin = next((r for r in fields if isinstance(r, dict) and r.get("name") == f.name), None)
        if twin is not None:
            if twin.get("type") == f.type:
                twin["id"] = f.id
            continue
        if f.system or not delete_missing:
            fields.append(f.to_dict())
    return {**item, "fields": fields}


def _import_failure(item: dict[str, Any], old: Collection | None, errors: dict[str, Any]) -> BadRequest:
    raw_name, raw_id, raw_type = item.get("name"), item.get("id"), item.get("type")
    name = raw_name if isinstance(raw_name, str) else ""
    if old is not None:
        name, cid = name or old.name, old.id
    elif isinstance(raw_id, str) and raw_id:
        cid = raw_id
    else:
        # PocketBase names the id it would have generated.
        cid = checksum_id("pbc_", (raw_type if isinstance(raw_type, str) and raw_type else "base") + name)
    return BadRequest(
        IMPORT_FAILED,
        {
            "collections": FieldError(
                "validation_collections_import_failure",
                f'Data validations failed for collection "{name}" ({cid}):\n{_describe(errors)}',
            )
        },
    )


def _describe(errors: dict[str, Any]) -> str:
    """Field errors as PocketBase prints them in an import failure: indented JSON of messages."""
    data = ApiError("", errors).envelope()["data"]

    def messages(node: Any) -> Any:
        if isinstance(node, dict):
            if isinstance(node.get("code"), str) and isinstance(node.get("message"), str):
                return node["message"]
            return {k: messages(v) for k, v in node.items()}
        return node

    return orjson.dumps(messages(data), option=orjson.OPT_INDENT_2).decode()


class _DryRun(Exception):
    """Rolls back the transaction of a view's dry run."""


def _duplicates_error(old: Collection, new: Collection, exc: UniqueViolation) -> dict[str, FieldError]:
    """A new UNIQUE index the stored records break, at its position, in PocketBase's words (its
    SQLite error text, on either database). The index is the new unique one over the columns the
    engine names, else the first new unique one."""
    candidates = []
    for i, sql in enumerate(new.indexes):
        if sql in old.indexes:
            continue
        try:
            idx = parse_index(sql)
        except IndexSyntaxError:
            continue
        if idx.unique:
            candidates.append((i, idx))
    if not candidates:
        return {"0": FieldError("validation_invalid_index_expression", "Invalid CREATE INDEX expression.")}
    wanted = set(exc.columns)
    i, idx = next(((i, x) for i, x in candidates if {col.name for col in x.columns} == wanted), candidates[0])
    cols = ", ".join(f"{new.name}.{col.name}" for col in idx.columns)
    message = f"Failed to create index {idx.name} - constraint failed: UNIQUE constraint failed: {cols} (2067)."
    return {str(i): FieldError("validation_invalid_index_expression", message)}
