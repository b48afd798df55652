"""A `hearth serve` process for a fuzz run: SQLite in a directory, or PostgreSQL in a fresh database."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import Server, hearth_cli, start_server, stop_server
from tests.fuzz.world import SUPERUSER

PG_ADMIN_URL = os.environ.get("HEARTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except Exception as exc:  # OSError, asyncpg errors, timeouts: all mean "not here"
        return f"{type(exc).__name__}: {exc}"
    return None


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new database `hearth_fuzz_<random>`, dropped afterwards."""
    name = f"hearth_fuzz_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg_url(name)
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def fuzz_server(data_dir: Path, db_url: str = "") -> Iterator[Server]:
    """`hearth serve` with the fuzz superuser, stopped afterwards."""
    storage = ["--dir", str(data_dir)] + (["--db", db_url] if db_url else [])
    done = hearth_cli("superuser", "upsert", *SUPERUSER, *storage)
    if done.returncode != 0:
        raise RuntimeError(f"superuser upsert failed: {done.stdout}{done.stderr}")
    server = start_server(data_dir, db_url)
    try:
        yield server
    finally:
        stop_server(server)
