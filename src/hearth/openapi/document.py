"""The whole OpenAPI 3.1 document, built from the live collections and cached per schema version."""

from __future__ import annotations

from typing import Any

import orjson

from hearth.openapi import auth, common, hearth_api, operations, records, system
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository
from hearth.version import __version__

_INTRO = """\
Hearth speaks PocketBase's HTTP API. This description is generated from the live collections:
every collection's record endpoints with its fields, and each API rule in words.

**Auth**: send a token in the `Authorization` header as it is (PocketBase sends no `Bearer`
prefix; Hearth accepts one too). Tokens come from an auth collection's `auth-with-*`
endpoints; an API key (`hk_…`) works the same way within its scopes.

**Collections** appear by name in the paths (`/api/collections/posts/records`); their id works
in the same place.

**Errors** use PocketBase's envelope `{status, message, data}`. Every operation may also answer
429 (rate limits, when enabled) and 503 (the database cannot be reached, with Retry-After).

**Not described**: hidden fields (superusers receive them too), fields that record hooks add,
and the coercions PocketBase applies to input (a number sent as a string, …): the schemas name
the canonical form.
"""

_TAGS = [
    {"name": "system", "description": "Health, batch and this description."},
    {"name": "collections", "description": "Collections (superusers only)."},
    {"name": "settings", "description": "Application settings (superusers only)."},
    {"name": "realtime", "description": "Server-Sent Events and the OAuth2 redirect it serves."},
    {"name": "files", "description": "File downloads and file tokens."},
    {"name": "crons", "description": "Registered crons (superusers only)."},
    {"name": "jobs", "description": "Hearth's durable jobs (superusers only)."},
    {"name": "webhooks", "description": "Hearth's outbound webhooks (superusers only)."},
    {"name": "api keys", "description": "Hearth's API keys (superusers only)."},
    {"name": "rules playground", "description": "Hearth's rules playground (superusers only)."},
]


def build(collections: list[Collection], lookup: Any) -> dict[str, Any]:
    """The document for this set of collections (`lookup`: id or name → Collection)."""
    schemas: dict[str, Any] = {"Error": common.error_schema(), **system.components(), **hearth_api.components(),
                               **operations.components()}
    paths: dict[str, Any] = {}
    paths.update(system.paths())
    paths.update(auth.file_token_path())
    tags = [*_TAGS, *operations.TAGS]
    for c in sorted(collections, key=lambda c: c.name):
        schemas.update(records.components(c, lookup))
        paths.update(records.paths(c))
        if c.is_auth:
            paths.update(auth.paths(c))
        tags.append(records.tag(c))
    paths.update(hearth_api.paths())
    paths.update(operations.paths())
    for item in paths.values():
        for method, op in item.items():
            if method != "parameters":
                op["responses"].update(common.errors(429))
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": "Hearth API", "version": __version__, "description": _INTRO},
        "servers": [{"url": "/"}],
        "security": [{}, {common.SECURITY_SCHEME: []}],
        "tags": tags,
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                common.SECURITY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "An auth token (or API key) as it is, without `Bearer `.",
                },
                **operations.security_schemes(),
            },
        },
    }


class OpenAPIDocument:
    """The encoded document, rebuilt only when the schema version moves."""

    def __init__(self, collections: CollectionRepository) -> None:
        self.collections = collections
        self._version = -1
        self._encoded = b""

    def encoded(self) -> bytes:
        """The JSON document for the collections as loaded now (the caller refreshes them)."""
        repo = self.collections
        if self._version != repo.version or not self._encoded:
            self._encoded = orjson.dumps(build(repo.all(), repo.get))
            self._version = repo.version
        return self._encoded
