"""The request fuzzer in CI: a bounded run against a real `hearth serve` on SQLite and PostgreSQL.

HEARTH_FUZZ_REQUESTS (requests per database), HEARTH_FUZZ_SEED (an integer, or `random`) and
HEARTH_FUZZ_REPORT (a directory for JSON summaries) tune it; `python -m tests.fuzz` is the long
run. Every request must get a non-5xx answer in time on a connection that stays up, every 4xx
PocketBase's error envelope; afterwards the server must be healthy with no traceback in its log.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fuzz.run import env_requests, env_seed, fuzz_spawned
from tests.fuzz.server import PG_ADMIN_URL, fresh_pg_database, pg_reachable


def _check(label: str, tmp_path: Path, db_url: str) -> None:
    seed, requests = env_seed(), env_requests()
    outcome = fuzz_spawned(
        label, tmp_path, db_url, seed, requests, report_dir=os.environ.get("HEARTH_FUZZ_REPORT")
    )
    report = outcome.report
    print(report.text())
    assert not outcome.problems, f"{label}: {len(outcome.problems)} problem(s)\n{outcome.summary()}"
    assert report.sent == requests
    # The world held up: signed-in identities kept getting answers a guest cannot.
    assert report.by_who["superuser"][200] if "superuser" in report.by_who else 0 > requests // 100, (
        report.as_json()["byIdentity"]
    )


def test_fuzz_sqlite(tmp_path: Path) -> None:
    _check("sqlite", tmp_path, "")


def test_fuzz_postgres(tmp_path: Path) -> None:
    why = pg_reachable()
    if why is not None:
        if os.environ.get("HEARTH_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {PG_ADMIN_URL}: {why}")
        pytest.skip(f"PostgreSQL not reachable ({why}); set HEARTH_REQUIRE_PG=1 to make this an error")
    with fresh_pg_database() as db_url:
        _check("postgres", tmp_path, db_url)
