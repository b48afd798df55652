"""Migration files: named `<unix seconds>_<words>.py`, applied in name order. Each defines
`async def up(app)` and `async def down(app)`; `app` is a runner.MigrationApp."""

from __future__ import annotations

import importlib.util
import pprint
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

NAME_RE = re.compile(r"^\d+_[A-Za-z0-9_]+\.py$")
_SLUG_RE = re.compile(r"[^a-z0-9]+")

Step = Callable[[Any], Awaitable[None]]


class MigrationError(Exception):
    """A migration file that cannot be loaded or applied; the message names it."""


@dataclass(frozen=True)
class MigrationFile:
    name: str
    path: Path

    def load(self) -> tuple[Step, Step]:
        spec = importlib.util.spec_from_file_location(f"hearth_migration_{self.path.stem}", self.path)
        if spec is None or spec.loader is None:
            raise MigrationError(f"{self.name}: cannot be loaded")
        module: ModuleType = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # a user's file: any error is reported, with its name
            raise MigrationError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        steps = []
        for name in ("up", "down"):
            step = getattr(module, name, None)
            if not callable(step):
                raise MigrationError(f"{self.name}: defines no {name}(app) function")
            steps.append(step)
        return steps[0], steps[1]


def discover(directory: Path) -> list[MigrationFile]:
    """The migration files of `directory` in the order they apply (none if it does not exist)."""
    if not directory.is_dir():
        return []
    return [MigrationFile(p.name, p) for p in sorted(directory.iterdir()) if NAME_RE.match(p.name) and p.is_file()]


def slug(words: str) -> str:
    out = _SLUG_RE.sub("_", words.lower()).strip("_")
    if not out:
        raise MigrationError(f"{words!r} gives no file name: use letters, digits or underscores")
    return out[:80]


def _new_path(directory: Path, words: str) -> Path:
    """A name after every existing one: files apply in name order, so two changes within one
    second get consecutive stamps rather than sorting by their words."""
    directory.mkdir(parents=True, exist_ok=True)
    last = max((int(f.name.split("_", 1)[0]) for f in discover(directory)), default=0)
    return directory / f"{max(int(time.time()), last + 1)}_{slug(words)}.py"


BLANK = '''"""{title}"""


async def up(app):
    """The change. `app` offers: app.collection(name_or_id) -> dict | None,
    await app.save_collection(dict) (create, or update the collection with that id or name),
    await app.delete_collection(name_or_id), await app.execute(sql, params),
    await app.fetch_all(sql, params)."""


async def down(app):
    """Undo what up() did."""
'''


def write_blank(directory: Path, words: str) -> Path:
    path = _new_path(directory, words)
    path.write_text(BLANK.format(title=f"{words} (hearth migrate create)"))
    return path


def write_snapshot(directory: Path, words: str, title: str, before: dict[str, Any] | None,
                   after: dict[str, Any] | None) -> Path:  # fmt: skip
    """A file that replays one collection change: `after` is the collection once changed (None:
    deleted), `before` as it was (None: created)."""
    path = _new_path(directory, words)
    lines = [f'"""{title}"""', ""]
    lines.append(f"BEFORE = {_literal(before)}")
    lines.append("")
    lines.append(f"AFTER = {_literal(after)}")
    lines.append("")
    lines.append("")
    lines.append("async def up(app):")
    lines.append(_step("AFTER", "BEFORE", after, before))
    lines.append("")
    lines.append("")
    lines.append("async def down(app):")
    lines.append(_step("BEFORE", "AFTER", before, after))
    path.write_text("\n".join(lines) + "\n")
    return path


def _step(target: str, source: str, to: dict[str, Any] | None, frm: dict[str, Any] | None) -> str:
    if to is not None:
        return f"    await app.save_collection({target})"
    assert frm is not None
    return f"    await app.delete_collection({source}[\"id\"])"


def _literal(value: dict[str, Any] | None) -> str:
    """A Python literal of the collection (pprint's output of JSON-like data is valid Python)."""
    return pprint.pformat(value, indent=4, width=100, sort_dicts=False)
