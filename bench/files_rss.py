"""Server memory while a large file goes up and comes back down (issue 11: streaming both ways).

Starts `hearth serve` (SQLite, one worker) in a temporary folder, creates a collection whose file
field takes the file, uploads it as multipart (httpx streams it from disk), downloads it through
`/api/files/...`, and samples the RSS of the server's whole process group every 50 ms during
each phase. Prints the baseline, the peak of each phase, and the throughput.

    .venv/bin/python bench/files_rss.py --size-mb 1024
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import SU_EMAIL, SU_PASS, VENV_BIN, start_server, stop_server  # noqa: E402


def group_rss(pgid: int) -> int:
    """Bytes resident in every process of the group."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[2]) != pgid:  # field 5: pgrp
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            continue
    return total


class Sampler:
    def __init__(self, pgid: int) -> None:
        self.pgid, self.peak, self.stop = pgid, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, group_rss(self.pgid))
            time.sleep(0.05)

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--port", type=int, default=8097)
    args = ap.parse_args()
    size = args.size_mb << 20
    mib = 1 << 20
    with tempfile.TemporaryDirectory(prefix="hearth-rss-") as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        src = tmp / "big.bin"
        with src.open("wb") as f:  # real bytes (not a sparse file), a repeating 1 MiB pattern
            block = hashlib.sha256(b"hearth").digest() * (mib // 32)
            for _ in range(args.size_mb):
                f.write(block)
        hearth = str(VENV_BIN / "hearth")
        setup = [hearth, "superuser", "upsert", SU_EMAIL, SU_PASS, "--dir", str(data)]
        serve = [hearth, "serve", "--http", f"127.0.0.1:{args.port}", "--dir", str(data), "--workers", "1"]
        proc = start_server(serve, tmp / "hearth.log", args.port, setup)
        try:
            base = f"http://127.0.0.1:{args.port}"
            with httpx.Client(base_url=base, timeout=600) as client:
                token = client.post(
                    "/api/collections/_superusers/auth-with-password",
                    json={"identity": SU_EMAIL, "password": SU_PASS},
                ).json()["token"]
                su = {"Authorization": token}
                r = client.post(
                    "/api/collections",
                    headers=su,
                    json={"name": "big", "type": "base", "createRule": "", "viewRule": "",
                          "fields": [{"name": "doc", "type": "file", "maxSelect": 1, "maxSize": size + mib}]},
                )  # fmt: skip
                r.raise_for_status()
                time.sleep(1)
                baseline = group_rss(proc.pid)
                with Sampler(proc.pid) as up, src.open("rb") as f:
                    t0 = time.monotonic()
                    r = client.post("/api/collections/big/records", files={"doc": ("big.bin", f)})
                    up_s = time.monotonic() - t0
                r.raise_for_status()
                record = r.json()
                print(f"file: {args.size_mb} MiB; server RSS (all processes): baseline {baseline / mib:.0f} MiB")
                print(f"upload:   peak {up.peak / mib:.0f} MiB, {args.size_mb / up_s:.0f} MiB/s ({up_s:.1f} s)")
                with Sampler(proc.pid) as down:
                    t0 = time.monotonic()
                    got = 0
                    with client.stream("GET", f"/api/files/big/{record['id']}/{record['doc']}") as res:
                        res.raise_for_status()
                        for chunk in res.iter_bytes(mib):
                            got += len(chunk)
                    down_s = time.monotonic() - t0
                if got != size:
                    print(f"downloaded {got} bytes, expected {size}", file=sys.stderr)
                    return 1
        finally:
            stop_server(proc)
        print(f"download: peak {down.peak / mib:.0f} MiB, {args.size_mb / down_s:.0f} MiB/s ({down_s:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
