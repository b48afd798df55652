"""Relation integrity: a written relation names only records that exist, and the records whose
relations point at one about to be deleted (the delete follows them: cascade, unset or refuse)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from hearth.db.base import Executor
from hearth.errors import FieldError
from hearth.records.reads import RecordReader
from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field
from hearth.schema.repository import CollectionRepository
from hearth.sql import system
from hearth.sql.records import RecordSQL, all_of


def _missing() -> FieldError:
    return FieldError(
        "validation_missing_rel_records",
        "Failed to find all relation records with the provided ids.",
    )


# A relation field written, the collection it points to and the distinct ids it names.
Written = tuple[Field, Collection, list[str]]


@dataclass(frozen=True, slots=True)
class Guard:
    """Relations a write names, checked by the write statement itself (`RecordSQL.insert_if`,
    or the UPDATE's WHERE): it writes nothing unless every id exists. One statement instead of
    a SELECT per field before it, and the check and the write read the same snapshot."""

    written: list[tuple[Field, RecordSQL, list[str]]]  # field, its target's statements, the ids

    def where(self, start: int) -> tuple[str, list[str]]:
        """The condition, its parameters numbered from `start`, and their values."""
        conditions: list[str] = []
        params: list[str] = []
        for _, sql, ids in self.written:
            conditions.append(sql.has_ids(len(ids), start + len(params)))
            params.extend(ids)
        return all_of(conditions), params

    def missing(self) -> dict[str, FieldError]:
        """The errors to answer when the guard held the write back and a check after it found
        every id (created meanwhile): at the write's moment, some were not there."""
        return {f.name: _missing() for f, _, _ in self.written}


class Relations:
    def __init__(self, reads: RecordReader, collections: CollectionRepository) -> None:
        self.reads = reads
        self.collections = collections

    def _written(
        self, c: Collection, values: dict[str, Any], errors: dict[str, Any], changed: set[str] | None
    ) -> list[Written]:
        """The relation fields written (all on create, the `changed` ones on update) that name
        records, with an error already for those whose collection is gone."""
        out: list[Written] = []
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
            out.append((f, target, list(dict.fromkeys(ids))))
        return out

    async def check(
        self,
        ex: Executor,
        c: Collection,
        values: dict[str, Any],
        errors: dict[str, Any],
        changed: set[str] | None,
    ) -> None:
        """Add an error for each relation field written that names a record which does not exist."""
        for f, target, ids in self._written(c, values, errors, changed):
            rows = await ex.fetch_all(self.reads.codec(target).sql.existing_ids(len(ids)), ids)
            if len({r[0] for r in rows}) != len(ids):
                errors[f.name] = _missing()

    def guard(
        self, c: Collection, values: dict[str, Any], errors: dict[str, Any], changed: set[str] | None
    ) -> Guard | None:
        """`check` as a condition of the write statement, or None when the write names no
        record. What it can tell without the database (a collection that is gone) is added to
        `errors` at once."""
        written = self._written(c, values, errors, changed)
        if not written:
            return None
        return Guard([(f, self.reads.codec(target).sql, ids) for f, target, ids in written])

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
