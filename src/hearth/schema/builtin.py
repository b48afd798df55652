"""Collections every new database starts with, as PocketBase creates them."""

from __future__ import annotations

from typing import Any

from hearth.schema.collection import AUTH, BASE, SUPERUSERS, SUPERUSERS_ID, USERS_ID, Collection
from hearth.schema.form import make_collection
from hearth.schema.system_fields import AUTODATE_FIELDS

_OWNER_RULE = (
    "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId"
)


def _ref_fields(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": "collectionRef", "type": "text", "required": True, "system": True},
        {"name": "recordRef", "type": "text", "required": True, "system": True},
        *extra,
        *[dict(f, system=True) for f in AUTODATE_FIELDS],
    ]


def builtin_collections() -> list[Collection]:
    superusers = make_collection(
        SUPERUSERS,
        AUTH,
        [dict(f, system=True) for f in AUTODATE_FIELDS],
        cid=SUPERUSERS_ID,
        system=True,
        auth_patch={"authToken": {"duration": 86400}, "authAlert": {"enabled": True}},
    )
    users = make_collection(
        "users",
        AUTH,
        [
            {"name": "name", "type": "text", "max": 255},
            {
                "name": "avatar",
                "type": "file",
                "maxSelect": 1,
                "mimeTypes": ["image/jpeg", "image/png", "image/svg+xml", "image/gif", "image/webp"],
            },
            *AUTODATE_FIELDS,
        ],
        cid=USERS_ID,
        rules={
            "listRule": "id = @request.auth.id",
            "viewRule": "id = @request.auth.id",
            "createRule": "",
            "updateRule": "id = @request.auth.id",
            "deleteRule": "id = @request.auth.id",
        },
    )
    owner_rules = {"listRule": _OWNER_RULE, "viewRule": _OWNER_RULE}
    return [
        make_collection(
            "_mfas",
            BASE,
            _ref_fields({"name": "method", "type": "text", "required": True, "system": True}),
            system=True,
            rules=owner_rules,
        ),
        make_collection(
            "_otps",
            BASE,
            _ref_fields(
                {
                    "name": "password",
                    "type": "password",
                    "required": True,
                    "system": True,
                    "hidden": True,
                    "cost": 8,
                },
                {"name": "sentTo", "type": "text", "system": True, "hidden": True},
            ),
            system=True,
            rules=owner_rules,
        ),
        make_collection(
            "_externalAuths",
            BASE,
            _ref_fields(
                {"name": "provider", "type": "text", "required": True, "system": True},
                {"name": "providerId", "type": "text", "required": True, "system": True},
            ),
            system=True,
            rules={**owner_rules, "deleteRule": _OWNER_RULE},
        ),
        make_collection(
            "_authOrigins",
            BASE,
            _ref_fields({"name": "fingerprint", "type": "text", "required": True, "system": True}),
            system=True,
            rules={**owner_rules, "deleteRule": _OWNER_RULE},
        ),
        superusers,
        users,
    ]
