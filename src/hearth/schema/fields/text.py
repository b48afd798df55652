"""`text` fields, plus the Go-regexp support shared by the string types (text, password, url).

PocketBase validates `pattern` with Go's RE2 engine: linear time, no lookaround, no backrefs, `$`
only at the very end. Python's backtracking `re` differs on all three and a superuser-supplied
pattern such as `(a+)+$` would hang a worker. So patterns are parsed with Python's own regex
parser (after translating the bits of Go syntax it lacks), checked for what Go rejects, and run on
a small Thompson-NFA simulator with a lazily built DFA cache: linear in the input, Go semantics.
"""

from __future__ import annotations

import functools
import re
import secrets
import warnings
from collections.abc import Callable
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from re import error as re_error
from typing import Any, ClassVar

from hearth._util.ids import random_string, simple_pattern_alphabet
from hearth.errors import FieldError
from hearth.schema.fields.base import MAX_SAFE_INT, Field, StoredCheck, cast_str, opt_int

DEFAULT_ID_PATTERN = "^[a-z0-9]+$"
DEFAULT_MAX_LENGTH = 5000

# Windows device names and path-ish characters PocketBase keeps out of custom primary keys
# (record ids become directory names in the file storage).
_FORBIDDEN_PK_CHARS = (
    ".",
    "/",
    "\\",
    "|",
    '"',
    "'",
    "`",
    "<",
    ">",
    ":",
    "?",
    "*",
    "%",
    "$",
    "\0",
    "\t",
    "\n",
    "\r",
    " ",
)
_RESERVED_PKS = (
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
)


class RegexError(ValueError):
    """A pattern Go's regexp (or PocketBase's generator) would refuse; the message is Go-like."""


# ----- pattern translation (Go syntax -> Python parser syntax) -----------------------------------
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


def _go_error(code: str, expr: str) -> RegexError:
    return RegexError(f"error parsing regexp: {code}: `{expr}`")


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= n:
                raise _go_error("trailing backslash at end of expression", "")
            nxt = pattern[i + 1]
            if nxt == "z":
                out.append("\\Z")
            elif nxt in "ZuUNCGpP":
                # Go has no \Z \u \U \N \C \G; Unicode classes (\pL) are not supported here.
                code = "invalid character class range" if nxt in "pP" else "invalid escape sequence"
                raise _go_error(code, pattern[i : i + 2])
            elif nxt == "x" and pattern.startswith("{", i + 2):
                end = pattern.find("}", i + 3)
                try:
                    out.append(f"\\U{int(pattern[i + 3 : end], 16):08x}")
                except ValueError:
                    raise _go_error("invalid escape sequence", pattern[i : end + 1]) from None
                i = end + 1
                continue
            elif nxt == "Q":
                end = pattern.find("\\E", i + 2)
                literal = pattern[i + 2 :] if end < 0 else pattern[i + 2 : end]
                out.append("".join("\\" + c if not c.isalnum() else c for c in literal))
                i = n if end < 0 else end + 2
                continue
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if in_class:
            if ch == "[" and pattern.startswith("[:", i) and (end := pattern.find(":]", i + 2)) > 0:
                name = pattern[i + 2 : end]
                if name not in _POSIX_CLASSES:
                    raise _go_error("invalid character class range", pattern[i : end + 2])
                out.append(_POSIX_CLASSES[name])
                i = end + 2
                continue
            if ch == "]":
                in_class = False
            elif ch in "[&~|":
                ch = "\\" + ch  # literal in Go; Python warns about future set operations
            out.append(ch)
            i += 1
            continue
        if ch == "[":
            in_class = True
            out.append("[")
            i += 1
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
            if pattern.startswith("]", i):
                out.append("\\]")
                i += 1
            continue
        if pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
            continue
        if pattern.startswith("(?", i):
            # Go's U (ungreedy) flag cannot change whether a pattern matches: drop it.
            j = i + 2
            while j < n and pattern[j] in "imsU-":
                j += 1
            if j > i + 2 and j < n and pattern[j] in ":)":
                flags = pattern[i + 2 : j].replace("U", "")
                if flags.strip("-") == "":
                    out.append("(?:" if pattern[j] == ":" else "(?:)")
                else:
                    out.append(f"(?{flags}{pattern[j]}")
                i = j + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _python_error(err: re_error, pattern: str) -> RegexError:
    msg, pos = err.msg, err.pos or 0
    if msg == "unterminated character set":
        return _go_error("missing closing ]", pattern[pos:])
    if msg.startswith("missing ), unterminated subpattern"):
        return _go_error("missing closing )", pattern)
    if msg == "unbalanced parenthesis":
        return _go_error("unexpected )", pattern)
    if msg == "nothing to repeat":
        return _go_error("missing argument to repetition operator", pattern[pos : pos + 1])
    if msg == "multiple repeat":
        return _go_error("invalid nested repetition operator", pattern[max(pos - 1, 0) : pos + 1])
    if msg.startswith("bad character range"):
        return _go_error("invalid character class range", msg.rsplit(" ", 1)[-1])
    if msg.startswith("bad escape"):
        return _go_error("invalid escape sequence", pattern[pos : pos + 2])
    if msg.startswith(("unknown extension", "unknown flag", "missing -, : or )")):
        return _go_error("invalid or unsupported Perl syntax", pattern[pos : pos + 3])
    return RegexError(f"error parsing regexp: {msg}")


