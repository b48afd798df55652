"""Durable jobs per second: enqueued, then claimed and completed by `hearth worker` processes.

For SQLite (a temporary data folder) and PostgreSQL (a fresh database on --pg), it enqueues
--jobs no-op jobs (through the library, in one process, each its own transaction as an app's
hook would), then starts --processes `hearth worker` processes (each running --concurrency jobs at
once) and times until every job is done. Prints enqueue and completion rates, median of --runs.

    .venv/bin/python bench/jobs.py --jobs 5000 --processes 2 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import asyncpg

from hearth.app import Hearth
from hearth.config import Config

HOOKS = """
def setup(app):
    @app.job("noop")
    async def noop(e):
        pass
"""


async def enqueue_all(config: Config, n: int) -> float:
    h = Hearth(config)
    await h.start()
    try:
        began = time.perf_counter()
        for i in range(n):
            await h.jobs.enqueue("noop", {"i": i})
        return n / (time.perf_counter() - began)
    finally:
        await h.stop()


async def count_done(config: Config) -> tuple[int, int]:
    h = Hearth(config)
    await h.start()
    try:
        _, done = await h.jobs.list(state="done", per_page=1)
        _, total = await h.jobs.list(per_page=1)
        return done, total
    finally:
        await h.stop()


async def fresh_pg(base: str, name: str) -> str:
    conn = await asyncpg.connect(base)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return base.rsplit("/", 1)[0] + "/" + name


def one_run(db: str, args: argparse.Namespace) -> tuple[float, float]:
    root = Path(tempfile.mkdtemp(prefix="hearth-jobs-bench-"))
    try:
        data = root / "data"
        (root / "hearth_hooks").mkdir(parents=True)
        (root / "hearth_hooks" / "noop.py").write_text(textwrap.dedent(HOOKS))
        config = Config(data_dir=data, db_url=db)
        enqueue_rate = asyncio.run(enqueue_all(config, args.jobs))
        cmd = [sys.executable, "-m", "hearth", "worker", "--dir", str(data), "--jobs", str(args.concurrency)]
        if db:
            cmd += ["--db", db]
        began = time.perf_counter()
        procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT) for _ in range(args.processes)]
        try:
            while True:
                time.sleep(0.2)
                done, total = asyncio.run(count_done(config))
                if done >= total:
                    break
            elapsed = time.perf_counter() - began
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(timeout=30)
        # Process start-up (~0.5 s) is counted: it is small beside thousands of jobs.
        return enqueue_rate, args.jobs / elapsed
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("HEARTH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--only", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"{args.jobs} no-op jobs, {args.processes} `hearth worker` process(es) x {args.concurrency} at once, "
          f"median of {args.runs}; {os.cpu_count()} CPU")  # fmt: skip
    for kind in args.only.split(","):
        results = []
        for i in range(args.runs):
            db = asyncio.run(fresh_pg(args.pg, f"hearth_jobs_bench_{i}")) if kind == "postgres" else ""
            results.append(one_run(db, args))
            print(f"  {kind} run {i + 1}: enqueue {results[-1][0]:.0f}/s, claimed and completed {results[-1][1]:.0f}/s")
        enq = statistics.median(r[0] for r in results)
        done = statistics.median(r[1] for r in results)
        print(f"{kind}: enqueue {enq:.0f} jobs/s (one at a time, one process); claimed and completed {done:.0f} jobs/s")


if __name__ == "__main__":
    main()
