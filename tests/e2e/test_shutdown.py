"""Stopping `hearth serve` (real processes): SIGTERM/SIGINT end realtime streams at once, let
requests in flight finish, and the whole process tree is gone within --shutdown-timeout, also when
a connection is stuck. Acknowledged writes survive the restart."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import OPEN
from tests.e2e.conftest import ADMIN, Server, hearth_cli, running_server, start_server, superuser_token

MARGIN = 1.5  # seconds on top of the shutdown timeout: process exit, a loaded CI machine


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (granian's worker processes)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_tree_gone(server: Server, workers: list[int], limit: float) -> float:
    """Seconds until the main process and its workers are all gone (fails after `limit`)."""
    start = time.monotonic()
    try:
        server.proc.wait(timeout=limit)
    except Exception:
        server.proc.kill()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        pytest.fail(f"hearth serve still running {limit:.1f} s after the signal:\n{server.log()}")
    while any(_alive(pid) for pid in workers):
        if time.monotonic() - start > limit:
            pytest.fail(f"workers {workers} outlived the bound:\n{server.log()}")
        time.sleep(0.02)
    return time.monotonic() - start


@dataclass
class Sse:
    """A subscribed realtime stream read in a thread; records how it ended."""

    url: str
    client_id: str = ""
    ended_at: float | None = None
    clean: bool = False  # the server ended the response (not a reset, not our own close)
    events: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._response = self._client.send(
            self._client.build_request("GET", self.url + "/api/realtime"), stream=True
        )
        self._lines = self._response.iter_lines()
        for line in self._lines:
            if line.startswith("data:"):
                self.client_id = json.loads(line[5:])["clientId"]
                break
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for line in self._lines:
                if line.startswith("event:"):
                    self.events.append(line[6:])
            self.clean = True
        except httpx.HTTPError:
            pass
        self.ended_at = time.monotonic()

    def close(self) -> None:
        self._response.close()
        self._client.close()


@dataclass
class Trickle:
    """One HTTP/1.1 request whose body is sent a byte at a time over `seconds`, on a raw socket."""

    port: int
    method: str
    path: str
    body: bytes
    seconds: float
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    response: bytes = b""
    error: str = ""
    finished_at: float | None = None

    def start(self) -> Trickle:
        self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        head = f"{self.method} {self.path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        head += f"Content-Length: {len(self.body)}\r\n\r\n"
        self._sock.sendall(head.encode())
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            pause = self.seconds / max(1, len(self.body))
            for i in range(len(self.body)):
                time.sleep(pause)
                self._sock.sendall(self.body[i : i + 1])
        except OSError as exc:
            self.error = f"send: {exc}"
        try:
            while chunk := self._sock.recv(65536):
                self.response += chunk
                head, _, rest = self.response.partition(b"\r\n\r\n")
                length = [
                    int(h.split(b":")[1])
                    for h in head.split(b"\r\n")
                    if h.lower().startswith(b"content-length")
                ]
                if length and len(rest) >= length[0]:
                    break
        except OSError as exc:
            self.error += f" recv: {exc}"
        if self.response.startswith(b"HTTP/1.1 "):
            self.status = int(self.response[9:12])
        self.finished_at = time.monotonic()
        self._sock.close()

    def json(self) -> dict[str, object]:
        return json.loads(self.response.partition(b"\r\n\r\n")[2])  # type: ignore[no-any-return]

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def _notes(url: str) -> str:
    name = f"notes_{secrets.token_hex(3)}"
    r = httpx.post(
        url + "/api/collections",
        json={"name": name, "type": "base", **OPEN, "fields": [{"name": "title", "type": "text"}]},
        headers={"Authorization": superuser_token(url)},
    )
    assert r.status_code == 200, r.text
    return name


def _subscribed_streams(url: str, name: str, count: int) -> list[Sse]:
    # One connection per stream: the kernel spreads them over the workers.
    streams = [Sse(url) for _ in range(count)]
    for s in streams:
        r = httpx.post(url + "/api/realtime", json={"clientId": s.client_id, "subscriptions": [f"{name}/*"]})
        assert r.status_code == 204, r.text
    # Subscribed for real: every stream hears of a create.
    r = httpx.post(f"{url}/api/collections/{name}/records", json={"title": "before"})
    assert r.status_code == 200
    deadline = time.monotonic() + 5
    while not all(f"{name}/*" in s.events for s in streams) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert all(f"{name}/*" in s.events for s in streams)
    return streams


def _graceful_stop(tmp_path: Path, db_url: str, workers: int, sig: int, whole_group: bool) -> None:
    timeout = 6.0
    flags = ["--dir", str(tmp_path)] + (["--db", db_url] if db_url else [])
    assert hearth_cli("superuser", "upsert", *ADMIN, *flags).returncode == 0
    server = start_server(
        tmp_path, db_url, workers, "--shutdown-timeout", str(timeout), new_session=whole_group
    )
    streams: list[Sse] = []
    try:
        name = _notes(server.url)
        streams = _subscribed_streams(server.url, name, 4)
        workers_pids = _children(server.proc.pid)
        assert len(workers_pids) == workers
        # Creates whose bodies arrive over ~2.5 s: in flight when the signal comes.
        slow = [
            Trickle(
                server.port,
                "POST",
                f"/api/collections/{name}/records",
                json.dumps({"title": f"slow {i} " + "x" * 40}).encode(),
                2.5,
            ).start()
            for i in range(3)
        ]
        time.sleep(0.3)  # the headers are in: the requests are being handled
        signalled = time.monotonic()
        if whole_group:
            os.killpg(server.proc.pid, sig)
        else:
            server.proc.send_signal(sig)
        took = _wait_tree_gone(server, workers_pids, timeout + MARGIN)
        log = server.log()
        assert "Traceback" not in log, log
        assert server.proc.returncode == 0, log
        # The streams were ended by the server at once, not when everything else was done.
        for s in streams:
            assert s.ended_at is not None and s.clean, log
            assert s.ended_at - signalled < 1.0, (s.ended_at - signalled, log)
        # The slow creates were let finish and acknowledged.
        ids = []
        for t in slow:
            t.join(5)
            assert t.status == 200, (t.status, t.error, t.response, log)
            ids.append(t.json()["id"])
        assert took >= 2.0, "the stop waited for the requests in flight"
        # ... and no longer: it ended by itself long before the timeout, its cleanup complete.
        assert took < timeout - 1.5, (took, log)
        assert "cut short" not in log and "cancelling" not in log and "exiting now" not in log, log
    finally:
        for s in streams:
            s.close()
        if server.proc.poll() is None:
            server.proc.kill()
    # Acknowledged writes are in the database after a restart, and the realtime clients are gone.
    with running_server(tmp_path, db_url) as url:
        for rid in ids:
            r = httpx.get(f"{url}/api/collections/{name}/records/{rid}")
            assert r.status_code == 200 and r.json()["title"].startswith("slow"), r.text
        r = httpx.get(f"{url}/api/collections/{name}/records", params={"filter": "title ~ 'slow'"})
        assert r.json()["totalItems"] == 3


# SIGTERM to the main process (docker stop, kill), SIGINT to the whole process group (Ctrl-C in a
# terminal; systemd's stop also signals every process of the unit at once).
STOPS = [
    pytest.param(signal.SIGTERM, False, id="SIGTERM"),
    pytest.param(signal.SIGINT, True, id="SIGINT-group"),
]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("sig", "whole_group"), STOPS)
def test_stop_sqlite(tmp_path: Path, workers: int, sig: int, whole_group: bool) -> None:
    _graceful_stop(tmp_path, "", workers, sig, whole_group)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize(("sig", "whole_group"), STOPS)
def test_stop_postgres(tmp_path: Path, pg_url: str, workers: int, sig: int, whole_group: bool) -> None:
    _graceful_stop(tmp_path, pg_url, workers, sig, whole_group)


@pytest.mark.parametrize("workers", [1, 2])
def test_stuck_connections_do_not_outlive_the_timeout(tmp_path: Path, workers: int) -> None:
    """A request whose body never completes and a connection that never completes its headers:
    the stop still ends within --shutdown-timeout, the request gets a 503, cleanup still runs."""
    timeout = 2.0
    assert hearth_cli("superuser", "upsert", *ADMIN, "--dir", str(tmp_path)).returncode == 0
    server = start_server(tmp_path, "", workers, "--shutdown-timeout", str(timeout))
    streams: list[Sse] = []
    half: list[socket.socket] = []
    try:
        name = _notes(server.url)
        streams = _subscribed_streams(server.url, name, 2)
        workers_pids = _children(server.proc.pid)
        stuck = [
            Trickle(
                server.port, "POST", f"/api/collections/{name}/records", b'{"title": "never"}' * 4, 60
            ).start()
            for _ in range(2)
        ]
        for _ in range(2):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: test\r\n")  # no blank line: never complete
            half.append(sock)
        time.sleep(0.3)
        signalled = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        took = _wait_tree_gone(server, workers_pids, timeout + MARGIN)
        assert took <= timeout + MARGIN
        for s in streams:
            assert s.ended_at is not None and s.clean and s.ended_at - signalled < 1.0
        for t in stuck:
            t.join(5)
            # Cancelled when the timeout ran out: a 503, or at worst a closed connection.
            assert t.status in (503, None), (t.status, t.response)
            assert t.finished_at is not None and t.finished_at - signalled <= timeout + MARGIN
        assert any(t.status == 503 for t in stuck), [t.response for t in stuck]
        assert "Traceback" not in server.log(), server.log()
    finally:
        for s in streams:
            s.close()
        for sock in half:
            sock.close()
        if server.proc.poll() is None:
            server.proc.kill()
    # Cleanup ran in every worker although the server never finished those connections.
    assert server.log().count("stopped: database closed") == workers, server.log()
    if workers == 1:
        # SQLite removes its write-ahead log when the last connection closes. (Two workers closing
        # at the same moment may each see the other still open and both leave it: harmless.)
        assert not (tmp_path / "data.db-wal").exists()
