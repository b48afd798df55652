"""The statements PostgreSQL receives for one request of the write workloads of bench/run.py.

    .venv/bin/python bench/statements.py [--admin postgresql://postgres@127.0.0.1:5432/postgres]
        [--log /var/log/postgresql/postgresql-15-main.log] [--requests 3]

Creates a throwaway database with `log_statement = 'all'`, runs Hearth in this process on it (no
job worker, no realtime client: as in the bench), seeds the bench's fixture in small (`bench_users`
and `posts` with the setup.mjs rules, a user and 50 of its posts), signs the user in and sends
`POST create` and `PATCH update` as `bench/run.py` does, each a few times after a warm-up. It then
reads the server's log (it must be readable, and the server must log to it) and prints, per
request, what each statement was: the round trips that request cost PostgreSQL. Background
statements of the process (realtime heartbeat, state reads) are listed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx

from hearth.config import Config
from hearth.http.server import build_app

SU = ("admin@bench.example", "adminpass123")
USER_PASS = "benchpass123"
RULES_USERS = {"listRule": "id = @request.auth.id", "viewRule": "id = @request.auth.id"}
RULES_POSTS = {
    "listRule": "published = true || @request.auth.id = author",
    "viewRule": "published = true || @request.auth.id = author",
    "createRule": "@request.auth.id != ''",
    "updateRule": "@request.auth.id = author",
    "deleteRule": "@request.auth.id = author",
}
MARK = "hearth-statements-mark"
_LINE = re.compile(r"^\S+ \S+ \S+ \[(\d+)\] \S+@(\S+) LOG:  (?:statement|execute [^:]*): (.*)$")


async def run(admin: str, log: Path, requests: int) -> None:
    name = f"hearth_stmt_{secrets.token_hex(4)}"
    base, _, _ = admin.rpartition("/")
    url = f"{base}/{name}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.execute(f"ALTER DATABASE \"{name}\" SET log_statement = 'all'")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            await _requests(Config(data_dir=Path(tmp), db_url=url, jobs=0), url, log, name, requests)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def _requests(config: Config, url: str, log: Path, dbname: str, requests: int) -> None:
    from hearth.admin_cli import upsert_superuser

    app = build_app(config)
    await app.on_startup()
    marker = await asyncpg.connect(url)
    try:
        await upsert_superuser(app.state.hearth, *SU)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            su = (await c.post("/api/collections/_superusers/auth-with-password",
                               json={"identity": SU[0], "password": SU[1]})).json()["token"]  # fmt: skip
            h = {"Authorization": su}
            users = (await c.post("/api/collections", headers=h, json={
                "name": "bench_users", "type": "auth", "fields": [{"name": "name", "type": "text"}],
                **RULES_USERS})).json()  # fmt: skip
            await c.post("/api/collections", headers=h, json={
                "name": "posts", "type": "base", **RULES_POSTS,
                "fields": [{"name": "title", "type": "text", "required": True},
                           {"name": "body", "type": "editor"}, {"name": "views", "type": "number"},
                           {"name": "published", "type": "bool"},
                           {"name": "author", "type": "relation", "collectionId": users["id"], "maxSelect": 1},
                           {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False},
                           {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True}],
                "indexes": ["CREATE INDEX idx_posts_views ON posts (views)"]})  # fmt: skip
            r = await c.post("/api/collections/bench_users/records", headers=h, json={
                "email": "u0@bench.example", "password": USER_PASS, "passwordConfirm": USER_PASS,
                "name": "user 0", "verified": True})  # fmt: skip
            uid = r.json()["id"]
            token = (await c.post("/api/collections/bench_users/auth-with-password",
                                  json={"identity": "u0@bench.example", "password": USER_PASS})).json()["token"]  # fmt: skip
            auth = {"Authorization": token}
            posts = "/api/collections/posts/records"

            def create_body(n: int) -> dict[str, object]:
                return {"title": f"bench post {n}", "body": "<p>bench</p>", "views": n % 1000,
                        "published": True, "author": uid}  # fmt: skip

            own = []
            for n in range(5):  # warm-up: statement caches, prepared statements
                r = await c.post(posts, headers=auth, json=create_body(n))
                assert r.status_code == 200, r.text
                own.append(r.json()["id"])
                r = await c.patch(f"{posts}/{own[-1]}", headers=auth, json={"views": n})
                assert r.status_code == 200, r.text
            await asyncio.sleep(0.3)
            for kind in ("create", "update"):
                for n in range(requests):
                    await marker.execute(f"SELECT '{MARK} {kind} {n}'")
                    if kind == "create":
                        r = await c.post(posts, headers=auth, json=create_body(100 + n))
                    else:
                        r = await c.patch(f"{posts}/{own[n % len(own)]}", headers=auth, json={"views": 7 + n})
                    assert r.status_code == 200, r.text
            await marker.execute(f"SELECT '{MARK} end'")
    finally:
        await marker.close()
        await app.on_shutdown()
    time.sleep(0.5)  # the server writes its log asynchronously
    _report(log, dbname)


def _report(log: Path, dbname: str) -> None:
    current: str | None = None
    per: dict[str, list[str]] = {}
    for line in log.read_text(errors="replace").splitlines():
        m = _LINE.match(line)
        if m is None or m.group(2) != dbname:
            continue
        text = m.group(3)
        if MARK in text:
            current = text.split(MARK, 1)[1].strip(" ';")
            per[current] = []
            continue
        if current is not None and current != "end":
            per[current].append(text)
    for key, statements in per.items():
        if key == "end":
            continue
        print(f"--- {key}: {len(statements)} statements")
        for s in statements:
            print("   ", s[:160])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--log", type=Path, default=Path("/var/log/postgresql/postgresql-15-main.log"))
    ap.add_argument("--requests", type=int, default=3)
    a = ap.parse_args()
    asyncio.run(run(a.admin, a.log, a.requests))


if __name__ == "__main__":
    main()
