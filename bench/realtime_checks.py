#!/usr/bin/env python3
"""In-process cost of realtime visibility checks: the Python evaluator against the SQL snapshot.

One Hearth app (SQLite, or PostgreSQL with --db), a collection `posts` (title, owner → bench_users,
public) with the list rule `owner = @request.auth.id || public = true`, and N subscribers to
`posts/*`, each authenticated as a different user (auth records held in memory, as the hub holds
them). For each of --events records it times, on one core and without HTTP or the client:

- the checks alone: `snapshot_meets` for every subscriber, by SQL (`python=False`) and by the
  Python evaluator;
- the whole delivery: `Hub.record_changed` (check, serialize, queue for N clients), with the
  evaluator off (HEARTH_PYEVAL=0's path) and on.

Usage: .venv/bin/python bench/realtime_checks.py [--subscribers 1000] [--events 20] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from hearth.config import Config
from hearth.http.server import build_app
from hearth.query.context import AuthState, RequestInfo
from hearth.realtime.hub import Client
from hearth.realtime.subscriptions import parse
from hearth.records import reads as reads_module

RULE = "owner = @request.auth.id || public = true"


async def run(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="hearth-checks-"))
    db_url = ""
    if args.db:
        import asyncpg

        name = f"hearth_checks_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(args.db)
        await admin.execute(f'CREATE DATABASE "{name}"')
        db_url = args.db.rsplit("/", 1)[0] + "/" + name
    app = build_app(Config(data_dir=data, db_url=db_url))
    await app.on_startup()
    try:
        h = app.state.hearth

        await h.collection_service.create(
            {"name": "bench_users", "type": "auth", "listRule": "", "viewRule": "", "fields": []}
        )
        users = h.collections.get("bench_users")
        await h.collection_service.create(
            {
                "name": "posts",
                "type": "base",
                "listRule": RULE,
                "viewRule": RULE,
                "fields": [
                    {"name": "title", "type": "text"},
                    {"name": "owner", "type": "relation", "collectionId": users.id, "maxSelect": 1},
                    {"name": "public", "type": "bool"},
                ],
            }
        )
        posts = h.collections.get("posts")
        reads = h.records.reads
        auths = []
        for i in range(args.subscribers):
            record: dict[str, Any] = {
                "id": f"u{i:014d}",
                "email": f"u{i}@example.com",
                "emailVisibility": False,
                "verified": True,
                "tokenKey": "k",
                "password": "",
                "created": "2026-12-06 00:00:00.000Z",
                "updated": "2026-12-06 00:00:00.000Z",
            }
            auths.append(AuthState(collection=users, record=record))
        events = [
            {
                "id": f"p{k:014d}",
                "title": f"post {k}",
                "owner": f"u{k % args.subscribers:014d}",
                "public": k % 2 == 0,
                "created": "2026-12-06 00:00:00.000Z",
                "updated": "2026-12-06 00:00:00.000Z",
            }
            for k in range(args.events)
        ]

        async def checks(python: bool) -> list[tuple[float, float]]:
            out = []
            for values in events:
                t0, w0 = time.process_time(), time.perf_counter()
                for auth in auths:
                    info = RequestInfo(auth=auth, method="GET", context="realtime")
                    await reads.snapshot_meets(posts, values, RULE, info, python=python)
                out.append((time.process_time() - t0, time.perf_counter() - w0))
            return out

        hub = h.realtime
        for i, auth in enumerate(auths):
            client = Client(f"c{i}", auth=auth)
            client.subscriptions["posts/*"] = parse("posts/*")
            hub.clients[client.id] = client

        async def deliveries(python: bool) -> list[tuple[float, float]]:
            reads_module.PYEVAL = python
            out = []
            for values in events:
                t0, w0 = time.process_time(), time.perf_counter()
                await hub.record_changed("create", posts, values)
                out.append((time.process_time() - t0, time.perf_counter() - w0))
                for client in hub.clients.values():  # drained, as a stream would
                    while not client.queue.empty():
                        client.queue.get_nowait()
                    client.queued = 0
            return out

        await checks(True)  # warm the caches
        await checks(False)
        dialect = "PostgreSQL" if db_url else "SQLite"
        n = args.subscribers
        for label, fn in (("checks", checks), ("record_changed", deliveries)):
            sql = await fn(False)
            py = await fn(True)
            for i, what in ((0, "CPU"), (1, "wall")):
                ms_sql = statistics.median(x[i] for x in sql) * 1000
                ms_py = statistics.median(x[i] for x in py) * 1000
                print(
                    f"{dialect} · {n} distinct-auth subscribers · {label} per event ({what} ms of this "
                    f"process, median of {len(events)}): SQL {ms_sql:.1f} ({ms_sql * 1000 / n:.0f} µs each), "
                    f"Python {ms_py:.1f} ({ms_py * 1000 / n:.0f} µs each), {ms_sql / ms_py:.1f}×"
                )
        hub.clients.clear()
    finally:
        await app.on_shutdown()
        if db_url:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--db", default="", help="PostgreSQL server URL (a fresh database is made and dropped)")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
