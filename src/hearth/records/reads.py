"""Record reads: by id, by rule, a page of a list, a realtime snapshot against a rule.

Nothing here writes. Values are dicts of API values keyed by field name.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from hearth.db.base import Database, Executor
from hearth.errors import BadRequest, Forbidden, NotFound
from hearth.query import pyeval
from hearth.query.compile import FilterError, Unsupported, compile_filter, compile_sort
from hearth.query.context import AuthState, RequestInfo
from hearth.records.codec import RecordCodec, codec_for
from hearth.rules import enforce
from hearth.schema.collection import Collection

DEFAULT_PER_PAGE = 30
MAX_OFFSET = 2**62
MAX_PER_PAGE = 1000

# The name a realtime snapshot of a record goes by (reserved: no collection may be named so),
# so rules that join the collection's own table still read the table.
SNAPSHOT = "__hearth_snapshot"

# HEARTH_PYEVAL=0 turns the Python evaluator of realtime checks off: every check is then SQL (a
# switch for benchmarks, and for ruling it out when an event seems wrongly sent or held back).
PYEVAL = os.environ.get("HEARTH_PYEVAL", "1") != "0"


@dataclass(slots=True)
class Page:
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total_items: int
    total_pages: int


class RecordReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    def codec(self, c: Collection) -> RecordCodec:
        return codec_for(self.db.dialect, c)

    async def find(self, c: Collection, rid: str, ex: Executor | None = None) -> dict[str, Any] | None:
        codec = self.codec(c)
        row = await (ex or self.db).fetch_one(codec.sql.by_id, (rid,))
        return None if row is None else codec.values_from_row(row)

    async def find_row(self, c: Collection, rid: str, ex: Executor | None = None) -> Any:
        return await (ex or self.db).fetch_one(self.codec(c).sql.by_id, (rid,))

    async def find_allowed(
        self, c: Collection, rid: str, rule: str | None, info: RequestInfo, ex: Executor | None = None
    ) -> Any:
        """The row of `rid` if it exists and its rule admits the requester, else None (403 for null rules)."""
        return await self.row_meeting(c, rid, enforce.constraint(self.db.dialect, c, rule, info), info, ex)

    async def row_meeting(
        self, c: Collection, rid: str, con: enforce.Constraint, info: RequestInfo, ex: Executor | None
    ) -> Any:
        """The row of `rid` if it exists and meets an already compiled constraint, else None."""
        if con.deny:
            return None
        codec = self.codec(c)
        if con.condition is None:
            return await (ex or self.db).fetch_one(codec.sql.by_id, (rid,))
        sql = codec.sql.by_id_where(con.condition.render(self.db.dialect, 2))
        return await (ex or self.db).fetch_one(sql, (rid, *con.params(info)))

    async def matches_rule(
        self, c: Collection, rid: str, rule: str | None, info: RequestInfo, ex: Executor | None = None
    ) -> bool:
        """Whether record `rid` meets `rule` for this requester (null rules: superusers only)."""
        if info.auth.is_superuser:
            return True
        if rule is None:
            return False
        try:
            return await self.find_allowed(c, rid, rule, info, ex) is not None
        except Forbidden:
            return False

    async def snapshot_meets(
        self,
        c: Collection,
        values: dict[str, Any],
        rule: str | None,
        info: RequestInfo,
        filter_text: str = "",
        *,
        python: bool = True,
    ) -> bool:
        """Whether a record given by its values (not read from the table: it may be deleted)
        meets `rule` and a client `filter_text` for this requester (realtime events).

        Answered in Python (hearth.query.pyeval) when both the rule and the filter read only the
        record's own values and the request; otherwise, or with `python=False`, by SQL over the
        values as a one-row snapshot."""
        if python and PYEVAL:
            fast = self.python_meets(c, values, rule, info, filter_text)
            if fast is not None:
                return fast
        alias = SNAPSHOT
        try:
            con = enforce.constraint(self.db.dialect, c, rule, info, alias)
        except Forbidden:
            return False
        if con.deny:
            return False
        conditions = [con.condition] if con.condition is not None else []
        client_filter = self._client_filter(c, filter_text, info.auth, alias) if filter_text else None
        if client_filter is not None:
            conditions.append(client_filter)
        if not conditions:
            return True
        codec = self.codec(c)
        params: list[Any] = codec.params(values, codec.sql.columns)
        parts = []
        for cond in conditions:
            parts.append(cond.render(self.db.dialect, len(params) + 1))
            params.extend(cond.params(info))
        sql = codec.sql.snapshot_where(alias, " AND ".join(parts))
        return await self.db.fetch_one(sql, params) is not None

    def python_meets(
        self,
        c: Collection,
        values: dict[str, Any],
        rule: str | None,
        info: RequestInfo,
        filter_text: str = "",
    ) -> bool | None:
        """`snapshot_meets` in Python, or None when the rule or the filter is declined (then SQL
        decides the whole check)."""
        d = self.db.dialect
        superuser = info.auth.is_superuser
        checks: list[pyeval.Predicate] = []
        if not superuser:
            if rule is None:
                return None  # SQL's answer (403 → False) costs nothing either
            if rule.strip():
                check = pyeval.predicate(d, c, rule, rule=True)
                if check is None:
                    return None
                checks.append(check)
        if filter_text:
            if not superuser and ("@collection." in filter_text or "@request." in filter_text):
                return None  # refused (403) by the SQL path
            check = pyeval.predicate(d, c, filter_text, rule=superuser)
            if check is None:
                return None
            checks.append(check)
        for check in checks:
            answer = check(values, info)
            if answer is not True:
                return answer  # False, or None: ask SQL
        return True

    async def view(self, c: Collection, rid: str, info: RequestInfo) -> dict[str, Any]:
        row = await self.find_allowed(c, rid, c.rules.get("viewRule"), info)
        if row is None:
            raise NotFound()
        return self.codec(c).values_from_row(row)

    async def list(
        self,
        c: Collection,
        info: RequestInfo,
        *,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        sort: str = "",
        filter_text: str = "",
        skip_total: bool = False,
        rule: str = "listRule",
    ) -> Page:
        """A page of the records `rule` (the listRule; the rules playground also lists by the
        viewRule) and the client's filter admit for this requester."""
        auth = info.auth
        con = enforce.constraint(self.db.dialect, c, c.rules.get(rule), info)
        codec = self.codec(c)
        page = page if page > 0 else 1
        per_page = per_page if per_page > 0 else DEFAULT_PER_PAGE
        per_page = min(per_page, MAX_PER_PAGE)
        if not auth.is_superuser and ("@collection." in sort or "@request." in sort):
            raise Forbidden("Only superusers can filter by @collection and @request.")
        try:
            order = compile_sort(self.db.dialect, c, sort, superuser=auth.is_superuser)
        except (FilterError, Unsupported) as exc:
            raise BadRequest() from exc
        if con.deny:
            return Page([], page, per_page, 0 if not skip_total else -1, 0 if not skip_total else -1)
        d = self.db.dialect
        conditions = [con.condition] if con.condition is not None else []
        user_filter = self._client_filter(c, filter_text, auth)
        if user_filter is not None:
            conditions.append(user_filter)
        where_parts: list[str] = []
        params: list[Any] = []
        for cond in conditions:
            where_parts.append(cond.render(d, len(params) + 1))
            params.extend(cond.params(info))
        where = " AND ".join(where_parts)
        where_params = list(params)
        order_sql = order.render(d, len(params) + 1)
        params.extend(order.params(info))
        n = len(params)
        sql = codec.sql.select(where, order_sql, d.placeholder(n + 1), d.placeholder(n + 2))
        offset = (page - 1) * per_page
        # Past any real table: answer an empty page instead of overflowing the engine's integers.
        rows = await self.db.fetch_all(sql, (*params, per_page, offset)) if offset < MAX_OFFSET else []
        items = [codec.values_from_row(r) for r in rows]
        if skip_total:
            return Page(items, page, per_page, -1, -1)
        row = await self.db.fetch_one(codec.sql.count(where), where_params)
        total = int(row[0]) if row else 0
        return Page(items, page, per_page, total, math.ceil(total / per_page))

    def _client_filter(self, c: Collection, text: str, auth: AuthState, alias: str = "") -> Any:
        if text == "":
            return None
        if not auth.is_superuser:
            for prefix in ("@collection.", "@request."):
                if prefix in text:
                    raise Forbidden(f"Only superusers can filter by {prefix}")
        try:
            # Superusers may filter on hidden fields, as in rules; nobody else can.
            compiled = compile_filter(
                self.db.dialect, c, text, rule=auth.is_superuser, auth_collection=auth.collection, alias=alias
            )
        except (FilterError, Unsupported) as exc:
            raise BadRequest() from exc
        if compiled is None:
            raise BadRequest()  # only whitespace or comments: PocketBase refuses it too
        return compiled
