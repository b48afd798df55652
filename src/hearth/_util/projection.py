"""The `fields` query parameter: keep only the named (dot-path) keys of a response object.

`fields=id,title,expand.author.name,body:excerpt(100,true)`; `*` keeps every key at its level.
Unknown names are ignored, as PocketBase does.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

_EXCERPT_RE = re.compile(
    r"^(?P<name>[^:]+):excerpt\((?P<max>\d+)(?:\s*,\s*(?P<ell>true|false|1|0|t|f))?\)$", re.I
)
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
        m = _EXCERPT_RE.match(path)
        if m:
            path = m.group("name")
            modifier = (
                "excerpt",
                int(m.group("max")),
                (m.group("ell") or "false").lower() in ("true", "1", "t"),
            )
        parts = path.split(".")
        node = tree
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {} if child is None else {"*": True}
                node[part] = child
            node = child
        if not isinstance(node.get(parts[-1]), dict):
            node[parts[-1]] = modifier
    if not any_path or tree == {"*": True}:
        return None
    return tree


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
        star = spec.get("*")
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
