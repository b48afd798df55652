"""The one interface a database's backup and restore sit behind (one module per database).

A backup is a dump of the whole database taken at one point in time while writes go on; a
restore replaces the live database with a dump so that every connection sees either the old or
the new content, never a mix (each engine says how). `tests/unit/test_backup_engines.py` holds
the contract over both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Protocol

from hearth.errors import BadRequest


class BackupRefused(BadRequest):
    """A backup or restore that cannot be done here (a missing tool, an archive of something
    else); its message says what, for the superuser who asked."""


class BackupEngine(Protocol):
    def missing(self) -> str | None:
        """What this machine lacks to take a backup (a tool not installed), or None."""
        ...

    async def dump(self, into: Path) -> list[str]:
        """Write a consistent dump of the live database into the folder `into`; the names
        written (relative, `/`-separated), which go into the archive as they are."""
        ...

    def check(self, names: Collection[str]) -> None:
        """BackupRefused unless an archive holding `names` has what `restore` needs."""
        ...

    async def restore(self, source: Path, swap_files: Callable[[], None]) -> None:
        """Replace the live database with the dump extracted in `source`, then call `swap_files`
        (the local files' switch) at once; nothing is changed when it fails before the switch."""
        ...

    async def try_lock(self) -> bool:
        """Take the lock a backup or restore holds (across processes and instances); False when
        another one holds it."""
        ...

    async def unlock(self) -> None: ...

    async def locked(self) -> bool:
        """Whether a backup or restore runs anywhere now."""
        ...
