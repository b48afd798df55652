"""Assertions on PocketBase's error envelope: a 4xx, the right shape, and no Python internals.

A message or error datum must never show a Python repr (`['a']`, `{'x': …}`, `FieldError(…)`,
`<object at 0x…>`), a traceback, or an exception's own text pasted into an f-string.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson

_REPR = re.compile(
    r"""\['|'\]|\{'|'\}|': |\w+(?:Error|Exception)\(|<[\w.]+ object at 0x|Traceback \(most recent"""
    r"""|File "[^"]+", line \d+|\b(?:None|True|False)\b|\b(?:dict|list|tuple|set)\("""
)


def repr_like(text: str) -> list[str]:
    """The repr-looking fragments of `text` (empty when clean)."""
    return _REPR.findall(text)


def assert_no_repr(value: Any) -> None:
    """Every string inside `value` (a message, an envelope's data) is free of repr-like text."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            assert not repr_like(node), f"repr-like text in {node!r}"
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def assert_error(r: httpx.Response, status: int | None = None) -> dict[str, Any]:
    """`r` is PocketBase's error envelope with a 4xx status (`status` when given), with clean
    texts. Returns its `data`."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    if status is not None:
        assert r.status_code == status, (r.status_code, r.text[:500])
    body = orjson.loads(r.content)
    assert set(body) == {"status", "message", "data"}, body
    assert body["status"] == r.status_code and isinstance(body["message"], str) and body["message"]
    assert isinstance(body["data"], dict)
    assert_no_repr(body["message"])
    assert_no_repr(body["data"])
    data: dict[str, Any] = body["data"]
    return data