# ----- compiled program ------------------------------------------------------------------------
_CHAR, _SPLIT, _JMP, _ASSERT, _MATCH = range(5)
_BOT, _EOT, _BOL, _EOL, _WORDB, _NWORDB = range(6)
_MAX_PROGRAM = 20_000  # instructions; Go fails with "expression too large" at a similar scale
_MAX_REPEAT_COUNT = 1000  # Go's limit on {n,m}
_CACHE_LIMIT = 5_000
# Previous-character classes that matter to assertions.
_PREV_START, _PREV_NL, _PREV_WORD, _PREV_OTHER = range(4)

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"  # Go's "any char" pool
_WORD_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_SPACE_CHARS = frozenset("\t\n\f\r ")  # Go's \s is ASCII and has no \v

Pred = Callable[[str], bool]


def _is_word(ch: str) -> bool:
    return ch in _WORD_CHARS


_CATEGORIES: dict[Any, Pred] = {
    sre.CATEGORY_DIGIT: lambda ch: "0" <= ch <= "9",
    sre.CATEGORY_NOT_DIGIT: lambda ch: not ("0" <= ch <= "9"),
    sre.CATEGORY_SPACE: lambda ch: ch in _SPACE_CHARS,
    sre.CATEGORY_NOT_SPACE: lambda ch: ch not in _SPACE_CHARS,
    sre.CATEGORY_WORD: _is_word,
    sre.CATEGORY_NOT_WORD: lambda ch: ch not in _WORD_CHARS,
}


def _case_variants(ch: str) -> set[str]:
    return {v for v in (ch, ch.lower(), ch.upper()) if len(v) == 1}


def _literal_pred(code: int, icase: bool) -> Pred:
    char = chr(code)
    if not icase:
        return lambda ch: ch == char
    variants = _case_variants(char)
    return variants.__contains__


def _class_pred(items: list[tuple[Any, Any]], icase: bool) -> Pred:
    negate = False
    chars: set[str] = set()
    ranges: list[tuple[int, int]] = []
    cats: list[Pred] = []
    for op, av in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            chars.add(chr(av))
        elif op is sre.RANGE:
            ranges.append((av[0], av[1]))
        elif op is sre.CATEGORY:
            cats.append(_CATEGORIES[av])
        else:  # pragma: no cover - the parser emits nothing else inside a class
            raise RegexError(f"error parsing regexp: unsupported class item {op}")

    def base(ch: str) -> bool:
        if ch in chars:
            return True
        code = ord(ch)
        return any(lo <= code <= hi for lo, hi in ranges) or any(p(ch) for p in cats)

    test = (lambda ch: any(base(v) for v in _case_variants(ch))) if icase else base
    return (lambda ch: not test(ch)) if negate else test


def _flag(flags: int, bit: int) -> bool:
    return bool(flags & bit)


_UNSUPPORTED_FLAGS = sre.SRE_FLAG_VERBOSE | sre.SRE_FLAG_ASCII | sre.SRE_FLAG_LOCALE


