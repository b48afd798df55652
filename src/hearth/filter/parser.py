"""Recursive-descent parser for filters (`?filter=`, API rules) and sort lists (`?sort=`).

Grammar (PocketBase's fexpr):

    filter     = expr_list
    expr_list  = term { ("&&" | "||") term }          -- "&&" binds tighter than "||"
    term       = "(" expr_list ")" | operand op operand
    operand    = identifier | number | text | function
    function   = identifier "(" [ operand { "," operand } [ "," ] ] ")"

Parentheses are parsed with an explicit stack and function nesting is bounded by
MAX_FUNCTION_DEPTH, so hostile input cannot exhaust the Python stack.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .ast import And, Comparison, Expr, FunctionCall, Identifier, Literal, Operand, Or, SortField
from .errors import FilterSyntaxError
from .lexer import (
    COMMA,
    EOF,
    FUNC,
    IDENT,
    JOIN,
    LPAREN,
    NUMBER,
    RPAREN,
    SIGN,
    TEXT,
    Token,
    is_valid_identifier,
    scan_text,
    tokenize,
)

# PocketBase's limits (tools/search); fexpr has no bound on parentheses, nor has this parser.
MAX_FILTER_LENGTH = 3500
MAX_EXPRESSIONS = 200
MAX_FUNCTION_DEPTH = 3
MAX_SORT_FIELDS = 8
MAX_SORT_FIELD_LENGTH = 255

_CACHE_SIZE = 1024


def _describe(tok: Token) -> str:
    if tok.kind == EOF:
        return "end of input"
    if tok.kind == TEXT:
        return f"text {tok.value!r}"
    if tok.kind == FUNC:
        return f"function {tok.value!r}"
    if tok.kind in (IDENT, NUMBER):
        return f"{tok.kind} {tok.value!r}"
    return repr(tok.value)


class _Parser:
    __slots__ = ("source", "tokens", "index", "comparisons")

    def __init__(self, source: str, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.index = 0
        self.comparisons = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        tok = self.tokens[self.index]
        if tok.kind != EOF:  # EOF is sticky so lookahead past the end is always safe
            self.index += 1
        return tok

    def expr_list(self) -> Expr:
        """Parentheses are handled with an explicit stack, not recursion: PocketBase has no bound
        on their nesting (a filter is only limited in length), and neither has this parser."""
        # Per open group: its "||"-items so far, its current "&&"-run, and its "(" token.
        outer: list[tuple[list[Expr], list[Expr], Token | None]] = []
        or_items: list[Expr] = []
        and_items: list[Expr] = []
        opened: Token | None = None
        while True:
            tok = self.advance()
            if tok.kind == LPAREN:
                if self.peek().kind == RPAREN:
                    raise FilterSyntaxError("empty parentheses", tok.pos)
                outer.append((or_items, and_items, opened))
                or_items, and_items, opened = [], [], tok
                continue
            item: Expr = self.comparison(tok)
            while True:  # attach the item; close every group that ends right after it
                and_items.append(item)
                nxt = self.peek()
                if nxt.kind == JOIN:
                    join = self.advance()
                    after = self.peek()
                    if after.kind in (EOF, RPAREN):
                        raise FilterSyntaxError(
                            f"expected an expression after {join.value!r}, got {_describe(after)}", after.pos
                        )
                    if join.value == "||":  # "&&" binds tighter: close the run
                        or_items.append(and_items[0] if len(and_items) == 1 else And(tuple(and_items)))
                        and_items = []
                    break
                or_items.append(and_items[0] if len(and_items) == 1 else And(tuple(and_items)))
                expr = or_items[0] if len(or_items) == 1 else Or(tuple(or_items))
                if opened is None:
                    return expr
                close = self.advance()
                if close.kind != RPAREN:
                    if close.kind == EOF:
                        raise FilterSyntaxError("missing ')' to close '('", opened.pos)
                    raise FilterSyntaxError(f"expected '&&', '||' or ')', got {_describe(close)}", close.pos)
                or_items, and_items, opened = outer.pop()
                item = expr

    def comparison(self, tok: Token) -> Comparison:
        left = self.operand(tok, 1)
        if left is None:
            raise FilterSyntaxError(f"expected an expression, got {_describe(tok)}", tok.pos)
        op = self.advance()
        if op.kind != SIGN:
            raise FilterSyntaxError(
                f"expected an operator after {_describe(tok)}, got {_describe(op)}", op.pos
            )
        rtok = self.advance()
        right = self.operand(rtok, 1)
        if right is None:
            raise FilterSyntaxError(
                f"expected an operand after {op.value!r}, got {_describe(rtok)}", rtok.pos
            )
        self.comparisons += 1
        if self.comparisons > MAX_EXPRESSIONS:
            raise FilterSyntaxError(f"too many expressions (MAX_EXPRESSIONS is {MAX_EXPRESSIONS})", tok.pos)
        return Comparison(left, op.value, right)

    def operand(self, tok: Token, func_depth: int) -> Operand | None:
        """Build the operand starting at `tok` (already consumed), or None if `tok` cannot start one."""
        kind = tok.kind
        if kind == IDENT:
            return Identifier(tok.value)
        if kind == TEXT:
            return Literal(tok.value, "text", self.source[tok.pos : tok.end])
        if kind == NUMBER:
            return Literal.number(tok.value)
        if kind == FUNC:
            return self.call(tok, func_depth)
        return None

    def call(self, name_tok: Token, depth: int) -> FunctionCall:
        if depth > MAX_FUNCTION_DEPTH:
            raise FilterSyntaxError(
                f"functions nested too deeply (MAX_FUNCTION_DEPTH is {MAX_FUNCTION_DEPTH})", name_tok.pos
            )
        name = name_tok.value
        args: list[Operand] = []
        tok = self.advance()
        while tok.kind != RPAREN:
            arg = self.operand(tok, depth + 1)
            if arg is None:
                if tok.kind == EOF:
                    raise FilterSyntaxError(f"missing ')' to close function {name!r}", name_tok.pos)
                raise FilterSyntaxError(
                    f"expected an argument of function {name!r}, got {_describe(tok)}", tok.pos
                )
            args.append(arg)
            tok = self.advance()
            if tok.kind == COMMA:
                tok = self.advance()  # a trailing comma before ")" is allowed
            elif tok.kind != RPAREN:
                if tok.kind == EOF:
                    raise FilterSyntaxError(f"missing ')' to close function {name!r}", name_tok.pos)
                raise FilterSyntaxError(
                    f"expected ',' or ')' in function {name!r}, got {_describe(tok)}", tok.pos
                )
        return FunctionCall(name, tuple(args))


def parse_filter(text: str) -> Expr | None:
    """Parse a filter or API rule. Returns None when it holds only whitespace and comments.

    Results are cached by text; the tree is immutable, so sharing it is safe.
    Raises FilterSyntaxError on invalid syntax or when a limit is exceeded.
    """
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterSyntaxError(
            f"filter is too long ({len(text)} characters, MAX_FILTER_LENGTH is {MAX_FILTER_LENGTH})",
            MAX_FILTER_LENGTH,
        )
    return _parse_filter_cached(text)


def _parse_filter_uncached(text: str) -> Expr | None:
    tokens = tokenize(text)
    if len(tokens) == 1:
        return None
    parser = _Parser(text, tokens)
    expr = parser.expr_list()
    tok = parser.peek()
    if tok.kind != EOF:
        if tok.kind == RPAREN:
            raise FilterSyntaxError("unexpected ')' without a matching '('", tok.pos)
        raise FilterSyntaxError(f"expected '&&' or '||' between expressions, got {_describe(tok)}", tok.pos)
    return expr


_parse_filter_cached = lru_cache(maxsize=_CACHE_SIZE)(_parse_filter_uncached)

_DIGIT_NAME_RE = re.compile(r"[0-9][A-Za-z0-9_.:]*")
# Characters that matter when splitting a sort list on its top-level commas.
_SORT_SPECIAL_RE = re.compile(r"""['"(),]""")


def parse_sort(text: str) -> list[SortField]:
    """Parse `?sort=`: comma-separated identifiers or function calls, each optionally prefixed by
    "-" (descending) or "+" (ascending). An empty text sorts by nothing; an empty item (a
    trailing or doubled comma, only spaces) is an error, as in PocketBase.

    Raises FilterSyntaxError on an invalid item or when a limit is exceeded.
    """
    # The cache holds tuples; each caller gets its own list.
    return list(_parse_sort_cached(text))


def _split_sort(text: str) -> list[tuple[int, int]]:
    """(start, end) of each comma-separated item, ignoring commas inside parentheses and quotes."""
    spans: list[tuple[int, int]] = []
    start = 0
    depth = 0
    pos = 0
    end = len(text)
    while True:
        m = _SORT_SPECIAL_RE.search(text, pos)
        if m is None:
            break
        ch = m.group()
        pos = m.end()
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ",":
            if depth <= 0:
                spans.append((start, m.start()))
                start = pos
        else:
            _, pos = scan_text(text, m.start(), end)
    spans.append((start, end))
    return spans


def _parse_sort_uncached(text: str) -> tuple[SortField, ...]:
    fields: list[SortField] = []
    if not text:
        return ()
    for start, end in _split_sort(text):
        # Trim the way PocketBase does (strings.TrimSpace), then strip the direction prefix.
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            raise FilterSyntaxError("empty sort field", start)
        item_pos = start
        descending = text[start] == "-"
        if text[start] in "-+":
            start += 1
            if start == end or text[start].isspace():
                raise FilterSyntaxError(f"expected a sort field right after {text[item_pos]!r}", start)
        if end - start > MAX_SORT_FIELD_LENGTH:
            raise FilterSyntaxError(
                f"sort field is too long ({end - start} characters, "
                f"MAX_SORT_FIELD_LENGTH is {MAX_SORT_FIELD_LENGTH})",
                item_pos,
            )
        if len(fields) == MAX_SORT_FIELDS:
            raise FilterSyntaxError(f"too many sort fields (MAX_SORT_FIELDS is {MAX_SORT_FIELDS})", item_pos)
        if text[start].isdigit() and _DIGIT_NAME_RE.fullmatch(text, start, end):
            # A field or collection named "1f": PocketBase resolves a sort item as a name, not as
            # filter tokens, so a leading digit is fine there (filters cannot reach such a field).
            if not is_valid_identifier(text[start:end]):
                raise FilterSyntaxError("invalid sort field", start)
            fields.append(SortField(Identifier(text[start:end]), descending))
            continue
        tokens = tokenize(text, start, end, comments=False)
        parser = _Parser(text, tokens)
        first = parser.advance()
        if first.kind not in (IDENT, FUNC):
            raise FilterSyntaxError(
                f"sort field must be an identifier or a function call, got {_describe(first)}", first.pos
            )
        expr = parser.operand(first, 1)
        rest = parser.peek()
        if rest.kind != EOF:
            raise FilterSyntaxError(f"unexpected {_describe(rest)} in sort field", rest.pos)
        assert isinstance(expr, Identifier | FunctionCall)
        fields.append(SortField(expr, descending))
    return tuple(fields)


_parse_sort_cached = lru_cache(maxsize=_CACHE_SIZE)(_parse_sort_uncached)
