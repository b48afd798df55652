"""The Collection model: a named set of fields stored as one SQL table (or a view query)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hearth.schema.auth_options import normalize_options, public_options
from hearth.schema.fields.base import Field
from hearth.schema.indexes import IndexDef, IndexSyntaxError, parse_index

BASE = "base"
AUTH = "auth"
VIEW = "view"
COLLECTION_TYPES = (BASE, AUTH, VIEW)
RULE_NAMES = ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")
AUTH_RULE_NAMES = ("authRule", "manageRule")

SUPERUSERS = "_superusers"
SUPERUSERS_ID = "pbc_3142635823"
USERS_ID = "_pb_users_auth_"


# An auth collection's system fields, whatever a submitted definition says (as PocketBase forces
# them): always system; password and tokenKey always hidden, email never.
_AUTH_SYSTEM_HIDDEN: dict[str, bool | None] = {
    "password": True,
    "tokenKey": True,
    "email": False,
    "emailVisibility": None,
    "verified": None,
}


def _force_auth_system_fields(fields: list[Field]) -> None:
    for f in fields:
        if f.name in _AUTH_SYSTEM_HIDDEN:
            f.system = True
            hidden = _AUTH_SYSTEM_HIDDEN[f.name]
            if hidden is not None:
                f.hidden = hidden


@dataclass(eq=False)
class Collection:
    id: str
    name: str
    type: str = BASE
    system: bool = False
    rules: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(RULE_NAMES))
    fields: list[Field] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    view_query: str = ""
    # Auth options (auth collections only), secrets included; see auth_options.py.
    auth: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    updated: str = ""

    def __post_init__(self) -> None:
        self.reindex()

    # Set by the repository: id or name → Collection, for relation paths in filters.
    lookup: Callable[[str], Collection | None] | None = None

    def reindex(self) -> None:
        """Rebuild the name lookups after the field list changed."""
        if self.type == AUTH:
            _force_auth_system_fields(self.fields)
        self.field_map: dict[str, Field] = {f.name: f for f in self.fields}
        self.field_map_ci: dict[str, Field] = {f.name.lower(): f for f in self.fields}

    @property
    def is_auth(self) -> bool:
        return self.type == AUTH

    @property
    def is_view(self) -> bool:
        return self.type == VIEW

    @property
    def is_superusers(self) -> bool:
        return self.name == SUPERUSERS

    def field(self, name: str) -> Field | None:
        return self.field_map.get(name)

    def parsed_indexes(self) -> list[IndexDef]:
        out = []
        for sql in self.indexes:
            try:
                out.append(parse_index(sql))
            except IndexSyntaxError:
                continue
        return out

    def token_secret(self, token_type: str) -> str:
        return str(self.auth.get(token_type, {}).get("secret", ""))

    def token_duration(self, token_type: str) -> int:
        return int(self.auth.get(token_type, {}).get("duration", 0))

    # ----- serialisation ------------------------------------------------------------------
    def to_api(self) -> dict[str, Any]:
        """The collection as PocketBase's API shows it (no secrets)."""
        out: dict[str, Any] = {
            "id": self.id,
            "listRule": self.rules.get("listRule"),
            "viewRule": self.rules.get("viewRule"),
            "createRule": self.rules.get("createRule"),
            "updateRule": self.rules.get("updateRule"),
            "deleteRule": self.rules.get("deleteRule"),
            "name": self.name,
            "type": self.type,
            "fields": [f.to_dict() for f in self.fields],
            "indexes": list(self.indexes),
            "system": self.system,
            "created": self.created,
            "updated": self.updated,
        }
        if self.is_view:
            for key in ("createRule", "updateRule", "deleteRule"):
                out[key] = None  # PocketBase 0.40.6 shows a view's write rules as null
            out["viewQuery"] = self.view_query
        if self.is_auth:
            out.update(public_options(self.auth))
        return out

    def to_storage(self) -> dict[str, Any]:
        """Everything needed to rebuild the collection, secrets included."""
        out = self.to_api()
        out["rules"] = dict(self.rules)
        if self.is_auth:
            out["auth"] = self.auth
        return out

    @classmethod
    def from_storage(cls, data: dict[str, Any]) -> Collection:
        from hearth.schema.fields.registry import field_from_dict

        # Stored options may be PocketBase's own forms (null lists, missing or extra keys).
        auth = normalize_options(data.get("auth")) if data.get("type") == AUTH else {}
        stored_rules = data.get("rules")
        rules: dict[str, Any] = stored_rules if isinstance(stored_rules, dict) else {}
        return cls(
            id=data["id"],
            name=data["name"],
            type=data.get("type", BASE),
            system=bool(data.get("system")),
            rules={k: rules.get(k) for k in RULE_NAMES},
            fields=[field_from_dict(f) for f in data.get("fields") or []],
            indexes=[x for x in data.get("indexes") or [] if isinstance(x, str)],
            view_query=data.get("viewQuery") or "",
            auth=auth,
            created=data.get("created", ""),
            updated=data.get("updated", ""),
        )