class _Compiler:
    def __init__(self) -> None:
        self.prog: list[list[Any]] = []

    def add(self, *ins: Any) -> int:
        if len(self.prog) >= _MAX_PROGRAM:
            raise RegexError("error parsing regexp: expression too large")
        self.prog.append(list(ins))
        return len(self.prog) - 1

    def seq(self, items: Any, flags: int) -> None:
        for op, av in items:
            self.node(op, av, flags)

    def node(self, op: Any, av: Any, flags: int) -> None:
        icase = _flag(flags, sre.SRE_FLAG_IGNORECASE)
        if op is sre.LITERAL:
            self.add(_CHAR, _literal_pred(av, icase))
        elif op is sre.NOT_LITERAL:
            pred = _literal_pred(av, icase)
            self.add(_CHAR, lambda ch: not pred(ch))
        elif op is sre.ANY:
            self.add(
                _CHAR, (lambda ch: True) if _flag(flags, sre.SRE_FLAG_DOTALL) else (lambda ch: ch != "\n")
            )
        elif op is sre.IN:
            self.add(_CHAR, _class_pred(av, icase))
        elif op is sre.BRANCH:
            self.branch(av[1], flags)
        elif op is sre.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags & _UNSUPPORTED_FLAGS:
                raise _go_error("invalid or unsupported Perl syntax", "(?")
            self.seq(sub, (flags | add_flags) & ~del_flags)
        elif op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:
            self.repeat(av, flags)
        elif op is sre.AT:
            self.add(_ASSERT, _assertion(av, flags))
        elif op is sre.ASSERT or op is sre.ASSERT_NOT:
            token = (
                ("(?=" if op is sre.ASSERT else "(?!")
                if av[0] >= 0
                else ("(?<=" if op is sre.ASSERT else "(?<!")
            )
            raise _go_error("invalid or unsupported Perl syntax", token)
        elif op is sre.GROUPREF or op is sre.GROUPREF_EXISTS:
            raise _go_error("invalid escape sequence", "\\1")
        elif op is sre.ATOMIC_GROUP:
            raise _go_error("invalid or unsupported Perl syntax", "(?>")
        else:  # possessive repeats (`a++`)
            raise _go_error("invalid nested repetition operator", "++")

    def branch(self, alternatives: list[Any], flags: int) -> None:
        jumps = []
        for index, alt in enumerate(alternatives):
            if index == len(alternatives) - 1:
                self.seq(alt, flags)
                break
            split = self.add(_SPLIT, 0, 0)
            self.prog[split][1] = split + 1
            self.seq(alt, flags)
            jumps.append(self.add(_JMP, 0))
            self.prog[split][2] = len(self.prog)
        for jump in jumps:
            self.prog[jump][1] = len(self.prog)

    def repeat(self, av: Any, flags: int) -> None:
        lo, hi, sub = av
        unbounded = hi == sre.MAXREPEAT
        if lo > _MAX_REPEAT_COUNT or (not unbounded and hi > _MAX_REPEAT_COUNT):
            raise _go_error(
                "invalid repeat count", f"{{{lo}}}" if lo == hi else f"{{{lo},{'' if unbounded else hi}}}"
            )
        for _ in range(lo):
            self.seq(sub, flags)
        if unbounded:
            loop = self.add(_SPLIT, 0, 0)
            self.seq(sub, flags)
            self.add(_JMP, loop)
            self.prog[loop][1:] = [loop + 1, len(self.prog)]
            return
        splits = []
        for _ in range(hi - lo):
            split = self.add(_SPLIT, 0, 0)
            self.prog[split][1] = split + 1
            splits.append(split)
            self.seq(sub, flags)
        for split in splits:
            self.prog[split][2] = len(self.prog)


def _assertion(code: Any, flags: int) -> int:
    multiline = _flag(flags, sre.SRE_FLAG_MULTILINE)
    if code is sre.AT_BEGINNING:
        return _BOL if multiline else _BOT
    if code is sre.AT_BEGINNING_STRING:
        return _BOT
    if code is sre.AT_END:
        return _EOL if multiline else _EOT  # Go's `$` never matches before a final "\n"
    if code is sre.AT_END_STRING:
        return _EOT
    if code is sre.AT_BOUNDARY:
        return _WORDB
    if code is sre.AT_NON_BOUNDARY:
        return _NWORDB
    raise _go_error("invalid escape sequence", str(code))


_SIMPLE_OPS = {sre.LITERAL, sre.IN, sre.ANY, sre.AT}


