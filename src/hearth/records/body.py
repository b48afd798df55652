"""Split a submitted record body into field assignments and modifiers (`f+`, `+f`, `f-`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hearth.schema.collection import Collection
from hearth.schema.fields.base import Field

APPEND = "+"
PREPEND = "^"
REMOVE = "-"


@dataclass(slots=True)
class Assignment:
    field: Field
    modifier: str | None
    raw: Any


def assignments(c: Collection, body: dict[str, Any]) -> list[Assignment]:
    """Plain assignments first, then modifiers, so `{"tags": [...], "tags+": x}` composes."""
    plain: list[Assignment] = []
    mods: list[Assignment] = []
    for key, raw in body.items():
        f = c.field_map.get(key)
        if f is not None:
            plain.append(Assignment(f, None, raw))
            continue
        name, modifier = key, None
        if key.endswith("+"):
            name, modifier = key[:-1], APPEND
        elif key.startswith("+"):
            name, modifier = key[1:], PREPEND
        elif key.endswith("-"):
            name, modifier = key[:-1], REMOVE
        f = c.field_map.get(name)
        if f is not None and modifier is not None and modifier in f.modifiers:
            mods.append(Assignment(f, modifier, raw))
    return plain + mods


def resolved_body(body: dict[str, Any], results: dict[str, Any]) -> dict[str, Any]:
    """`body` as rules see it: each field a modifier changed (`n+`, `+tags`, `tags-`) under its
    own name with the value it ends up with, the modifier keys gone."""
    out = {k: v for k, v in body.items() if k.rstrip("+-").lstrip("+") not in results}
    out.update(results)
    return out
