"""Hypothesis strategies that write filters in PocketBase's syntax over the `diff_items` fields.

`core_filters()` stays within what Hearth claims to support: a field (or `:lower` on a text field),
a literal (text in either quote style with escapes, numbers, true/false/null) or a macro on each
side of `= != > >= < <= ~ !~`, joined with `&&`/`||` and parentheses, plus a few malformed filters
that PocketBase refuses with 400.

`extended_filters()` adds the constructs Hearth may not support yet: the any-of operators (`?=` …),
`:each`, `:length`, JSON paths (`meta.k`) and `@request.*`. Every generated filter carries the set of
those constructs it uses, so failures can be reported per construct.

`relation_filters()` goes through relations: `author.x` / `coauthors.x` on `diff_items`,
back-relations (`diff_items_via_author.x`) on `diff_authors`, nested paths, `@collection.*` joins
(with and without `:alias`), and `:each` / `:length` / `:lower` on them. Its filters carry the
collection they are meant for (`Filter.collection`).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import strategies as st

from tests.differential.dataset import AUTHORS, COLLECTION, fmt

# Constructs of the extended strategy (the keys of Filter.constructs).
ANY_OF = "any-of operators (?= ?!= ?> ?>= ?< ?<= ?~ ?!~)"
EACH = ":each"
LENGTH = ":length"
JSON_PATH = "JSON paths (meta.k)"
REQUEST = "@request.*"
LOWER = ":lower"
ODD = "odd syntax (malformed, blank, comments)"
FUNCTION = "functions (strftime, geoDistance)"
# Constructs of the relation strategy.
RELATION = "relation paths (author.x, coauthors.x)"
BACK_RELATION = "back-relations (diff_items_via_*)"
NESTED = "nested relation paths (two or more hops)"
JOIN = "@collection joins"
JOIN_ALIAS = "@collection:alias joins"


@dataclass(frozen=True, slots=True)
class Filter:
    text: str
    constructs: frozenset[str] = frozenset()
    # The single comparisons the filter is built from (empty for a leaf itself), so a mismatch
    # can be narrowed down to the comparison(s) that differ on their own.
    leaves: tuple[Filter, ...] = ()
    # A single comparison written with single spaces (for grouping reports); "" for compounds.
    canon: str = ""
    # The collection whose records the filter is run against.
    collection: str = COLLECTION

    def parts(self) -> tuple[Filter, ...]:
        return self.leaves or (self,)


TEXT_FIELDS = ["id", "title", "body", "email", "kind"]
NUMBER_FIELDS = ["n", "price"]
DATE_FIELDS = ["when", "created", "updated"]
JSON_FIELDS = ["tags", "meta"]  # a multi select is compared as its JSON text, like a json field
ALL_FIELDS = [*TEXT_FIELDS, *NUMBER_FIELDS, "flag", *DATE_FIELDS, *JSON_FIELDS]

OPS = ["=", "!=", ">", ">=", "<", "<=", "~", "!~"]
ANY_OPS = ["?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~"]

DATE_MACROS = [
    "@now",
    "@yesterday",
    "@tomorrow",
    "@todayStart",
    "@todayEnd",
    "@monthStart",
    "@monthEnd",
    "@yearStart",
    "@yearEnd",
]
NUMBER_MACROS = ["@second", "@minute", "@hour", "@day", "@month", "@weekday", "@year"]
MACROS = DATE_MACROS + NUMBER_MACROS

_NOW = datetime.now(UTC)

TEXT_VALUES = [
    "",
    " ",
    "hello",
    "Hello",
    "HELLO",
    "hello world",
    "HeLLo",
    "hell",
    "ello",
    "héllo",
    "ÉCOLE",
    "école",
    "É",
    "é",
    "Ünïcödé",
    "ünïcödé",
    "日本語",
    "%",
    "_",
    "a_b",
    "a%b",
    "aXb",
    "100%",
    "50%",
    "%off",
    "% off",
    "h%o",
    "hello%",
    "%llo",
    "\\%",
    "100\\%",
    "a\\_b",
    "'",
    '"',
    "\\",
    "it's",
    'say "hi"',
    "'quoted'",
    "back\\slash",
    "trailing\\",
    "\\slash",
    "  spaced  ",
    "spaced",
    "line\nbreak",
    "tab\there",
    "10",
    "2",
    "-3.5",
    "0",
    "1e1",
    "abc",
    "true",
    "false",
    "null",
    "x",
    "y",
    "z",
    "a",
    "b",
    "c",
    "<p>hello</p>",
    "<p>",
    "a@example.com",
    "A@Example.com",
    "@example.com",
    "example",
    "user_1",
    "diffrec00000001",
    "diffrec0000004",
    "diffrec",
]

NUMBER_LITERALS = [
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "3",
    "-3",
    "7",
    "10",
    "42",
    "50",
    "100",
    "-100",
    "0.1",
    "0.5",
    "-0.5",
    "1.5",
    "-0.25",
    "2.5",
    "-3.5",
    "7.25",
    "0.001",
    "1000000",
    "999999.99",
    "1.0",
    "01",
    "0.0",
    "-.5",
    "9999",
    "12345678901234567890",
    str(_NOW.year),
    str(_NOW.month),
    str(_NOW.day),
]

DATE_VALUES = [
    "",
    "2024",
    "2024-01-01",
    "2024-01-01 00:00:00.000Z",
    "2024-01-01 00:00:00.001Z",
    "2023-12-31 23:59:59.999Z",
    "2024-01-01T00:00:00Z",
    "2024-01-01 00:00:00",
    "2000-02-29",
    "2999",
    "Z",
    fmt(_NOW)[:10],
    fmt(_NOW)[:4],
    fmt(_NOW.replace(hour=0, minute=0, second=0, microsecond=0)),
]

JSON_TEXTS = [
    "null",
    "{}",
    "[]",
    '{"k":1}',
    '{"k": 1}',
    '["x"]',
    '["x","y"]',
    '"str"',
    "str",
    "k",
    "v",
    "1",
    "0.5",
]
SELECT_VALUES = ["x", "y", "z", "w", "X", "", "a", "b", "c", "A"]
KEYWORDS = ["true", "false", "null", "TRUE", "False", "NULL"]

# Strategies are built once and reused: Hypothesis validates every new strategy object, which
# costs far more than drawing from an existing one.


@functools.cache
def _pick_cached(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


def pick(values: Iterable[str]) -> st.SearchStrategy[str]:
    return _pick_cached(tuple(values))


PERCENT = st.integers(0, 99)
_TENTHS = st.integers(0, 9)
_TWO_OR_THREE = st.integers(2, 3)
BOOLS = st.booleans()
WS = pick([" ", " ", " ", " ", "", "  ", "\n", "\t"])


@st.composite
def _quoted(draw: st.DrawFn, values: st.SearchStrategy[str]) -> str:
    """A quoted text: either quote style; backslashes escaped or (where PocketBase allows) left raw."""
    value = draw(values)
    quote = draw(pick(["'", '"']))
    raw_backslashes = draw(BOOLS)
    out: list[str] = []
    for i, ch in enumerate(value):
        if ch == "\\":
            nxt = value[i + 1] if i + 1 < len(value) else None
            # A lone backslash stays as written unless a quote or another backslash follows it.
            out.append("\\" if raw_backslashes and nxt is not None and nxt not in (quote, "\\") else "\\\\")
        elif ch == quote:
            out.append("\\" + quote)
        else:
            out.append(ch)
    return quote + "".join(out) + quote


@functools.cache
def _text_literal_cached(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return _quoted(pick(values))


def text_literal(values: Iterable[str] = TEXT_VALUES) -> st.SearchStrategy[str]:
    return _text_literal_cached(tuple(values))


@functools.cache
def any_literal() -> st.SearchStrategy[str]:
    return st.one_of(
        text_literal(),
        pick(NUMBER_LITERALS),
        pick(KEYWORDS),
        text_literal(DATE_VALUES),
        text_literal(JSON_TEXTS),
    )


@functools.cache
def literal_for(name: str) -> st.SearchStrategy[str]:
    """A literal that suits the field most of the time, any literal otherwise."""
    base = name.split(":")[0]
    typed: st.SearchStrategy[str]
    if base in NUMBER_FIELDS:
        typed = st.one_of(pick(NUMBER_LITERALS), text_literal(["10", "2", "-3.5", "abc", "", "1.5", "0"]))
    elif base == "flag":
        typed = pick([*KEYWORDS, "1", "0", "2", "'true'", "'1'", '"false"', "''"])
    elif base in DATE_FIELDS:
        typed = text_literal(DATE_VALUES)
    elif base == "tags":
        typed = st.one_of(text_literal(JSON_TEXTS), text_literal(SELECT_VALUES))
    elif base == "meta":
        typed = st.one_of(text_literal(JSON_TEXTS), pick(NUMBER_LITERALS[:12]), pick(KEYWORDS))
    elif base == "kind":
        typed = text_literal(SELECT_VALUES)
    else:
        typed = text_literal()
    return st.one_of(typed, typed, typed, any_literal())


@functools.cache
def _literal_or_field(name: str) -> st.SearchStrategy[str]:
    return st.one_of(literal_for(name), pick(ALL_FIELDS))


def core_field_names(lower: bool) -> list[str]:
    names = list(ALL_FIELDS)
    if lower:
        names += [f"{f}:lower" for f in ("title", "body", "email", "kind", "id")]
    return names


def _cmp(
    left: str,
    op: str,
    right: str,
    a: str,
    b: str,
    constructs: frozenset[str] = frozenset(),
    collection: str = COLLECTION,
) -> Filter:
    """One comparison; `a` and `b` are the whitespace around the operator."""
    return Filter(f"{left}{a}{op}{b}{right}", constructs, canon=f"{left} {op} {right}", collection=collection)


# PocketBase stamps `created` and `updated` separately, so they can differ by a millisecond on the
# same record (Hearth's are equal): comparing one with the other is not deterministic.
_UNSTABLE_PAIR = {"created", "updated"}


def _stable_right(left: str, right: str) -> str:
    return "when" if {left, right} == _UNSTABLE_PAIR else right


def _stable_left(left: str, op: str) -> str:
    """`created ~ '10'`: whether a server-set timestamp contains some text depends on the second
    each server stamped it (they differ), so such a filter would differ by chance. Search `when`."""
    if left.split(":")[0] in _UNSTABLE_PAIR and op.lstrip("?") in ("~", "!~"):
        return "when" + left[len(left.split(":")[0]) :]
    return left


def _constructs(*names: str) -> frozenset[str]:
    return frozenset(LOWER for n in names if n.endswith(":lower"))


# Refused by PocketBase (400); rare, since one of them makes a whole compound filter a 400.
INVALID_FILTERS = [
    "nofield = 1",
    "Title = 'hello'",
    "n = 1.",
    "n > 1e1",
    "price = .1",
    "n = - 1",
    "title = 'abc",
    'title = "abc',
    "title = 'It''s'",
    "()",
    "n = 1 &&",
    "&& n = 1",
    "n == 1",
    "n =< 1",
    "n => 1",
    "n 1",
    "= 1",
    "(n = 1",
    "n = 1)",
    "n = 1 n = 2",
    "n = 1 ||| n = 2",
    "n = 1 & n = 2",
    "n ~",
    "@unknownMacro = 1",
    "@now. = 1",
    "title: = 'x'",
    "title. = 'x'",
    "_ = 1",
    "n = 1 # x",
    "n = 1\r",
    "'a' 'b'",
    "n = [1]",
    "password = 'x'",
    "tokenKey = 'x'",
]


_NUMBER_MACRO_PEERS = st.one_of(pick([*NUMBER_FIELDS, "flag", "title"]), pick(NUMBER_LITERALS))
_DATE_MACRO_PEERS = st.one_of(pick([*DATE_FIELDS, "title"]), text_literal(DATE_VALUES))
_CONSTANTS = st.one_of(any_literal(), pick(MACROS))


@st.composite
def core_leaf(draw: st.DrawFn, lower: bool = True) -> Filter:
    fields = core_field_names(lower)
    bucket = draw(PERCENT)
    op = draw(pick(OPS))
    a, b = draw(WS), draw(WS)
    if bucket < 45:  # field op literal
        name = draw(pick(fields))
        return _cmp(_stable_left(name, op), op, draw(literal_for(name)), a, b, _constructs(name))
    if bucket < 53:  # literal op field
        name = draw(pick(fields))
        return _cmp(draw(literal_for(name)), op, name, a, b, _constructs(name))
    if bucket < 73:  # field op field
        left, right = draw(pick(fields)), draw(pick(fields))
        right = _stable_right(left, right)
        return _cmp(_stable_left(left, op), op, right, a, b, _constructs(left, right))
    if bucket < 88:  # a macro against a field or a literal
        macro = draw(pick(MACROS))
        if macro in NUMBER_MACROS:
            other = draw(_NUMBER_MACRO_PEERS)
        else:
            other = draw(_DATE_MACRO_PEERS)
        if draw(BOOLS):
            return _cmp(macro, op, other, a, b)
        return _cmp(other, op, macro, a, b)
    if bucket < 99:  # constants only: the same answer for every row
        left, right = draw(_CONSTANTS), draw(_CONSTANTS)
        return _cmp(left, op, right, a, b)
    return Filter(draw(pick(INVALID_FILTERS)), frozenset({ODD}))


def _combine(draw: st.DrawFn, leaf: st.SearchStrategy[Filter], depth: int) -> Filter:
    if depth >= 3 or draw(PERCENT) < 50:
        return draw(leaf)
    count = draw(_TWO_OR_THREE)
    parts: list[Filter] = []
    for _ in range(count):
        part = _combine(draw, leaf, depth + 1)
        compound = "&&" in part.text or "||" in part.text
        if compound and draw(_TENTHS) < 7 or not compound and draw(_TENTHS) < 1:
            part = Filter(
                f"({draw(WS)}{part.text}{draw(WS)})",
                part.constructs,
                part.parts(),
                collection=part.collection,
            )
        parts.append(part)
    text = parts[0].text
    for part in parts[1:]:
        join = draw(pick(["&&", "||"]))
        text += f"{draw(WS)}{join}{draw(WS)}{part.text}"
    leaves = tuple(leaf for p in parts for leaf in p.parts())
    # A leaf strategy writes for one collection, so every part shares it.
    return Filter(
        text, frozenset().union(*(p.constructs for p in parts)), leaves, collection=parts[0].collection
    )


@st.composite
def _expression(draw: st.DrawFn, leaf: st.SearchStrategy[Filter]) -> Filter:
    f = _combine(draw, leaf, 0)
    if draw(_TENTHS) == 0:
        f = Filter(f"{draw(WS)}{f.text}{draw(WS)}", f.constructs, f.leaves, f.canon, f.collection)
    return f


WHOLE_ODD_FILTERS = ["  ", "\n", "( )", "(())", "&&", "||", "n = 1 // c", "// only a comment", "n = 1 //"]


@st.composite
def core_filters(draw: st.DrawFn, lower: bool = True) -> Filter:
    """A core expression; now and then a whole filter of odd syntax (blank, comment only…)."""
    if draw(PERCENT) < 3:
        return Filter(draw(pick(WHOLE_ODD_FILTERS)), frozenset({ODD}))
    return draw(_core_expression(lower))


@functools.cache
def _core_expression(lower: bool) -> st.SearchStrategy[Filter]:
    return _expression(core_leaf(lower))


# ---- extended constructs ---------------------------------------------------------------------

REQUEST_COMPARISONS = [
    '@request.auth.id != ""',
    '@request.auth.id = ""',
    "@request.auth.id = id",
    "@request.auth.id != id",
    '@request.auth.email = "admin@example.com"',
    '@request.auth.email ~ "ADMIN"',
    "@request.auth.email = email",
    "@request.auth.email != email",
    '@request.auth.collectionName = "_superusers"',
    '@request.auth.collectionId = "pbc_3142635823"',
    "@request.auth.verified = true",
    "@request.auth.verified = false",
    "@request.auth.emailVisibility = false",
    '@request.auth.tokenKey != ""',
    '@request.auth.password != ""',
    "@request.auth.nope = null",
    '@request.method = "GET"',
    '@request.method = "get"',
    '@request.context = "default"',
    '@request.query.sort = "id"',
    '@request.query.sort = "-id"',
    "@request.query.perPage = 500",
    '@request.query.perPage = "500"',
    "@request.query.perPage > 100",
    "@request.query.perPage > n",
    "@request.query.skipTotal = true",
    '@request.query.skipTotal = "1"',
    "@request.query.nope = null",
    '@request.query.nope = ""',
    "@request.query.filter != null",
    '@request.headers.x_diff = "Abc"',
    '@request.headers.x_diff ~ "ab"',
    "@request.headers.x_diff = title",
    "@request.headers.nope = null",
    "@request.body.x = null",
    '@request.body.x = ""',
    "@request.query.perPage:isset = true",
    "@request.query.nope:isset = true",
]

JSON_PATHS = ["meta.k", "meta.a.b", "meta.0", "meta.1", "meta.k.0", "meta.missing", "meta.a"]
JSON_PATH_LITERALS = [
    "1",
    "2",
    "0",
    "2.5",
    '"v"',
    '"V"',
    '"str"',
    '"null"',
    "null",
    "true",
    "false",
    '""',
    '"1"',
    '"x"',
    "3",
]


_EACH_PEERS = st.one_of(text_literal(SELECT_VALUES), pick(["kind", "title", "tags:each"]))
_LENGTH_PEERS = pick(["0", "1", "2", "3", "4", "-1", "1.5", '"2"', "n"])
_JSON_PATH_PEERS = st.one_of(pick(JSON_PATH_LITERALS), pick(["n", "title", "meta.k"]))


# strftime(): substitutions every SQLite since 3.38 knows (Hearth's may be older than PocketBase's).
STRFTIME_FORMATS = [
    "%Y",
    "%Y-%m",
    "%Y-%m-%d",
    "%H:%M",
    "%d/%m/%Y %H",
    "%w",
    "%j",
    "%W",
    "%s",
    "%f",
    "%Q",
    "",
    "x",
]
# Numbers are Julian days: small ones fall before year 1, which Hearth on PostgreSQL reads as NULL.
STRFTIME_TIMES = [
    "when",
    "title",
    "'2026-02-03 10:00:00.000Z'",
    "'2026-01-31'",
    "'2024-02-29 23:59:59.999Z'",
    "'2026-02-03T10:00+02:00'",
    "2460000.5",
    "''",
    "null",
]
STRFTIME_MODIFIERS = [
    "+1 month",
    "-1 day",
    "start of month",
    "start of year",
    "weekday 0",
    "+36 hours",
    "bogus",
]
STRFTIME_PEERS = [
    "'2026'",
    "'2025'",
    "''",
    "'11'",
    "'0'",
    "'2026-03'",
    "'10:00'",
    "title",
    "when",
    "n",
    "null",
]
GEO_ARGS = ["n", "price", "flag", "title", "1.5", "-20", "0", "180", "90", "-45.25"]
GEO_PEERS = ["0", "100", "1000", "5000", "20000", "n", "null", "''"]


@st.composite
def function_leaf(draw: st.DrawFn) -> Filter:
    op = draw(pick(OPS))
    if draw(BOOLS):
        fmt = draw(pick(STRFTIME_FORMATS))
        args = [f"'{fmt}'"]
        # Without a time value it formats "now": only formats stable for the length of a run.
        if fmt not in ("%Y", "%Q", "") or draw(st.integers(0, 5)):
            args.append(draw(pick(STRFTIME_TIMES)))
            args += [f"'{m}'" for m in draw(st.lists(pick(STRFTIME_MODIFIERS), max_size=2))]
        left = f"strftime({', '.join(args)})"
        right = draw(pick(STRFTIME_PEERS))
    else:
        left = f"geoDistance({', '.join(draw(pick(GEO_ARGS)) for _ in range(4))})"
        right = draw(pick(GEO_PEERS))
        # `~` reads the distance as text, whose last digits depend on the SQLite version.
        op = op if "~" not in op else "="
    if draw(BOOLS):
        left, right = right, left
    return Filter(f"{left} {op} {right}", frozenset({FUNCTION}), canon=f"{left} {op} {right}")


@st.composite
def extended_leaf(draw: st.DrawFn) -> Filter:
    kind = draw(pick([ANY_OF, ANY_OF, EACH, LENGTH, JSON_PATH, JSON_PATH, REQUEST, REQUEST, FUNCTION]))
    a, b = draw(WS), draw(WS)
    if kind == ANY_OF:
        op = draw(pick(ANY_OPS))
        left = draw(pick([*ALL_FIELDS, "tags:each", "kind:each", "meta.k", "title:lower"]))
        used = {ANY_OF}
        if left.endswith(":each"):
            used.add(EACH)
            right = draw(text_literal(SELECT_VALUES))
        elif left.startswith("meta."):
            used.add(JSON_PATH)
            right = draw(pick(JSON_PATH_LITERALS))
        else:
            used |= _constructs(left)
            right = _stable_right(left, draw(_literal_or_field(left)))
        return _cmp(_stable_left(left, op), op, right, a, b, frozenset(used))
    op = draw(pick(OPS))
    if kind == EACH:
        left = draw(pick(["tags:each", "kind:each"]))
        right = draw(_EACH_PEERS)
        return _cmp(left, op, right, a, b, frozenset({EACH}))
    if kind == LENGTH:
        left = draw(pick(["tags:length", "tags:length", "kind:length"]))
        right = draw(_LENGTH_PEERS)
        if draw(BOOLS):
            return _cmp(left, op, right, a, b, frozenset({LENGTH}))
        return _cmp(right, op, left, a, b, frozenset({LENGTH}))
    if kind == JSON_PATH:
        left = draw(pick(JSON_PATHS))
        right = draw(_JSON_PATH_PEERS)
        return _cmp(left, op, right, a, b, frozenset({JSON_PATH}))
    if kind == FUNCTION:
        return draw(function_leaf())
    text = draw(pick(REQUEST_COMPARISONS))
    return Filter(text, frozenset({REQUEST}))


_EXTENDED_LEAF = extended_leaf()
_EXTENDED_EXPRESSION = _expression(st.one_of(_EXTENDED_LEAF, _EXTENDED_LEAF, core_leaf(lower=False)))


@st.composite
def extended_filters(draw: st.DrawFn) -> Filter:
    """At least one extended construct per filter, often combined with core comparisons."""
    f = draw(_EXTENDED_EXPRESSION)
    if f.constructs <= {ODD}:
        ext = draw(_EXTENDED_LEAF)
        join = draw(pick(["&&", "||"]))
        f = Filter(f"({f.text}) {join} {ext.text}", f.constructs | ext.constructs, (*f.parts(), ext))
    return f


# ---- relation paths --------------------------------------------------------------------------

AUTHOR_TEXT_VALUES = [
    "",
    " ",
    "Alice",
    "alice",
    "ALICE",
    "alic",
    "lic",
    "Bob",
    "bob",
    "hello",
    "Hello",
    "100%",
    "%",
    "_",
    "a_b",
    "it's",
    "Ünïcödé",
    "ünïcödé",
    "nobody",
    "10",
    "2",
    "0",
    "-3.5",
    "1e1",
    "abc",
    "a",
    "diffauthor",
]
AUTHOR_ID_VALUES = [
    "diffauthor00000",
    "diffauthor00001",
    "diffauthor00002",
    "diffauthor00006",
    "diffauthor00009",
    "diffauthor00011",
    "diffauthor99999",
    "DIFFAUTHOR00001",
    "diffauthor0000",
    "diffauthor",
    "",
    "diffrec00000001",
]
ITEM_ID_VALUES = ["diffrec00000000", "diffrec00000001", "diffrec00000049", "diffrec0000001", "diffrec", ""]
# A multi relation read as a whole is its JSON text.
AUTHOR_LIST_TEXTS = [
    "[]",
    '["diffauthor00001"]',
    '["diffauthor00002","diffauthor00001"]',
    '["diffauthor00001", "diffauthor00002"]',
    "null",
]

# The kind of value a term holds: it picks the literals, and the peers compared with it.
AUTHOR_FIELD_KINDS = {
    "id": "aid",
    "name": "atext",
    "code": "atext",
    "n": "number",
    "active": "bool",
    "tier": "select",
}
# diff_items' fields as reached through relations (`created`/`updated` left out: server-set).
ITEM_FIELD_KINDS = {
    "id": "iid",
    "title": "text",
    "body": "text",
    "email": "text",
    "kind": "select",
    "n": "number",
    "price": "number",
    "flag": "bool",
    "when": "date",
    "tags": "tags",
    "meta": "json",
    "author": "aid",
    "coauthors": "aids",
}
# Kinds that compare meaningfully with each other (text-like, numbers, …).
_GROUPS = {
    "text": "s",
    "atext": "s",
    "select": "s",
    "iid": "s",
    "aid": "s",
    "number": "n",
    "bool": "b",
    "date": "d",
    "json": "j",
    "tags": "j",
    "aids": "j",
}


@dataclass(frozen=True, slots=True)
class Term:
    """One side of a comparison: a field, a relation path or a join, with what it holds."""

    text: str
    kind: str
    multi: bool  # several values per record (plain operators then mean "every value")
    constructs: frozenset[str] = frozenset()


def _term(text: str, kind: str, multi: bool, *constructs: str) -> Term:
    found = set(constructs)
    for modifier, construct in ((":each", EACH), (":length", LENGTH), (":lower", LOWER)):
        if modifier in text:
            found.add(construct)
    return Term(text, kind, multi, frozenset(found))


def _item_terms() -> list[Term]:
    """Every term on diff_items: its own fields, then paths through author/coauthors and joins."""
    terms = [_term(f, k, False) for f, k in ITEM_FIELD_KINDS.items()]
    terms.append(_term("author:each", "aid", False, RELATION))
    terms.append(_term("coauthors:each", "aid", True, RELATION))
    terms.append(_term("author:length", "number", False, RELATION))
    terms.append(_term("coauthors:length", "number", False, RELATION))
    for f, k in AUTHOR_FIELD_KINDS.items():
        terms.append(_term(f"author.{f}", k, False, RELATION))
        terms.append(_term(f"coauthors.{f}", k, True, RELATION))
        terms.append(_term(f"@collection.{AUTHORS}.{f}", k, True, JOIN))
        for alias in ("a", "b"):
            terms.append(_term(f"@collection.{AUTHORS}:{alias}.{f}", k, True, JOIN, JOIN_ALIAS))
    for f in ("name", "code"):
        terms.append(_term(f"author.{f}:lower", "atext", False, RELATION))
        terms.append(_term(f"coauthors.{f}:lower", "atext", True, RELATION))
        terms.append(_term(f"@collection.{AUTHORS}:a.{f}:lower", "atext", True, JOIN, JOIN_ALIAS))
    terms.append(_term("coauthors.name:each", "atext", True, RELATION))
    # Forward then back (and forward again): the records sharing this record's author(s).
    for f in ("id", "title", "n", "flag", "kind", "author", "coauthors"):
        k = ITEM_FIELD_KINDS[f]
        for via in ("author.diff_items_via_author", "author.diff_items_via_coauthors"):
            terms.append(_term(f"{via}.{f}", k, True, RELATION, BACK_RELATION, NESTED))
        terms.append(_term(f"coauthors.diff_items_via_author.{f}", k, True, RELATION, BACK_RELATION, NESTED))
    for f in ("name", "n"):
        k = AUTHOR_FIELD_KINDS[f]
        terms.append(
            _term(f"author.diff_items_via_coauthors.author.{f}", k, True, RELATION, BACK_RELATION, NESTED)
        )
        terms.append(_term(f"@collection.{COLLECTION}:other.author.{f}", k, True, JOIN, JOIN_ALIAS, NESTED))
    terms.append(_term("author.diff_items_via_author.coauthors:each", "aid", True, RELATION, NESTED))
    terms.append(_term("author.diff_items_via_author.coauthors:length", "number", True, RELATION, NESTED))
    terms.append(_term(f"@collection.{AUTHORS}.diff_items_via_author.title", "text", True, JOIN, NESTED))
    return terms


def _author_terms() -> list[Term]:
    """Every term on diff_authors: its own fields, back-relations from diff_items and joins."""
    terms = [_term(f, k, False) for f, k in AUTHOR_FIELD_KINDS.items()]
    terms.append(_term("name:lower", "atext", False))
    for f, k in ITEM_FIELD_KINDS.items():
        for via in ("diff_items_via_author", "diff_items_via_coauthors"):
            terms.append(_term(f"{via}.{f}", k, True, BACK_RELATION))
        terms.append(_term(f"@collection.{COLLECTION}.{f}", k, True, JOIN))
        terms.append(_term(f"@collection.{COLLECTION}:i.{f}", k, True, JOIN, JOIN_ALIAS))
    for f in ("name", "n", "id", "active"):
        k = AUTHOR_FIELD_KINDS[f]
        for path in ("diff_items_via_author.author", "diff_items_via_coauthors.coauthors"):
            terms.append(_term(f"{path}.{f}", k, True, BACK_RELATION, NESTED))
        terms.append(_term(f"diff_items_via_coauthors.author.{f}", k, True, BACK_RELATION, NESTED))
        terms.append(_term(f"@collection.{AUTHORS}:o.{f}", k, True, JOIN, JOIN_ALIAS))
        terms.append(_term(f"@collection.{COLLECTION}.author.{f}", k, True, JOIN, NESTED))
    for via in ("diff_items_via_author", "diff_items_via_coauthors"):
        terms.append(_term(f"{via}.tags:each", "select", True, BACK_RELATION))
        terms.append(_term(f"{via}.coauthors:each", "aid", True, BACK_RELATION))
        terms.append(_term(f"{via}.coauthors:length", "number", True, BACK_RELATION))
        terms.append(_term(f"{via}.title:lower", "text", True, BACK_RELATION))
    terms.append(_term(f"@collection.{COLLECTION}.coauthors:each", "aid", True, JOIN))
    terms.append(_term(f"@collection.{COLLECTION}.title:lower", "text", True, JOIN))
    terms.append(_term(f"@collection.{COLLECTION}:i.coauthors:each", "aid", True, JOIN, JOIN_ALIAS))
    terms.append(
        _term(
            "diff_items_via_coauthors.author.diff_items_via_coauthors.title",
            "text",
            True,
            BACK_RELATION,
            NESTED,
        )
    )
    return terms


TERMS = {COLLECTION: _item_terms(), AUTHORS: _author_terms()}


@functools.cache
def _terms(collection: str, relation_only: bool, group: str = "") -> st.SearchStrategy[Term]:
    """Terms of a collection: those through a relation or join only, or of one value group only."""
    found = [
        t
        for t in TERMS[collection]
        if (t.constructs - {EACH, LENGTH, LOWER} or not relation_only)
        and (not group or _GROUPS[t.kind] == group)
    ]
    return st.sampled_from(found)


_FLAG_LITERALS = [*KEYWORDS, "1", "0", "2", "'true'", "'1'", '"false"', "''"]


@functools.cache
def _kind_literal(kind: str) -> st.SearchStrategy[str]:
    """A literal suiting the kind most of the time; any literal, author name or id otherwise."""
    typed: st.SearchStrategy[str] = {
        "text": text_literal(),
        "atext": text_literal(AUTHOR_TEXT_VALUES),
        "select": text_literal(SELECT_VALUES),
        "iid": text_literal(ITEM_ID_VALUES),
        "aid": text_literal(AUTHOR_ID_VALUES),
        "aids": st.one_of(text_literal(AUTHOR_LIST_TEXTS), text_literal(AUTHOR_ID_VALUES)),
        "number": st.one_of(
            pick(NUMBER_LITERALS), text_literal(["10", "2", "-3.5", "abc", "", "1.5", "0", "1e1"])
        ),
        "bool": pick(_FLAG_LITERALS),
        "date": text_literal(DATE_VALUES),
        "json": st.one_of(text_literal(JSON_TEXTS), pick(NUMBER_LITERALS[:12]), pick(KEYWORDS)),
        "tags": st.one_of(text_literal(JSON_TEXTS), text_literal(SELECT_VALUES)),
    }[kind]
    others = st.one_of(any_literal(), text_literal(AUTHOR_TEXT_VALUES), text_literal(AUTHOR_ID_VALUES))
    return st.one_of(typed, typed, typed, typed, others)


_LENGTH_LITERALS = pick(["0", "1", "2", "3", "5", "6", "-1", "1.5", '"2"', "null", "''"])

# Refused by PocketBase (400): unknown fields or collections on a path, modifiers where they do
# not apply, broken paths.
INVALID_RELATION_FILTERS = {
    COLLECTION: [
        "author.nope = 1",
        "author.name.x = 1",
        "coauthors.coauthors.name = 'x'",
        "author..name = 'x'",
        "author. = 'x'",
        "author.name:lower:lower = 'a'",
        "author.diff_items_via_author:length > 3",
        "author.diff_items_via_nope.title = 'x'",
        "@collection.nope.name = 'x'",
        "@collection.diff_authors = 'x'",
        "@collection.diff_authors.nope = 1",
        "@collection.diff_authors:.name = 'x'",
        "diff_items_via_author.title = 'x'",
    ],
    AUTHORS: [
        "diff_items_via_author = null",
        "diff_items_via_author:length > 3",
        "diff_items_via_coauthors:length = 0",
        "diff_items_via_author:each = 'x'",
        "diff_items_via_nope.title = 'x'",
        "diff_items_via_author.nope = 1",
        "diff_items_via_author.coauthors.coauthors.name = 'x'",
        "author.name = 'x'",
        "title = 'x'",
        "@collection.diff_items:i = 'x'",
    ],
}


@st.composite
def relation_leaf(draw: st.DrawFn, collection: str, relation_only: bool = True) -> Filter:
    """One comparison on `collection` with a relation path or a join on the left (or, swapped, on
    the right), against a literal or another term, with a plain or any-of operator."""
    if draw(PERCENT) < 3:
        return Filter(
            draw(pick(INVALID_RELATION_FILTERS[collection])), frozenset({ODD}), collection=collection
        )
    left = draw(_terms(collection, relation_only))
    # Any-of operators mostly where they matter: on terms with several values per record.
    any_of = draw(PERCENT) < (50 if left.multi else 15)
    op = draw(pick(ANY_OPS if any_of else OPS))
    bucket = draw(PERCENT)
    right_constructs: frozenset[str] = frozenset()
    if left.constructs & {LENGTH} and bucket < 50:
        right = draw(_LENGTH_LITERALS)
    elif bucket < 45:
        right = draw(_kind_literal(left.kind))
    elif bucket < 75:  # a term of the same group, often across the relation
        peer = draw(_terms(collection, False, _GROUPS[left.kind]))
        right, right_constructs = peer.text, peer.constructs
    elif bucket < 85:  # any term
        peer = draw(_terms(collection, False))
        right, right_constructs = peer.text, peer.constructs
    elif bucket < 93:
        right = draw(any_literal())
    else:
        right = draw(pick(["null", "true", "false"]))
    constructs = left.constructs | right_constructs | ({ANY_OF} if any_of else frozenset())
    a, b = draw(WS), draw(WS)
    if draw(PERCENT) < 15:
        return _cmp(right, op, left.text, a, b, constructs, collection)
    return _cmp(left.text, op, right, a, b, constructs, collection)


_RELATION_KINDS = frozenset({RELATION, BACK_RELATION, JOIN})
_ITEMS_RELATION_LEAF = relation_leaf(COLLECTION)
_AUTHORS_RELATION_LEAF = relation_leaf(AUTHORS)
# diff_items: relation leaves mixed with the existing core and extended ones; diff_authors:
# relation leaves mixed with comparisons on its own fields.
_RELATION_EXPRESSIONS = {
    COLLECTION: _expression(
        st.one_of(
            _ITEMS_RELATION_LEAF,
            _ITEMS_RELATION_LEAF,
            _ITEMS_RELATION_LEAF,
            core_leaf(lower=False),
            _EXTENDED_LEAF,
        )
    ),
    AUTHORS: _expression(
        st.one_of(_AUTHORS_RELATION_LEAF, _AUTHORS_RELATION_LEAF, relation_leaf(AUTHORS, relation_only=False))
    ),
}
_RELATION_LEAVES = {COLLECTION: _ITEMS_RELATION_LEAF, AUTHORS: _AUTHORS_RELATION_LEAF}


_QUOTED = re.compile(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")
_PATH = re.compile(r"@?[A-Za-z_][\w.:]*")
_ROOT = re.compile(r"@collection\.(\w+)(?::\w+)?")
# Rows one step of a path can fan out to, at most, in the dataset.
_STEP_FANOUT = {"coauthors": 5, "diff_items_via_author": 10, "diff_items_via_coauthors": 10}
_JOIN_FANOUT = {COLLECTION: 50, AUTHORS: 12}
# PocketBase joins every multi-valued path of a filter into one query, and the rows multiply:
# measured on this dataset, up to ~10^4 estimated rows per record answer within 0.4 s, while from
# ~10^5 on PocketBase takes seconds to minutes per filter.
MAX_JOIN_ROWS = 20_000


def join_rows(f: Filter) -> int:
    """An estimate of the rows per record PocketBase's query for `f` goes through: the product of
    the fan-outs of the distinct multi-valued path prefixes (each one is a join, shared by every
    comparison that uses the same prefix)."""
    fanouts: dict[str, int] = {}
    for token in _PATH.findall(_QUOTED.sub("''", f.text)):
        root = _ROOT.match(token)
        prefix, rest = (root.group(), token[root.end() :]) if root else ("", token)
        if root:
            fanouts[prefix] = _JOIN_FANOUT.get(root.group(1), 1)
        for step in rest.strip(".").split("."):
            prefix = f"{prefix}.{step}" if prefix else step
            name, _, modifier = step.partition(":")
            fanout = _STEP_FANOUT.get(name, 1)
            if modifier == "each":
                fanout = max(fanout, 5)
            if fanout > 1:
                fanouts[prefix] = fanout
    return math.prod(fanouts.values())


@st.composite
def _with_relation(draw: st.DrawFn, collection: str) -> Filter:
    """An expression on `collection`; one without a relation path or join gets one appended."""
    f = draw(_RELATION_EXPRESSIONS[collection])
    if f.constructs & _RELATION_KINDS or ODD in f.constructs:
        return f
    extra = draw(_RELATION_LEAVES[collection])
    join = draw(pick(["&&", "||"]))
    return Filter(
        f"({f.text}) {join} {extra.text}",
        f.constructs | extra.constructs,
        (*f.parts(), extra),
        collection=collection,
    )


_WITH_RELATION = {c: _with_relation(c) for c in (COLLECTION, AUTHORS)}


@st.composite
def relation_filters(draw: st.DrawFn) -> Filter:
    """A filter on diff_items (60 %) or diff_authors with at least one relation path or join, and
    at most MAX_JOIN_ROWS estimated rows per record: a larger one is drawn again, after a few tries
    as a single comparison (the last of which is kept: one comparison stays within a few times the
    budget)."""
    collection = COLLECTION if draw(PERCENT) < 60 else AUTHORS
    for attempt in range(10):
        f = draw(_WITH_RELATION[collection] if attempt < 5 else _RELATION_LEAVES[collection])
        if join_rows(f) <= MAX_JOIN_ROWS:
            break
    return f
