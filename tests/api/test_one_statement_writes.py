"""Writes of one statement, which PostgreSQL receives without BEGIN and COMMIT
(hearth.db.postgres `_OneStatement`): what a client and a hook see must not change. Each test
also runs on SQLite, where the same writes keep their transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from hearth.errors import BadRequest
from hearth.hooks.events import RecordCommitted, RecordFailed, RecordValidate, RecordWrite
from tests.api.test_webhooks import endpoint, eventually, hooks_on, receiver  # noqa: F401 - fixtures
from tests.conftest import OPEN, Api, unique
from tests.support.webhook_receiver import Receiver


@contextmanager
def opened(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Which kind of transaction each write asked for ("one": db.one_statement, "tx")."""
    db = api.app.state.hearth.db
    kinds: list[str] = []
    one, tx = db.one_statement, db.transaction

    def one_statement() -> Any:
        kinds.append("one")
        return one()

    def transaction() -> Any:
        kinds.append("tx")
        return tx()

    monkeypatch.setattr(db, "one_statement", one_statement)
    monkeypatch.setattr(db, "transaction", transaction)
    yield kinds
    monkeypatch.undo()


async def collection(api: Api) -> str:
    name = unique("one")
    await api.create_collection(
        {
            "name": name,
            "type": "base",
            **OPEN,
            "fields": [{"name": "slug", "type": "text"}, {"name": "n", "type": "number"}],
            "indexes": [f"CREATE UNIQUE INDEX idx_{name}_slug ON {name} (slug)"],
        }
    )
    return name


