"""The long fuzz run, on demand.

    python -m tests.fuzz --requests 50000 --seed random              # spawned server, SQLite
    python -m tests.fuzz --db pg --requests 50000                     # spawned, fresh PostgreSQL db
    python -m tests.fuzz --url http://127.0.0.1:8090 --superuser a@b.c:pass   # a running server
    python -m tests.fuzz --url ... --seed 7 --replay 1234             # send one request again

A spawned server is also checked afterwards (health, no traceback in its log). Exit status 1
when anything was found.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
from pathlib import Path

from tests.fuzz.grammar import Generator
from tests.fuzz.harness import replay, run
from tests.fuzz.run import DEFAULT_CONCURRENCY, DEFAULT_SEED, fuzz_spawned
from tests.fuzz.server import fresh_pg_database
from tests.fuzz.world import SUPERUSER, build_world


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="fuzz this running server instead of spawning one")
    p.add_argument("--superuser", default=":".join(SUPERUSER), help="EMAIL:PASSWORD for --url")
    p.add_argument("--db", default="sqlite", help="spawned server: sqlite, pg (a fresh database) or a URL")
    p.add_argument("--requests", type=int, default=50_000)
    p.add_argument("--seed", default=str(DEFAULT_SEED), help="an integer or `random`")
    p.add_argument("--start", type=int, default=0, help="first request index")
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    p.add_argument("--report", help="directory for the JSON summary")
    p.add_argument("--replay", type=int, help="print and send only this request index (needs --url)")
    p.add_argument("--show", type=int, help="print this request index and exit")
    args = p.parse_args(argv)
    seed = random.SystemRandom().randrange(2**31) if args.seed == "random" else int(args.seed)
    print(f"seed {seed}", flush=True)
    if args.show is not None:
        print(Generator(seed).request(args.show).describe(100_000))
        return 0
    if args.url:
        email, _, password = args.superuser.partition(":")
        session = build_world(args.url, (email, password))
        if args.replay is not None:
            print(Generator(seed).request(args.replay).describe(2000))
            status, body = replay(args.url, session, seed, args.replay)
            print(status, body)
            return 0
        report = asyncio.run(
            run(
                args.url,
                session,
                seed,
                args.requests,
                start=args.start,
                concurrency=args.concurrency,
                progress=True,
            )
        )
        print(report.text())
        if args.report:
            Path(args.report).mkdir(parents=True, exist_ok=True)
            (Path(args.report) / f"fuzz-url-{seed}.json").write_text(json.dumps(report.as_json(), indent=2))
        return 1 if report.findings_total else 0
    with tempfile.TemporaryDirectory(prefix="hearth-fuzz-") as tmp:
        if args.db == "sqlite":
            outcome = fuzz_spawned(
                "sqlite",
                Path(tmp),
                "",
                seed,
                args.requests,
                concurrency=args.concurrency,
                report_dir=args.report,
                progress=True,
            )
        elif args.db == "pg":
            with fresh_pg_database() as url:
                outcome = fuzz_spawned(
                    "postgres",
                    Path(tmp),
                    url,
                    seed,
                    args.requests,
                    concurrency=args.concurrency,
                    report_dir=args.report,
                    progress=True,
                )
        else:
            outcome = fuzz_spawned(
                "postgres",
                Path(tmp),
                args.db,
                seed,
                args.requests,
                concurrency=args.concurrency,
                report_dir=args.report,
                progress=True,
            )
    print(outcome.summary())
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    sys.exit(main())
