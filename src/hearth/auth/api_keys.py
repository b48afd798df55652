"""API keys for server-to-server calls (beyond PocketBase).

A key is sent as `Authorization: Bearer hk_<id>_<secret>`. It acts like a superuser (API rules do
not apply) but only within its scopes:

- `<collection>:read` / `<collection>:write` (`*` for every collection): the records API of that
  collection (read = list, view and file reads; write = create, update, delete, and batch
  requests touching it);
- `admin`: everything else a superuser may do (collections, settings, impersonation…).

Only a SHA-256 of the secret is stored, compared in constant time; the key itself is shown once,
when it is created. Deleting a key stops it on every process at once (the revocation counter).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any

import orjson

from hearth._util import times
from hearth._util.ids import random_string, record_id
from hearth.db.base import Database
from hearth.errors import BadRequest, FieldError, NotFound
from hearth.schema.repository import CollectionRepository
from hearth.sql import system

PREFIX = "hk_"
SECRET_LENGTH = 40
_SCOPE_RE = re.compile(r"^(admin|(\*|[A-Za-z0-9_]+):(read|write))$")
_KEY_RE = re.compile(r"^hk_([a-z0-9]{15})_([A-Za-z0-9]{40})$")
MAX_SCOPES = 100


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    secret_hash: str
    scopes: frozenset[str]
    expires: int  # unix seconds; 0 = never
    created: str

    def allows(self, scope: str) -> bool:
        """`scope` is `admin` or `<collection>:<read|write>`."""
        if scope in self.scopes:
            return True
        if scope == "admin":
            return False
        _, _, action = scope.partition(":")
        return f"*:{action}" in self.scopes

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "scopes": sorted(self.scopes),
            "expires": self.expires,
            "created": self.created,
        }


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


class ApiKeys:
    def __init__(self, db: Database, collections: CollectionRepository) -> None:
        self.db = db
        self.collections = collections
        self._keys: dict[str, ApiKey] = {}
        self._seen = -1

    async def _sync(self) -> None:
        if self._seen == self.collections.revocations:
            return
        rows = await self.db.fetch_all(system.select_api_keys(self.db.dialect))
        keys = {}
        for r in rows:
            scopes = orjson.loads(r[3]) if isinstance(r[3], str | bytes) else r[3]
            keys[str(r[0])] = ApiKey(str(r[0]), str(r[1]), str(r[2]), frozenset(scopes), int(r[4]), str(r[5]))
        self._keys = keys
        self._seen = self.collections.revocations

    async def _changed(self) -> None:
        """Tell every process (the same counter as revoked sessions)."""
        async with self.db.transaction() as tx:
            await tx.execute(system.bump_revocations(self.db.dialect))
        self.db.bump_generation()
        await self.collections.refresh()

    async def find(self, token: str) -> ApiKey | None:
        """The live key `token` is, or None (unknown, wrong secret, expired, malformed)."""
        m = _KEY_RE.match(token)
        if m is None:
            return None
        await self._sync()
        key = self._keys.get(m.group(1))
        if key is None or not hmac.compare_digest(key.secret_hash, _hash(m.group(2))):
            return None
        if key.expires and key.expires <= time.time():
            return None
        return key

    async def all(self) -> list[dict[str, Any]]:
        await self._sync()
        return [k.public() for k in self._keys.values()]

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        name, scopes, duration = body.get("name", ""), body.get("scopes", []), body.get("duration", 0)
        errors: dict[str, Any] = {}
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            errors["name"] = FieldError("validation_required", "Cannot be blank.")
        if (
            not isinstance(scopes, list)
            or not scopes
            or len(scopes) > MAX_SCOPES
            or not all(isinstance(s, str) and _SCOPE_RE.match(s) for s in scopes)
        ):
            errors["scopes"] = FieldError(
                "validation_invalid_scopes",
                "Must be a non-empty list of 'admin', '<collection>:read' or '<collection>:write'.",
            )
        if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
            errors["duration"] = FieldError(
                "validation_min_greater_equal_than_required", "Must be no less than 0."
            )
        if errors:
            raise BadRequest("An error occurred while validating the submitted data.", errors)
        kid, secret = record_id(), random_string(SECRET_LENGTH)
        expires = int(time.time()) + duration if duration else 0
        created = times.now()
        await self.db.execute(
            system.insert_api_key(self.db.dialect),
            (kid, name.strip(), _hash(secret), orjson.dumps(sorted(set(scopes))).decode(), expires, created),
        )
        await self._changed()
        await self._sync()
        key = self._keys[kid]
        return {**key.public(), "key": f"{PREFIX}{kid}_{secret}"}

    async def delete(self, kid: str) -> None:
        written = await self.db.execute(system.delete_api_key(self.db.dialect), (kid,))
        if not written:
            raise NotFound()
        await self._changed()


def required_scope(method: str, path: str) -> str:
    """The scope a request needs: `<collection>:read|write` for the records API, else `admin`."""
    parts = path.strip("/").split("/")
    if len(parts) >= 4 and parts[:2] == ["api", "collections"] and parts[3] == "records":
        return f"{parts[2]}:{'read' if method in ('GET', 'HEAD') else 'write'}"
    if len(parts) >= 3 and parts[:2] == ["api", "files"] and method in ("GET", "HEAD"):
        return f"{parts[2]}:read"
    if parts == ["api", "batch"]:
        return "*:write"
    return "admin"
