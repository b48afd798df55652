"""The event spine seen through the API: model hooks wrap writes inside their transaction,
after-commit events follow only what committed, and Hearth's own reactions (login limits,
logout, mail) are handlers of the same hooks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hearth.errors import BadRequest
from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import Hook
from tests.api.test_batch import rec_url, send, set_batch, sub
from tests.conftest import Api, unique

OPEN = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}


def hooks_of(api: Api) -> Hooks:
    hooks: Hooks = api.app.state.hearth.hooks
    return hooks


@contextmanager
def bound(hook: Hook[Any], handler: Any, **kw: Any) -> Iterator[None]:
    hid = hook.bind(handler, **kw)
    try:
        yield
    finally:
        hook.unbind(hid)


@contextmanager
def recording(api: Api, *names: str) -> Iterator[list[tuple[str, str, str]]]:
    """(event, collection name, record id) of every after-commit event named."""
    seen: list[tuple[str, str, str]] = []
    hooks = hooks_of(api)
    ids: list[tuple[Hook[Any], str]] = []
    for name in names:
        hook = getattr(hooks, name)

        async def handler(e: Any, name: str = name) -> None:
            seen.append((name, e.collection.name, str(e.record.get("id"))))
            await e.next()

        ids.append((hook, hook.bind(handler)))
    try:
        yield seen
    finally:
        for hook, hid in ids:
            hook.unbind(hid)


async def posts(api: Api, **extra: Any) -> str:
    name = unique("posts")
    await api.create_collection(
        {
            "name": name,
            "type": "base",
            **OPEN,
            "fields": [{"name": "title", "type": "text"}, {"name": "slug", "type": "text", "max": 20}],
            **extra,
        }
    )
    return name


async def test_a_model_hook_changes_the_record_before_it_is_stored(api: Api) -> None:
    name = await posts(api)
    other = await posts(api)

    async def slugify(e: Any) -> None:
        e.record["slug"] = e.record["title"].lower().replace(" ", "-")
        await e.next()

    with bound(hooks_of(api).record_create, slugify, tags={name}):
        r = await api.client.post(rec_url(name), json={"title": "Hello World"})
        assert r.status_code == 200, r.text
        assert r.json()["slug"] == "hello-world"
        r2 = await api.client.post(rec_url(other), json={"title": "Not Tagged"})
        assert r2.json()["slug"] == ""
    stored = await api.client.get(f"{rec_url(name)}/{r.json()['id']}")
    assert stored.json()["slug"] == "hello-world"


async def test_a_value_set_by_a_hook_is_validated_like_any_other(api: Api) -> None:
    name = await posts(api)

    async def too_long(e: Any) -> None:
        e.record["slug"] = "x" * 50
        await e.next()

    with bound(hooks_of(api).record_create, too_long):
        r = await api.client.post(rec_url(name), json={"title": "t"})
    assert r.status_code == 400
    assert r.json()["data"]["slug"]["code"] == "validation_max_text_constraint"
    assert (await api.client.get(rec_url(name))).json()["totalItems"] == 0


async def test_a_hook_error_is_the_answer_and_nothing_is_written(api: Api) -> None:
    name = await posts(api)

    async def refuse(e: Any) -> None:
        raise BadRequest("Titles are closed today.", {"title": {"code": "closed", "message": "Closed."}})

    with recording(api, "record_after_create_success", "record_after_create_error") as seen:
        with bound(hooks_of(api).record_create, refuse):
            r = await api.client.post(rec_url(name), json={"title": "t"})
    assert r.status_code == 400
    assert r.json()["message"] == "Titles are closed today."
    assert r.json()["data"] == {"title": {"code": "closed", "message": "Closed."}}
    assert (await api.client.get(rec_url(name))).json()["totalItems"] == 0
    assert [s[0] for s in seen] == ["record_after_create_error"]


async def test_a_refusal_after_the_write_rolls_it_back(api: Api) -> None:
    name = await posts(api)

    async def regret(e: Any) -> None:
        await e.next()  # the row is written (inside the transaction) ...
        raise BadRequest("Changed my mind.")  # ... and goes with the rollback

    with bound(hooks_of(api).record_create, regret):
        r = await api.client.post(rec_url(name), json={"title": "t"})
    assert r.status_code == 400
    assert (await api.client.get(rec_url(name))).json()["totalItems"] == 0


async def test_after_commit_events_follow_each_committed_write(api: Api) -> None:
    name = await posts(api)
    events = (
        "record_after_create_success",
        "record_after_update_success",
        "record_after_delete_success",
        "record_after_update_error",
    )
    with recording(api, *events) as seen:
        rid = (await api.client.post(rec_url(name), json={"title": "a"})).json()["id"]
        assert (await api.client.patch(f"{rec_url(name)}/{rid}", json={"title": "b"})).status_code == 200
        bad = await api.client.patch(f"{rec_url(name)}/{rid}", json={"slug": "y" * 40})
        assert bad.status_code == 400  # refused: its error event, as in PocketBase
        assert (await api.client.delete(f"{rec_url(name)}/{rid}")).status_code == 204
    assert seen == [
        ("record_after_create_success", name, rid),
        ("record_after_update_success", name, rid),
        ("record_after_update_error", name, rid),
        ("record_after_delete_success", name, rid),
    ]


async def test_a_failed_batch_gives_error_events_and_no_success_events(api: Api) -> None:
    name = await posts(api)
    await set_batch(api, enabled=True, maxRequests=50, timeout=10, maxBodySize=0)
    try:
        with recording(api, "record_after_create_success", "record_after_create_error") as seen:
            r = await send(
                api,
                [
                    sub("POST", rec_url(name), {"title": "kept?"}),
                    sub("POST", rec_url(name), {"slug": "z" * 40}),
                ],
            )
        assert r.status_code == 400
        # Neither write committed: the one that went in and the one refused.
        assert [s[0] for s in seen] == ["record_after_create_error", "record_after_create_error"]
        with recording(api, "record_after_create_success") as seen:
            r = await send(
                api, [sub("POST", rec_url(name), {"title": "1"}), sub("POST", rec_url(name), {"title": "2"})]
            )
        assert r.status_code == 200
        assert len(seen) == 2
    finally:
        await set_batch(api, enabled=False)


async def test_cascades_and_unset_references_are_events_of_their_own(api: Api) -> None:
    parent = await posts(api)
    pid = (await api.client.get(f"/api/collections/{parent}", headers=api.su())).json()["id"]
    child = unique("child")
    await api.create_collection(
        {
            "name": child,
            "type": "base",
            **OPEN,
            "fields": [
                {
                    "name": "owner",
                    "type": "relation",
                    "collectionId": pid,
                    "cascadeDelete": True,
                    "maxSelect": 1,
                },
                {"name": "seen_by", "type": "relation", "collectionId": pid, "maxSelect": 5},
            ],
        }
    )
    p1 = (await api.client.post(rec_url(parent), json={"title": "p1"})).json()["id"]
    p2 = (await api.client.post(rec_url(parent), json={"title": "p2"})).json()["id"]
    gone = (await api.client.post(rec_url(child), json={"owner": p1})).json()["id"]
    kept = (await api.client.post(rec_url(child), json={"owner": p2, "seen_by": [p1, p2]})).json()["id"]
    deleting: list[str] = []

    async def watch(e: Any) -> None:
        deleting.append(f"{e.collection.name}/{e.record['id']}")
        await e.next()

    with recording(api, "record_after_delete_success", "record_after_update_success") as seen:
        with bound(hooks_of(api).record_delete, watch):
            assert (await api.client.delete(f"{rec_url(parent)}/{p1}")).status_code == 204
    assert sorted(seen) == sorted(
        [
            ("record_after_delete_success", parent, p1),
            ("record_after_delete_success", child, gone),
            ("record_after_update_success", child, kept),
        ]
    )
    assert deleting == [f"{parent}/{p1}", f"{child}/{gone}"]
    assert (await api.client.get(f"{rec_url(child)}/{kept}")).json()["seen_by"] == [p2]


async def test_truncate_deletes_each_record_as_an_event(api: Api) -> None:
    name = await posts(api)
    ids = [(await api.client.post(rec_url(name), json={"title": str(i)})).json()["id"] for i in range(3)]
    with recording(api, "record_after_delete_success") as seen:
        r = await api.client.delete(f"/api/collections/{name}/truncate", headers=api.su())
        assert r.status_code == 204
    assert sorted(s[2] for s in seen) == sorted(ids)


async def test_an_after_commit_handler_may_write_again(api: Api) -> None:
    """After-commit handlers run with the write lock released (SQLite would deadlock else)."""
    name = await posts(api)
    log_name = await posts(api)
    hearth = api.app.state.hearth
    log_c = hearth.collections.get(log_name)

    async def audit(e: Any) -> None:
        from hearth.query.context import RequestInfo

        if e.collection.name == name:
            await hearth.records.create(
                log_c, {"title": f"created {e.record['id']}"}, RequestInfo(auth=hearth.auth.system_state())
            )
        await e.next()

    with bound(hooks_of(api).record_after_create_success, audit):
        rid = (await api.client.post(rec_url(name), json={"title": "x"})).json()["id"]
    items = (await api.client.get(rec_url(log_name))).json()["items"]
    assert [i["title"] for i in items] == [f"created {rid}"]


async def test_logins_and_logouts_are_events(api: Api) -> None:
    users = unique("users")
    await api.create_collection({"name": users, "type": "auth", **OPEN})
    email, password = f"{users}@example.com", "pass12345!"
    r = await api.client.post(
        rec_url(users), json={"email": email, "password": password, "passwordConfirm": password}
    )
    assert r.status_code == 200, r.text
    checks: list[tuple[str, str, bool]] = []
    ended: list[str] = []

    async def check(e: Any) -> None:
        await e.next()
        checks.append((e.identity, e.method, e.ok))

    async def logout(e: Any) -> None:
        ended.append(e.record_id)
        await e.next()

    hooks = hooks_of(api)
    with bound(hooks.record_credential_check, check), bound(hooks.record_session_ended, logout):
        login = f"/api/collections/{users}/auth-with-password"
        assert (
            await api.client.post(login, json={"identity": email, "password": "wrong-one"})
        ).status_code == 400
        ok = await api.client.post(login, json={"identity": email, "password": password})
        assert ok.status_code == 200
        r = await api.client.post(
            f"/api/collections/{users}/auth-logout", headers={"Authorization": ok.json()["token"]}
        )
        assert r.status_code == 204, r.text
    assert checks == [(email, "password", False), (email, "password", True)]
    assert ended == [ok.json()["record"]["id"]]


async def test_a_mail_handler_can_stop_a_mail(api: Api) -> None:
    users = unique("users")
    await api.create_collection({"name": users, "type": "auth", **OPEN})
    email = f"{users}@example.com"
    await api.client.post(
        rec_url(users), json={"email": email, "password": "pass12345!", "passwordConfirm": "pass12345!"}
    )
    seen: list[tuple[str, str]] = []

    async def hold(e: Any) -> None:
        seen.append((e.to, e.placeholders.get("TOKEN", "")[:3]))  # and no next(): not sent

    hearth = api.app.state.hearth
    with bound(hooks_of(api).mailer_record_verification_send, hold):
        r = await api.client.post(f"/api/collections/{users}/request-verification", json={"email": email})
        assert r.status_code == 204
        await hearth.account.background.drain()
    assert seen == [(email, "eyJ")]


# ----- request tier ------------------------------------------------------------------------------
async def test_a_request_hook_changes_the_body_and_sees_the_stored_record(api: Api) -> None:
    name = await posts(api)
    seen: list[Any] = []

    async def stamp(e: Any) -> None:
        body = await e.body()
        body["title"] = body.get("title", "").upper()
        await e.next()
        seen.append((e.collection.name, e.record["title"], e.response.status_code, e.auth.is_superuser))

    with bound(hooks_of(api).record_create_request, stamp, tags={name}):
        r = await api.client.post(rec_url(name), json={"title": "quiet"}, headers=api.su())
    assert r.json()["title"] == "QUIET"
    assert seen == [(name, "QUIET", 200, True)]


async def test_a_request_hook_answers_early_or_refuses(api: Api) -> None:
    from hearth.http import responses

    name = await posts(api)

    async def cached(e: Any) -> None:
        e.response = responses.json({"page": 1, "perPage": 0, "items": [], "cached": True})

    async def closed(e: Any) -> None:
        raise BadRequest("Read only this week.")

    hooks = hooks_of(api)
    with bound(hooks.records_list_request, cached), bound(hooks.record_create_request, closed):
        assert (await api.client.get(rec_url(name))).json()["cached"] is True
        r = await api.client.post(rec_url(name), json={"title": "t"})
        assert r.status_code == 400
        assert r.json() == {"data": {}, "message": "Read only this week.", "status": 400}
    assert (await api.client.get(rec_url(name), headers=api.su())).json()["totalItems"] == 0


def test_every_request_event_has_its_route() -> None:
    from hearth.hooks.catalog import REQUEST_EVENTS
    from hearth.http.server import all_routes

    events = [r.event for r in all_routes() if r.event]
    assert sorted(events) == sorted(REQUEST_EVENTS)  # each once


async def test_a_validate_hook_adds_its_own_field_error(api: Api) -> None:
    name = await posts(api)

    async def no_shouting(e: Any) -> None:
        await e.next()  # the built-in checks first
        if e.record["title"].isupper():
            e.errors["title"] = {"code": "validation_no_shouting", "message": "Please don't shout."}

    with bound(hooks_of(api).record_validate, no_shouting, tags={name}):
        r = await api.client.post(rec_url(name), json={"title": "HELLO", "slug": "s" * 50})
        assert r.status_code == 400
        assert r.json()["data"]["title"] == {
            "code": "validation_no_shouting",
            "message": "Please don't shout.",
        }
        assert r.json()["data"]["slug"]["code"] == "validation_max_text_constraint"
        ok = await api.client.post(rec_url(name), json={"title": "Hello"})
        assert ok.status_code == 200
        r = await api.client.patch(f"{rec_url(name)}/{ok.json()['id']}", json={"title": "LOUD"})
        assert r.status_code == 400
    assert (await api.client.get(rec_url(name))).json()["totalItems"] == 1


async def test_collection_changes_are_events(api: Api) -> None:
    seen: list[tuple[str, str, str | None]] = []

    async def no_scratch(e: Any) -> None:
        if e.collection.name.startswith("scratch_"):
            raise BadRequest("No scratch collections here.")
        await e.next()

    def watcher(kind: str) -> Any:
        async def watch(e: Any) -> None:
            seen.append((kind, e.collection.name, e.old.name if e.old is not None else None))
            await e.next()

        return watch

    hooks = hooks_of(api)
    name = unique("events")
    with (
        bound(hooks.collection_create, no_scratch),
        bound(hooks.collection_after_create_success, watcher("created")),
        bound(hooks.collection_after_update_success, watcher("updated")),
        bound(hooks.collection_after_delete_success, watcher("deleted")),
    ):
        r = await api.client.post(
            "/api/collections", json={"name": unique("scratch_"), "type": "base"}, headers=api.su()
        )
        assert r.status_code == 400 and r.json()["message"] == "No scratch collections here."
        await api.create_collection({"name": name, "type": "base"})
        r = await api.client.patch(f"/api/collections/{name}", json={"name": name + "x"}, headers=api.su())
        assert r.status_code == 200, r.text
        assert (await api.client.delete(f"/api/collections/{name}x", headers=api.su())).status_code == 204
    assert seen == [
        ("created", name, None),
        ("updated", name + "x", name),
        ("deleted", name + "x", name + "x"),
    ]
