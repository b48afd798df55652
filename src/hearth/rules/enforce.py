"""The one gate every transport calls to apply a collection rule.

A rule of None admits superusers only (403 for others), "" admits everyone, and an expression
becomes a SQL condition on the record(s), so lists filter in the database and single records
that fail their rule look missing. A rule this engine cannot evaluate yet admits superusers
only: never more access than PocketBase would give.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hearth.errors import Forbidden
from hearth.query.compile import CompiledFilter, FilterError, Unsupported, compile_filter
from hearth.query.context import RequestInfo
from hearth.schema.collection import Collection
from hearth.sql.dialect import Dialect

SUPERUSERS_ONLY = "Only superusers can perform this action."


@dataclass(frozen=True, slots=True)
class Constraint:
    """What a rule demands of the rows: nothing, nothing at all (deny), or a SQL condition."""

    condition: CompiledFilter | None = None
    deny: bool = False

    @property
    def unrestricted(self) -> bool:
        return self.condition is None and not self.deny

    def params(self, info: RequestInfo) -> list[Any]:
        return self.condition.params(info) if self.condition is not None else []


OPEN = Constraint()
DENY = Constraint(deny=True)


def constraint(d: Dialect, c: Collection, rule: str | None, info: RequestInfo, alias: str = "") -> Constraint:
    """Raise 403 when only superusers may act; otherwise the condition rows must meet."""
    if info.auth.is_superuser:
        return OPEN
    if rule is None:
        raise Forbidden(SUPERUSERS_ONLY)
    if not rule.strip():
        return OPEN
    try:
        compiled = compile_filter(d, c, rule, rule=True, auth_collection=info.auth.collection, alias=alias)
    except (FilterError, Unsupported):
        return DENY
    if compiled is None:
        return OPEN
    if compiled.decide is not None:
        # Only request values are compared (`@request.auth.id != ""`): same answer for every row.
        return OPEN if compiled.decide(info) else DENY
    return Constraint(compiled)
