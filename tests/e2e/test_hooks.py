"""Users' hooks in real `hearth serve` processes: the hooks folder in every worker, reload in
--dev, a broken file refused at start, and an after-commit event that survives `kill -9` of the
process that committed it."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import httpx

from tests.conftest import OPEN
from tests.e2e.conftest import (
    ADMIN,
    free_port,
    hearth_cli,
    running_server,
    start_server,
    stop_server,
    superuser_token,
)
from tests.e2e.test_realtime import Stream


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    # A new mtime even within the filesystem's timestamp granularity.
    now = time.time_ns()
    os.utime(path, ns=(now, now + 1_000_000))


ROUTE = """
import os

def setup(app):
    @app.route("GET", "/api/whoami")
    def whoami(e):
        return {"version": VERSION, "pid": os.getpid()}

VERSION = %d
"""


def test_every_worker_serves_the_hooks_folder(tmp_path: Path) -> None:
    hooks = tmp_path / "hearth_hooks"
    write(hooks, "whoami", ROUTE % 1)
    (tmp_path / "data").mkdir()
    with running_server(tmp_path / "data", "", 2) as url:
        pids = set()
        for _ in range(40):
            with httpx.Client() as c:  # a new connection each time: both workers get some
                r = c.get(url + "/api/whoami")
            assert r.status_code == 200, r.text
            assert r.json()["version"] == 1
            pids.add(r.json()["pid"])
        assert len(pids) == 2


def test_dev_mode_reloads_a_changed_file(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    write(hooks, "whoami", ROUTE % 1)
    (tmp_path / "data").mkdir()
    with running_server(tmp_path / "data", "", 1, "--dev", "--hooks-dir", str(hooks)) as url:
        assert httpx.get(url + "/api/whoami").json()["version"] == 1
        write(hooks, "whoami", ROUTE % 2)
        deadline = time.monotonic() + 5
        while httpx.get(url + "/api/whoami").json()["version"] != 2:
            assert time.monotonic() < deadline, "not reloaded within 5 s"
            time.sleep(0.1)
        # A broken edit is logged; the server keeps serving.
        write(hooks, "whoami", "def setup(app:\n")
        time.sleep(1.5)
        assert httpx.get(url + "/api/health").status_code == 200


def test_a_broken_hooks_file_stops_serve_with_one_line(tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    write(hooks, "broken", "def setup(app):\n    raise RuntimeError('no config')\n")
    r = hearth_cli(
        "serve",
        "--dir",
        str(tmp_path / "data"),
        "--hooks-dir",
        str(hooks),
        "--http",
        f"127.0.0.1:{free_port()}",
    )
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "broken.py: line 2: RuntimeError: no config" in lines[0]


KILLER = """
import os, signal

def setup(app):
    @app.on_record_after_create_success("notes")
    def die(e):
        if e.record["title"] == "die":
            os.kill(os.getpid(), signal.SIGKILL)  # right after the commit, before anything else
        e.next()
"""


def _after_commit_survives_kill(tmp_path: Path, db_url: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if not db_url:
        assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(data)).returncode == 0
    else:
        assert hearth_cli("superuser", "upsert", *ADMIN, "--db", db_url).returncode == 0
    killer_hooks = tmp_path / "killer"
    write(killer_hooks, "killer", KILLER)
    with running_server(data, db_url, 1, "--hooks-dir", str(tmp_path / "none")) as b:
        su = {"Authorization": superuser_token(b)}
        name = "notes"
        r = httpx.post(
            b + "/api/collections",
            json={"name": name, "type": "base", **OPEN, "fields": [{"name": "title", "type": "text"}]},
            headers=su,
        )
        assert r.status_code == 200, r.text
        stream = Stream(b)
        try:
            r = httpx.post(
                b + "/api/realtime", json={"clientId": stream.client_id, "subscriptions": [f"{name}/*"]}
            )
            assert r.status_code == 204
            a = start_server(data, db_url, 1, "--hooks-dir", str(killer_hooks))
            try:
                r = httpx.post(a.url + f"/api/collections/{name}/records", json={"title": "kept"})
                assert r.status_code == 200
                assert stream.next()[1]["record"]["title"] == "kept"
                try:
                    httpx.post(a.url + f"/api/collections/{name}/records", json={"title": "die"}, timeout=10)
                    raise AssertionError("the process should have died answering")
                except httpx.HTTPError:
                    pass
                # The worker died by SIGKILL; granian's main process then gives up on it.
                a.proc.wait(timeout=10)
                assert a.proc.returncode != 0
            finally:
                if a.proc.poll() is None:
                    stop_server(a)
            # Committed, and its realtime event (written with the commit) reaches the client.
            event, data_ = stream.next(timeout=5)
            assert (event, data_["action"], data_["record"]["title"]) == (f"{name}/*", "create", "die")
            listed = httpx.get(b + f"/api/collections/{name}/records", params={"filter": "title='die'"})
            assert listed.json()["totalItems"] == 1
        finally:
            stream.close()


def test_an_after_commit_event_survives_kill_9_sqlite(tmp_path: Path) -> None:
    _after_commit_survives_kill(tmp_path, "")


def test_an_after_commit_event_survives_kill_9_postgres(tmp_path: Path, pg_url: str) -> None:
    _after_commit_survives_kill(tmp_path, pg_url)


MESSAGES = """
def setup(app):
    @app.on_realtime_message_send("notes")
    async def tag(e):
        if e.data["record"]["title"] == "secret":
            return  # held back
        e.data["record"]["tag"] = "seen by " + ("guest" if e.auth.record is None else "user")
        await e.next()
"""


def test_realtime_messages_can_be_changed_or_held_back(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(data)).returncode == 0
    write(tmp_path / "hooks", "messages", MESSAGES)
    with running_server(data, "", 1, "--hooks-dir", str(tmp_path / "hooks")) as url:
        su = {"Authorization": superuser_token(url)}
        r = httpx.post(
            url + "/api/collections",
            json={"name": "notes", "type": "base", **OPEN, "fields": [{"name": "title", "type": "text"}]},
            headers=su,
        )
        assert r.status_code == 200, r.text
        stream = Stream(url)
        try:
            r = httpx.post(
                url + "/api/realtime", json={"clientId": stream.client_id, "subscriptions": ["notes/*"]}
            )
            assert r.status_code == 204
            for title in ("secret", "plain"):
                assert (
                    httpx.post(url + "/api/collections/notes/records", json={"title": title}).status_code
                    == 200
                )
            event, got = stream.next()
            assert (event, got["record"]["title"], got["record"]["tag"]) == (
                "notes/*",
                "plain",
                "seen by guest",
            )
            assert stream.none_within(0.5)
        finally:
            stream.close()
