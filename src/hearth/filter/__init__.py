"""PocketBase's filter language: a pure parser for `?filter=`, `?sort=` and API rules.

No database and no schema knowledge here; resolving identifiers against collections happens later.
"""

from __future__ import annotations

from .ast import (
    OPERATORS,
    And,
    Comparison,
    Expr,
    FunctionCall,
    Identifier,
    Literal,
    LiteralKind,
    Node,
    Operand,
    Or,
    SortField,
    walk_identifiers,
)
from .errors import FilterSyntaxError
from .parser import (
    MAX_EXPRESSIONS,
    MAX_FILTER_LENGTH,
    MAX_FUNCTION_DEPTH,
    MAX_SORT_FIELD_LENGTH,
    MAX_SORT_FIELDS,
    parse_filter,
    parse_sort,
)

__all__ = [
    "MAX_EXPRESSIONS",
    "MAX_FILTER_LENGTH",
    "MAX_FUNCTION_DEPTH",
    "MAX_SORT_FIELDS",
    "MAX_SORT_FIELD_LENGTH",
    "OPERATORS",
    "And",
    "Comparison",
    "Expr",
    "FilterSyntaxError",
    "FunctionCall",
    "Identifier",
    "Literal",
    "LiteralKind",
    "Node",
    "Operand",
    "Or",
    "SortField",
    "parse_filter",
    "parse_sort",
    "walk_identifiers",
]
