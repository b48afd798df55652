"""Provider names → classes, and instances built from a collection's `oauth2` options."""

from __future__ import annotations

from typing import Any

from hearth.auth.oauth2.base import Provider
from hearth.auth.oauth2.oidc import OIDC, OIDC2, OIDC3
from hearth.auth.oauth2.vendors import Discord, Facebook, GitHub, GitLab, Google, Microsoft
from hearth.schema.collection import Collection

PROVIDERS: dict[str, type[Provider]] = {
    cls.name: cls for cls in (Google, Microsoft, Facebook, GitHub, GitLab, Discord, OIDC, OIDC2, OIDC3)
}


def provider_list() -> list[dict[str, str]]:
    """`GET /api/collections/meta/oauth2-providers`: by PocketBase's order, then by name."""
    ordered = sorted(PROVIDERS.values(), key=lambda cls: (cls.order, cls.name))
    return [{"name": cls.name, "displayName": cls.display_name_default, "logo": cls.logo} for cls in ordered]


def provider_config(c: Collection, name: str) -> dict[str, Any] | None:
    """The first `oauth2.providers` entry with this name (PocketBase's GetProviderConfig)."""
    for entry in c.auth.get("oauth2", {}).get("providers", []) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def init_provider(config: dict[str, Any]) -> Provider | None:
    """A provider configured by one `oauth2.providers` entry; None for a name Hearth lacks."""
    cls = PROVIDERS.get(str(config.get("name", "")))
    return cls(config) if cls is not None else None
