"""`hearth serve`'s Config takes the HEARTH_* variables that have no flag (they reach the workers
through Config.to_env, which would otherwise reset them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearth.cli import _config, _parser
from hearth.config import Config


def serve_config(tmp_path: Path, *flags: str) -> Config:
    return _config(_parser().parse_args(["serve", "--dir", str(tmp_path), *flags]))


def test_private_address_switches_and_job_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = serve_config(tmp_path)
    assert not plain.fetch_private and not plain.webhooks_private and plain.jobs == 4 and plain.job_lease == 30
    monkeypatch.setenv("HEARTH_FETCH_PRIVATE", "1")
    monkeypatch.setenv("HEARTH_WEBHOOKS_PRIVATE", "true")
    monkeypatch.setenv("HEARTH_JOBS", "2")
    monkeypatch.setenv("HEARTH_JOB_LEASE", "5")
    c = serve_config(tmp_path)
    assert c.fetch_private and c.webhooks_private and c.jobs == 2 and c.job_lease == 5
    env = c.to_env()
    assert env["HEARTH_FETCH_PRIVATE"] == "1" and env["HEARTH_WEBHOOKS_PRIVATE"] == "1"
    assert serve_config(tmp_path, "--jobs", "0").jobs == 0  # the flag wins
