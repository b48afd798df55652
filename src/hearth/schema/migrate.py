"""Plan and run the table changes that take a collection from its old to its new definition.

Every change keeps the data of the fields that remain. A change that would lose data (a
multi-value field with rows holding several values turned single) is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from hearth._util.ids import random_string
from hearth.db.base import DatabaseError, Executor
from hearth.errors import FieldError, ValidationFailed
from hearth.schema.collection import Collection
from hearth.schema.indexes import IndexSyntaxError, parse_index
from hearth.schema.views import infer_fields, secret_copy_error
from hearth.sql import ddl
from hearth.sql.dialect import Dialect


def _index_defs(c: Collection) -> dict[str, str]:
    out = {}
    for sql in c.indexes:
        try:
            out[parse_index(sql).name] = sql
        except IndexSyntaxError:
            continue
    return out


async def _create_view(tx: Executor, c: Collection, others: Callable[[], list[Collection]]) -> None:
    """Create the SQL view and set the collection's fields from its columns."""
    try:
        await tx.execute(ddl.create_view(c.name, c.view_query))
        columns = await tx.column_names(ddl.view_columns(c.name))
    except DatabaseError as exc:
        raise ValidationFailed(
            {"viewQuery": FieldError("validation_invalid_view_query", f"Invalid query - {exc}")}
        ) from exc
    if "id" not in columns:
        raise ValidationFailed(
            {
                "viewQuery": FieldError(
                    "validation_invalid_view_query", "The view query must return an id column."
                )
            }
        )
    secret_error = secret_copy_error(columns, c.view_query, others)
    if secret_error is not None:
        raise ValidationFailed({"viewQuery": secret_error})
    c.fields = infer_fields(columns, c.view_query, others)
    c.reindex()


async def create_collection_table(
    tx: Executor, d: Dialect, c: Collection, others: Callable[[], list[Collection]] = list
) -> None:
    if c.is_view:
        await _create_view(tx, c, others)
        return
    for stmt in ddl.create_table(d, c.name, c.fields):
        await tx.execute(stmt)
    for sql in c.indexes:
        await tx.execute(ddl.create_index(d, parse_index(sql), c.name))
    if c.is_auth:
        await watch_auth_table(tx, d, c.name, c.id)


async def watch_auth_table(tx: Executor, d: Dialect, table: str, collection_id: str) -> None:
    """Changes of an auth collection's rows NOTIFY every process (PostgreSQL: they keep the
    auth records of tokens in memory, hearth.records.auth_cache). The triggers follow the table
    through renames and go with it when it is dropped."""
    for stmt in ddl.auth_change_triggers(d, table, collection_id):
        await tx.execute(stmt)


async def drop_collection_table(tx: Executor, c: Collection) -> None:
    if c.is_view:
        await tx.execute(ddl.drop_view(c.name))
        return
    for name in _index_defs(c):
        await tx.execute(ddl.drop_index(name))
    await tx.execute(ddl.drop_table(c.name))


async def migrate_collection_table(
    tx: Executor, d: Dialect, old: Collection, new: Collection, others: Callable[[], list[Collection]] = list
) -> None:
    if new.is_view:
        await tx.execute(ddl.drop_view(old.name))
        await _create_view(tx, new, others)
        return
    table = old.name
    old_idx, new_idx = _index_defs(old), _index_defs(new)
    old_fields = {f.id: f for f in old.fields}
    new_fields = {f.id: f for f in new.fields}
    converted = [f for f in new.fields if f.id in old_fields and old_fields[f.id].storage != f.storage]
    converted_ids = {f.id for f in converted}
    removed = [f for f in old.fields if f.id not in new_fields]
    renamed = [
        (old_fields[f.id].name, f.name)
        for f in new.fields
        if f.id in old_fields and old_fields[f.id].name != f.name
    ]

    # Refuse a conversion that would drop values before touching anything.
    for f in converted:
        if f.storage == "text" and old_fields[f.id].storage == "json":
            row = await tx.fetch_one(ddl.count_multi_values(d, table, old_fields[f.id].name))
            if row and row[0]:
                raise ValidationFailed(
                    {
                        "fields": {
                            str(new.fields.index(f)): {
                                "maxSelect": FieldError(
                                    "validation_field_data_loss",
                                    f"{row[0]} record(s) hold several values in {f.name}; "
                                    "changing it to a single value would lose data.",
                                )
                            }
                        }
                    }
                )

    # Drop indexes that change or go (they may reference columns about to change).
    touched_cols = (
        {old_fields[i].name for i in converted_ids} | {f.name for f in removed} | {o for o, _ in renamed}
    )
    for name, sql in old_idx.items():
        idx = parse_index(sql)
        uses_touched = any(c.name in touched_cols for c in idx.columns) or any(
            p.column in touched_cols for p in idx.where
        )
        if new_idx.get(name) != sql or uses_touched or old.name != new.name:
            await tx.execute(ddl.drop_index(name))

    if old.name != new.name:
        await tx.execute(ddl.rename_table(old.name, new.name))
        table = new.name

    # Renames go through temporary names so that swaps (a→b, b→a) work.
    temp_names = {}
    for old_name, _ in renamed:
        tmp = f"_tmp_{random_string(8).lower()}"
        temp_names[old_name] = tmp
        await tx.execute(ddl.rename_column(table, old_name, tmp))
    for old_name, new_name in renamed:
        await tx.execute(ddl.rename_column(table, temp_names[old_name], new_name))

    for f in removed:
        await tx.execute(ddl.drop_column(table, f.name))

    for f in new.fields:
        if f.id not in old_fields:
            await tx.execute(ddl.add_column(d, table, f))

    # A storage change: add the new column, fill it from the old, swap them.
    for f in converted:
        tmp = f"_tmp_{random_string(8).lower()}"
        await tx.execute(ddl.rename_column(table, f.name, tmp))
        await tx.execute(ddl.add_column(d, table, f))
        await tx.execute(ddl.fill_converted(d, table, f.name, tmp, to_multi=f.storage == "json"))
        await tx.execute(ddl.drop_column(table, tmp))

    for name, sql in new_idx.items():
        idx = parse_index(sql)
        if (
            old_idx.get(name) != sql
            or old.name != new.name
            or any(c.name in touched_cols or c.name in {n for _, n in renamed} for c in idx.columns)
        ):
            await tx.execute(ddl.drop_index(name))
            await tx.execute(ddl.create_index(d, idx, table))
