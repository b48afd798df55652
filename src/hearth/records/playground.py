"""The rules playground (beyond PocketBase, for superusers): which records of a collection an
auth record (or a guest) may list or view, and why a record is refused.

Nothing here evaluates a rule itself: the records are listed by `RecordReader.list` and checked
by `RecordReader.matches_rule`, the records API's own paths, with the request made as the chosen
auth record. A refused record's rule is split into its top-level `&&`/`||` parts
(hearth.filter.parts) and each part is checked the same way, as a rule of its own on that record.
"""

from __future__ import annotations

from typing import Any

from hearth.errors import BadRequest, FieldError, Forbidden, NotFound
from hearth.filter import FilterSyntaxError
from hearth.filter.parts import top_level_parts
from hearth.query.compile import FilterError, Unsupported, compile_filter
from hearth.query.context import GUEST, AuthState, RequestInfo
from hearth.records.present import RecordPresenter
from hearth.records.reads import MAX_PER_PAGE, RecordReader
from hearth.schema.collection import Collection
from hearth.schema.repository import CollectionRepository

RULES = {"list": "listRule", "view": "viewRule"}
INVALID = "Failed to load the playground's request."
MAX_ID_LENGTH = 255
MAX_CHECKED = 100  # ids of `check` in one request
MAX_DEPTH = 4  # levels of parts explained (top-level parts are level 1)
MAX_PARTS = 50  # parts checked for one record


def _id_like(x: Any) -> bool:
    """Text that can be a record id (the records API 404s the rest before any query)."""
    return isinstance(x, str) and 0 < len(x) <= MAX_ID_LENGTH and "\x00" not in x


def _invalid(name: str, message: str) -> BadRequest:
    return BadRequest(INVALID, {name: FieldError("validation_invalid_value", message)})


class RulesPlayground:
    def __init__(self, reads: RecordReader, presenter: RecordPresenter, collections: CollectionRepository) -> None:
        self.reads = reads
        self.presenter = presenter
        self.collections = collections

    async def run(self, c: Collection, body: dict[str, Any]) -> dict[str, Any]:
        """`body`: `auth` ({collection, id} or null: a guest), `rule` ("list" or "view"),
        optionally `record` (an id to explain), `check` (ids: whether the rule admits each),
        `page` and `perPage`."""
        rule_kind = body.get("rule", "list")
        if rule_kind not in RULES:
            raise _invalid("rule", 'Must be "list" or "view".')
        page, per_page = _int(body, "page", 1), _int(body, "perPage", 30)
        page, per_page = max(page, 1), min(per_page if per_page > 0 else 30, MAX_PER_PAGE)
        rid = body.get("record", "")
        if not isinstance(rid, str) or (rid and not _id_like(rid)):
            raise _invalid("record", "Must be a record id.")
        check = body.get("check", [])
        if (not isinstance(check, list) or len(check) > MAX_CHECKED
                or not all(_id_like(x) for x in check)):
            raise _invalid("check", f"Must be a list of at most {MAX_CHECKED} record ids.")
        auth = await self._acting_as(body.get("auth"))
        info = RequestInfo(auth=auth)
        rule_name = RULES[rule_kind]
        rule = c.rules.get(rule_name)
        out: dict[str, Any] = {
            "rule": rule_kind,
            "expression": rule,
            "auth": None if auth.is_guest else {"collection": auth.collection.name if auth.collection else "",
                                                "id": auth.id},
            "superuser": auth.is_superuser,
            # Who the rule admits: "superusers" (null rule), "everyone" ("") or "expression".
            "access": "superusers" if rule is None else "everyone" if not rule.strip() else "expression",
        }  # fmt: skip
        try:
            listed = await self.reads.list(c, info, page=page, per_page=per_page, rule=rule_name)
            items = await self.presenter.serialize(c, listed.items, info)
            out.update(items=items, page=listed.page, perPage=listed.per_page,
                       totalItems=listed.total_items, totalPages=listed.total_pages)  # fmt: skip
        except Forbidden:  # a null rule: superusers only
            out.update(items=[], page=page, perPage=per_page, totalItems=0, totalPages=0)
        if check:  # a missing record is not admitted either
            out["checked"] = {x: await self.reads.matches_rule(c, x, rule, info) for x in check}
        if rid:
            out["record"] = await self.explain(c, rid, rule, info)
        return out

    async def explain(self, c: Collection, rid: str, rule: str | None, info: RequestInfo) -> dict[str, Any]:
        """Whether `rule` admits record `rid` for this requester, and each top-level part's answer."""
        if await self.reads.find_row(c, rid) is None:
            raise NotFound("The record does not exist.")
        allowed = await self.reads.matches_rule(c, rid, rule, info)
        out: dict[str, Any] = {"id": rid, "allowed": allowed, "operator": "", "parts": []}
        if rule is None or not rule.strip() or info.auth.is_superuser:
            return out  # nothing to split: superusers only, everyone, or a superuser asking
        try:
            split = top_level_parts(rule)
        except FilterSyntaxError as exc:
            out["error"] = f"The rule is not valid: {exc}"
            return out
        out["operator"] = split.operator
        budget = [MAX_PARTS]
        for part in split.parts:
            out["parts"].append(await self._part(c, rid, part, info, 1, budget))
        return out

    async def _part(
        self, c: Collection, rid: str, part: str, info: RequestInfo, depth: int, budget: list[int]
    ) -> dict[str, Any]:
        """One part's answer on the record; a part that is itself a `&&`/`||` of parts (in
        parentheses, or the `&&` run of an `||`) has its own parts too, MAX_DEPTH levels and
        MAX_PARTS checks at most."""
        budget[0] -= 1
        try:
            compile_filter(self.reads.db.dialect, c, part, rule=True, auth_collection=info.auth.collection)
        except (FilterError, Unsupported) as exc:
            # The whole rule then admits nobody (never more access than PocketBase would give).
            return {"expression": part, "result": None, "error": str(exc) or "The expression cannot be evaluated."}
        node: dict[str, Any] = {"expression": part, "result": await self.reads.matches_rule(c, rid, part, info)}
        split = top_level_parts(part)  # valid: a slice of a valid rule at a join
        if split.operator and depth < MAX_DEPTH and budget[0] >= len(split.parts):
            node["operator"] = split.operator
            node["parts"] = [await self._part(c, rid, sub, info, depth + 1, budget) for sub in split.parts]
        return node

    async def _acting_as(self, ref: Any) -> AuthState:
        """The auth record `ref` names ({collection, id}), or a guest for null."""
        if ref is None:
            return GUEST
        if not isinstance(ref, dict) or not isinstance(ref.get("collection"), str) or not isinstance(ref.get("id"), str):
            raise _invalid("auth", "Must be null (a guest) or an object with an auth collection and a record id.")
        ac = self.collections.get(ref["collection"])
        if ac is None or not ac.is_auth:
            raise _invalid("auth", "Not an auth collection.")
        rid = ref["id"]
        row = await self.reads.find_row(ac, rid) if _id_like(rid) else None
        if row is None:
            raise _invalid("auth", "The auth record does not exist.")
        codec = self.reads.codec(ac)
        values = codec.values_from_row(row)
        # As a token would resolve it (hearth.auth.service): rules may read the password hash.
        values["password"] = codec.raw_value(row, "password")
        return AuthState(ac, values)


def _int(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(name, "Must be an integer.")
    return value
