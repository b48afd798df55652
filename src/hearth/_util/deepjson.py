"""JSON helpers for request-controlled values, whatever their nesting.

orjson refuses to encode past 255 levels and Python's own walks (`==`, `copy.deepcopy`, a
recursive function) stop near 1000 frames, while a request body may nest up to orjson's decoding
limit (1024). Everything here is iterative; `dumps` takes orjson's fast path and only falls back
to the iterative encoder when orjson gives up on the depth, so shallow values cost what they did.
"""

from __future__ import annotations

from typing import Any

import orjson

_DEPTH_ERROR = "Recursion limit reached"
_MEMBER = object()
_CLOSE_LIST = object()
_CLOSE_DICT = object()


def depth(value: Any, limit: int | None = None) -> int:
    """How many levels of arrays/objects `value` nests (a scalar is 0). With `limit`, stops
    counting once past it (the answer is then limit + 1)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            level += 1
            if level > deepest:
                deepest = level
                if limit is not None and deepest > limit:
                    return deepest
            stack.extend((v, level) for v in (node.values() if isinstance(node, dict) else node))
    return deepest


def dumps(value: Any, *, sort_keys: bool = False) -> bytes:
    """orjson.dumps for any depth (same bytes: compact, and with `sort_keys` sorted keys)."""
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    try:
        return orjson.dumps(value, option=option)
    except TypeError as exc:
        if str(exc) != _DEPTH_ERROR:
            raise
    return _dumps_deep(value, option)


def _dumps_deep(value: Any, option: int) -> bytes:
    out: list[bytes] = []
    # Items are values to encode, or markers for the punctuation that closes a container.
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if node is _CLOSE_LIST:
            out.append(b"]")
        elif node is _CLOSE_DICT:
            out.append(b"}")
        elif isinstance(node, tuple) and len(node) == 3 and node[0] is _MEMBER:
            # (marker, key-or-None, value): one member, preceded by a comma unless first
            _, prefix, member = node
            out.append(prefix)
            stack.append(member)
        elif isinstance(node, dict):
            keys = sorted(node) if option & orjson.OPT_SORT_KEYS else list(node)
            out.append(b"{")
            stack.append(_CLOSE_DICT)
            for i in range(len(keys) - 1, -1, -1):
                key = keys[i]
                if not isinstance(key, str):
                    raise TypeError("Dict key must be str")
                prefix = (b"," if i else b"") + orjson.dumps(key) + b":"
                stack.append((_MEMBER, prefix, node[key]))
        elif isinstance(node, list):
            out.append(b"[")
            stack.append(_CLOSE_LIST)
            for i in range(len(node) - 1, -1, -1):
                stack.append((_MEMBER, b"," if i else b"", node[i]))
        else:
            out.append(orjson.dumps(node, option=option))
    return b"".join(out)


def equal(a: Any, b: Any) -> bool:
    """`a == b` for decoded JSON values of any depth (1 == 1.0 and True == 1, as `==` has it)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if isinstance(x, dict):
            if not isinstance(y, dict) or x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if not isinstance(y, list) or len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif isinstance(y, dict | list) or x != y:
            return False
    return True
