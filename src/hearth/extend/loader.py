"""The hooks folder: every `*.py` file in it (in name order) is imported and its `setup(app)`
called at start. With `dev`, files are looked at twice a second and, on a change, everything the
folder registered is dropped and the folder is loaded again, without a restart.

Why polling and not inotify: one `stat` per file twice a second costs nothing for a folder of
hooks, works on every platform and filesystem (Docker bind mounts included) and needs no library.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger("hearth.hooks")
POLL_SECONDS = 0.5
MODULE_PREFIX = "hearth_hooks_"


class HooksLoadError(Exception):
    """A hooks file could not be loaded; the message names the file and the error in one line."""


def hook_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.py") if not p.name.startswith(("_", ".")))


def load_file(path: Path, app: Any) -> ModuleType:
    """Import `path` as a fresh module and call its setup(app)."""
    name = MODULE_PREFIX + path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise HooksLoadError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so dataclasses, pickling and tracebacks find it
    try:
        spec.loader.exec_module(module)
        setup = getattr(module, "setup", None)
        if not callable(setup):
            raise HooksLoadError(f"{path}: define a function setup(app) that registers its hooks and routes")
        setup(app)
    except HooksLoadError:
        raise
    except Exception as exc:
        raise HooksLoadError(f"{path}: {_where(exc, path)}{type(exc).__name__}: {exc}") from exc
    return module


def _where(exc: BaseException, path: Path) -> str:
    """'line N: ' of the deepest frame in `path` (or of a SyntaxError in it)."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"line {exc.lineno}: "
    tb = exc.__traceback__
    line = 0
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return f"line {line}: " if line else ""


def snapshot(folder: Path) -> dict[Path, float]:
    out: dict[Path, float] = {}
    for p in hook_files(folder):
        try:
            out[p] = p.stat().st_mtime_ns
        except OSError:
            continue
    return out


async def watch(folder: Path, reload: Callable[[], None]) -> None:
    """Call `reload` whenever a hooks file is added, changed or removed (dev mode)."""
    seen = snapshot(folder)
    while True:
        await asyncio.sleep(POLL_SECONDS)
        now = snapshot(folder)
        if now != seen:
            seen = now
            reload()
