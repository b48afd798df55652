"""The `fields` query parameter: keep only the named (dot-path) keys of a response object.

`fields=id,title,expand.author.name,body:excerpt(100,true)`; `*` as a path's last segment keeps
every key at its level. Unknown names are ignored, as PocketBase does; a malformed modifier is a
400 (FieldsError).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

_MAX_INT64 = (1 << 63) - 1
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
# The key a wildcard `*` is kept under: only a last segment is one (`data.*`); elsewhere
# (`*.title`, `data.*.y`) PocketBase takes `*` as a plain key name.
ALL = "\x00*"


class FieldsError(ValueError):
    """A `fields` modifier PocketBase refuses (answered with its generic 400)."""
_TAG_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")

Tree = dict[str, Any]  # name → subtree | ("excerpt", max, ellipsis) | True (whole value)


@lru_cache(maxsize=256)
def parse_fields(text: str) -> Tree | None:
    """None means "everything" (empty parameter)."""
    tree: Tree = {}
    any_path = False
    for raw in _split_top_level(text):
        path = raw.strip()
        if not path:
            continue
        any_path = True
        modifier: Any = True
        if ":" in path:
            path, _, text = path.partition(":")
            modifier = _modifier(text)
        parts = path.split(".")
        if parts[-1] == "*":
            parts[-1] = ALL
        node = tree
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {} if child is None else {ALL: True}
                node[part] = child
            node = child
        if not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = modifier
    if not any_path or tree == {ALL: True}:
        return None
    return tree


def parse_fields_lenient(text: str) -> Tree | None:
    """`parse_fields`, where a malformed modifier keeps every field (a batch item or realtime
    subscription answered already; it is not refused after the fact)."""
    try:
        return parse_fields(text)
    except FieldsError:
        return None


def _modifier(text: str) -> tuple[str, int, bool]:
    """`excerpt(max[, ellipsis])`, read as PocketBase 0.40.6 does: the text is split on `(`, `)`,
    `,` and spaces (so `excerpt 2`, `excerpt(2)x` and `excerpt((2))` all work, and a third
    piece is too many); the name is case-sensitive; `max` is a Go integer literal (base prefixes,
    a leading 0 is octal) above 0; `ellipsis` is true only for Go's true spellings."""
    tokens = [t for t in _MODIFIER_SPLIT_RE.split(text) if t]
    if not tokens or tokens[0] != "excerpt" or not 2 <= len(tokens) <= 3:
        raise FieldsError(text)
    max_len = _go_int(tokens[1])
    if max_len is None or not 0 < max_len <= _MAX_INT64:
        raise FieldsError(text)
    return ("excerpt", max_len, len(tokens) == 3 and tokens[2] in _GO_TRUE)


_MODIFIER_SPLIT_RE = re.compile(r"[(), ]")


def _go_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64)'s value, or None."""
    digits = text.lstrip("+-")
    if len(text) - len(digits) > 1 or not digits:
        return None
    sign = -1 if text.startswith("-") else 1
    try:
        if len(digits) > 1 and digits[0] == "0" and (digits[1].isdigit() or digits[1] == "_"):
            value = int(digits[1:].lstrip("_") if digits[1] == "_" else digits[1:], 8)  # 010 → 8
        else:
            value = int(digits, 0)
    except ValueError:
        return None
    return sign * value


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses (`a:excerpt(5,true),b` → two paths)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise FieldsError(text)  # an unclosed parenthesis (`a:excerpt(2`)
    parts.append(text[start:])
    return parts


def excerpt(value: Any, max_len: int, ellipsis: bool) -> Any:
    if not isinstance(value, str):
        return value
    text = _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", value))).strip()
    if len(text) > max_len:
        text = text[:max_len].rstrip()
        if ellipsis:
            text += "..."
    return text


def project(data: Any, tree: Tree | None) -> Any:
    """`data` with only the keys `tree` names. Built without recursion: `fields=` may name a
    path as deep as a json field's value goes."""
    if tree is None:
        return data
    holder: list[Any] = [None]
    stack: list[tuple[Any, Tree, Any, Any]] = [(data, tree, holder, 0)]
    while stack:
        node, spec, parent, key = stack.pop()
        if isinstance(node, list):
            items: list[Any] = [None] * len(node)
            parent[key] = items
            stack.extend((item, spec, items, i) for i, item in enumerate(node))
            continue
        if not isinstance(node, dict):
            parent[key] = node
            continue
        out: dict[str, Any] = {}
        parent[key] = out
        star = spec.get(ALL)
        for name, value in node.items():
            sub = spec.get(name, star)
            if sub is None:
                continue
            if sub is True:
                out[name] = value
            elif isinstance(sub, tuple):
                out[name] = excerpt(value, sub[1], sub[2])
            else:
                out[name] = None  # filled from the stack, in this key's place
                stack.append((value, sub, out, name))
    return holder[0]
