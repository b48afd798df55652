"""The system fields every collection (and every auth collection) carries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field

ID_FIELD: dict[str, Any] = {
    "autogeneratePattern": "[a-z0-9]{15}",
    "help": "",
    "hidden": False,
    "id": "text3208210256",
    "max": 15,
    "min": 15,
    "name": "id",
    "pattern": "^[a-z0-9]+$",
    "presentable": False,
    "primaryKey": True,
    "required": True,
    "system": True,
    "type": "text",
}

AUTH_FIELDS: list[dict[str, Any]] = [
    {
        "cost": 0,
        "hidden": True,
        "id": "password901924565",
        "max": 0,
        "min": 8,
        "name": "password",
        "pattern": "",
        "required": True,
        "system": True,
        "type": "password",
    },
    {
        "autogeneratePattern": "[a-zA-Z0-9]{50}",
        "hidden": True,
        "id": "text2504183744",
        "max": 60,
        "min": 30,
        "name": "tokenKey",
        "pattern": "",
        "primaryKey": False,
        "required": True,
        "system": True,
        "type": "text",
    },
    {
        "exceptDomains": [],
        "hidden": False,
        "id": "email3885137012",
        "name": "email",
        "onlyDomains": [],
        "required": True,
        "system": True,
        "type": "email",
    },
    {
        "hidden": False,
        "id": "bool1547992806",
        "name": "emailVisibility",
        "required": False,
        "system": True,
        "type": "bool",
    },
    {
        "hidden": False,
        "id": "bool256245529",
        "name": "verified",
        "required": False,
        "system": True,
        "type": "bool",
    },
]
AUTH_FIELD_NAMES = tuple(f["name"] for f in AUTH_FIELDS)

AUTODATE_FIELDS: list[dict[str, Any]] = [
    {
        "hidden": False,
        "id": "autodate2990389176",
        "name": "created",
        "onCreate": True,
        "onUpdate": False,
        "presentable": False,
        "system": False,
        "type": "autodate",
    },
    {
        "hidden": False,
        "id": "autodate3332085495",
        "name": "updated",
        "onCreate": True,
        "onUpdate": True,
        "presentable": False,
        "system": False,
        "type": "autodate",
    },
]


def table_model(name: str, columns: Iterable[tuple[str, str]]) -> Collection:
    """A system table described to the filter compiler as a collection whose fields are its
    columns (name, field type), so listing it takes the filter and sort languages."""
    c = Collection(id=name, name=name, fields=make_fields([{"name": n, "type": t} for n, t in columns]))
    # PocketBase lists these tables with its simple field resolver: no `:modifier` on a column.
    c.__dict__[PLAIN_TABLE] = True
    return c


PLAIN_TABLE = "plain_table"


def make_fields(defs: list[dict[str, Any]]) -> list[Field]:
    from hearth.schema.fields.registry import field_from_dict

    return [field_from_dict(dict(d)) for d in defs]


def auth_indexes(collection_id: str, table: str) -> list[str]:
    return [
        f"CREATE UNIQUE INDEX `idx_tokenKey_{collection_id}` ON `{table}` (`tokenKey`)",
        f"CREATE UNIQUE INDEX `idx_email_{collection_id}` ON `{table}` (`email`) WHERE `email` != ''",
    ]
