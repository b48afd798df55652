"""Every PostgreSQL advisory lock Hearth takes, in one table so that no two uses share a key
(and an operator reading `pg_locks` can tell what holds what). SQLite needs none of them: its
write transactions are serial, and the other cases lock a side file."""

from __future__ import annotations

BOOTSTRAP = 80900001  # creating Hearth's tables: processes starting together take turns
RT_PUBLISH = 80900002  # realtime publishers, serialised within a write's transaction
INSTALLER = 80900003  # the first superuser, created through the installer link once
MIGRATIONS = 80900004  # applying migration files: one process at a time, for its whole run
BACKUP = (0x4845_4152, 0x0000_0B4B)  # a backup or restore under way (a two-key lock: any instance)


def xact_lock(key: int) -> str:
    return f"SELECT pg_advisory_xact_lock({key})"
