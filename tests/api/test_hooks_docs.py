"""docs/hooks.md is true: its event table is the catalog, and its worked examples, loaded as a
hooks folder, do what the page says (on SQLite and PostgreSQL, mail through a real SMTP server)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

import hearth
from hearth.hooks.catalog import Hooks
from tests.api.test_user_hooks import Served, serve
from tests.support.mailbox import Mailbox

DOC = Path(__file__).resolve().parents[2] / "docs" / "hooks.md"
OPEN = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}
EDITOR = "editor@example.com"


def test_the_event_table_lists_every_event() -> None:
    text = DOC.read_text()
    table = set(re.findall(r"^\| `(\w+)` \|", text, flags=re.M))
    assert table == set(Hooks().catalog())


def example_files() -> dict[str, str]:
    """The page's code blocks that start with `# hearth_hooks/NAME.py`."""
    blocks = re.findall(r"```python\n(# hearth_hooks/(\S+)\.py\n.*?)```", DOC.read_text(), flags=re.S)
    return {name: code for code, name in blocks}


def test_the_page_has_its_four_examples() -> None:
    assert sorted(example_files()) == ["10_slug", "20_audit", "30_stats", "40_notify"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def docs_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_database: str | None,
    mailbox: Mailbox,
) -> AsyncIterator[Served]:
    base = tmp_path_factory.mktemp("docs-hooks")
    folder = base / "hearth_hooks"
    folder.mkdir()
    for name, code in example_files().items():
        (folder / f"{name}.py").write_text(code)
    db = ""
    if request.param == "postgres":
        assert pg_database is not None
        conn = await asyncpg.connect(pg_database)
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.close()
        db = pg_database
    app = hearth.App(base / "data", db=db)  # hearth_hooks beside the data dir: the default
    async for s in serve(app):
        su = s.su()
        settings = {
            "meta": {"senderAddress": EDITOR, "senderName": "Hearth"},
            "smtp": mailbox.smtp_settings(),
        }
        assert (await s.client.patch("/api/settings", json=settings, headers=su)).status_code == 200
        users = (await s.client.get("/api/collections/users", headers=su)).json()["id"]
        for body in (
            {
                "name": "posts",
                "type": "base",
                **OPEN,
                "fields": [
                    {"name": "title", "type": "text", "required": True},
                    {"name": "slug", "type": "text"},
                    {"name": "author", "type": "relation", "collectionId": users, "maxSelect": 1},
                    {"name": "views", "type": "number"},
                ],
            },
            {
                "name": "audit",
                "type": "base",
                "listRule": None,
                "fields": [{"name": n, "type": "text"} for n in ("action", "target", "record", "by")],
            },
        ):
            r = await s.client.post("/api/collections", json=body, headers=su)
            assert r.status_code == 200, r.text
        mailbox.clear()
        yield s


async def test_the_slug_example(docs_app: Served) -> None:
    c = docs_app.client
    r = await c.post("/api/collections/posts/records", json={"title": "Hello, Hearth World!"})
    assert r.status_code == 200, r.text
    post = r.json()
    assert post["slug"] == "hello-hearth-world"
    r = await c.patch(f"/api/collections/posts/records/{post['id']}", json={"title": "Second Title"})
    assert r.json()["slug"] == "second-title"
    r = await c.patch(f"/api/collections/posts/records/{post['id']}", json={"views": 3})
    assert r.json()["slug"] == "second-title"


async def test_the_audit_example(docs_app: Served) -> None:
    c = docs_app.client
    rid = (await c.post("/api/collections/posts/records", json={"title": "Audited"})).json()["id"]
    await c.patch(f"/api/collections/posts/records/{rid}", json={"views": 1})
    assert (await c.delete(f"/api/collections/posts/records/{rid}")).status_code == 204
    r = await c.get(
        "/api/collections/audit/records",
        params={"filter": f"record = '{rid}'"},
        headers=docs_app.su(),
    )
    assert r.status_code == 200, r.text
    trail = [(i["action"], i["target"]) for i in r.json()["items"]]
    assert sorted(trail) == sorted([("create", "posts"), ("update", "posts"), ("delete", "posts")])
    # Writing the trail is not itself audited.
    r = await c.get(
        "/api/collections/audit/records", params={"filter": "target = 'audit'"}, headers=docs_app.su()
    )
    assert r.json()["totalItems"] == 0


async def test_the_stats_route_example(docs_app: Served) -> None:
    c = docs_app.client
    assert (await c.get("/api/stats/authors")).status_code == 401
    authors = []
    for who in ("ann", "bob"):
        email = f"{who}-stats@example.com"
        r = await c.post(
            "/api/collections/users/records",
            json={"email": email, "password": "pass12345!", "passwordConfirm": "pass12345!"},
            headers=docs_app.su(),
        )
        authors.append(r.json()["id"])
    for author, views in ((authors[0], 5), (authors[0], 7), (authors[1], 1)):
        r = await c.post(
            "/api/collections/posts/records", json={"title": "t", "author": author, "views": views}
        )
        assert r.status_code == 200, r.text
    r = await c.get("/api/stats/authors", headers=docs_app.su())
    assert r.status_code == 200, r.text
    got = {a["author"]: a["views"] for a in r.json()["authors"]}
    assert got[authors[0]] == 12 and got[authors[1]] == 1


async def test_the_notification_example(docs_app: Served, mailbox: Mailbox) -> None:
    r = await docs_app.client.post("/api/collections/posts/records", json={"title": "Mail <me>"})
    assert r.status_code == 200
    msg = await mailbox.wait_for(EDITOR)
    assert msg["Subject"] == "New post: Mail <me>"
    assert "Mail &lt;me&gt; was just published." in Mailbox.html(msg)
