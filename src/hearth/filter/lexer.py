"""Tokenizer for the filter language, following the behaviour of PocketBase's fexpr scanner.

Every token pattern is a single character class run, so matching is linear in the input: there is no
regex backtracking to exploit.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .errors import FilterSyntaxError

# Token kinds (plain strings: cheaper to compare than enum members in the hot loop).
IDENT = "identifier"
FUNC = "function"  # an identifier immediately followed by "(", which the token includes
NUMBER = "number"
TEXT = "text"
SIGN = "operator"
JOIN = "join"
LPAREN = "("
RPAREN = ")"
COMMA = ","
EOF = "end"

SIGNS = frozenset(
    {"=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~"}
)
JOINS = frozenset({"&&", "||"})

# fexpr treats only these three as whitespace; "\r" is an unexpected character there too.
_WS_CHARS = frozenset(" \t\n")
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_@#")
_NUMBER_START = frozenset("-0123456789")
_SIGN_CHARS = frozenset("=?!<>~")
_JOIN_CHARS = frozenset("&|")

_WS_RE = re.compile(r"[ \t\n]+")
# "@" and "#" may only start an identifier, as in fexpr.
_IDENT_RE = re.compile(r"[A-Za-z_@#][A-Za-z0-9_.:]*")
_NUMBER_RE = re.compile(r"-?[0-9]*(?:\.[0-9]*)?")
_SIGN_RE = re.compile(r"[=?!<>~]+")
_JOIN_RE = re.compile(r"[&|]+")
_COMMENT_RE = re.compile(r"//[^\n\0]*")


class Token(NamedTuple):
    kind: str
    value: str  # identifier/function name, unescaped text, operator, join or number source
    pos: int  # offset of the first character
    end: int  # offset just past the last character


def is_valid_identifier(name: str) -> bool:
    """fexpr's rule: no trailing "." or ":", and not a lone "@", "_" or "#"."""
    return name[-1] not in ".:" and not (len(name) == 1 and name in "@_#")


def scan_text(source: str, pos: int, end: int) -> tuple[str, int]:
    r"""Scan the quoted text starting at `pos`; return its value and the offset after the closing quote.

    As PocketBase answers (checked on 0.40.6): backslash + the enclosing quote is the quote,
    backslash + backslash is one backslash, and any other backslash stays as written
    (`"back\\slash"` and `"back\slash"` both mean `back\slash`; `"end\\"` closes after `end\`).
    """
    quote = source[pos]
    out: list[str] = []
    i = pos + 1
    while i < end:
        ch = source[i]
        if ch == "\\" and i + 1 < end and source[i + 1] in (quote, "\\"):
            out.append(source[i + 1])
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1
        if ch == "\0":  # fexpr reads a NUL as the end of input: the literal never closes
            break
        out.append(ch)
        i += 1
    raise FilterSyntaxError("unterminated text literal", pos)


def tokenize(source: str, start: int = 0, end: int | None = None, *, comments: bool = True) -> list[Token]:
    """Split `source[start:end]` into tokens, dropping whitespace and (if allowed) `//` comments.

    The list always ends with an EOF token. Positions are offsets into `source`.

    A NUL byte is what fexpr's scanner takes for the end of input, and PocketBase 0.40.6 answers
    accordingly: where a token would start, it ends the filter (the rest is ignored); right after
    a run-scanned token (name, number, operator, join, spaces, comment) it only ends that token
    and is skipped; inside a text literal or parentheses it is an error (unterminated).
    """
    if end is None:
        end = len(source)
    tokens: list[Token] = []
    append = tokens.append
    pos = start
    depth = 0
    while pos < end:
        ch = source[pos]
        if ch == "\0":
            if depth:
                raise FilterSyntaxError("unterminated parentheses", pos)
            end = pos
            break
        if ch in _WS_CHARS:
            pos = _WS_RE.match(source, pos, end).end()  # type: ignore[union-attr]
        elif ch in _IDENT_START:
            stop = _IDENT_RE.match(source, pos, end).end()  # type: ignore[union-attr]
            name = source[pos:stop]
            is_call = stop < end and source[stop] == "("
            if not is_valid_identifier(name):
                what = "function name" if is_call else "identifier"
                raise FilterSyntaxError(f"invalid {what} {name!r}", pos)
            if is_call:
                append(Token(FUNC, name, pos, stop + 1))
                pos = stop + 1
                depth += 1
                continue
            append(Token(IDENT, name, pos, stop))
            pos = stop
        elif ch in _NUMBER_START:
            stop = _NUMBER_RE.match(source, pos, end).end()  # type: ignore[union-attr]
            raw = source[pos:stop]
            if raw == "-" or raw.endswith("."):
                raise FilterSyntaxError(f"invalid number {raw!r}", pos)
            append(Token(NUMBER, raw, pos, stop))
            pos = stop
        elif ch == "'" or ch == '"':
            value, stop = scan_text(source, pos, end)
            append(Token(TEXT, value, pos, stop))
            pos = stop
            continue  # a closing quote ends the token by itself
        elif ch in _SIGN_CHARS:
            # Read the whole run, as fexpr does, so "==" or "=!" is an error rather than two tokens.
            stop = _SIGN_RE.match(source, pos, end).end()  # type: ignore[union-attr]
            op = source[pos:stop]
            if op not in SIGNS:
                raise FilterSyntaxError(f"invalid operator {op!r}", pos)
            append(Token(SIGN, op, pos, stop))
            pos = stop
        elif ch in _JOIN_CHARS:
            stop = _JOIN_RE.match(source, pos, end).end()  # type: ignore[union-attr]
            op = source[pos:stop]
            if op not in JOINS:
                raise FilterSyntaxError(f"invalid join operator {op!r} (expected '&&' or '||')", pos)
            append(Token(JOIN, op, pos, stop))
            pos = stop
        elif ch == "(" or ch == ")" or ch == ",":
            append(Token(ch, ch, pos, pos + 1))
            pos += 1
            depth += 1 if ch == "(" else -1 if ch == ")" and depth else 0
            continue
        elif ch == "/" and comments:
            m = _COMMENT_RE.match(source, pos, end)
            if m is None:
                raise FilterSyntaxError("invalid comment (expected '//')", pos)
            pos = m.end()
        else:
            raise FilterSyntaxError(f"unexpected character {ch!r}", pos)
        if pos < end and source[pos] == "\0":  # ends the run just scanned, and is skipped
            if depth:
                raise FilterSyntaxError("unterminated parentheses", pos)
            pos += 1
    append(Token(EOF, "", end, end))
    return tokens
