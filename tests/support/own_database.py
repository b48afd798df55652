"""A PostgreSQL database of a test's own (`hearth_backup_test_<hex>`), dropped at the end: for
tests that replace a whole database (backup restores), so they never touch one other tests use."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from tests.conftest import PG_ADMIN_URL, _pg_url


@asynccontextmanager
async def own_databases() -> AsyncIterator[OwnDatabases]:
    """`await dbs.new()` gives the URL of a fresh database; all are dropped on exit. Skips when
    PostgreSQL is unreachable (fails instead with HEARTH_REQUIRE_PG=1, as conftest does)."""
    try:
        admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("HEARTH_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    dbs = OwnDatabases(admin)
    try:
        yield dbs
    finally:
        for name in dbs.names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class OwnDatabases:
    def __init__(self, admin: asyncpg.Connection) -> None:
        self.admin = admin
        self.names: list[str] = []

    async def new(self) -> str:
        name = f"hearth_backup_test_{secrets.token_hex(4)}"
        await self.admin.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return _pg_url(name)
