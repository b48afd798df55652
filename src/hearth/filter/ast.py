"""Immutable syntax tree for PocketBase's filter language.

Nodes are frozen, slotted dataclasses so that parse results can be cached and shared between requests.
The tree knows nothing about collections: identifiers are kept as the raw text the user wrote and are
interpreted by the resolver.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass, field

LiteralKind = typing.Literal["text", "number", "bool", "null"]

# Every comparison operator of the language; the `?` forms are the "any of" (multi-match) variants.
OPERATORS: frozenset[str] = frozenset(
    {
        "=",
        "!=",
        ">",
        ">=",
        "<",
        "<=",
        "~",
        "!~",
        "?=",
        "?!=",
        "?>",
        "?>=",
        "?<",
        "?<=",
        "?~",
        "?!~",
    }
)

# Identifiers the resolver treats as constants when no field of that name exists (PocketBase compares
# them case-insensitively).
_CONSTANTS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


@dataclass(frozen=True, slots=True)
class Literal:
    """A quoted text or a number.

    The parser only produces kinds "text" and "number"; "bool" and "null" exist so the resolver can
    represent `true`/`false`/`null` identifiers once it has decided they are constants
    (see `Identifier.as_literal`). `raw` is the source text (with quotes for text); it does not take part
    in equality, so `1` and `1.0` are the same literal.
    """

    value: str | int | float | bool | None
    kind: LiteralKind
    raw: str = field(default="", compare=False)

    @classmethod
    def text(cls, value: str) -> Literal:
        return cls(value, "text")

    @classmethod
    def number(cls, raw: str) -> Literal:
        """A number from its source text: int when there is no decimal point, float otherwise."""
        value: int | float = float(raw) if "." in raw else int(raw)
        return cls(value, "number", raw)


@dataclass(frozen=True, slots=True)
class Identifier:
    """A field path, macro or request/collection reference, exactly as written.

    `path` is `name` split on "." with the modifier of the *last* segment removed; `modifier` is that
    trailing `:name` (everything after the first ":" of the last segment), or None. A ":" on a middle
    segment, as in `@collection.users:alias.email`, stays inside `path` (`("@collection", "users:alias",
    "email")`): only the resolver knows what it means.
    """

    name: str
    path: tuple[str, ...] = field(init=False, repr=False, compare=False)
    modifier: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        segments = self.name.split(".")
        last, sep, modifier = segments[-1].partition(":")
        segments[-1] = last
        object.__setattr__(self, "path", tuple(segments))
        object.__setattr__(self, "modifier", modifier if sep else None)

    @property
    def is_constant(self) -> bool:
        """True for `true`, `false` and `null` (any letter case), which may be constants or field names."""
        return self.name.lower() in _CONSTANTS

    def as_literal(self) -> Literal | None:
        """The constant this identifier stands for when it is not a field, or None if it is no constant."""
        key = self.name.lower()
        if key not in _CONSTANTS:
            return None
        value = _CONSTANTS[key]
        return Literal(value, "null" if value is None else "bool", self.name)


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """`name(arg, ...)`; `name` is the raw identifier text before "(" (e.g. `geoDistance`)."""

    name: str
    args: tuple[Operand, ...] = ()


@dataclass(frozen=True, slots=True)
class Comparison:
    left: Operand
    op: str
    right: Operand


@dataclass(frozen=True, slots=True)
class And:
    """Two or more expressions joined by `&&` at the same parenthesis level."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Two or more expressions joined by `||` at the same parenthesis level."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class SortField:
    expr: Identifier | FunctionCall
    descending: bool = False


Operand = Identifier | Literal | FunctionCall
Expr = Comparison | And | Or
Node = Expr | Operand | SortField


def walk_identifiers(node: Node | None) -> Iterator[Identifier]:
    """Yield every identifier under `node` in source order, including those inside function arguments.

    Function names are not yielded: they are not fields. Iterative, so tree depth never matters.
    """
    stack: list[Node] = [] if node is None else [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Identifier):
            yield current
        elif isinstance(current, Comparison):
            stack.append(current.right)
            stack.append(current.left)
        elif isinstance(current, And | Or):
            stack.extend(reversed(current.items))
        elif isinstance(current, FunctionCall):
            stack.extend(reversed(current.args))
        elif isinstance(current, SortField):
            stack.append(current.expr)
        elif not isinstance(current, Literal):
            raise TypeError(f"not a filter node: {current!r}")
