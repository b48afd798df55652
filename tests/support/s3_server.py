"""A real S3-protocol server for tests: moto's server mode as a subprocess on loopback.

    def test_x(moto_endpoint: str) -> None:        # one server per test session
        bucket = make_bucket(moto_endpoint)         # a fresh bucket per test

`MotoServer` starts (and stops) a server of its own, for tests that take it away. moto accepts
any credentials and unsigned requests.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    return free_port()


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MotoServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(self.url + "/moto-api/", timeout=1)
                return self
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def make_bucket(endpoint: str) -> str:
    bucket = "hearth-" + uuid.uuid4().hex[:12]
    r = httpx.put(f"{endpoint}/{bucket}")  # moto accepts unsigned requests
    assert r.status_code == 200, r.text
    return bucket


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server = MotoServer().start()
    try:
        yield server.url
    finally:
        server.stop()
