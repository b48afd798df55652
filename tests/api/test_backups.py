"""`/api/backups` black-box, on SQLite and PostgreSQL: each endpoint as PocketBase 0.40.6 answers
it (compared with the real binary), the requests as the JS SDK's `pb.backups` sends them, the
`backups` settings' schedule, and a restore through the API while a realtime client is connected
and requests run (each answer shows the old data or the restored data, never a mix).
"""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
import zipfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from hearth.config import Config
from hearth.sql import backups as backup_sql
from tests.conftest import OPEN, Api, start_api, unique
from tests.support.own_database import own_databases
from tests.support.realtime import next_chunk


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    """As conftest's, but on PostgreSQL a database of this module's own: restores replace a whole
    database, never one another test module uses."""
    if request.param == "sqlite":
        async for api in start_api(Config(data_dir=tmp_path_factory.mktemp("sqlite")), "sqlite"):
            yield api
        return
    async with own_databases() as dbs:
        url = await dbs.new()
        async for api in start_api(Config(data_dir=tmp_path_factory.mktemp("pg"), db_url=url), "postgres"):
            yield api


BUSY = "Try again later - another backup/restore process has already been started."


async def file_token(api: Api) -> str:
    r = await api.client.post("/api/files/token", headers=api.su())
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


async def keys(api: Api) -> list[str]:
    r = await api.client.get("/api/backups", headers=api.su())
    assert r.status_code == 200, r.text
    return [b["key"] for b in r.json()]


async def download(api: Api, key: str) -> zipfile.ZipFile:
    r = await api.client.get(f"/api/backups/{quote(key)}", params={"token": await file_token(api)})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"] == f'attachment; filename="{key}"'
    return zipfile.ZipFile(io.BytesIO(r.content))


