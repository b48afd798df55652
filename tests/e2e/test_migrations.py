"""Migrations in version control (docs/migrations.md), through the real CLI and server: `hearth
serve --dev` writes a file for each collection change made through the API; those files replayed
by `hearth migrate up` on another database (SQLite and PostgreSQL) build the same schema;
`down` undoes them newest first; a file that fails stops `hearth serve` with one line."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import ADMIN, hearth_cli, running_server, superuser_token


@pytest.fixture(params=["sqlite", "postgres"])
async def target(request: pytest.FixtureRequest, pg_database: str | None, tmp_path: Path) -> AsyncIterator[tuple[str, ...]]:
    """Storage flags for a fresh Hearth: a new SQLite dir, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield ("--dir", str(tmp_path / "replay"))
        return
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    name = f"hearth_mig_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(pg_database)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    (tmp_path / "replay").mkdir()  # the server's log goes there
    try:
        yield ("--dir", str(tmp_path / "replay"), "--db", pg_database.rsplit("/", 1)[0] + "/" + name)
    finally:
        conn = await asyncpg.connect(pg_database)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


def _schema(client: httpx.Client, token: str) -> dict[str, Any]:
    items = client.get("/api/collections", params={"perPage": 500}, headers={"Authorization": token}).json()["items"]
    return {c["name"]: {k: v for k, v in c.items() if k not in ("created", "updated")} for c in items if not c["system"]}


def _ok(r: httpx.Response) -> Any:
    assert r.status_code < 300, f"{r.status_code} {r.text}"
    return r.json() if r.content else None


async def test_dev_changes_become_files_that_rebuild_the_schema_elsewhere(tmp_path: Path, target: tuple[str, ...]) -> None:
    migrations = tmp_path / "migrations"
    dev = tmp_path / "dev"
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(dev)).returncode == 0
    with running_server(dev, "", 1, "--dev", "--migrations-dir", str(migrations)) as url, httpx.Client(base_url=url) as c:
        su = {"Authorization": superuser_token(url)}
        _ok(c.post("/api/collections", headers=su, json={
            "name": "authors", "type": "base", "listRule": "", "fields": [{"name": "name", "type": "text", "required": True}],
        }))  # fmt: skip
        authors = _ok(c.get("/api/collections/authors", headers=su))
        _ok(c.post("/api/collections", headers=su, json={
            "name": "books", "type": "base", "listRule": "", "viewRule": "",
            "fields": [{"name": "title", "type": "text"},
                       {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1}],
            "indexes": ["CREATE INDEX idx_books_title ON books (title)"],
        }))  # fmt: skip
        _ok(c.patch("/api/collections/books", headers=su, json={"listRule": "@request.auth.id != ''"}))
        _ok(c.post("/api/collections", headers=su, json={"name": "scratch", "type": "base"}))
        _ok(c.delete("/api/collections/scratch", headers=su))
        _ok(c.put("/api/collections/import", headers=su, json={"collections": [
            {"name": "imported", "type": "base", "fields": [{"name": "n", "type": "number"}]},
        ]}))  # fmt: skip
        _ok(c.post("/api/collections/authors/records", headers=su, json={"name": "Ursula"}))  # data: not a migration
        expected = _schema(c, su["Authorization"])
    files = sorted(p.name for p in migrations.iterdir())
    assert [f.split("_", 1)[1] for f in files] == [
        "created_authors.py", "created_books.py", "updated_books.py", "created_scratch.py", "deleted_scratch.py",
        "created_imported.py",
    ]  # fmt: skip
    assert "secret" not in "".join((migrations / f).read_text() for f in files)  # token secrets stay out
    status = hearth_cli("migrate", "status", "--dir", str(dev), "--migrations-dir", str(migrations))
    assert status.returncode == 0 and status.stdout.count("applied") == 6, status.stdout  # written as applied

    flags = (*target, "--migrations-dir", str(migrations))
    assert hearth_cli("superuser", "upsert", *ADMIN, *target).returncode == 0
    up = hearth_cli("migrate", "up", *flags)
    assert up.returncode == 0 and "Applied 6 migration(s)" in up.stdout, up.stdout + up.stderr
    replay_dir = Path(target[1])
    db = target[3] if len(target) > 2 else ""
    with running_server(replay_dir, db) as url, httpx.Client(base_url=url) as c:
        token = superuser_token(url)
        assert _schema(c, token) == expected  # the same collections, ids, fields, rules and indexes
    again = hearth_cli("migrate", "up", *flags)
    assert again.returncode == 0 and "Applied 0 migration(s)" in again.stdout

    down = hearth_cli("migrate", "down", "2", *flags)
    assert down.returncode == 0 and "Reverted 2 migration(s)" in down.stdout, down.stdout + down.stderr
    with running_server(replay_dir, db) as url, httpx.Client(base_url=url) as c:
        schema = _schema(c, superuser_token(url))
        assert "imported" not in schema and "scratch" in schema  # the import undone, the delete undone


def test_a_failing_file_stops_serve_with_one_line(tmp_path: Path) -> None:
    migrations = tmp_path / "hearth_migrations"
    migrations.mkdir()
    (migrations / "1700000000_first.py").write_text(
        "async def up(app):\n    await app.save_collection({'name': 'first', 'type': 'base'})\n\n"
        "async def down(app):\n    await app.delete_collection('first')\n"
    )
    (migrations / "1700000001_broken.py").write_text(
        "async def up(app):\n    await app.save_collection({'name': 'bad name!', 'type': 'base'})\n\n"
        "async def down(app):\n    pass\n"
    )
    data = tmp_path / "pb_data"
    r = hearth_cli("serve", "--dir", str(data), "--http", "127.0.0.1:1")
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: migration 1700000001_broken.py: collection 'bad name!'"), r.stderr
    status = hearth_cli("migrate", "status", "--dir", str(data))
    assert "applied  1700000000_first.py" in status.stdout and "pending  1700000001_broken.py" in status.stdout
    missing = hearth_cli("migrate", "down", "--dir", str(data))
    assert missing.returncode == 0 and "Reverted 1" in missing.stdout  # the first one, undone
