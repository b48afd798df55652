"""A loopback PostgreSQL DSN is reached over the server's Unix socket when that is the same
server (hearth.db.pg_socket); every other DSN is used as given."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hearth.db import pg_socket
from hearth.db.postgres import PostgresDatabase


@pytest.fixture
def sockdir(tmp_path: Path) -> tuple[str, ...]:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(tmp_path / ".s.PGSQL.5433"))
    (tmp_path / ".s.PGSQL.5432").write_text("")  # a plain file is not a socket
    return (str(tmp_path / "missing"), str(tmp_path))


def test_a_loopback_dsn_becomes_the_socket_of_its_port(sockdir: tuple[str, ...]) -> None:
    d = sockdir[1]
    assert pg_socket.socket_dsn("postgresql://u:p%40ss@127.0.0.1:5433/app?application_name=x", sockdir) == (
        f"postgresql://u:p%40ss@/app?application_name=x&host={d.replace('/', '%2F')}&port=5433"
    )
    assert pg_socket.socket_dsn("postgres://localhost:5433/app", sockdir) == (
        f"postgres:///app?host={d.replace('/', '%2F')}&port=5433"
    )
    assert pg_socket.socket_dsn("postgresql://u@[::1]:5433/app", sockdir) is not None


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://u@127.0.0.1:5432/app",  # the port's file is not a socket
        "postgresql://u@127.0.0.1:6000/app",  # no socket for that port
        "postgresql://u@10.0.0.5:5433/app",  # another machine
        "postgresql://u@db.internal:5433/app",
        "postgresql://u@127.0.0.1:5433/app?sslmode=require",  # TLS asked for
        "postgresql://u@127.0.0.1:5433/app?host=/elsewhere",  # its own host parameter
        "postgresql://u@127.0.0.1:5433,127.0.0.2:5433/app",  # several hosts
        "mysql://u@127.0.0.1:5433/app",
        "postgresql://u@127.0.0.1:notaport/app",
    ],
)
def test_other_dsns_stay_as_given(sockdir: tuple[str, ...], dsn: str) -> None:
    assert pg_socket.socket_dsn(dsn, sockdir) is None


async def _server_addr(db: PostgresDatabase) -> object:
    row = await db.fetch_one("SELECT inet_server_addr()")
    assert row is not None
    return row[0]


@pytest.fixture
def local_pg(pg_database: str | None) -> str:
    """The test database's DSN, named by a loopback address whose server has a local socket."""
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    if pg_socket.socket_dsn(pg_database) is None:
        pytest.skip("the test database is not named by a loopback address with a local socket")
    return pg_database


async def test_the_pool_uses_the_socket_of_a_local_server_unless_told_not_to(
    local_pg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await PostgresDatabase.connect(local_pg, min_size=1, max_size=1)
    try:
        assert await _server_addr(db) is None  # a Unix socket has no server address
    finally:
        await db.close()
    monkeypatch.setenv(pg_socket.ENV, "0")
    db = await PostgresDatabase.connect(local_pg, min_size=1, max_size=1)
    try:
        assert str(await _server_addr(db)) in ("127.0.0.1", "::1")
    finally:
        await db.close()


async def test_a_socket_reaching_another_server_is_not_used(local_pg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = pg_socket._identity

    async def other_server_over_socket(dsn: str) -> tuple[str, ...]:
        found = await real(dsn)
        return (*found, "another") if "host=" in dsn else found

    monkeypatch.setattr(pg_socket, "_identity", other_server_over_socket)
    assert await pg_socket.nearest(local_pg) == local_pg