def _class_ok(op: Any, av: Any) -> bool:
    # Go's \s lacks \v, which Python's ASCII \s has: leave those to the DFA.
    if op is sre.IN:
        return all(
            a is not sre.CATEGORY or b not in (sre.CATEGORY_SPACE, sre.CATEGORY_NOT_SPACE) for a, b in av
        )
    return True


def _is_simple(tree: Any, flags: int) -> bool:
    if flags & ~sre.SRE_FLAG_UNICODE:
        return False
    repeats = 0
    for op, av in tree:
        if op in _SIMPLE_OPS and _class_ok(op, av):
            continue
        if (
            op is sre.MAX_REPEAT
            and len(av[2]) == 1
            and av[2][0][0] in (sre.LITERAL, sre.IN, sre.ANY)
            and _class_ok(*av[2][0])
        ):
            repeats += 1
            continue
        return False
    return repeats <= 1


class GoRegex:
    """A Go-compatible regular expression: `search()` is Go's MatchString, `generate()` is
    PocketBase's RandomStringByRegex (used by `autogeneratePattern`)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._tree = sre_parse.parse(_translate(pattern), 0)
        except re_error as err:
            raise _python_error(err, pattern) from None
        except RecursionError:
            raise RegexError("error parsing regexp: expression nests too deeply") from None
        self._flags = self._tree.state.flags
        if self._flags & _UNSUPPORTED_FLAGS:
            raise _go_error("invalid or unsupported Perl syntax", "(?")
        compiler = _Compiler()
        compiler.seq(self._tree, self._flags)
        compiler.add(_MATCH)
        self._prog = compiler.prog
        # Patterns with at most one repeat and no groups cannot backtrack badly, so the C engine
        # is safe for them (ASCII classes, as Go's); everything else runs on the linear-time DFA.
        self._fast = (
            re.compile(_translate(pattern), re.ASCII) if _is_simple(self._tree, self._flags) else None
        )
        self._steps: dict[tuple[frozenset[int], int, str | None], tuple[bool, frozenset[int]]] = {}
        self._interned: dict[frozenset[int], frozenset[int]] = {}

    # ----- matching ---------------------------------------------------------------------------
    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in `text` (Go's regexp.MatchString)."""
        # Python's `$` also matches before a final newline, Go's does not: let the DFA decide those.
        if self._fast is not None and not text.endswith("\n"):
            return self._fast.search(text) is not None
        state: frozenset[int] = frozenset()
        prev = _PREV_START
        for index in range(len(text) + 1):
            ch = text[index] if index < len(text) else None
            key = (state, prev, ch)
            hit = self._steps.get(key)
            if hit is None:
                hit = self._step(state, prev, ch)
                if len(self._steps) >= _CACHE_LIMIT:
                    self._steps.clear()  # bounded memory; the cache refills with what is hot
                self._steps[key] = hit
            matched, state = hit
            if matched:
                return True
            if ch is not None:
                prev = _PREV_NL if ch == "\n" else _PREV_WORD if _is_word(ch) else _PREV_OTHER
        return False

    def _step(self, state: frozenset[int], prev: int, ch: str | None) -> tuple[bool, frozenset[int]]:
        prog = self._prog
        at_start, at_end = prev == _PREV_START, ch is None
        boundary = (prev == _PREV_WORD) != (ch is not None and _is_word(ch))
        holds = {
            _BOT: at_start,
            _EOT: at_end,
            _BOL: at_start or prev == _PREV_NL,
            _EOL: at_end or ch == "\n",
            _WORDB: boundary,
            _NWORDB: not boundary,
        }
        seen: set[int] = set()
        stack = [0, *state]  # a new thread starts at every position: unanchored search
        advanced: set[int] = set()
        matched = False
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            ins = prog[pc]
            op = ins[0]
            if op == _CHAR:
                if ch is not None and ins[1](ch):
                    advanced.add(pc + 1)
            elif op == _SPLIT:
                stack.append(ins[2])
                stack.append(ins[1])
            elif op == _JMP:
                stack.append(ins[1])
            elif op == _ASSERT:
                if holds[ins[1]]:
                    stack.append(pc + 1)
            else:
                matched = True
        frozen = frozenset(advanced)
        if len(self._interned) >= _CACHE_LIMIT:
            self._interned.clear()
        return matched, self._interned.setdefault(frozen, frozen)

    # ----- generation -------------------------------------------------------------------------
    def generate(self) -> str:
        """A random string for the pattern, with PocketBase's generator rules: anchors are not
        supported, `.`/negated classes draw from [A-Za-z0-9], unbounded repeats stop below 6 and
        a bounded `{n,m}` yields n..m-1 copies."""
        out: list[str] = []
        _generate(self._tree, self._flags, out)
        return "".join(out)


