"""Hypothesis strategies that write filters in PocketBase's syntax over the `diff_items` fields.

`core_filters()` stays within what Hearth claims to support: a field (or `:lower` on a text field),
a literal (text in either quote style with escapes, numbers, true/false/null) or a macro on each
side of `= != > >= < <= ~ !~`, joined with `&&`/`||` and parentheses, plus a few malformed filters
that PocketBase refuses with 400.

`extended_filters()` adds the constructs Hearth may not support yet: the any-of operators (`?=` …),
`:each`, `:length`, JSON paths (`meta.k`) and `@request.*`. Every generated filter carries the set of
those constructs it uses, so failures can be reported per construct.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import strategies as st

from tests.differential.dataset import fmt

# Constructs of the extended strategy (the keys of Filter.constructs).
ANY_OF = "any-of operators (?= ?!= ?> ?>= ?< ?<= ?~ ?!~)"
EACH = ":each"
LENGTH = ":length"
JSON_PATH = "JSON paths (meta.k)"
REQUEST = "@request.*"
LOWER = ":lower"
ODD = "odd syntax (malformed, blank, comments)"


@dataclass(frozen=True, slots=True)
class Filter:
    text: str
    constructs: frozenset[str] = frozenset()
    # The single comparisons the filter is built from (empty for a leaf itself), so a mismatch
    # can be narrowed down to the comparison(s) that differ on their own.
    leaves: tuple[Filter, ...] = ()
    # A single comparison written with single spaces (for grouping reports); "" for compounds.
    canon: str = ""

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


def _cmp(left: str, op: str, right: str, a: str, b: str, constructs: frozenset[str] = frozenset()) -> Filter:
    """One comparison; `a` and `b` are the whitespace around the operator."""
    return Filter(f"{left}{a}{op}{b}{right}", constructs, canon=f"{left} {op} {right}")


# PocketBase stamps `created` and `updated` separately, so they can differ by a millisecond on the
# same record (Hearth's are equal): comparing one with the other is not deterministic.
_UNSTABLE_PAIR = {"created", "updated"}


def _stable_right(left: str, right: str) -> str:
    return "when" if {left, right} == _UNSTABLE_PAIR else right


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
        return _cmp(name, op, draw(literal_for(name)), a, b, _constructs(name))
    if bucket < 53:  # literal op field
        name = draw(pick(fields))
        return _cmp(draw(literal_for(name)), op, name, a, b, _constructs(name))
    if bucket < 73:  # field op field
        left, right = draw(pick(fields)), draw(pick(fields))
        right = _stable_right(left, right)
        return _cmp(left, op, right, a, b, _constructs(left, right))
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
            part = Filter(f"({draw(WS)}{part.text}{draw(WS)})", part.constructs, part.parts())
        parts.append(part)
    text = parts[0].text
    for part in parts[1:]:
        join = draw(pick(["&&", "||"]))
        text += f"{draw(WS)}{join}{draw(WS)}{part.text}"
    leaves = tuple(leaf for p in parts for leaf in p.parts())
    return Filter(text, frozenset().union(*(p.constructs for p in parts)), leaves)


@st.composite
def _expression(draw: st.DrawFn, leaf: st.SearchStrategy[Filter]) -> Filter:
    f = _combine(draw, leaf, 0)
    if draw(_TENTHS) == 0:
        f = Filter(f"{draw(WS)}{f.text}{draw(WS)}", f.constructs, f.leaves, f.canon)
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


@st.composite
def extended_leaf(draw: st.DrawFn) -> Filter:
    kind = draw(pick([ANY_OF, ANY_OF, EACH, LENGTH, JSON_PATH, JSON_PATH, REQUEST, REQUEST]))
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
        return _cmp(left, op, right, a, b, frozenset(used))
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
