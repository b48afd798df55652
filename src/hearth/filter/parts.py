"""A rule's top-level parts, as source text: what the rules playground evaluates one by one.

`a = 1 && b = 2 || c = 3` is `||` of `a = 1 && b = 2` and `c = 3` ("&&" binds tighter, as the
parser reads it); `(a = 1 || b = 2) && c = 3` is `&&` of `(a = 1 || b = 2)` and `c = 3`;
parentheses around the whole rule are looked through. Each part is a slice of the rule's own
text (comments inside it kept), so it is a filter expression the compiler reads on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lexer import EOF, FUNC, JOIN, LPAREN, RPAREN, Token, tokenize
from .parser import parse_filter


@dataclass(frozen=True, slots=True)
class RuleParts:
    """`operator` joins `parts` ("&&" or "||"); a rule of one comparison has operator "" and
    itself as its only part; an empty rule (only whitespace or comments) has no parts."""

    operator: str
    parts: tuple[str, ...]


def top_level_parts(text: str) -> RuleParts:
    """Split `text` on its top-level joins. Raises FilterSyntaxError when it is no valid rule."""
    if parse_filter(text) is None:  # validates the whole rule first (and its limits)
        return RuleParts("", ())
    tokens = tokenize(text)[:-1]  # without EOF
    while _wrapped(tokens):
        tokens = tokens[1:-1]
    joins = _top_joins(tokens)
    operator = "||" if any(tokens[i].value == "||" for i in joins) else "&&" if joins else ""
    cuts = [i for i in joins if tokens[i].value == operator]
    parts: list[str] = []
    start = 0
    for cut in [*cuts, len(tokens)]:
        chunk = tokens[start:cut]
        parts.append(text[chunk[0].pos : chunk[-1].end])
        start = cut + 1
    return RuleParts(operator, tuple(parts))


def _top_joins(tokens: list[Token]) -> list[int]:
    """Indexes of the joins outside any parentheses or function call."""
    depth = 0
    joins: list[int] = []
    for i, tok in enumerate(tokens):
        if tok.kind in (LPAREN, FUNC):
            depth += 1
        elif tok.kind == RPAREN:
            depth -= 1
        elif tok.kind == JOIN and depth == 0:
            joins.append(i)
    return joins


def _wrapped(tokens: list[Token]) -> bool:
    """Whether the first "(" closes at the last token: `(a || b)`, not `(a) && (b)`."""
    if len(tokens) < 2 or tokens[0].kind != LPAREN or tokens[-1].kind != RPAREN:
        return False
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.kind in (LPAREN, FUNC):
            depth += 1
        elif tok.kind == RPAREN:
            depth -= 1
            if depth == 0:
                return i == len(tokens) - 1
        elif tok.kind == EOF:
            break
    return False
