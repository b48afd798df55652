"""schemathesis against a live `hearth serve` on SQLite and PostgreSQL, through the description
the server gives: no 5xx, no undocumented status code or content type, and no response body the
description does not allow.

Bounded to stay fast (25 fuzzed cases per operation, seeded); `docs/operations.md` ("OpenAPI")
says what is left out of the run and why. The system collections (`_superusers`, `_mfas`, …,
`users`) are left out for time: their endpoints are built by the same code as `oa_members`'."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ADMIN, hearth_cli, running_server, superuser_token
from tests.support.openapi_fixture import make_collections

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Operations the run leaves out, and why.
EXCLUDED = (
    "realtime.connect",  # an endless event stream: every case would wait for its timeout
    "_superusers.authLogout",  # would end the session of the token the run uses
    "settings.testEmail",  # sends mail through the configured SMTP server
    # A webhook's URL is resolved when it is saved: random hosts wait on DNS without a network.
    "webhooks.create",
    "webhooks.update",
    # Each would take a real backup or restart the server on one: slow, and a restore replaces
    # the data the rest of the run works on. Listing, uploading, downloading and deleting run.
    "backups.create",
    "backups.restore",
    # Runs whatever SQL it is given: fuzzing it tests the engine's parser, and a generated
    # statement could drop what the rest of the run works on.
    "sql.run",
)
# With a metrics token the route answers 401 to the run's auth token (not the metrics token).
METRICS_TOKEN = "schemathesis-metrics-token-not-secret"


def run_schemathesis(url: str, token: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{url}/api/openapi.json",
        "-H", f"Authorization: {token}", "--checks", CHECKS,
        "--phases", "fuzzing", "--max-examples", "25", "--seed", "7", "--no-shrink",
        "--request-timeout", "10", "--exclude-tag-regex", "^(_|users$)", "--generation-database", "none",
        *(arg for op in EXCLUDED for arg in ("--exclude-operation-id", op)),
    ]  # fmt: skip
    # In the test's folder: schemathesis keeps a cache of failures in its working directory.
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=workdir)


def against(data_dir: Path, db_url: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """A server on its own database with the fixture's collections, and schemathesis against it."""
    data_dir.mkdir()  # the server's log goes there (PostgreSQL's too)
    db_args = ["--db", db_url] if db_url else []
    done = hearth_cli("superuser", "upsert", ADMIN[0], ADMIN[1], "--dir", str(data_dir), *db_args)
    assert done.returncode == 0, done.stderr
    with running_server(data_dir, db_url, 1, "--metrics-token", METRICS_TOKEN) as url:
        token = superuser_token(url)
        with httpx.Client(base_url=url) as client:
            make_collections(client, {"Authorization": token})
        started = time.monotonic()
        return run_schemathesis(url, token, data_dir), time.monotonic() - started


def test_schemathesis_finds_nothing_on_either_database(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Both databases at once (two servers, two runs side by side): the run is mostly the
    client's work, so this halves the time of running them one after the other."""
    targets = {"sqlite": ""}
    try:
        targets["postgres"] = request.getfixturevalue("pg_url")
    except pytest.skip.Exception:
        if os.environ.get("HEARTH_REQUIRE_PG") == "1":
            raise
    with ThreadPoolExecutor(len(targets)) as pool:
        futures = {name: pool.submit(against, tmp_path / name, url) for name, url in targets.items()}
        results = {name: future.result() for name, future in futures.items()}
    for name, (result, took) in results.items():
        report = f"{name}:\n" + result.stdout[-20000:] + result.stderr[-5000:]
        assert result.returncode == 0, report
        # It did test: the operations of the fixture's collections and the admin endpoints.
        cases = re.search(r"\b[1-9]\d* generated, [1-9]\d* passed[^\n]*", result.stdout)
        assert cases, report
        ops = re.search(r"Selected: \d+/\d+", result.stdout)
        print(f"schemathesis on {name}: {ops and ops.group(0)} operations, {cases.group(0)} in {took:.1f} s")
        assert took < 120, f"{name}: the run took {took:.0f} s"  # a guard: ~24 s on an idle machine