def _generate(items: Any, flags: int, out: list[str]) -> None:
    for op, av in items:
        icase = _flag(flags, sre.SRE_FLAG_IGNORECASE)
        if op is sre.LITERAL:
            out.append(chr(av))
        elif op is sre.NOT_LITERAL:
            out.append(_pick_from_pool(_not_char(chr(av))))
        elif op is sre.ANY:
            out.append(secrets.choice(_ALNUM))
        elif op is sre.IN:
            out.append(_pick_class(av, icase))
        elif op is sre.BRANCH:
            _generate(secrets.choice(av[1]), flags, out)
        elif op is sre.SUBPATTERN:
            _generate(av[3], (flags | av[1]) & ~av[2], out)
        elif op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:
            lo, hi, sub = av
            hi = 6 if hi == sre.MAXREPEAT else max(hi, lo)
            count = lo + (secrets.randbelow(hi - lo) if hi > lo else 0)
            for _ in range(count):
                _generate(sub, flags, out)
        elif op is sre.AT:
            raise RegexError(f"unsupported pattern operator {_GO_ASSERT_OPS[_assertion(av, flags)]}")
        else:  # pragma: no cover - rejected when compiling
            raise RegexError(f"unsupported pattern operator {op}")


# Go's syntax.Op numbers, which PocketBase puts in its "unsupported pattern operator N" message.
_GO_ASSERT_OPS = {_BOL: 7, _EOL: 8, _BOT: 9, _EOT: 10, _WORDB: 11, _NWORDB: 12}


def _not_char(char: str) -> Pred:
    return lambda ch: ch != char


def _pick_from_pool(pred: Pred) -> str:
    pool = [c for c in _ALNUM if pred(c)]
    if not pool:
        raise RegexError("no runes to choose from")
    return secrets.choice(pool)


def _pick_class(items: list[tuple[Any, Any]], icase: bool) -> str:
    if any(op is sre.NEGATE for op, _ in items) or any(
        op is sre.CATEGORY and av not in (sre.CATEGORY_DIGIT, sre.CATEGORY_WORD, sre.CATEGORY_SPACE)
        for op, av in items
    ):
        return _pick_from_pool(_class_pred(items, icase))
    ranges: list[tuple[int, int]] = []
    for op, av in items:
        if op is sre.LITERAL:
            ranges.append((av, av))
        elif op is sre.RANGE:
            ranges.append((av[0], av[1]))
        elif av is sre.CATEGORY_DIGIT:
            ranges.append((48, 57))
        elif av is sre.CATEGORY_WORD:
            ranges += [(48, 57), (65, 90), (95, 95), (97, 122)]
        else:
            ranges += [(9, 10), (12, 13), (32, 32)]
    if icase:
        extra = []
        for lo, hi in ranges:
            for code in range(max(lo, 65), min(hi, 122) + 1):
                if chr(code).isalpha():
                    extra.append((ord(chr(code).swapcase()),) * 2)
        ranges += extra
    total = sum(hi - lo + 1 for lo, hi in ranges)
    pick = secrets.randbelow(total)
    for lo, hi in ranges:
        if pick <= hi - lo:
            return chr(lo + pick)
        pick -= hi - lo + 1
    raise AssertionError("unreachable")  # pragma: no cover


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> GoRegex:
    """Compile (and cache) a Go regexp; raises RegexError like Go's regexp.Compile would."""
    return GoRegex(pattern)


def regex_error(pattern: str) -> FieldError | None:
    """PocketBase's `validators.IsRegex` for an option value."""
    if not pattern:
        return None
    try:
        compile_pattern(pattern)
    except RegexError as err:
        return FieldError("validation_invalid_regex", str(err))
    return None


def pattern_matches(pattern: str, value: str) -> bool:
    try:
        return compile_pattern(pattern).search(value)
    except RegexError:
        return False  # Go's regexp.MatchString returns false on a compile error


