"""The first-run installer: while `_superusers` is empty, `hearth serve` prints a link carrying
an installer token, and the dashboard's page behind it creates the first superuser with it.

The token is not an auth token (no record id, its own `type`, its own key): the auth middleware
refuses it, so it can do nothing but the one call below, which also refuses once any superuser
exists. It is signed with the `_superusers` collection's auth secret (shared through the
database by every worker and instance) plus a suffix, and lives INSTALL_DURATION seconds.
Nothing is written to the database: every start issues a fresh token, and no installer record
is ever left behind. See docs/dashboard.md ("First run").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hearth.auth import tokens
from hearth.db.base import Executor
from hearth.errors import BadRequest
from hearth.query.context import AuthState, RequestInfo
from hearth.schema.collection import SUPERUSERS, Collection
from hearth.sql import system

if TYPE_CHECKING:
    from hearth.app import Hearth

INSTALL = "pbinstall"
INSTALL_DURATION = 30 * 60  # PocketBase's installer token lives 30 minutes too
INVALID = "The installer link is invalid, expired or already used; create a superuser with `hearth superuser upsert EMAIL PASS`."


def _superusers(h: Hearth) -> Collection:
    c = h.collections.get(SUPERUSERS)
    assert c is not None
    return c


def _key(c: Collection) -> str:
    # A key of its own: an installer token can never pass as an auth (or any other) token.
    return c.token_secret("authToken") + ":installer"


async def superuser_count(h: Hearth, ex: Executor | None = None) -> int:
    """How many superusers exist (read through `ex`, a transaction, when given)."""
    ex = ex if ex is not None else h.db
    assert ex is not None  # started
    row = await ex.fetch_one(h.records.reads.codec(_superusers(h)).sql.count(""), ())
    return int(row[0]) if row else 0


async def installer_token(h: Hearth) -> str | None:
    """A fresh installer token, or None when a superuser exists."""
    if await superuser_count(h) > 0:
        return None
    c = _superusers(h)
    return tokens.issue({"type": INSTALL, "collectionId": c.id}, _key(c), INSTALL_DURATION)


async def install(h: Hearth, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create the first superuser from `body` (email, password, passwordConfirm) with an
    installer token; 400 when the token is bad or expired or a superuser exists already."""
    c = _superusers(h)
    claims = tokens.verify(token, _key(c)) if token else None
    if claims is None or claims.get("type") != INSTALL or claims.get("collectionId") != c.id:
        raise BadRequest(INVALID)
    fields: dict[str, Any] = {k: body[k] for k in ("email", "password", "passwordConfirm") if k in body}
    # As `hearth superuser upsert` does: the record service validates, hashes and audits (the
    # caller names the actor: audit is a layer above).
    db = h.db
    assert db is not None
    # The check and the insert in one transaction, under a lock: two instances handed links at
    # the same moment cannot both see an empty table.
    async with db.transaction() as tx:
        lock = system.installer_lock(db.dialect)
        if lock is not None:
            await tx.fetch_one(lock)
        if await superuser_count(h, tx) > 0:
            raise BadRequest(INVALID)
        return await h.records.create(c, fields, RequestInfo(auth=AuthState(c, {"id": "_installer"})), tx)
