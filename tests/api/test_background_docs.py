"""docs/background.md is true: its worked examples, loaded as a hooks folder, do what the page
says (SQLite and PostgreSQL, mail through a real SMTP server)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest

import hearth
from tests.api.test_user_hooks import Served, serve
from tests.api.test_webhooks import eventually
from tests.support.mailbox import Mailbox
from tests.support.webhook_receiver import Receiver, running_receiver

DOC = Path(__file__).resolve().parents[2] / "docs" / "background.md"
OPEN = {"listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": ""}
EDITOR = "editor@example.com"


def example_files() -> dict[str, str]:
    blocks = re.findall(r"```python\n(# hearth_hooks/(\S+)\.py\n.*?)```", DOC.read_text(), flags=re.S)
    return {name: code for code, name in blocks}


def webhook_example() -> tuple[dict[str, Any], str]:
    """The page's endpoint body and its receiver code."""
    text = DOC.read_text()
    body = re.search(r"```json webhook\n(.*?)```", text, flags=re.S)
    code = re.search(r"```python\n(from standardwebhooks.*?)```", text, flags=re.S)
    assert body is not None and code is not None
    return orjson.loads(body.group(1)), code.group(1)


def test_the_page_has_its_examples() -> None:
    assert sorted(example_files()) == ["10_digest", "20_invoice"]
    webhook_example()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def docs_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_database: str | None,
    mailbox: Mailbox,
) -> AsyncIterator[Served]:  # fmt: skip
    base = tmp_path_factory.mktemp("docs-background")
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
    app = hearth.App(base / "data", db=db)
    async for s in serve(app):
        su = s.su()
        settings = {"meta": {"senderAddress": EDITOR, "senderName": "Hearth"}, "smtp": mailbox.smtp_settings()}
        assert (await s.client.patch("/api/settings", json=settings, headers=su)).status_code == 200
        for body in (
            {"name": "posts", "type": "base", **OPEN, "fields": [
                {"name": "title", "type": "text"}, {"name": "created", "type": "autodate", "onCreate": True}]},
            {"name": "orders", "type": "base", **OPEN, "fields": [
                {"name": "status", "type": "select", "values": ["new", "paid"], "maxSelect": 1},
                {"name": "email", "type": "email"}, {"name": "total", "type": "number"}]},
        ):  # fmt: skip
            r = await s.client.post("/api/collections", json=body, headers=su)
            assert r.status_code == 200, r.text
        mailbox.clear()
        yield s


async def jobs_named(s: Served, name: str) -> list[dict[str, object]]:
    r = await s.client.get("/api/hearth/jobs", params={"name": name}, headers=s.su())
    items: list[dict[str, object]] = r.json()["items"]
    return items


async def test_the_digest_example(docs_app: Served, mailbox: Mailbox) -> None:
    c = docs_app.client
    crons = (await c.get("/api/crons", headers=docs_app.su())).json()
    assert {"id": "digest", "expression": "0 7 * * *"} in crons
    for title in ("First <post>", "Second"):
        assert (await c.post("/api/collections/posts/records", json={"title": title})).status_code == 200
    assert (await c.post("/api/crons/digest", headers=docs_app.su())).status_code == 204
    msg = await mailbox.wait_for(EDITOR)
    assert msg["Subject"] == "2 new post(s)"
    assert "<li>First &lt;post&gt;</li><li>Second</li>" in Mailbox.html(msg)


async def test_the_invoice_example(docs_app: Served, mailbox: Mailbox) -> None:
    c = docs_app.client
    r = await c.post("/api/collections/orders/records", json={"status": "new", "total": 12.5})
    no_email = r.json()["id"]
    r = await c.patch(f"/api/collections/orders/records/{no_email}", json={"status": "paid"})
    assert r.status_code == 400 and "e-mail" in r.json()["message"]
    # The refused update left no job (its transaction rolled back with the job in it).
    assert (await c.get(f"/api/collections/orders/records/{no_email}")).json()["status"] == "new"
    r = await c.post("/api/collections/orders/records", json={"status": "new", "email": "buyer@example.com",
                                                              "total": 99.5})  # fmt: skip
    order = r.json()["id"]
    r = await c.patch(f"/api/collections/orders/records/{order}", json={"status": "paid"})
    assert r.status_code == 200, r.text
    msg = await mailbox.wait_for("buyer@example.com")
    assert msg["Subject"] == f"Invoice for order {order}" and "Total: 99.50" in Mailbox.html(msg)
    # Paid again (another update): the key keeps it to one invoice.
    await c.patch(f"/api/collections/orders/records/{order}", json={"status": "new"})
    await c.patch(f"/api/collections/orders/records/{order}", json={"status": "paid"})
    await asyncio.sleep(0.5)
    jobs = await jobs_named(docs_app, "send_invoice")
    assert [j["payload"] for j in jobs] == [{"order": order}] and jobs[0]["state"] == "done"
    assert len([m for m in mailbox.messages() if "buyer@example.com" in Mailbox.recipients(m)]) == 1


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """The CRM: an HTTP server on loopback that records what it receives."""
    async for r in running_receiver():
        yield r


async def test_the_paid_order_webhook_example(docs_app: Served, receiver: Receiver) -> None:
    c = docs_app.client
    body, receiver_code = webhook_example()
    webhooks = docs_app.app.hearth.webhooks
    saved = webhooks.allow_private
    webhooks.allow_private = True  # the test's CRM listens on loopback
    try:
        r = await c.post("/api/hearth/webhooks", json={**body, "url": receiver.url}, headers=docs_app.su())
        assert r.status_code == 200, r.text
        hook = r.json()
        order = (await c.post("/api/collections/orders/records",
                              json={"status": "new", "total": 42.0, "email": "crm@example.com"})).json()  # fmt: skip
        other = (await c.post("/api/collections/orders/records", json={"status": "new", "total": 7.0})).json()
        await c.patch(f"/api/collections/orders/records/{other['id']}", json={"total": 8.0})  # not paid: not sent
        r = await c.patch(f"/api/collections/orders/records/{order['id']}", json={"status": "paid"})
        assert r.status_code == 200, r.text
        await eventually(lambda: receiver.requests)
        await asyncio.sleep(0.3)
        assert len(receiver.requests) == 1
        printed: list[str] = []
        scope: dict[str, Any] = {"print": lambda *a: printed.append(" ".join(map(str, a)))}
        exec(receiver_code, scope)  # the page's receiver, as written
        sent = receiver.requests[0]
        scope["on_hearth_webhook"](sent.body, sent.headers, hook["secret"])
        assert printed == [f"paid: {order['id']} 42"]
        try:
            scope["on_hearth_webhook"](sent.body.replace(b"42", b"0"), sent.headers, hook["secret"])
            raise AssertionError("a tampered body was accepted")
        except Exception as exc:
            assert "signature" in str(exc).lower(), exc
    finally:
        webhooks.allow_private = saved
        for e in await webhooks.all():
            await webhooks.delete(e.id)
