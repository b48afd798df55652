"""The pieces of outage handling that need no server: which driver errors are outages, the
once-per-interval outage log, and the throttled traceback log of genuine bugs."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from hearth._util.outage import OutageLog, Throttle
from hearth.db.base import DatabaseError, UniqueViolation
from hearth.db.postgres import unavailable_reason
from hearth.db.sqlite import SQLiteDatabase
from hearth.errors import DatabaseUnavailable
from hearth.http.router import App, Router, route


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _pg_error(cls: type[asyncpg.PostgresError], message: str = "x") -> asyncpg.PostgresError:
    return cls(message)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        OSError(113, "No route to host"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        asyncpg.InterfaceError("pool is closing"),
        _pg_error(asyncpg.exceptions.AdminShutdownError),
        _pg_error(asyncpg.exceptions.CannotConnectNowError),
        _pg_error(asyncpg.exceptions.TooManyConnectionsError),
        _pg_error(asyncpg.exceptions.CrashShutdownError),
        _pg_error(asyncpg.exceptions.ConnectionFailureError),
        _pg_error(asyncpg.exceptions.DiskFullError),
        _pg_error(asyncpg.exceptions.ReadOnlySQLTransactionError),
        _pg_error(asyncpg.exceptions.QueryCanceledError),
        _pg_error(asyncpg.exceptions.IdleInTransactionSessionTimeoutError),
        # An idle pooled connection that read the server's FATAL on shutdown (pg_ctl restart).
        asyncpg.exceptions.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
    ],
)
def test_postgres_outage_errors_are_recognised(exc: BaseException) -> None:
    assert unavailable_reason(exc) is not None


@pytest.mark.parametrize(
    "exc",
    [
        _pg_error(asyncpg.exceptions.UniqueViolationError),
        _pg_error(asyncpg.exceptions.PostgresSyntaxError),
        _pg_error(asyncpg.exceptions.UndefinedColumnError),
        _pg_error(asyncpg.exceptions.DeadlockDetectedError),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.InterfaceError("the server expects 2 arguments for this query, 1 was passed"),
        asyncpg.exceptions.InternalClientError("cannot switch to state 15; another operation (12) is in progress"),
        ValueError("bug"),
        KeyError("bug"),
    ],
)
def test_statement_errors_and_bugs_are_not_outages(exc: BaseException) -> None:
    assert unavailable_reason(exc) is None


def test_outage_log_one_line_per_interval_and_one_when_back(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    out = OutageLog("database", logging.getLogger("test.outage"), clock=clock)
    caplog.set_level(logging.INFO, logger="test.outage")
    for _ in range(1000):
        out.failed("refused")
        clock.now += 0.01  # 1000 failures over 10 s
    out.failed("refused")  # the 10 s are over: one summary line
    out.ok()
    out.ok()  # nothing more to say
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert lines == [
        ("WARNING", "database unavailable: refused"),
        ("WARNING", "database unavailable: refused (1000 failed calls in the last 10 s)"),
        ("INFO", "database available again after 10.0 s (1001 failed calls)"),
    ]
    assert all(r.exc_info is None for r in caplog.records)


def test_outage_log_kinds_a_working_read_does_not_end_a_write_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    out = OutageLog("database", logging.getLogger("test.kinds"), clock=Clock())
    caplog.set_level(logging.INFO, logger="test.kinds")
    out.failed("disk full", "write")
    out.ok("read")
    assert out.down
    out.ok("write")
    assert not out.down
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]


def test_throttle_counts_what_it_holds_back() -> None:
    clock = Clock()
    t = Throttle(10, clock=clock)
    assert t.admit("a") == 0
    assert [t.admit("a") for _ in range(5)] == [None] * 5
    assert t.admit("b") == 0  # keys are independent
    clock.now += 10
    assert t.admit("a") == 5


async def test_router_logs_one_traceback_per_bug_and_interval(caplog: pytest.LogCaptureFixture) -> None:
    async def boom(request: Request) -> Response:
        raise RuntimeError("a bug")

    async def down(request: Request) -> Response:
        raise DatabaseUnavailable("refused")

    async def nothing() -> None:
        return None

    app = App(Router([route("GET", "/boom", boom), route("GET", "/down", down)]), nothing, nothing, 1 << 20)
    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for _ in range(100):
            r = await c.get("/boom")
            assert r.status_code == 500
            assert r.json() == {
                "status": 500,
                "message": "Something went wrong while processing your request.",
                "data": {},
            }
        for _ in range(100):
            r = await c.get("/down")
            assert r.status_code == 503 and r.headers["retry-after"] == "5"
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1 and errors[0].exc_info is not None


def test_sqlite_errors_are_classified(tmp_path: Path) -> None:
    db = SQLiteDatabase(tmp_path / "data.db", wait_timeout=0.1)
    try:
        cases = {
            "database is locked": sqlite3.SQLITE_BUSY,
            "database or disk is full": sqlite3.SQLITE_FULL,
            "attempt to write a readonly database": sqlite3.SQLITE_READONLY,
            "disk I/O error": sqlite3.SQLITE_IOERR,
            "unable to open database file": sqlite3.SQLITE_CANTOPEN,
        }
        for text, code in cases.items():
            exc = sqlite3.OperationalError(text)
            exc.sqlite_errorcode = code  # type: ignore[attr-defined]
            assert isinstance(db.failure(exc, "write"), DatabaseUnavailable), text
        syntax = sqlite3.OperationalError('near "SELEC": syntax error')
        syntax.sqlite_errorcode = sqlite3.SQLITE_ERROR  # type: ignore[attr-defined]
        assert isinstance(db.failure(syntax, "read"), DatabaseError)
        unique = sqlite3.IntegrityError("UNIQUE constraint failed: t.a")
        unique.sqlite_errorcode = sqlite3.SQLITE_CONSTRAINT_UNIQUE  # type: ignore[attr-defined]
        assert isinstance(db.failure(unique, "write"), UniqueViolation)
    finally:
        asyncio.run(db.close())


def test_sqlite_unopenable_file_is_one_line_at_startup(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable) as info:
        SQLiteDatabase(tmp_path / "missing-dir" / "data.db")
    assert "unable to open database file" in info.value.reason
