"""Check a rule when a collection is saved: valid syntax, and every identifier exists."""

from __future__ import annotations

from collections.abc import Callable

from hearth.errors import FieldError
from hearth.filter import FilterSyntaxError, parse_filter, walk_identifiers
from hearth.query.resolve import Resolver, UnknownIdentifier, Unsupported
from hearth.schema.collection import Collection

Lookup = Callable[[str], Collection | None]


def _invalid(detail: str) -> FieldError:
    return FieldError("validation_invalid_rule", f"Invalid rule. Raw error: {detail}.")


def check_rule(rule: str, collection: Collection, lookup: Lookup) -> FieldError | None:
    try:
        tree = parse_filter(rule)
    except FilterSyntaxError:
        return _invalid("invalid or incomplete filter expression")
    from hearth.sql.dialect import SQLITE

    # The dialect only shapes SQL text, which is discarded here; lookups resolve relation paths.
    resolver = Resolver(collection, allow_hidden=True, dialect=SQLITE, lookup=lookup)
    for ident in walk_identifiers(tree):
        try:
            resolver.resolve(ident.name)
        except UnknownIdentifier:
            return _invalid(f'invalid left operand "{ident.name}" - unknown field "{ident.name}"')
        except Unsupported:
            continue  # valid PocketBase syntax the engine evaluates later (relations, @collection…)
    return None
