"""Check a rule's syntax and that its identifiers exist, when a collection is saved."""

from __future__ import annotations

from collections.abc import Callable

from hearth.errors import FieldError
from hearth.schema.collection import Collection

Lookup = Callable[[str], Collection | None]


def check_rule(rule: str, collection: Collection, lookup: Lookup) -> FieldError | None:
    from hearth.filter import FilterSyntaxError, parse_filter

    try:
        parse_filter(rule)
    except FilterSyntaxError as exc:
        return FieldError("validation_invalid_rule", f"Invalid rule. Raw error: {exc}.")
    return None
