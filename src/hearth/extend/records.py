"""Records from Python: what hooks and routes use to read and write data.

Without `auth`, calls act as the server itself (no API rule applies, as a superuser); with
`auth` (a RouteEvent's or event's AuthState) they apply the collection's rules for that
requester, exactly as the REST API does. Records come back as the API shows them to a superuser
(never a password hash or tokenKey). Writes go through the same hooks as API writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from hearth.db.base import Transaction
from hearth.errors import NotFound
from hearth.query.context import AuthState, RequestInfo
from hearth.schema.collection import Collection

if TYPE_CHECKING:
    from hearth.app import Hearth


class Records:
    def __init__(self, hearth: Hearth) -> None:
        self._h = hearth

    def collection(self, id_or_name: str) -> Collection:
        c = self._h.collections.get(id_or_name)
        if c is None:
            raise NotFound(f"Missing collection {id_or_name!s}.")
        return c

    def _info(self, auth: AuthState | None, method: str, body: dict[str, Any] | None = None) -> RequestInfo:
        return RequestInfo(
            auth=auth or self._h.auth.system_state(), method=method, body=body or {}, context="hooks"
        )

    async def _shown(
        self, c: Collection, values: list[dict[str, Any]], auth: AuthState | None
    ) -> list[dict[str, Any]]:
        return await self._h.presenter.present(c, values, auth or self._h.auth.system_state())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """Writes given `tx=` commit together (and their after-commit events run after)."""
        db = self._h.db
        assert db is not None, "Hearth is not started"
        async with db.transaction() as tx:
            yield tx

    async def get(self, collection: str, rid: str, *, auth: AuthState | None = None) -> dict[str, Any] | None:
        c = self.collection(collection)
        try:
            values = await self._h.records.reads.view(c, rid, self._info(auth, "GET"))
        except NotFound:
            return None
        return (await self._shown(c, [values], auth))[0]

    async def list(
        self,
        collection: str,
        *,
        filter: str = "",
        sort: str = "",
        page: int = 1,
        per_page: int = 30,
        auth: AuthState | None = None,
    ) -> list[dict[str, Any]]:
        c = self.collection(collection)
        found = await self._h.records.reads.list(
            c,
            self._info(auth, "GET"),
            page=page,
            per_page=per_page,
            sort=sort,
            filter_text=filter,
            skip_total=True,
        )
        return await self._shown(c, found.items, auth)

    async def first(
        self, collection: str, filter: str = "", *, auth: AuthState | None = None
    ) -> dict[str, Any] | None:
        found = await self.list(collection, filter=filter, per_page=1, auth=auth)
        return found[0] if found else None

    async def count(self, collection: str, filter: str = "", *, auth: AuthState | None = None) -> int:
        c = self.collection(collection)
        found = await self._h.records.reads.list(c, self._info(auth, "GET"), per_page=1, filter_text=filter)
        return found.total_items

    async def create(
        self,
        collection: str,
        data: dict[str, Any],
        *,
        auth: AuthState | None = None,
        tx: Transaction | None = None,
    ) -> dict[str, Any]:
        c = self.collection(collection)
        values = await self._h.records.create(c, dict(data), self._info(auth, "POST", data), tx)
        return (await self._shown(c, [values], auth))[0]

    async def update(
        self,
        collection: str,
        rid: str,
        data: dict[str, Any],
        *,
        auth: AuthState | None = None,
        tx: Transaction | None = None,
    ) -> dict[str, Any]:
        c = self.collection(collection)
        values = await self._h.records.update(c, rid, dict(data), self._info(auth, "PATCH", data), tx)
        return (await self._shown(c, [values], auth))[0]

    async def delete(
        self, collection: str, rid: str, *, auth: AuthState | None = None, tx: Transaction | None = None
    ) -> None:
        c = self.collection(collection)
        await self._h.records.delete(c, rid, self._info(auth, "DELETE"), tx)
