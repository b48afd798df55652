"""One fuzz run against a spawned server: settings from the environment, checks, a report."""

from __future__ import annotations

import asyncio
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.fuzz.harness import Report, run
from tests.fuzz.server import fuzz_server
from tests.fuzz.world import build_world

DEFAULT_SEED = 20240905
DEFAULT_REQUESTS = 8000  # per database; both together stay within ~60 s in CI (docs/fuzzing.md)
DEFAULT_CONCURRENCY = 4


def env_seed() -> int:
    raw = os.environ.get("HEARTH_FUZZ_SEED", "")
    if raw == "random":
        seed = random.SystemRandom().randrange(2**31)
        print(f"HEARTH_FUZZ_SEED=random picked {seed}", flush=True)
        return seed
    return int(raw) if raw else DEFAULT_SEED


def env_requests() -> int:
    return int(os.environ.get("HEARTH_FUZZ_REQUESTS", "") or DEFAULT_REQUESTS)


@dataclass
class Outcome:
    report: Report
    problems: list[str]  # the run's findings plus what the server showed after it

    def summary(self) -> str:
        return "\n".join([self.report.text(), *self.problems[len(self.report.findings[:20]) :]])


def fuzz_spawned(
    label: str,
    data_dir: Path,
    db_url: str,
    seed: int,
    requests: int,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    report_dir: str | None = None,
    progress: bool = False,
) -> Outcome:
    """Spawn `hearth serve`, build the world, send the requests, check the server afterwards."""
    with fuzz_server(data_dir, db_url) as server:
        session = build_world(server.url)
        report = asyncio.run(
            run(server.url, session, seed, requests, concurrency=concurrency, progress=progress)
        )
        problems = [f.summary() for f in report.findings] + session.lost[:5]
        try:
            health = httpx.get(server.url + "/api/health", timeout=10).status_code
        except httpx.HTTPError as exc:
            health = f"{type(exc).__name__}: {exc}"  # type: ignore[assignment]
        if health != 200:
            problems.append(f"after the run /api/health answered {health}")
        if server.proc.poll() is not None:
            problems.append(f"the server exited with {server.proc.returncode}")
        log = server.log()
    if "Traceback" in log:
        at = log.index("Traceback")
        problems.append("the server log has a traceback:\n" + log[max(0, at - 500) : at + 3000])
    if report_dir:
        out = Path(report_dir)
        out.mkdir(parents=True, exist_ok=True)
        data = report.as_json() | {"database": label, "serverProblems": problems[len(report.findings) :]}
        (out / f"fuzz-{label}-{seed}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return Outcome(report, problems)