async def wait_idle(api: Api, timeout: float = 20.0) -> None:
    """Until `/api/health` says a backup may be taken again (the restore is over)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await api.client.get("/api/health", headers=api.su())
        if r.json()["data"]["canBackup"]:
            return
        assert asyncio.get_running_loop().time() < deadline, "the restore did not end"
        await asyncio.sleep(0.05)


async def test_superusers_only(api: Api) -> None:
    for method, path in (("GET", "/api/backups"), ("POST", "/api/backups"), ("POST", "/api/backups/upload"),
                         ("DELETE", "/api/backups/x.zip"), ("POST", "/api/backups/x.zip/restore")):  # fmt: skip
        r = await api.client.request(method, path)
        assert r.status_code == 401, (method, path, r.text)
    users = unique("users")
    await api.create_collection({"name": users, "type": "auth", **OPEN})
    r = await api.client.post(f"/api/collections/{users}/records",
                              json={"email": "u@example.com", "password": "password123", "passwordConfirm": "password123"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = await api.client.post(f"/api/collections/{users}/auth-with-password",
                              json={"identity": "u@example.com", "password": "password123"})  # fmt: skip
    user = {"Authorization": r.json()["token"]}
    r = await api.client.get("/api/backups", headers=user)
    assert r.status_code == 403
    r = await api.client.post("/api/files/token", headers=user)
    user_file_token = r.json()["token"]
    # The download takes a superuser's file token and nothing else (not the auth token either).
    for params in ({}, {"token": "bad"}, {"token": api.token}, {"token": user_file_token}):
        r = await api.client.get("/api/backups/x.zip", params=params, headers=api.su())
        assert r.status_code == 403 and r.json()["message"] == "Insufficient permissions to access the resource."


async def test_create_list_download_delete(api: Api) -> None:
    posts = unique("posts")
    await api.create_collection({"name": posts, **OPEN, "fields": [
        {"name": "title", "type": "text"}, {"name": "doc", "type": "file", "maxSelect": 1}]})  # fmt: skip
    r = await api.client.post(f"/api/collections/{posts}/records", data={"title": "one"},
                              files={"doc": ("a.txt", b"hello backup", "text/plain")})  # fmt: skip
    assert r.status_code == 200, r.text
    record = r.json()

    before = set(await keys(api))
    r = await api.client.post("/api/backups", headers=api.su())
    assert r.status_code == 204, r.text
    (default,) = set(await keys(api)) - before
    assert default.startswith("pb_backup_acme_") and default.endswith(".zip") and len(default) == len("pb_backup_acme_20261207004319.zip")

    name = unique("named").lower() + ".zip"
    r = await api.client.post("/api/backups", json={"name": name}, headers=api.su())
    assert r.status_code == 204, r.text
    listed = (await api.client.get("/api/backups", headers=api.su())).json()
    assert [b["key"] for b in listed] == sorted(b["key"] for b in listed)  # PocketBase lists in key order
    entry = next(b for b in listed if b["key"] == name)
    assert entry["size"] > 0 and entry["modified"].endswith("Z") and len(entry["modified"]) == 24

    zf = await download(api, name)
    names = set(zf.namelist())
    assert ("data.db" in names) if api.dialect == "sqlite" else ("hearth_postgres.dump" in names)
    stored = f"storage/{record['collectionId']}/{record['id']}/{record['doc']}"
    assert zf.read(stored) == b"hello backup" and stored + ".attrs" in names

    # PocketBase's field errors, in its order of checks.
    for body, field in (({"name": name}, "validation_backup_name_exists"), ({"name": "Bad.zip"}, "validation_match_invalid"),
                        ({"name": "a" * 150 + ".zip"}, "validation_length_out_of_range"),
                        ({"name": "x.tar"}, "validation_match_invalid")):  # fmt: skip
        r = await api.client.post("/api/backups", json=body, headers=api.su())
        assert r.status_code == 400 and r.json()["data"]["name"]["code"] == field, r.text
        assert r.json()["message"] == "An error occurred while validating the submitted data."
    for bad in ({"name": 5}, "nope"):
        r = await api.client.post("/api/backups", content=bad if isinstance(bad, str) else None,
                                  json=None if isinstance(bad, str) else bad,
                                  headers={**api.su(), "content-type": "application/json"})  # fmt: skip
        assert r.status_code == 400 and r.json()["message"] == "An error occurred while loading the submitted data."

    r = await api.client.delete(f"/api/backups/{name}", headers=api.su())
    assert r.status_code == 204
    assert name not in await keys(api)
    r = await api.client.delete(f"/api/backups/{name}", headers=api.su())
    assert r.status_code == 400 and r.json()["message"] == "Invalid or already deleted backup file."
    r = await api.client.get(f"/api/backups/{name}", params={"token": await file_token(api)})
    assert r.status_code == 404 and r.json()["message"] == "The requested resource wasn't found."
    r = await api.client.post(f"/api/backups/{name}/restore", headers=api.su())
    assert r.status_code == 400 and r.json()["message"] == "Missing or invalid backup file."


async def test_upload(api: Api) -> None:
    r = await api.client.post("/api/backups/upload", headers=api.su())
    assert r.status_code == 400 and r.json()["data"]["file"]["code"] == "validation_required"
    r = await api.client.post("/api/backups/upload", headers=api.su(), files={"file": ("a.zip", b"not a zip", "application/zip")})
    assert r.status_code == 400 and r.json()["data"]["file"]["code"] == "validation_invalid_mime_type", r.text
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.db", b"x")
    name = f"Up {unique('load')}.zip"  # an uploaded archive keeps its own name, as in PocketBase
    r = await api.client.post("/api/backups/upload", headers=api.su(), files={"file": (name, buf.getvalue(), "application/zip")})
    assert r.status_code == 204, r.text
    assert name in await keys(api)
    r = await api.client.post("/api/backups/upload", headers=api.su(), files={"file": (name, buf.getvalue(), "application/zip")})
    assert r.status_code == 400 and r.json()["data"]["file"]["code"] == "validation_backup_name_exists"
    assert (await download(api, name)).read("data.db") == b"x"
    # Not restorable here (no Hearth database in it): refused in the background, the data intact.
    r = await api.client.post(f"/api/backups/{quote(name)}/restore", headers=api.su())
    assert r.status_code == 204
    await wait_idle(api)
    assert (await api.client.get("/api/collections", headers=api.su())).status_code == 200
    await api.client.delete(f"/api/backups/{quote(name)}", headers=api.su())


@pytest.fixture
async def held_elsewhere(api: Api) -> AsyncIterator[None]:
    """The backup lock held by another process (an flock on its own file description, or a
    PostgreSQL session of its own)."""
    hearth = api.app.state.hearth
    if api.dialect == "sqlite":
        fd = os.open(str(hearth.config.sqlite_path) + "-hearth.backup", os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
        os.close(fd)
    else:
        conn = await asyncpg.connect(hearth.config.db_url)
        assert await conn.fetchval(backup_sql.pg_try_lock())
        yield
        await conn.close()


async def test_busy_elsewhere(api: Api, held_elsewhere: None) -> None:
    r = await api.client.get("/api/health", headers=api.su())
    assert r.json()["data"]["canBackup"] is False
    r = await api.client.post("/api/backups", headers=api.su())
    assert r.status_code == 400 and r.json()["message"] == BUSY
    r = await api.client.post("/api/backups/any.zip/restore", headers=api.su())
    assert r.status_code == 400 and r.json()["message"] == BUSY


async def test_health_can_backup_when_idle(api: Api) -> None:
    r = await api.client.get("/api/health", headers=api.su())
    assert r.json()["data"]["canBackup"] is True


async def test_schedule_follows_the_settings(api: Api) -> None:
    hearth = api.app.state.hearth
    r = await api.client.patch("/api/settings", json={"backups": {"cron": "0 3 * * *", "cronMaxKeep": 2}}, headers=api.su())
    assert r.status_code == 200, r.text
    await hearth.cron.before_tick()
    crons = (await api.client.get("/api/crons", headers=api.su())).json()
    assert {"id": "__pbAutoBackup__", "expression": "0 3 * * *"} in crons
    # Two older scheduled backups, then the scheduled run: the oldest goes (cronMaxKeep 2).
    buf = io.BytesIO()
    zipfile.ZipFile(buf, "w").close()
    olds = ["@auto_pb_backup_acme_20200101000000.zip", "@auto_pb_backup_acme_20200102000000.zip"]
    for old in olds:
        r = await api.client.post("/api/backups/upload", headers=api.su(), files={"file": (old, buf.getvalue(), "application/zip")})
        assert r.status_code == 204, r.text
        await asyncio.sleep(0.01)
    manual = [k for k in await keys(api) if not k.startswith("@auto")]
    await hearth.crons.get("__pbAutoBackup__").fn()
    autos = [k for k in await keys(api) if k.startswith("@auto_pb_backup_acme_")]
    assert len(autos) == 2 and olds[0] not in autos and olds[1] in autos
    assert [k for k in await keys(api) if not k.startswith("@auto")] == manual  # others are never pruned
    r = await api.client.patch("/api/settings", json={"backups": {"cron": ""}}, headers=api.su())
    await hearth.cron.before_tick()
    crons = (await api.client.get("/api/crons", headers=api.su())).json()
    assert all(c["id"] != "__pbAutoBackup__" for c in crons)
    for key in autos:
        await api.client.delete(f"/api/backups/{quote(key)}", headers=api.su())


async def test_sdk_flow(api: Api) -> None:
    """The requests of the JS SDK's `pb.backups` (getFullList, create, upload, getDownloadURL,
    delete, restore) as it sends them."""
    name = unique("sdk").lower() + ".zip"
    r = await api.client.post("/api/backups", json={"name": name}, headers=api.su())
    assert r.status_code == 204
    full = (await api.client.get("/api/backups", headers=api.su())).json()
    assert name in [b["key"] for b in full]
    # getDownloadURL(token, key): `${baseURL}/api/backups/${encodeURIComponent(key)}?token=${…}`
    url = f"/api/backups/{quote(name, safe='')}?token={quote(await file_token(api), safe='')}"
    r = await api.client.get(url)
    assert r.status_code == 200 and zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    # upload({file}) as FormData
    copy = "copy-" + name
    r = await api.client.post("/api/backups/upload", headers=api.su(), files={"file": (copy, r.content, "application/zip")})
    assert r.status_code == 204
    for key in (name, copy):
        assert (await api.client.delete(f"/api/backups/{quote(key, safe='')}", headers=api.su())).status_code == 204


async def _listing(client: httpx.AsyncClient, api: Api, name: str) -> dict[str, Any]:
    r = await client.get(f"/api/collections/{name}/records", params={"perPage": 500, "sort": "n"}, headers=api.su())
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_restore_while_clients_are_connected(api: Api) -> None:
    posts = unique("posts")
    await api.create_collection({"name": posts, **OPEN, "fields": [
        {"name": "n", "type": "number"}, {"name": "tag", "type": "text"}]})  # fmt: skip
    for i in range(30):
        r = await api.client.post(f"/api/collections/{posts}/records", json={"n": i, "tag": "old"}, headers=api.su())
        assert r.status_code == 200
    name = unique("restore").lower() + ".zip"
    assert (await api.client.post("/api/backups", json={"name": name}, headers=api.su())).status_code == 204
    # After the backup: every record changed, more added, a collection created.
    listing = await _listing(api.client, api, posts)
    for item in listing["items"]:
        await api.client.patch(f"/api/collections/{posts}/records/{item['id']}", json={"tag": "new"}, headers=api.su())
    for i in range(30, 40):
        await api.client.post(f"/api/collections/{posts}/records", json={"n": i, "tag": "new"}, headers=api.su())
    later = unique("later")
    await api.create_collection({"name": later, **OPEN})

    # A realtime client, subscribed (held directly: the ASGI test transport does not stream).
    client = await api.app.state.hearth.realtime.connect("")
    r = await api.client.post("/api/realtime", json={"clientId": client.id, "subscriptions": [posts]}, headers=api.su())
    assert r.status_code == 204, r.text

    # Readers during the restore: each answer is all old or all new, and consistent in itself.
    seen: list[tuple[int, frozenset[str]]] = []
    stop = asyncio.Event()

    async def reader() -> None:
        while not stop.is_set():
            page = await _listing(api.client, api, posts)
            tags = frozenset(item["tag"] for item in page["items"])
            assert page["totalItems"] == len(page["items"])
            seen.append((page["totalItems"], tags))
            await asyncio.sleep(0)

    readers = [asyncio.create_task(reader()) for _ in range(3)]
    r = await api.client.post(f"/api/backups/{name}/restore", headers=api.su())
    assert r.status_code == 204, r.text
    await wait_idle(api)
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*readers)
    assert set(seen) <= {(40, frozenset({"new"})), (30, frozenset({"old"}))}, set(seen)
    assert (30, frozenset({"old"})) in seen

    # The restored data, whole; what came after the backup is gone; the server serves on.
    after = await _listing(api.client, api, posts)
    assert [i["n"] for i in after["items"]] == list(range(30)) and {i["tag"] for i in after["items"]} == {"old"}
    assert (await api.client.get(f"/api/collections/{later}", headers=api.su())).status_code == 404
    assert await asyncio.wait_for(next_chunk(client), 5) is None  # ended: the SDK reconnects and resubscribes
    r = await api.client.post(f"/api/collections/{posts}/records", json={"n": 99, "tag": "after"}, headers=api.su())
    assert r.status_code == 200, r.text
    await api.create_collection({"name": later, **OPEN})  # the name is free again
    await api.client.delete(f"/api/backups/{name}", headers=api.su())


async def test_archives_in_s3(api: Api, moto_endpoint: str) -> None:
    """`backups.s3` enabled: the archives go to its bucket (moto's real S3 server), through the
    file storage's own S3 client; local disk holds none."""
    from tests.support.s3_server import make_bucket

    bucket = make_bucket(moto_endpoint)
    s3 = {"enabled": True, "bucket": bucket, "region": "us-east-1", "endpoint": moto_endpoint,
          "accessKey": "test", "secret": "test", "forcePathStyle": True}  # fmt: skip
    r = await api.client.patch("/api/settings", json={"backups": {"s3": s3}}, headers=api.su())
    assert r.status_code == 200, r.text
    try:
        local = api.app.state.hearth.config.data_dir / "backups"
        local_before = sorted(p.name for p in local.iterdir()) if local.is_dir() else []
        assert await keys(api) == []  # the bucket is empty: local archives are not listed
        r = await api.client.post("/api/backups", json={"name": "in-s3.zip"}, headers=api.su())
        assert r.status_code == 204, r.text
        assert await keys(api) == ["in-s3.zip"]
        assert httpx.get(f"{moto_endpoint}/{bucket}/in-s3.zip").status_code == 200
        assert (sorted(p.name for p in local.iterdir()) if local.is_dir() else []) == local_before
        zf = await download(api, "in-s3.zip")
        assert ("data.db" if api.dialect == "sqlite" else "hearth_postgres.dump") in zf.namelist()
        assert (await api.client.delete("/api/backups/in-s3.zip", headers=api.su())).status_code == 204
        assert await keys(api) == []
    finally:
        r = await api.client.patch("/api/settings", json={"backups": {"s3": {"enabled": False}}}, headers=api.su())
        assert r.status_code == 200


async def test_without_pg_dump_a_backup_is_refused(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    before = await keys(api)
    monkeypatch.setenv("PATH", "/nonexistent")
    if api.dialect == "sqlite":  # SQLite's backup needs no program on PATH
        r = await api.client.post("/api/backups", json={"name": "no-tool.zip"}, headers=api.su())
        assert r.status_code == 204, r.text
        monkeypatch.undo()
        assert await keys(api) == sorted([*before, "no-tool.zip"])
        assert (await api.client.delete("/api/backups/no-tool.zip", headers=api.su())).status_code == 204
        return
    r = await api.client.post("/api/backups", json={"name": "no-tool.zip"}, headers=api.su())
    assert r.status_code == 400 and "pg_dump is not installed" in r.json()["message"], r.text
    monkeypatch.undo()
    assert await keys(api) == before  # no half backup
    assert (await api.client.get("/api/health", headers=api.su())).json()["data"]["canBackup"] is True
