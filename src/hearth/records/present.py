"""Records as a requester may see them: every response that holds records is built here (hidden
fields, an auth record's e-mail, `?expand=`)."""

from __future__ import annotations

from typing import Any

from hearth.errors import Forbidden
from hearth.hooks.catalog import Hooks
from hearth.hooks.events import RecordEnrich
from hearth.query.context import AuthState, RequestInfo
from hearth.records.expand import expand as expand_records
from hearth.records.reads import RecordReader
from hearth.rules import enforce
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository

Records = list[dict[str, Any]]


class RecordPresenter:
    def __init__(self, reads: RecordReader, collections: CollectionRepository, hooks: Hooks) -> None:
        self.reads = reads
        self.collections = collections
        self.enrich = hooks.record_enrich

    async def serialize(
        self, c: Collection, values: Records, info: RequestInfo, expand_text: str = ""
    ) -> Records:
        """Records as the API shows them to this requester, with `?expand=` applied."""
        return await expand_records(self, c, values, expand_text, info)

    async def present(self, c: Collection, values: Records, auth: AuthState) -> Records:
        shown = await self._visible(c, values, auth)
        if len(self.enrich):
            for api in shown:  # handlers change what this requester sees of each record
                await self.enrich.trigger(RecordEnrich(c, api, auth))
        return shown

    async def _visible(self, c: Collection, values: Records, auth: AuthState) -> Records:
        """Records as this requester may see them, without expansions. Every response that holds
        records is built here (through `RecordCodec.to_api`, which never emits secret columns):
        hidden fields for superusers only; an auth record's e-mail when it is visible, when the
        requester is that record, a superuser, or passes the collection's manageRule."""
        codec = self.reads.codec(c)
        if auth.is_superuser:
            return [codec.to_api(v, show_hidden=True) for v in values]
        if not c.is_auth:
            return [codec.to_api(v) for v in values]
        own = auth.id if auth.collection is not None and auth.collection.id == c.id else None
        shown = {v.get("id") for v in values if v.get("emailVisibility") or (own and v.get("id") == own)}
        shown |= await self._managed_ids(c, [v for v in values if v.get("id") not in shown], auth)
        return [codec.to_api(v, show_email=v.get("id") in shown) for v in values]

    async def _managed_ids(self, c: Collection, values: Records, auth: AuthState) -> set[Any]:
        """Which of these auth records the (authenticated) requester may manage (manageRule)."""
        rule = c.auth.get("manageRule")
        if not values or auth.record is None or rule is None:
            return set()
        ids = [str(v.get("id")) for v in values]
        info = RequestInfo(auth=auth)
        try:
            con = enforce.constraint(self.reads.db.dialect, c, rule, info)
        except Forbidden:
            return set()
        if con.deny:
            return set()
        if con.condition is None:
            return set(ids)
        codec = self.reads.codec(c)
        sql = codec.sql.with_ids(len(ids), con.condition.render(self.reads.db.dialect, len(ids) + 1))
        rows = await self.reads.db.fetch_all(sql, (*ids, *con.params(info)))
        return {codec.values_from_row(r)["id"] for r in rows}