# ----- option error helpers shared by the text-like types ---------------------------------------
def min_error(threshold: int | float) -> FieldError:
    return FieldError(
        "validation_min_greater_equal_than_required",
        f"Must be no less than {threshold}.",
        {"threshold": threshold},
    )


def max_error(threshold: int | float) -> FieldError:
    return FieldError(
        "validation_max_less_equal_than_required",
        f"Must be no greater than {threshold}.",
        {"threshold": threshold},
    )


def check_range(value: int, lo: int | None, hi: int | None) -> FieldError | None:
    """ozzo's Min/Max threshold rules: a zero value is "empty" and skips both checks."""
    if value == 0:
        return None
    if lo is not None and value < lo:
        return min_error(lo)
    if hi is not None and value > hi:
        return max_error(hi)
    return None


# ----- the field --------------------------------------------------------------------------------
_AUTOGEN_CHECKED: dict[tuple[str, str, str], FieldError | None] = {}


@functools.lru_cache(maxsize=256)
def _simple_alphabet(pattern: str) -> tuple[str, int] | None:
    return simple_pattern_alphabet(pattern)


def schema_pattern(pattern: str) -> dict[str, str]:
    """A Go pattern as a JSON Schema `pattern`, when its syntax means the same to the validators
    of JSON Schema (ECMA-262 and Python's `re`, which read the common subset alike); a pattern
    only Go reads (`\\pL`, `(?i)` inside…) is left to the field's description."""
    if not pattern:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except re_error:
        return {}
    return {"pattern": pattern}


