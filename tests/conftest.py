"""Shared fixtures: every API test runs against SQLite and PostgreSQL through the ASGI app.

PostgreSQL comes from HEARTH_TEST_PG (default postgresql://postgres@127.0.0.1:5432/postgres); each
test session gets its own fresh database. With HEARTH_REQUIRE_PG=1 (CI) an unreachable server is
an error, never a skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from hearth.config import Config
from hearth.http.server import build_app

pytest_plugins = ["tests.support.mailbox", "tests.support.s3_server", "tests.support.dashboard"]
PG_ADMIN_URL = os.environ.get("HEARTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# Every API rule public: the shape most API tests start from.
OPEN = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}
SUPERUSER_EMAIL = "admin@example.com"
SUPERUSER_PASSWORD = "adminpass123"


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


@pytest.fixture(scope="session")
async def pg_database() -> AsyncIterator[str | None]:
    """A fresh PostgreSQL database for this session (dropped at the end)."""
    try:
        admin = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("HEARTH_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {PG_ADMIN_URL}: {exc}")
        yield None
        return
    name = f"hearth_test_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass
class Api:
    """An httpx client on a running app, plus the superuser token."""

    client: httpx.AsyncClient
    token: str
    dialect: str
    app: Any

    def su(self) -> dict[str, str]:
        return {"Authorization": self.token}

    async def create_collection(self, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.post("/api/collections", json=body, headers=self.su())
        assert r.status_code == 200, r.text
        return r.json()


async def start_api(config: Config, dialect: str) -> AsyncIterator[Api]:
    app = build_app(config)
    await app.on_startup()
    try:
        from hearth.admin_cli import upsert_superuser

        await upsert_superuser(app.state.hearth, SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.post(
                "/api/collections/_superusers/auth-with-password",
                json={"identity": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD},
            )
            assert r.status_code == 200, r.text
            yield Api(client, r.json()["token"], dialect, app)
    finally:
        await app.on_shutdown()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_database: str | None
) -> AsyncIterator[Api]:
    """One running Hearth per test module and dialect; tests use unique collection names."""
    config = await module_config(request.param, tmp_path_factory, pg_database)
    async for api in start_api(config, request.param):
        yield api


async def module_config(
    dialect: str, tmp_path_factory: pytest.TempPathFactory, pg_database: str | None, **options: Any
) -> Config:
    """A Config for a fresh Hearth of `dialect` (PostgreSQL: an empty schema, else a skip when
    the server is not reachable); `options`: more Config fields."""
    if dialect == "postgres":
        if pg_database is None:
            pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
        # Each module starts from an empty schema.
        conn = await asyncpg.connect(pg_database)
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.close()
        return Config(data_dir=tmp_path_factory.mktemp("pg"), db_url=pg_database, **options)
    return Config(data_dir=tmp_path_factory.mktemp("sqlite"), **options)


def unique(name: str) -> str:
    return f"{name}_{secrets.token_hex(3)}"


@pytest.fixture
def tmp_data(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, api: Api) -> AsyncIterator[str]:
    """Files on local disk, or in S3 (moto's server, a bucket of its own) through settings `s3`."""
    from tests.support.s3_server import make_bucket

    s3: dict[str, Any] = {"enabled": False}
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        s3 = {"enabled": True, "bucket": make_bucket(endpoint), "region": "us-east-1", "endpoint": endpoint,
              "accessKey": "test", "secret": "test", "forcePathStyle": True}  # fmt: skip
    r = await api.client.patch("/api/settings", json={"s3": s3}, headers=api.su())
    assert r.status_code == 200, r.text
    yield request.param
    if request.param == "s3":
        r = await api.client.patch("/api/settings", json={"s3": {"enabled": False}}, headers=api.su())
        assert r.status_code == 200, r.text