async def test_a_write_breaking_a_unique_index_writes_nothing_and_answers_the_same_400(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = await collection(api)
    url = f"/api/collections/{name}/records"
    hooks = api.app.state.hearth.hooks
    events: list[str] = []

    async def committed(e: RecordCommitted) -> None:
        # Durable before the event: another pooled connection reads the row.
        found = await api.app.state.hearth.records.reads.find(e.collection, e.record["id"])
        events.append(f"{e.action} committed, found: {found is not None}")
        await e.next()

    async def failed(e: RecordFailed) -> None:
        events.append(f"{e.action} failed")
        await e.next()

    bound = [
        (hooks.record_after_create_success, hooks.record_after_create_success.bind(committed)),
        (hooks.record_after_update_success, hooks.record_after_update_success.bind(committed)),
        (hooks.record_after_create_error, hooks.record_after_create_error.bind(failed)),
        (hooks.record_after_update_error, hooks.record_after_update_error.bind(failed)),
    ]
    try:
        with opened(api, monkeypatch) as kinds:
            a = (await api.client.post(url, json={"slug": "a", "n": 1})).json()
            b = (await api.client.post(url, json={"slug": "b", "n": 2})).json()
            dup = await api.client.post(url, json={"slug": "a", "n": 3})
            moved = await api.client.patch(f"{url}/{b['id']}", json={"slug": "a", "n": 4})
    finally:
        for hook, hid in bound:
            hook.unbind(hid)
    unique_error = {"slug": {"code": "validation_not_unique", "message": "Value must be unique."}}
    assert dup.status_code == 400 and dup.json() == {
        "status": 400, "message": "Failed to create record.", "data": unique_error,
    }  # fmt: skip
    assert moved.status_code == 400 and moved.json() == {
        "status": 400, "message": "Failed to update record.", "data": unique_error,
    }  # fmt: skip
    items = (await api.client.get(url, params={"sort": "n"})).json()["items"]
    assert [(r["slug"], r["n"]) for r in items] == [("a", 1), ("b", 2)]
    assert items[0]["id"] == a["id"]
    assert events == ["create committed, found: True"] * 2 + ["create failed", "update failed"]
    assert kinds == ["one"] * 4  # on SQLite, db.one_statement() is its usual transaction


async def test_a_users_model_hook_gets_a_real_transaction(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    name, other = await collection(api), await collection(api)
    records = api.app.state.hearth.records
    seen: list[bool] = []

    async def audit(e: RecordWrite) -> None:
        seen.append(e.tx.autocommit)
        await e.next()
        # A write of its own in the same transaction, then a refusal: both are rolled back.
        await records.create(records.collections.get(other), {"slug": e.record["slug"]}, _system(api), e.tx)
        if e.record["slug"] == "refused":
            raise BadRequest("refused after the write")

    hook = api.app.state.hearth.hooks.record_create
    hid = hook.bind(audit, tags={name}, guarded=True)
    try:
        with opened(api, monkeypatch) as kinds:
            ok = await api.client.post(f"/api/collections/{name}/records", json={"slug": "kept"})
            refused = await api.client.post(f"/api/collections/{name}/records", json={"slug": "refused"})
            # Another collection's writes have no user's hook: one statement again.
            plain = await api.client.post(f"/api/collections/{other}/records", json={"slug": "plain"})
    finally:
        hook.unbind(hid)
    assert ok.status_code == 200 and refused.status_code == 400 and plain.status_code == 200
    assert seen == [False, False]
    for coll, slugs in ((name, ["kept"]), (other, ["kept", "plain"])):
        items = (await api.client.get(f"/api/collections/{coll}/records", params={"sort": "slug"})).json()
        assert [r["slug"] for r in items["items"]] == slugs
    assert kinds == ["tx", "tx", "one"]


def _system(api: Api) -> Any:
    from hearth.query.context import RequestInfo

    return RequestInfo(auth=api.app.state.hearth.auth.system_state())


async def test_an_endpoint_added_while_a_one_statement_write_runs_still_gets_it(
    api: Api,
    hooks_on: Any,  # noqa: F811 - the fixture
    receiver: Receiver,  # noqa: F811 - the fixture
) -> None:
    """The write chose its transaction when no endpoint wanted it; one is added before its
    matcher runs (here by a validate handler, which leaves the write one statement): on
    PostgreSQL the write is matched after its commit, on SQLite inside its transaction."""
    name = await collection(api)
    url = f"/api/collections/{name}/records"
    assert (await api.client.post(url, json={"slug": "warm"})).status_code == 200  # endpoints loaded
    hearth = api.app.state.hearth
    added: dict[str, Any] = {}

    async def add_endpoint(e: RecordValidate) -> None:
        if not added and e.record["slug"] == "raced":
            if api.dialect == "postgres":
                added.update(await endpoint(api, url=receiver.url, collection=name, events=["create"]))
                await hearth.collections.refresh()
            # SQLite: this write holds the write lock, so the endpoint was added just before.
        await e.next()

    if api.dialect == "sqlite":
        added.update(await endpoint(api, url=receiver.url, collection=name, events=["create"]))
    hid = hearth.hooks.record_validate.bind(add_endpoint, tags={name})
    try:
        r = await api.client.post(url, json={"slug": "raced"})
    finally:
        hearth.hooks.record_validate.unbind(hid)
    assert r.status_code == 200, r.text
    await eventually(lambda: receiver.requests)
    (request,) = receiver.requests
    assert request.json()["data"]["record"]["id"] == r.json()["id"]


async def test_a_relation_to_a_missing_record_holds_the_write_back_with_its_error(api: Api) -> None:
    """Without validate handlers the relations are checked by the write statement itself
    (hearth.records.relations Guard); the answers are those of a check before it."""
    authors = unique("authors")
    a = await api.create_collection({"name": authors, "type": "base", **OPEN, "fields": [{"name": "n", "type": "text"}]})
    books = unique("books")
    await api.create_collection(
        {
            "name": books,
            "type": "base",
            **OPEN,
            "fields": [
                {"name": "title", "type": "text", "max": 5},
                {"name": "author", "type": "relation", "collectionId": a["id"], "maxSelect": 1},
                {"name": "fans", "type": "relation", "collectionId": a["id"], "maxSelect": 5},
            ],
        }
    )
    c, url = api.client, f"/api/collections/{books}/records"
    a1 = (await c.post(f"/api/collections/{authors}/records", json={"n": "1"})).json()["id"]
    a2 = (await c.post(f"/api/collections/{authors}/records", json={"n": "2"})).json()["id"]
    missing = {"code": "validation_missing_rel_records", "message": "Failed to find all relation records with the provided ids."}  # fmt: skip

    async def refused(r: Any, data: dict[str, Any], message: str = "Failed to create record.") -> None:
        assert r.status_code == 400 and r.json() == {"status": 400, "message": message, "data": data}, r.text

    await refused(await c.post(url, json={"author": a1, "fans": [a2, "missingrecord12"]}), {"fans": missing})
    await refused(await c.post(url, json={"author": "missingrecord12", "fans": ["missingrecord34"]}),
                  {"author": missing, "fans": missing})  # fmt: skip
    # Another field's error too: every error in one answer, as before.
    r = await c.post(url, json={"title": "too long", "author": "missingrecord12"})
    assert r.status_code == 400 and set(r.json()["data"]) == {"title", "author"}
    assert (await c.get(url)).json()["totalItems"] == 0
    b = (await c.post(url, json={"author": a1, "fans": [a1, a2, a1]})).json()
    assert (b["author"], b["fans"]) == (a1, [a1, a2])
    await refused(await c.patch(f"{url}/{b['id']}", json={"fans": [a2, "missingrecord12"]}), {"fans": missing},
                  "Failed to update record.")  # fmt: skip
    r = await c.patch(f"{url}/{b['id']}", json={"title": "x", "author": a2})
    assert r.status_code == 200 and (r.json()["title"], r.json()["author"], r.json()["fans"]) == ("x", a2, [a1, a2])
    assert (await c.get(f"{url}/{b['id']}")).json()["fans"] == [a1, a2]


async def test_a_create_and_an_update_check_out_one_connection_each(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: the token's record from memory, the create's relation check in its INSERT,
    the update's read on the connection it writes on: one pooled connection per request."""
    db = api.app.state.hearth.db
    if not db.pooled:
        return  # SQLite: no pool (reads have their own connection, writes the writer's)
    target = await collection(api)
    name = unique("one")
    rel = {"name": "to", "type": "relation", "collectionId": api.app.state.hearth.collections.get(target).id}
    await api.create_collection({"name": name, "type": "base", **OPEN, "fields": [{"name": "n", "type": "number"}, rel]})
    to = (await api.client.post(f"/api/collections/{target}/records", json={"slug": "t"})).json()["id"]
    url = f"/api/collections/{name}/records"
    rid = (await api.client.post(url, json={"n": 1, "to": to}, headers=api.su())).json()["id"]  # token read
    checkouts: list[int] = []
    acquire = db.acquire

    async def counted() -> Any:
        checkouts.append(1)
        return await acquire()

    monkeypatch.setattr(db, "acquire", counted)
    r = await api.client.post(url, json={"n": 2, "to": to}, headers=api.su())
    assert r.status_code == 200 and len(checkouts) == 1
    r = await api.client.patch(f"{url}/{rid}", json={"n": 3, "to": to}, headers=api.su())
    assert r.status_code == 200 and len(checkouts) == 2
