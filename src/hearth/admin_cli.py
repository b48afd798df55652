"""Superuser management used by the CLI (through the record service, so validation applies)."""

from __future__ import annotations

from hearth.app import Hearth
from hearth.audit import actor
from hearth.errors import NotFound
from hearth.query.context import AuthState, RequestInfo
from hearth.schema.collection import SUPERUSERS


async def _find(h: Hearth, email: str) -> dict[str, object] | None:
    c = h.collections.get(SUPERUSERS)
    assert c is not None
    row = await h.db.fetch_one(h.records.reads.codec(c).sql.by_field("email"), (email,))  # type: ignore[union-attr]
    return h.records.reads.codec(c).values_from_row(row) if row else None


async def upsert_superuser(h: Hearth, email: str, password: str) -> None:
    c = h.collections.get(SUPERUSERS)
    assert c is not None
    system = RequestInfo(auth=AuthState(c, {"id": "_cli"}))
    existing = await _find(h, email)
    body = {"email": email, "password": password, "passwordConfirm": password}
    with actor.acting(actor.CLI):  # what the audit trail names
        if existing is None:
            await h.records.create(c, body, system)
        else:
            await h.records.update(c, str(existing["id"]), body, system)


async def delete_superuser(h: Hearth, email: str) -> None:
    c = h.collections.get(SUPERUSERS)
    assert c is not None
    existing = await _find(h, email)
    if existing is None:
        raise NotFound("Superuser not found.")
    with actor.acting(actor.CLI):
        await h.records.delete(c, str(existing["id"]), RequestInfo(auth=AuthState(c, {"id": "_cli"})))
