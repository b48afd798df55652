"""Relation integrity: a written relation names only records that exist, and the records whose
relations point at one about to be deleted (the delete follows them: cascade, unset or refuse)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from hearth.db.base import Executor
from hearth.errors import FieldError
from hearth.records.reads import RecordReader
from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field
from hearth.schema.repository import CollectionRepository
from hearth.sql import system


def _missing() -> FieldError:
    return FieldError(
        "validation_missing_rel_records",
        "Failed to find all relation records with the provided ids.",
    )


class Relations:
    def __init__(self, reads: RecordReader, collections: CollectionRepository) -> None:
        self.reads = reads
        self.collections = collections

    async def check(
        self,
        ex: Executor,
        c: Collection,
        values: dict[str, Any],
        errors: dict[str, Any],
        changed: set[str] | None,
    ) -> None:
        """Add an error for each relation field written (all on create, the `changed` ones on
        update) that names a record which does not exist."""
        for f in c.fields:
            if f.type != "relation" or f.name in errors or (changed is not None and f.name not in changed):
                continue
            ids = f.ids(values.get(f.name))  # type: ignore[attr-defined]
            if not ids:
                continue
            target = self.collections.get(f.options.get("collectionId", ""))
            if target is None:
                errors[f.name] = _missing()
                continue
            tcodec = self.reads.codec(target)
            rows = await ex.fetch_all(tcodec.sql.existing_ids(len(ids)), ids)
            if len({r[0] for r in rows}) != len(set(ids)):
                errors[f.name] = _missing()

    async def referencing(
        self, ex: Executor, c: Collection, rid: str
    ) -> AsyncGenerator[tuple[Collection, Field, dict[str, Any]], None]:
        """(collection, relation field, its current values) for each record whose relation
        field holds `rid`: of other collections (not views), or other records of `c`. Each
        record is read when its turn comes, after what was done with the ones before."""
        d = self.reads.db.dialect
        for other, f in self.collections.referencing(c):
            if other.is_view:
                continue
            multi = f.storage == "json"
            rows = await ex.fetch_all(system.records_referencing(d, other.name, f.name, multi), (rid,))
            for (ref_id,) in rows:
                if other.id == c.id and ref_id == rid:
                    continue
                ref = await self.reads.find(other, ref_id, ex)
                if ref is not None:
                    yield other, f, ref
