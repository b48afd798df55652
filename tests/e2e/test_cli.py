"""The `hearth` command as a new user meets it (real `python -m hearth` processes): every mistake
ends with one line on stderr that names the problem, no traceback, and a non-zero exit status."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hearth import __version__
from tests.conftest import PG_ADMIN_URL
from tests.e2e.conftest import ADMIN, free_port, start_server, stop_server, wait_healthy

REPO = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    return {**env, **extra}


def hearth(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hearth", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=_env(**env),
    )


def fails(*args: str, code: int | None = None, cwd: Path | None = None, **env: str) -> str:
    """Run a command that must fail; its one line of stderr."""
    r = hearth(*args, cwd=cwd, **env)
    assert r.returncode != 0, (r.stdout, r.stderr)
    if code is not None:
        assert r.returncode == code, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def serve_fails(*args: str, code: int | None = None, cwd: Path | None = None, **env: str) -> str:
    # A free port, so that a mistake not caught would start a server (and time out) rather than
    # pass as a port error.
    return fails("serve", "--http", f"127.0.0.1:{free_port()}", *args, code=code, cwd=cwd, **env)


def _pg(dbname: str, user: str = "") -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    if user:
        scheme, _, rest = base.partition("://")
        base = f"{scheme}://{user}@{rest.split('@')[-1]}"
    return f"{base}/{dbname}"


@pytest.fixture
def pg_up(pg_database: str | None) -> None:
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable")


# ----- flags and values -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--http", "abc"], ["--http 'abc' is not HOST:PORT"]),
        (["--http", ":99999"], ["invalid port '99999'"]),
        (["--http", "host:"], ["'host:' has no port"]),
        (["--http", "::1:8090"], ["IPv6 address in brackets"]),
        (["--http", "no-such-host.invalid:8090"], ["unknown host 'no-such-host.invalid'"]),
        (["--workers", "0"], ["--workers '0' is out of range"]),
        (["--workers", "-1"], ["--workers '-1'"]),
        (["--workers", "x"], ["--workers 'x' is not a whole number"]),
        (["--workers", "100000"], ["--workers '100000' is out of range"]),
        (["--max-body-size", "x"], ["--max-body-size 'x' is not a size in bytes"]),
        (["--max-body-size", "0"], ["--max-body-size '0' is out of range"]),
        (["--max-body-size", "-5"], ["--max-body-size '-5'"]),
        (["--http-buffer-size", "4096"], ["--http-buffer-size '4096' is out of range: give 8192"]),
        (["--http-buffer-size", "8k"], ["--http-buffer-size '8k' is not a size in bytes"]),
        (["--shutdown-timeout", "0"], ["--shutdown-timeout '0' is out of range"]),
        (["--shutdown-timeout", "soon"], ["--shutdown-timeout 'soon' is not a number of seconds"]),
        (["--shutdown-timeout", "nan"], ["--shutdown-timeout 'nan' is out of range"]),
        (["--db", "mysql://root:hunter2@db/app"], ["mysql:// databases are not supported", "postgresql://"]),
        (["--db", "sqlite:///data.db"], ["sqlite:// databases are not supported"]),
        (["--db", "not a url"], ["'not a url' is not a database URL", "postgresql://"]),
        (["--db", "postgresql://db:port/app"], ["is not a valid URL"]),
        (["--metrics-token", "hunter2"], ["--metrics-token must be at least 16 characters"]),
        (["--bogus"], ["unrecognized arguments: --bogus"]),
    ],
)
def test_bad_serve_flags(args: list[str], expected: list[str], tmp_path: Path) -> None:
    line = serve_fails(*args, "--dir", str(tmp_path), code=2)
    for text in expected:
        assert text in line, line
    assert "hunter2" not in line, "passwords are never echoed"
    assert not (tmp_path / "data.db").exists(), "nothing was started"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["superuser"], "the following arguments are required: ACTION"),
        (["superuser", "upsert", "a@example.com"], "the following arguments are required: password"),
        (["superuser", "delete"], "the following arguments are required: email"),
        (
            ["superuser", "upsert", "a@example.com", "pass12345", "--db", "redis://x"],
            "redis:// databases are not",
        ),
    ],
)
def test_usage_mistakes(args: list[str], expected: str) -> None:
    assert expected in fails(*args, code=2)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HEARTH_MAX_BODY_SIZE": "abc"}, "HEARTH_MAX_BODY_SIZE 'abc' is not a size in bytes"),
        ({"HEARTH_SHUTDOWN_TIMEOUT": "-3"}, "HEARTH_SHUTDOWN_TIMEOUT '-3' is out of range"),
        ({"HEARTH_DB": "mysql://x/y"}, "HEARTH_DB: mysql:// databases are not supported"),
        ({"HEARTH_PG_POOL_SIZE": "0"}, "HEARTH_PG_POOL_SIZE '0' is out of range"),
        # Two used to wait forever at the start (a migration's lock held on one connection while
        # it worked on another, beside the one that listens for changes), then blame the server.
        ({"HEARTH_PG_POOL_SIZE": "2"}, "HEARTH_PG_POOL_SIZE '2' is out of range: give a whole number from 3"),
        ({"HEARTH_REDIS_URL": "localhost:6379"}, "HEARTH_REDIS_URL 'localhost:6379'"),
        ({"HEARTH_METRICS_TOKEN": "a b c d e f g h i"}, "HEARTH_METRICS_TOKEN must be at least 16 characters"),
    ],
)
def test_bad_environment_values(env: dict[str, str], expected: str, tmp_path: Path) -> None:
    assert expected in serve_fails("--dir", str(tmp_path), **env)
    assert expected in fails("superuser", "delete", ADMIN[0], "--dir", str(tmp_path), **env)


def test_version() -> None:
    r = hearth("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"hearth {__version__}"


# ----- the data directory ---------------------------------------------------------------------
def test_dir_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    assert "is a file, not a directory" in serve_fails("--dir", str(tmp_path / "afile"))
    line = fails("superuser", "upsert", *ADMIN, "--dir", str(tmp_path / "afile"))
    assert "is a file, not a directory" in line
    # Relative to the working directory, like any path on a command line.
    line = serve_fails("--dir", "afile", cwd=tmp_path)
    assert f"{tmp_path / 'afile'} is a file" in line
    # And through HEARTH_DIR, which the message names.
    assert "HEARTH_DIR" in serve_fails(HEARTH_DIR=str(tmp_path / "afile"))


def test_dir_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    line = serve_fails("--dir", str(tmp_path / "afile" / "data"))
    assert "cannot create the data directory" in line and "not a directory" in line
    if Path("/proc/self").is_dir():
        line = serve_fails("--dir", "/proc/hearth-no-such/data")
        assert "cannot create the data directory /proc/hearth-no-such/data" in line


def test_dir_not_writable(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes through permission bits; sysfs refuses new files to anyone.
        target = Path("/sys/kernel")
        if not target.is_dir():
            pytest.skip("no read-only directory available to root")
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o555)
    line = serve_fails("--dir", str(target))
    assert f"the data directory {target} (--dir) is not writable" in line


def test_sqlite_file_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "data.db").write_bytes(os.urandom(4096))
    line = serve_fails("--dir", str(tmp_path))
    assert f"cannot use the SQLite database {tmp_path / 'data.db'}: file is not a database" in line
    assert "file is not a database" in fails("superuser", "upsert", *ADMIN, "--dir", str(tmp_path))


# ----- PostgreSQL -----------------------------------------------------------------------------
def test_postgres_not_running(tmp_path: Path) -> None:
    url = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/postgres"
    for line in (
        serve_fails("--db", url, "--dir", str(tmp_path)),
        fails("superuser", "upsert", *ADMIN, "--db", url, "--dir", str(tmp_path)),
    ):
        assert "cannot connect to PostgreSQL" in line and "connection refused (is it running?)" in line
        assert "s3cret" not in line


def test_postgres_unknown_host(tmp_path: Path) -> None:
    line = serve_fails("--db", "postgresql://postgres@no-such-host.invalid/postgres", "--dir", str(tmp_path))
    assert "unknown host 'no-such-host.invalid'" in line


def test_postgres_missing_database(tmp_path: Path, pg_up: None) -> None:
    line = serve_fails("--db", _pg("hearth_no_such_db"), "--dir", str(tmp_path))
    assert "has no database 'hearth_no_such_db'" in line and "createdb hearth_no_such_db" in line


def test_postgres_unknown_user(tmp_path: Path, pg_up: None) -> None:
    line = serve_fails("--db", _pg("postgres", user="hearth_no_such_role"), "--dir", str(tmp_path))
    assert "refused user 'hearth_no_such_role'" in line and "fix --db" in line
    line = fails("superuser", "delete", ADMIN[0], "--db", _pg("postgres", user="hearth_no_such_role"))
    assert "refused user 'hearth_no_such_role'" in line


# ----- superusers -----------------------------------------------------------------------------
def test_superuser_validation_errors(tmp_path: Path) -> None:
    line = fails("superuser", "upsert", "not-an-email", "longenough123", "--dir", str(tmp_path))
    assert line == "Error: cannot save superuser 'not-an-email': email: Must be a valid email address"
    line = fails("superuser", "upsert", "a@example.com", "short", "--dir", str(tmp_path))
    assert line.startswith("Error: cannot save superuser 'a@example.com': password: ")
    assert "{" not in line and "FieldError" not in line
    line = fails("superuser", "delete", "nobody@example.com", "--dir", str(tmp_path))
    assert line == "Error: cannot delete superuser 'nobody@example.com': Superuser not found"
    r = hearth("superuser", "upsert", "a@example.com", "longenough123", "--dir", str(tmp_path))
    assert r.returncode == 0 and "Successfully saved superuser a@example.com!" in r.stdout


# ----- the port -------------------------------------------------------------------------------
def test_port_held_by_another_process(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = fails("serve", "--http", f"127.0.0.1:{port}", "--dir", str(tmp_path))
        assert f"127.0.0.1:{port} is already in use by another process" in line and "--reuse-port" in line
        # The wildcard address overlaps it too.
        line = fails("serve", "--http", f"0.0.0.0:{port}", "--dir", str(tmp_path))
        assert "already in use" in line
        # A process that does not share its port cannot be joined even on purpose.
        line = fails("serve", "--http", f"127.0.0.1:{port}", "--reuse-port", "--dir", str(tmp_path))
        assert "in use by a process that does not share it" in line


def test_second_server_on_a_port_needs_reuse_port(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    first = start_server(a)
    try:
        line = fails("serve", "--http", f"127.0.0.1:{first.port}", "--dir", str(b))
        assert "already in use by another process" in line
        assert not (b / "data.db").exists(), "refused before opening anything"
        # Asked for: a second instance shares the port (several instances on one machine).
        log = open(b / "second.log", "w")  # noqa: SIM115 - closed below
        second = subprocess.Popen(
            [sys.executable, "-m", "hearth", "serve", "--http", f"127.0.0.1:{first.port}", "--reuse-port"]
            + ["--dir", str(b)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
        try:
            deadline = time.monotonic() + 30
            while "Started worker-1" not in (b / "second.log").read_text():
                assert second.poll() is None and time.monotonic() < deadline, (b / "second.log").read_text()
                time.sleep(0.05)
            assert (b / "data.db").exists()
            assert httpx.get(first.url + "/api/health").status_code == 200
        finally:
            second.send_signal(2)
            second.wait(15)
            log.close()
        assert second.returncode == 0
    finally:
        stop_server(first)


def test_address_not_on_this_machine(tmp_path: Path) -> None:
    line = fails("serve", "--http", "192.0.2.1:8090", "--dir", str(tmp_path))  # TEST-NET-1
    assert "192.0.2.1 is not an address of this machine" in line


# ----- scripts/serve --------------------------------------------------------------------------
@pytest.mark.parametrize("dir_args", [[], ["--dir", "mydata"]])
def test_scripts_serve_paths_are_the_callers(tmp_path: Path, dir_args: list[str]) -> None:
    """`bash scripts/serve` from any directory keeps the data there, not in the repository."""
    if not (REPO / ".venv" / "bin" / "hearth").exists() or shutil.which("bash") is None:
        pytest.skip("scripts/serve needs the repository's .venv")
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            ["bash", str(REPO / "scripts" / "serve"), "--http", f"127.0.0.1:{port}", *dir_args],
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log_path, "scripts/serve")
        assert httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200
    finally:
        proc.send_signal(2)
        proc.wait(15)
    data = tmp_path / (dir_args[1] if dir_args else "hearth_data")
    assert (data / "data.db").exists(), log_path.read_text()
    if dir_args:
        assert not (REPO / "mydata").exists()
