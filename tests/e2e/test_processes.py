"""Several processes, one database: every process sees a schema change on its very next request.

Runs real `hearth serve` processes (granian workers, separate instances) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from hearth.db.postgres import STATE_MAX_STALE
from tests.conftest import OPEN
from tests.e2e.conftest import ADMIN, hearth_cli, running_server, superuser_token


def _soon(request: Callable[[], httpx.Response], status: int, within: float) -> None:
    """`request()` answers `status` now, or (within > 0) does within `within` seconds."""
    deadline = time.monotonic() + within
    while (r := request()).status_code != status:
        assert time.monotonic() < deadline, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
        time.sleep(0.01)


def _exercise_schema_changes(writer: str, readers: list[str], within: float = 0.0) -> None:
    """`within`: how soon a reader must see a change (0: on its very next request, as on SQLite;
    PostgreSQL instances hear of it by NOTIFY, a moment after the commit)."""
    # No keep-alive: every request opens a new connection, which the kernel may hand to any worker.
    http = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))
    su = {"Authorization": superuser_token(writer)}
    for i in range(12):
        name = f"c{i}_{secrets.token_hex(3)}"
        fields = [{"name": "t", "type": "text"}]
        r = http.post(
            writer + "/api/collections",
            json={"name": name, "type": "base", **OPEN, "fields": fields},
            headers=su,
        )
        assert r.status_code == 200, r.text
        cid = r.json()["id"]
        for url in readers:
            _soon(partial(http.post, f"{url}/api/collections/{name}/records", json={"t": "x"}), 200, within)
        # A rule and field change is seen at once too: null list rule = superusers only.
        fields.append({"name": "n", "type": "number"})
        r = http.patch(
            writer + f"/api/collections/{cid}", json={"listRule": None, "fields": fields}, headers=su
        )
        assert r.status_code == 200, r.text
        for url in readers:
            _soon(partial(http.get, f"{url}/api/collections/{name}/records"), 403, within)
            # The 403 came from one worker; on PostgreSQL another may hear of the change a
            # moment later (its create then answers without `n`), on SQLite none may.
            deadline = time.monotonic() + within
            while "n" not in (r := http.post(f"{url}/api/collections/{name}/records", json={"t": "y", "n": 3})).json():
                assert r.status_code == 200 and time.monotonic() < deadline, r.text
                time.sleep(0.01)
            assert r.status_code == 200 and r.json()["n"] == 3, r.text
        assert http.delete(writer + f"/api/collections/{cid}", headers=su).status_code == 204
        for url in readers:
            _soon(partial(http.get, f"{url}/api/collections/{name}/records"), 404, within)
    http.close()


def _exercise_logout(a: str, b: str) -> None:
    """A session logged out on one process is dead on every other one at once."""
    http = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))
    email, pw = f"u{secrets.token_hex(3)}@example.com", "Secret-pass-123"
    r = http.post(
        a + "/api/collections/users/records", json={"email": email, "password": pw, "passwordConfirm": pw}
    )
    assert r.status_code == 200, r.text
    for _ in range(3):
        token = http.post(
            a + "/api/collections/users/auth-with-password", json={"identity": email, "password": pw}
        ).json()["token"]
        auth = {"Authorization": token}
        for url in (a, b):
            assert http.post(url + "/api/collections/users/auth-refresh", headers=auth).status_code == 200
        assert http.post(b + "/api/collections/users/auth-logout", headers=auth).status_code == 204
        for url in (a, b, a, b):
            assert http.post(url + "/api/collections/users/auth-refresh", headers=auth).status_code == 401
    http.close()


def test_sqlite_workers_and_instances_stay_coherent(tmp_path: Path) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path, workers=2) as a, running_server(tmp_path) as b:
        _exercise_schema_changes(a, [a, b])
        _exercise_schema_changes(b, [a, b])
        _exercise_logout(a, b)


def test_postgres_instances_stay_coherent(tmp_path: Path, pg_url: str) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--db", pg_url, "--dir", str(tmp_path)).returncode == 0
    with (
        running_server(tmp_path, db_url=pg_url, workers=2) as a,
        running_server(tmp_path, db_url=pg_url) as b,
    ):
        _exercise_schema_changes(a, [a, b], within=STATE_MAX_STALE + 0.5)
        _exercise_schema_changes(b, [b, a], within=STATE_MAX_STALE + 0.5)
        _exercise_logout(a, b)


def test_restart_keeps_data_and_superuser_cli(tmp_path: Path) -> None:
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path) as url:
        su = {"Authorization": superuser_token(url)}
        r = httpx.post(
            url + "/api/collections",
            json={"name": "keep", "type": "base", **OPEN, "fields": [{"name": "t", "type": "text"}]},
            headers=su,
        )
        assert r.status_code == 200
        rid = httpx.post(url + "/api/collections/keep/records", json={"t": "survives"}).json()["id"]
    with running_server(tmp_path) as url:
        assert httpx.get(url + f"/api/collections/keep/records/{rid}").json()["t"] == "survives"
    # Changing the password through the CLI, then deleting the superuser.
    assert hearth_cli("superuser", "upsert", ADMIN[0], "otherpass123", "--dir", str(tmp_path)).returncode == 0
    with running_server(tmp_path) as url:
        r = httpx.post(
            url + "/api/collections/_superusers/auth-with-password",
            json={"identity": ADMIN[0], "password": "otherpass123"},
        )
        assert r.status_code == 200
    result = hearth_cli("superuser", "delete", ADMIN[0], "--dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    result = hearth_cli("superuser", "delete", ADMIN[0], "--dir", str(tmp_path))
    assert result.returncode != 0
