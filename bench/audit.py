"""What auditing a collection costs its record writes (docs/operations.md, "Audit trail").

Run by hand (not CI), about 2 minutes with the defaults:

    .venv/bin/python bench/audit.py [--db postgresql://postgres@127.0.0.1:5432/postgres] [--workers 2]

One `hearth serve --jobs 0` on a fresh data dir (or PostgreSQL database), the open collection
and wrk script of bench/webhooks.py (`wrk -t1 -c50`, POSTing records with a new title each),
rounds alternating auditing off and on for that collection through the audit API. A round's
on/off ratio against its neighbour cancels the drift of the machine (disk, other processes); the
median of those ratios is the cost.
"""

from __future__ import annotations

import argparse
import shutil
import statistics

from webhooks import LUA, Server, wrk  # bench/ is the script's folder, first on sys.path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--duration", default="5s")
    ap.add_argument("--conns", type=int, default=50)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk (apt-get install wrk)")
    with Server(args, jobs=0) as (c, su, port, tmp):
        script = tmp / "post.lua"
        script.write_text(LUA)
        wrk(port, script, "3s", args.conns)  # warm-up
        results: dict[str, list[float]] = {"off": [], "on": []}
        for i in range(args.rounds):
            for mode in results:
                body = {"collections": ["whbench"] if mode == "on" else []}
                c.patch("/api/hearth/audit/settings", headers=su, json=body).raise_for_status()
                rps = wrk(port, script, args.duration, args.conns)
                results[mode].append(rps)
                print(f"round {i + 1} {mode:>3}: {rps:8.1f} req/s", flush=True)
        entries = c.get("/api/hearth/audit", headers=su, params={"perPage": 1}).json()["totalItems"]
    off, on = statistics.median(results["off"]), statistics.median(results["on"])
    paired = statistics.median(b / a for a, b in zip(results["off"], results["on"], strict=True))
    print(f"\naudit: off {off:.1f} req/s, on {on:.1f} req/s (medians of {args.rounds}); "
          f"median of the rounds' on/off = {paired:.3f} ({(1 - paired) * 100:+.1f} % slower); "
          f"about {(1 / (off * paired) - 1 / off) * 1e6:.0f} µs more per write at saturation; "
          f"{entries} entries written")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