class TextField(Field):
    type: ClassVar[str] = "text"
    option_defaults: ClassVar[dict[str, Any]] = {
        "autogeneratePattern": "",
        "max": 0,
        "min": 0,
        "pattern": "",
        "primaryKey": False,
    }

    @property
    def min(self) -> int:
        return int(self.options["min"])

    @property
    def max(self) -> int:
        return int(self.options["max"])

    @property
    def pattern(self) -> str:
        return str(self.options["pattern"])

    @property
    def primary_key(self) -> bool:
        return bool(self.options["primaryKey"])

    @property
    def autogenerate_pattern(self) -> str:
        return str(self.options["autogeneratePattern"])

    def normalize_options(self) -> dict[str, FieldError]:
        opts = self.options
        opts["min"] = opt_int(opts["min"])
        opts["max"] = opt_int(opts["max"])
        for key in ("pattern", "autogeneratePattern"):
            opts[key] = opts[key] if isinstance(opts[key], str) else ""
        opts["primaryKey"] = bool(opts["primaryKey"])

        errors: dict[str, FieldError] = {}
        if self.primary_key and self.name != "id":
            errors["name"] = FieldError("validation_in_invalid", 'The primary key must be named "id".')
        if err := check_range(self.min, 0, MAX_SAFE_INT):
            errors["min"] = err
        if err := check_range(self.max, self.min, MAX_SAFE_INT):
            errors["max"] = err
        if self.primary_key and not self.pattern:
            errors["pattern"] = FieldError("validation_required", "Cannot be blank.")
        elif err := regex_error(self.pattern):
            errors["pattern"] = err
        if self.primary_key and self.hidden:
            errors["hidden"] = FieldError("validation_empty", "Must be blank.")
        if self.primary_key and not self.required:
            errors["required"] = FieldError("validation_required", "Cannot be blank.")
        if err := self._autogenerate_error():
            errors["autogeneratePattern"] = err
        return errors

    def _autogenerate_error(self) -> FieldError | None:
        if not self.autogenerate_pattern:
            return None
        # Collections are rebuilt from storage on every schema reload: sample each option set once.
        key = (self.name, self.autogenerate_pattern, repr(sorted(self.options.items())))
        if key not in _AUTOGEN_CHECKED:
            if len(_AUTOGEN_CHECKED) > 4096:
                _AUTOGEN_CHECKED.clear()
            _AUTOGEN_CHECKED[key] = self._sample_autogenerate()
        return _AUTOGEN_CHECKED[key]

    def _sample_autogenerate(self) -> FieldError | None:
        if err := regex_error(self.autogenerate_pattern):
            return err
        # Like PocketBase, sample the generator and check the samples against the other options.
        for _ in range(10):
            try:
                sample = self.generate() or ""
                if not sample and not _simple_alphabet(self.autogenerate_pattern):
                    sample = compile_pattern(self.autogenerate_pattern).generate()
            except RegexError as err:
                return FieldError("validation_invalid_autogenerate_pattern", str(err))
            if self.validate_plain(sample) is not None:
                return FieldError(
                    "validation_invalid_autogenerate_pattern_value",
                    f'The provided autogenerate pattern could produce invalid field values, ex.: "{sample}"',
                )
        return None

    def generate(self) -> str | None:
        """A random value from `autogeneratePattern` (None when the field has none)."""
        if not self.autogenerate_pattern:
            return None
        simple = _simple_alphabet(self.autogenerate_pattern)
        if simple is not None:
            # Ids and token keys use this shape; the general generator is ~50× slower.
            return random_string(simple[1], simple[0])
        try:
            return compile_pattern(self.autogenerate_pattern).generate()
        except RegexError:
            return None

    # ----- values -------------------------------------------------------------------------------
    def from_db(self, raw: Any) -> Any:
        return "" if raw is None else str(raw)

    def prepare(self, raw: Any) -> Any:
        return cast_str(raw) or ""

    def validate(self, value: Any) -> FieldError | None:
        return self.validate_plain(value if isinstance(value, str) else "")

    def stored_check(self) -> StoredCheck | None:
        default_id = self.pattern == DEFAULT_ID_PATTERN
        if (self.pattern and not default_id) or (self.primary_key and not default_id):
            return None  # a Go regex, or the id's forbidden characters: not stated in SQL
        return StoredCheck(
            "text",
            required=self.required or self.primary_key,
            min_chars=self.min,
            max_chars=self.max or DEFAULT_MAX_LENGTH,
            lowercase_alnum=default_id,
        )

    def example(self) -> Any:
        generated = self.generate()
        if generated:
            return generated
        for candidate in ("lorem ipsum", "lorem-ipsum", "lorem", "Lorem", "12345"):
            text = (candidate * (1 + self.min // len(candidate)))[: max(self.max, self.min) or None]
            if self.validate_plain(text) is None:
                return text
        return ""

    def json_schema(self, write: bool = False) -> dict[str, Any]:
        if not write:
            return {"type": "string"}
        rules: dict[str, Any] = {"maxLength": self.max or DEFAULT_MAX_LENGTH}
        if self.min > 0:
            rules["minLength"] = self.min
        rules.update(schema_pattern(self.pattern))
        if self.autogenerate_pattern:  # "" or absent: the server makes one
            return {"type": "string", "anyOf": [{"const": ""}, rules]}
        if self.required or self.primary_key:
            return {"type": "string", **rules, "minLength": max(self.min, 1)}
        return self.blank_or(rules, "", {"type": "string"})

    def validate_plain(self, value: str) -> FieldError | None:
        if (self.required or self.primary_key) and value == "":
            return FieldError("validation_required", "Cannot be blank.")
        if value == "":
            return None
        length = len(value)  # code points, as PocketBase counts runes
        if self.min > 0 and length < self.min:
            return FieldError(
                "validation_min_text_constraint",
                f"Must be at least {self.min} character(s).",
                {"min": self.min},
            )
        limit = self.max or DEFAULT_MAX_LENGTH
        if length > limit:
            return FieldError(
                "validation_max_text_constraint",
                f"Must be no more than {limit} character(s).",
                {"max": limit},
            )
        if self.pattern and not pattern_matches(self.pattern, value):
            return FieldError("validation_invalid_format", "Invalid value format.")
        if self.primary_key and self.pattern != DEFAULT_ID_PATTERN:
            return _primary_key_error(value)
        return None


def _primary_key_error(value: str) -> FieldError | None:
    for ch in _FORBIDDEN_PK_CHARS:
        if ch in value:
            return FieldError(
                "validation_forbidden_pk_character",
                f"'{ch}' is not a valid primary key character.",
                {"ch": ch},
            )
    if len(value) <= 4:
        for reserved in _RESERVED_PKS:
            if value.upper() == reserved:
                return FieldError(
                    "validation_reserved_pk",
                    f"The primary key '{reserved}' is reserved and cannot be used.",
                    {"reserved": reserved},
                )
    return None
