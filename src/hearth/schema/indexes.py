"""Parse PocketBase's index definitions (`CREATE [UNIQUE] INDEX … ON t (cols) [WHERE …]`).

Index strings come from superusers as raw SQLite DDL. Hearth never executes them as given: it
parses them into an `IndexDef` (names, columns, a small predicate grammar) and the SQL layer
renders DDL for each dialect from that. Anything outside the grammar is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hearth.sql.dialect import is_identifier

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<ident>`[^`]+`|"[^"]+"|\[[^\]]+\]|[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><>|!=|>=|<=|=|<|>)
      | (?P<punct>[(),;])
    )""",
    re.VERBOSE,
)


class IndexSyntaxError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class IndexColumn:
    name: str
    descending: bool = False
    collate_nocase: bool = False


@dataclass(frozen=True, slots=True)
class Predicate:
    """`column op literal` or `column IS [NOT] NULL`; literal is str, float or None."""

    column: str
    op: str
    value: str | float | None


@dataclass(frozen=True, slots=True)
class IndexDef:
    name: str
    table: str
    unique: bool
    columns: tuple[IndexColumn, ...]
    where: tuple[Predicate, ...] = ()


def _unquote(tok: str) -> str:
    if tok[0] in '`"[':
        return tok[1:-1]
    return tok


def _tokenize(sql: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    sql = sql.strip()
    while pos < len(sql):
        m = _TOKEN_RE.match(sql, pos)
        if not m or m.end() == pos:
            raise IndexSyntaxError(f"unexpected input at {pos}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(sql) and sql[pos].isspace():
            pos += 1
    return out


class _Cursor:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def keyword(self, *words: str) -> bool:
        kind, text = self.peek()
        if kind == "ident" and text.upper() in words and text[0] not in '`"[':
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise IndexSyntaxError(f"expected {word}")

    def ident(self) -> str:
        kind, text = self.take()
        if kind != "ident":
            raise IndexSyntaxError("expected a name")
        name = _unquote(text)
        if not is_identifier(name):
            raise IndexSyntaxError("invalid name")
        return name

    def punct(self, char: str) -> bool:
        if self.peek() == ("punct", char):
            self.i += 1
            return True
        return False


def parse_index(sql: str) -> IndexDef:
    cur = _Cursor(_tokenize(sql))
    cur.expect_keyword("CREATE")
    unique = cur.keyword("UNIQUE")
    cur.expect_keyword("INDEX")
    if cur.keyword("IF"):
        cur.expect_keyword("NOT")
        cur.expect_keyword("EXISTS")
    name = cur.ident()
    cur.expect_keyword("ON")
    table = cur.ident()
    if not cur.punct("("):
        raise IndexSyntaxError("expected (")
    columns: list[IndexColumn] = []
    while True:
        col = cur.ident()
        nocase = False
        if cur.keyword("COLLATE"):
            coll = cur.ident()
            if coll.upper() != "NOCASE":
                raise IndexSyntaxError("only COLLATE NOCASE is supported")
            nocase = True
        desc = False
        if cur.keyword("DESC"):
            desc = True
        else:
            cur.keyword("ASC")
        columns.append(IndexColumn(col, desc, nocase))
        if cur.punct(")"):
            break
        if not cur.punct(","):
            raise IndexSyntaxError("expected , or )")
    where: list[Predicate] = []
    if cur.keyword("WHERE"):
        while True:
            where.append(_predicate(cur))
            if not cur.keyword("AND"):
                break
    cur.punct(";")
    if cur.peek()[0] != "eof":
        raise IndexSyntaxError("unexpected trailing input")
    return IndexDef(name, table, unique, tuple(columns), tuple(where))


def _predicate(cur: _Cursor) -> Predicate:
    column = cur.ident()
    if cur.keyword("IS"):
        negate = cur.keyword("NOT")
        cur.expect_keyword("NULL")
        return Predicate(column, "IS NOT" if negate else "IS", None)
    kind, op = cur.take()
    if kind != "op":
        raise IndexSyntaxError("expected an operator")
    kind, text = cur.take()
    value: str | float
    if kind == "string":
        value = text[1:-1].replace("''", "'")
    elif kind == "number":
        value = float(text)
    else:
        raise IndexSyntaxError("expected a literal")
    return Predicate(column, "!=" if op == "<>" else op, value)


def with_table(sql: str, old_table: str, new_table: str) -> str:
    """Rewrite the table name of an index definition after a collection rename."""
    pattern = re.compile(r"(\bON\s+)([`\"\[]?)" + re.escape(old_table) + r"([`\"\]]?)(\s*\()", re.IGNORECASE)
    return pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{new_table}{m.group(3)}{m.group(4)}", sql, count=1)
