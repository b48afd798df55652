"""Users' hooks and routes (hearth.App and the hooks folder), seen through the API."""

from __future__ import annotations

import asyncio
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import httpx
import pytest

import hearth
from hearth.config import Config
from hearth.extend.loader import HooksLoadError
from tests.conftest import SUPERUSER_EMAIL, SUPERUSER_PASSWORD

OPEN = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}


class Served:
    def __init__(self, app: hearth.App, client: httpx.AsyncClient, token: str) -> None:
        self.app = app
        self.client = client
        self.token = token

    def su(self) -> dict[str, str]:
        return {"Authorization": self.token}


async def serve(app: hearth.App) -> AsyncIterator[Served]:
    await app.asgi.on_startup()
    try:
        from hearth.admin_cli import upsert_superuser

        await upsert_superuser(app.hearth, SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
        transport = httpx.ASGITransport(app=app.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.post(
                "/api/collections/_superusers/auth-with-password",
                json={"identity": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD},
            )
            yield Served(app, client, r.json()["token"])
    finally:
        await app.asgi.on_shutdown()


def write_hooks(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(text))
    return folder


HOOKS = {
    "10_posts": """
        import hearth

        def setup(app):
            @app.on_record_create("posts")
            async def slug(e):
                e.record["slug"] = e.record["title"].lower().replace(" ", "-")
                await e.next()

            @app.on_record_enrich("posts")
            def shout(e):  # a plain function: runs in a worker thread
                e.record["shout"] = e.record["title"].upper()
                e.next()

            @app.on_record_create_request("posts")
            async def closed(e):
                body = await e.body()
                if body.get("title") == "closed":
                    raise hearth.BadRequest("Posting is closed.", {"title": {"code": "closed", "message": "Closed."}})
                await e.next()
    """,
    "20_routes": """
        import asyncio
        import time
        import hearth

        def setup(app):
            @app.route("GET", "/api/hello/{name}")
            async def hello(e):
                return {"hello": e.params["name"], "q": e.query.get("q", ""), "guest": e.auth.record is None}

            @app.route("POST", "/api/posts/count", middlewares=[hearth.require_auth("users")])
            async def count(e):
                body = await e.body()
                n = await app.records.count("posts", body.get("filter", ""))
                return {"count": n, "by": e.auth.record["id"]}

            @app.route("DELETE", "/api/admin/nothing", middlewares=[hearth.require_superuser()])
            def nothing(e):
                return None

            @app.route("GET", "/api/buggy")
            async def buggy(e):
                return {}["missing"]

            @app.route("GET", "/api/slow")
            async def slow(e):
                await asyncio.sleep(10)

            @app.route("GET", "/api/slow-sync")
            def slow_sync(e):
                time.sleep(3)

            @app.route("GET", "/api/health")
            async def shadow(e):
                return {"shadowed": True}
    """,
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_database: str | None
) -> AsyncIterator[Served]:
    base = tmp_path_factory.mktemp("user-hooks")
    hooks_dir = write_hooks(base / "hearth_hooks", **HOOKS)
    db = ""
    if request.param == "postgres":
        if pg_database is None:
            pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
        conn = await asyncpg.connect(pg_database)
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.close()
        db = pg_database
    app = hearth.App(base / "data", db=db, hooks_dir=hooks_dir, hook_timeout=1.0)
    async for s in serve(app):
        body = {
            "name": "posts",
            "type": "base",
            **OPEN,
            "fields": [{"name": "title", "type": "text"}, {"name": "slug", "type": "text"}],
        }
        r = await s.client.post("/api/collections", json=body, headers=s.su())
        assert r.status_code == 200, r.text
        # The default users collection: anyone may sign up.
        r = await s.client.patch("/api/collections/users", json={"createRule": ""}, headers=s.su())
        assert r.status_code == 200, r.text
        yield s


async def test_the_public_surface_is_small_and_sorted() -> None:
    assert hearth.__all__ == sorted(hearth.__all__)
    for name in hearth.__all__:
        assert getattr(hearth, name) is not None
    # Subpackages are importable but are not the surface: every other public name is listed.
    public = {n for n, v in vars(hearth).items() if not n.startswith("_") and not isinstance(v, ModuleType)}
    assert public == set(hearth.__all__) - {"__version__"}


async def test_model_and_enrich_hooks_from_the_folder(served: Served) -> None:
    r = await served.client.post("/api/collections/posts/records", json={"title": "Hello World"})
    assert r.status_code == 200, r.text
    created = r.json()
    assert created["slug"] == "hello-world"
    assert created["shout"] == "HELLO WORLD"
    listed = (await served.client.get("/api/collections/posts/records")).json()["items"]
    assert {i["shout"] for i in listed} >= {"HELLO WORLD"}


async def test_a_request_hook_refuses_with_its_own_envelope(served: Served) -> None:
    r = await served.client.post("/api/collections/posts/records", json={"title": "closed"})
    assert r.status_code == 400
    assert r.json() == {
        "status": 400,
        "message": "Posting is closed.",
        "data": {"title": {"code": "closed", "message": "Closed."}},
    }


async def test_custom_routes_params_query_and_auth(served: Served) -> None:
    r = await served.client.get("/api/hello/world?q=1")
    assert r.json() == {"hello": "world", "q": "1", "guest": True}
    # require_auth("users"): 401 for guests, 403 for a superuser? no: superusers pass
    assert (await served.client.post("/api/posts/count", json={})).status_code == 401
    email, password = "route-user@example.com", "pass12345!"
    await served.client.post(
        "/api/collections/users/records",
        json={"email": email, "password": password, "passwordConfirm": password},
    )
    login = await served.client.post(
        "/api/collections/users/auth-with-password", json={"identity": email, "password": password}
    )
    token = login.json()["token"]
    for _ in range(3):
        await served.client.post("/api/collections/posts/records", json={"title": "Counted Twice"})
    r = await served.client.post(
        "/api/posts/count", json={"filter": "title = 'Counted Twice'"}, headers={"Authorization": token}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"count": 3, "by": login.json()["record"]["id"]}
    # require_superuser: 401 guest, 403 user, 204 superuser (None answers 204)
    assert (await served.client.delete("/api/admin/nothing")).status_code == 401
    r = await served.client.delete("/api/admin/nothing", headers={"Authorization": token})
    assert r.status_code == 403
    assert r.json()["status"] == 403
    assert (await served.client.delete("/api/admin/nothing", headers=served.su())).status_code == 204


async def test_a_built_in_route_is_never_shadowed(served: Served) -> None:
    r = await served.client.get("/api/health")
    assert r.status_code == 200
    assert "shadowed" not in r.json()


async def test_a_failing_route_is_the_generic_400_and_the_server_goes_on(served: Served) -> None:
    r = await served.client.get("/api/buggy")
    assert r.status_code == 400
    assert r.json() == {
        "status": 400,
        "message": "Something went wrong while processing your request.",
        "data": {},
    }
    assert (await served.client.get("/api/hello/again")).status_code == 200


async def test_hanging_handlers_are_cut_off_and_the_server_goes_on(served: Served) -> None:
    started = time.monotonic()
    r = await served.client.get("/api/slow")
    assert r.status_code == 504
    assert r.json()["message"] == "A hook did not finish in time."
    r = await served.client.get("/api/slow-sync")
    assert r.status_code == 504
    assert time.monotonic() - started < 5
    assert (await served.client.get("/api/hello/after")).status_code == 200


async def test_a_sync_handler_does_not_block_other_requests(served: Served) -> None:
    slow = asyncio.create_task(served.client.get("/api/slow-sync"))
    await asyncio.sleep(0.2)
    started = time.monotonic()
    r = await served.client.get("/api/hello/meanwhile")
    assert r.status_code == 200
    assert time.monotonic() - started < 0.5  # answered while the plain function sleeps
    await slow


async def test_a_python_hook_registered_on_the_app_object(served: Served) -> None:
    app = served.app
    seen: list[str] = []

    @app.on("record_after_create_success", "posts", id="test-after")
    async def after(e: hearth.RecordCommitted) -> None:
        seen.append(e.record["id"])
        await e.next()

    try:
        r = await served.client.post("/api/collections/posts/records", json={"title": "After"})
        assert seen == [r.json()["id"]]
    finally:
        app.hooks.record_after_create_success.unbind("test-after")


def test_an_unknown_event_or_method_is_refused_at_registration(tmp_path: Path) -> None:
    app = hearth.App(tmp_path / "data", hooks_dir=tmp_path / "none")
    with pytest.raises(ValueError, match="unknown event 'record_crate'"):
        app.on("record_crate")
    with pytest.raises(AttributeError):
        app.on_record_crate  # noqa: B018
    with pytest.raises(ValueError, match="method 'FETCH'"):
        app.route("FETCH", "/api/x")


def test_a_broken_hooks_file_names_the_file_and_line(tmp_path: Path) -> None:
    folder = write_hooks(tmp_path / "hooks", bad="def setup(app):\n    app.on('record_create')(1 / 0)\n")
    with pytest.raises(HooksLoadError, match=r"bad.py: line 2: ZeroDivisionError"):
        hearth.App(tmp_path / "data", hooks_dir=folder)
    write_hooks(folder, bad="x = 1\n")
    with pytest.raises(HooksLoadError, match="define a function setup"):
        hearth.App(tmp_path / "data", hooks_dir=folder)
    write_hooks(folder, bad="def setup(app:\n")
    with pytest.raises(HooksLoadError, match=r"bad.py: line 1: SyntaxError"):
        hearth.App(config=Config(data_dir=tmp_path / "data", hooks_dir=folder))


async def test_reloading_the_folder_replaces_its_hooks_and_routes(tmp_path: Path) -> None:
    folder = write_hooks(
        tmp_path / "hooks",
        v="""
        def setup(app):
            @app.route("GET", "/api/version")
            async def version(e):
                return {"v": 1}
        """,
    )
    app = hearth.App(tmp_path / "data", hooks_dir=folder)
    async for s in serve(app):
        assert (await s.client.get("/api/version")).json() == {"v": 1}
        write_hooks(
            folder,
            v="""
            def setup(app):
                @app.route("GET", "/api/version")
                async def version(e):
                    return {"v": 2}
            """,
        )
        app.reload_hooks_dir()
        assert (await s.client.get("/api/version")).json() == {"v": 2}
        (folder / "v.py").unlink()
        app.reload_hooks_dir()
        assert (await s.client.get("/api/version")).status_code == 404


def test_any_hook_is_reachable_as_on_event(tmp_path: Path) -> None:
    app = hearth.App(tmp_path / "data", hooks_dir=tmp_path / "none")
    for name in app.hooks.catalog():
        decorator: Any = getattr(app, f"on_{name}")
        assert callable(decorator)


async def test_lifecycle_events_in_order(tmp_path: Path) -> None:
    app = hearth.App(tmp_path / "data", hooks_dir=tmp_path / "none")
    seen: list[str] = []

    for name in ("bootstrap", "serve", "terminate"):

        @app.on(name)
        async def record(e: hearth.Lifecycle, name: str = name) -> None:
            assert e.app is app.hearth
            seen.append(name)
            await e.next()

    async for s in serve(app):
        assert seen == ["bootstrap", "serve"]
        # The services are up by bootstrap: a handler may use the records API.
        assert (await s.client.get("/api/health")).status_code == 200
    assert seen == ["bootstrap", "serve", "terminate"]
