"""On PostgreSQL each process keeps the auth records of the tokens it resolves in memory
(hearth.records.auth_cache): a change of an auth record, made anywhere, must still be enforced
everywhere as soon as its NOTIFY arrives; the process that made it at once; and nothing kept is
used while the NOTIFYs cannot be heard."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from hearth.records import auth_cache
from hearth.records.auth_cache import AuthRecords
from hearth.schema.bootstrap import bootstrap
from tests.api.test_pg_coherence import _until, two  # noqa: F401 - the fixture
from tests.conftest import Api, unique

PASSWORD = "password123"
GATE = "gate00000000001"


def cache(api: Api) -> AuthRecords:
    records: AuthRecords = api.app.state.hearth.records.auth_records
    return records


async def users(a: Api) -> tuple[str, dict[str, Any], str]:
    """An auth collection, one of its users and a token of that user's (through `a`), and a
    record only that collection's users may see (`status`)."""
    name = unique("members")
    await a.create_collection(
        {"name": name, "type": "auth", "updateRule": "id = @request.auth.id",
         "deleteRule": "id = @request.auth.id", "fields": [{"name": "nick", "type": "text"}]}
    )  # fmt: skip
    await a.create_collection(
        {"name": f"gate_{name}", "type": "base", "viewRule": f"@request.auth.collectionName = '{name}'",
         "fields": [{"name": "t", "type": "text"}]}
    )  # fmt: skip
    r = await a.client.post(f"/api/collections/gate_{name}/records", json={"id": GATE}, headers=a.su())
    assert r.status_code == 200, r.text
    r = await a.client.post(
        f"/api/collections/{name}/records",
        json={"email": "m@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD, "nick": "m"},
        headers=a.su(),
    )
    assert r.status_code == 200, r.text
    r = await a.client.post(
        f"/api/collections/{name}/auth-with-password", json={"identity": "m@example.com", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return name, r.json()["record"], r.json()["token"]


async def status(api: Api, name: str, token: str) -> int:
    """What `api` answers the token's bearer viewing the record only `name`'s users may see:
    200, or 404 when the token no longer resolves (a guest). Not auth-refresh: that reads the
    record again."""
    r = await api.client.get(f"/api/collections/gate_{name}/records/{GATE}", headers={"Authorization": token})
    return r.status_code


async def admitted(api: Api, name: str, token: str) -> None:
    """`api` admits the token (the other instance may hear of the new collections a little
    later), and keeps its user in memory from now on."""

    async def ok() -> bool:
        return await status(api, name, token) == 200

    await _until(ok, 2)
    assert cache(api)._rows


async def test_a_password_changed_through_one_instance_refuses_the_old_token_on_both(
    two: tuple[Api, Api],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auth_cache, "MAX_AGE", 60.0)  # only the NOTIFY can tell b in time
    a, b = two
    a.token = b.token  # b's start upserted the superuser again
    name, user, token = await users(a)
    for api in (a, b):
        await admitted(api, name, token)
    with pytest.MonkeyPatch.context() as held:
        # a's own NOTIFY is held back: the instance that writes must not need it.
        held.setattr(cache(a)._watch, "_on_notify", lambda payload: None)
        new = "another-password1"
        r = await a.client.patch(
            f"/api/collections/{name}/records/{user['id']}",
            json={"oldPassword": PASSWORD, "password": new, "passwordConfirm": new},
            headers={"Authorization": token},
        )
        assert r.status_code == 200, r.text
        assert await status(a, name, token) == 404  # the instance that wrote: at once

        async def b_refuses() -> bool:
            return await status(b, name, token) == 404

        assert await _until(b_refuses, 2) < 1.0  # the other: when the NOTIFY arrives
    # The new token works on both; a delete through b is seen by a the same way.
    r = await a.client.post(f"/api/collections/{name}/auth-with-password",
                            json={"identity": "m@example.com", "password": new})  # fmt: skip
    fresh = r.json()["token"]
    await admitted(a, name, fresh)
    await admitted(b, name, fresh)
    r = await b.client.delete(f"/api/collections/{name}/records/{user['id']}", headers={"Authorization": fresh})
    assert r.status_code == 204

    async def a_refuses() -> bool:
        return await status(a, name, fresh) == 404

    assert await _until(a_refuses, 2) < 1.0


async def test_nothing_kept_is_used_while_the_notifys_cannot_be_heard(
    two: tuple[Api, Api],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A change no NOTIFY tells (written with triggers off, as replication would) shows what
    is answered from memory: while listening, the kept record, for MAX_AGE at most; once the
    listening connection is killed, the database on the very next request."""
    monkeypatch.setattr(auth_cache, "MAX_AGE", 60.0)
    a, b = two
    a.token = b.token
    name, user, token = await users(a)
    db = b.app.state.hearth.db
    admin = await asyncpg.connect(db.pool._connect_args[0])

    async def silently(token_key: str) -> None:
        async with admin.transaction():
            await admin.execute("SET LOCAL session_replication_role = replica")  # no trigger fires
            await admin.execute(f'UPDATE "{name}" SET "tokenKey" = $1 WHERE id = $2', token_key, user["id"])

    try:
        key = await admin.fetchval(f'SELECT "tokenKey" FROM "{name}" WHERE id = $1', user["id"])
        await admitted(b, name, token)
        await silently("revoked-silently")
        assert await status(b, name, token) == 200  # from memory
        # The listening connection dies: what was kept is dropped, each request reads.
        listener = cache(b)._watch.listener  # type: ignore[union-attr]
        await admin.execute("SELECT pg_terminate_backend($1)", listener._conn.get_server_pid())
        # asyncpg may see the socket closed (alive() False) a moment before it runs the
        # termination callback that drops what was kept: wait for both.
        for _ in range(250):
            if not listener.alive() and cache(b)._rows == {}:
                break
            await asyncio.sleep(0.02)
        assert not listener.alive()
        assert cache(b)._rows == {}
        assert await status(b, name, token) == 404
        await silently(key)
        assert await status(b, name, token) == 200

        async def listening_again() -> bool:
            return cache(b)._watch.live()  # type: ignore[union-attr]

        await _until(listening_again, 10)
        # Kept again, and used for MAX_AGE at most.
        monkeypatch.setattr(auth_cache, "MAX_AGE", 0.5)
        assert await status(b, name, token) == 200
        await silently("revoked-silently")
        assert await status(b, name, token) == 200
        await asyncio.sleep(0.6)
        assert await status(b, name, token) == 404
    finally:
        await admin.close()


async def test_a_database_made_before_the_triggers_gets_them_at_start(
    two: tuple[Api, Api],  # noqa: F811 - the fixture
) -> None:
    a, _ = two
    hearth = a.app.state.hearth
    admin = await asyncpg.connect(hearth.db.pool._connect_args[0])
    triggers = "SELECT count(*) FROM pg_trigger WHERE tgrelid = '_superusers'::regclass AND tgname LIKE '_hearth_auth_%'"
    try:
        assert await admin.fetchval(triggers) == 3
        for t in ("u", "d", "t"):
            await admin.execute(f"DROP TRIGGER _hearth_auth_{t} ON _superusers")
        await bootstrap(hearth.db, hearth.collections)
        assert await admin.fetchval(triggers) == 3
    finally:
        await admin.close()
