"""PostgreSQL through an asyncpg pool.

Every call either succeeds, raises the statement's own error (UniqueViolation, BadRequest,
DatabaseError), or raises DatabaseUnavailable when the server cannot be used: unreachable,
shutting down or restarting (57P01/57P03), out of connections (53300), connection lost
mid-statement, or no answer within the time limits of hearth.db.faults. A connection that failed
that way is terminated, never handed back to the pool as it is; the pool opens new ones on
demand, so once the server is back the next request simply works. A transaction cut by a lost
connection is rolled back by the server: nothing of it is applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, NoReturn

import asyncpg

from hearth.db import faults, pg_socket
from hearth.db.after import AfterTransactionCallbacks
from hearth.db.base import ConsoleError, ConsoleResult, DatabaseError, Row, UniqueViolation
from hearth.db.lending import Lender
from hearth.errors import BadRequest, DatabaseUnavailable
from hearth.sql import locks, system
from hearth.sql.dialect import POSTGRES

log = logging.getLogger("hearth.db")
state_log = logging.getLogger("hearth.db.state")  # apart: outage lines stay one per interval

_KEY_RE = re.compile(r"Key \((.+?)\)=")
STATE_CHANNEL = "hearth_state"  # NOTIFYed by a trigger on every change of _hearth_state
STATE_MAX_STALE = 1.0  # seconds: the counters are read at least this often anyway

# SQLSTATEs that say "the server cannot serve now", not "this statement is wrong": class 08
# (connection exceptions) plus these.
_UNAVAILABLE_STATES = frozenset(
    {
        "57P01",  # admin_shutdown: the server is stopping (or this backend was terminated)
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: starting up, or in recovery
        "57014",  # query_canceled: statement_timeout, or cancelled by an administrator
        "53000",  # insufficient_resources
        "53100",  # disk_full
        "53200",  # out_of_memory
        "53300",  # too_many_connections
        "58000",  # system_error
        "58030",  # io_error
        "25006",  # read_only_sql_transaction: a standby after a failover, not yet promoted
        # idle_in_transaction_session_timeout: this session sat in a transaction too long (see
        # _abandoned_transactions_end) and the server ended it.
        "25P03",
    }
)

# asyncpg's protocol state "consuming an error" (PROTOCOL_ERROR_CONSUME), as its message names it.
_ERROR_CONSUME = "another operation (2) is in progress"


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, asyncpg.exceptions.DataError):
        # Values PostgreSQL cannot hold (a NUL character in text, numbers out of range): bad input.
        return BadRequest()
    if isinstance(exc, asyncpg.UniqueViolationError):
        detail = getattr(exc, "detail", "") or ""
        m = _KEY_RE.search(detail)
        cols = [c.strip().strip('"') for c in m.group(1).split(",")] if m else []
        return UniqueViolation(cols, getattr(exc, "constraint_name", "") or "")
    return DatabaseError(str(exc))


def _is_closed(conn: Any) -> bool:
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:
        return True  # a lost connection is cleaned up and its proxy detached from the pool


def _terminate(conn: Any) -> None:
    with contextlib.suppress(asyncpg.InterfaceError):
        conn.terminate()


def unavailable_reason(exc: BaseException, conn: Any = None) -> str | None:
    """Why `exc` means the server cannot be used right now, or None when it does not."""
    if isinstance(exc, asyncpg.PostgresError):
        state = getattr(exc, "sqlstate", None) or ""
        if state.startswith("08") or state in _UNAVAILABLE_STATES:
            return faults.describe(exc)
        return None
    if isinstance(exc, asyncpg.InterfaceError):
        # Misuse of the driver is a bug; a closed connection or pool is an outage.
        text = str(exc)
        closed = conn is not None and _is_closed(conn)
        if closed or "is closed" in text or "closing" in text:
            return faults.describe(exc)
        return None
    if isinstance(exc, asyncpg.exceptions.InternalClientError) and _ERROR_CONSUME in str(exc):
        # A server that stops (`pg_ctl restart/stop -m fast`, pg_terminate_backend) sends each
        # idle connection a FATAL 57P01 and closes it. asyncpg reads that error on the idle
        # connection into its "consume the error" state before it sees the close, so the pool
        # may still hand it out: the next statement then fails with "cannot switch to state …;
        # another operation (2) is in progress". That is the lost connection, not a bug: it
        # used to answer 500 with a traceback (tests/e2e/test_faults.py, PostgreSQL restart).
        return faults.describe(exc)
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError too
        return "no answer in time (TimeoutError)"
    if isinstance(exc, OSError):  # ConnectionRefusedError, ConnectionResetError, socket.gaierror…
        return faults.describe(exc)
    return None


class _QuietPoolFloor(logging.Filter):
    """asyncpg re-opens a pool's minimum connections in the background and logs a traceback for
    every failed try. While the server is away that is the outage again, which the db layer
    already reports once per interval: those records are dropped; any other is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return exc is None or unavailable_reason(exc) is None


class _QuietAbandonedConnect(logging.Filter):
    """A connection attempt that timed out (a hung server) leaves asyncpg's SSL negotiation
    future to fail later, unawaited: asyncio then logs "Future exception was never retrieved"
    for each attempt. That attempt was already reported as the outage; drop just those."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, ConnectionError) and str(exc) == "unexpected connection_lost() call")


logging.getLogger("asyncpg.pool").addFilter(_QuietPoolFloor())
logging.getLogger("asyncio").addFilter(_QuietAbandonedConnect())


class _Conn:
    """Statements on one connection (a transaction's), with errors translated."""

    __slots__ = ("_conn", "_db")

    def __init__(self, conn: Any, db: PostgresDatabase) -> None:
        self._conn = conn
        self._db = db

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        try:
            return await self._conn.fetchrow(sql, *params)  # type: ignore[no-any-return]
        except Exception as exc:
            self._db.fail(exc, self._conn)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return await self._conn.fetch(sql, *params)  # type: ignore[no-any-return]
        except Exception as exc:
            self._db.fail(exc, self._conn)

    async def column_names(self, sql: str) -> list[str]:
        try:
            stmt = await self._conn.prepare(sql)
        except Exception as exc:
            self._db.fail(exc, self._conn)
        return [a.name for a in stmt.get_attributes()]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            status = await self._conn.execute(sql, *params)
        except Exception as exc:
            self._db.fail(exc, self._conn)
        return _rowcount(status)


class _Tx(_Conn, AfterTransactionCallbacks):
    """The statements of one transaction, and what to run once it is over."""

    autocommit = False

    async def write_returning(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self.fetch_one(sql, params)

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(sql, rows)
        except Exception as exc:
            self._db.fail(exc, self._conn)

    async def append_rows(
        self, insert_sql: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        try:
            await self._conn.copy_records_to_table(table, records=rows, columns=list(columns))
        except Exception as exc:
            self._db.fail(exc, self._conn)


class _OneStatement(_Tx):
    """`PostgresDatabase.one_statement()`: a write whose transaction would hold one writing
    statement, sent in autocommit. PostgreSQL runs a statement outside a transaction block as a
    transaction of its own: one round trip instead of three (BEGIN, the statement, COMMIT).

    What that keeps:
    - Atomicity: the statement is applied whole or not at all; one that fails (a unique
      violation, a guard in its WHERE) writes nothing and raises the same error as inside a
      transaction.
    - Durability before reactions: the statement has committed when its answer arrives, and
      only then do the after-commit callbacks run (after-rollback ones when it failed or was
      never sent).
    - What the reads before it see: at READ COMMITTED (Hearth's level) every statement of a
      transaction takes a snapshot of its own and a plain SELECT takes no lock, so a transaction
      around a few SELECTs and one write protected nothing that sending them alone does not.
    - One write only: a second `execute` raises before it is sent, since it could not be atomic
      with the first. The record service asks for this only when it knows the write is one
      statement: no user's model hook in the chain (those get a real transaction, which they
      may use for statements of their own) and no outbox row (realtime event, webhook) to write
      with it (hearth.hooks.chain `Hook.quiet_chain`).

    What moves: an answer lost with the connection, or a cancel, while the statement runs leaves
    its outcome unknown (the request answers 503 and the write may have happened), as a lost
    answer to COMMIT does in a transaction; there that window is the COMMIT, here it is the
    statement."""

    autocommit = True
    # A statement changed rows and answered: it has committed, whatever happens next. One that
    # changed none (an UPDATE whose WHERE no longer holds) left nothing to keep: the work may
    # still fail, and then its after-rollback callbacks run, as after a rollback.
    wrote = False

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        if self.wrote:
            raise RuntimeError("a second write in a one-statement transaction would not be atomic")
        count = await super().execute(sql, params)
        self.wrote = count > 0
        return count

    async def write_returning(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        if self.wrote:
            raise RuntimeError("a second write in a one-statement transaction would not be atomic")
        row = await self.fetch_one(sql, params)
        self.wrote = row is not None
        return row

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise RuntimeError("execute_many in a one-statement transaction would not be atomic")

    async def append_rows(
        self, insert_sql: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        raise RuntimeError("append_rows in a one-statement transaction would not be atomic")


def _rowcount(status: str) -> int:
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class Listener:
    """One LISTEN of this process. Every LISTEN of a process (realtime events, jobs, state
    changes) shares one pool connection: each would otherwise hold a pool slot for good.
    `alive()` turns False when that connection is lost (the owner then listens again, on a new
    one); `close()` stops listening, and the last listener out hands the connection back."""

    def __init__(self, db: PostgresDatabase, conn: Any, channel: str, callback: Callable[..., None]) -> None:
        self._db = db
        self._conn: Any = conn
        self._channel = channel
        self._callback = callback
        self._lost = False

    def lost(self, _conn: Any = None) -> None:
        """asyncpg's termination callback: the connection is gone, and NOTIFYs with it."""
        self._lost = True
        self._callback()  # wake the bus, which reads what it may have missed and listens again

    def alive(self) -> bool:
        return not self._lost and self._conn is not None and not _is_closed(self._conn)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._db._unlisten(conn, self)


class Watch:
    """A LISTEN this process keeps for as long as it runs (PostgresDatabase.watch): when its
    connection is lost, it listens again on a new one as soon as the server answers.

    `on_notify` gets each NOTIFY's payload, and None twice: when the connection is lost, and
    once listening again. NOTIFYs sent in between were never heard, so whatever a process
    learnt from them (a cache they keep coherent) is void. `live()` says whether NOTIFYs are
    heard now, and starts listening again if they are not; a connection that died without a
    word (no RST) still counts as live: users of a watch bound their staleness in time too."""

    def __init__(self, db: PostgresDatabase, channel: str, on_notify: Callable[[str | None], None]) -> None:
        self._db = db
        self.channel = channel
        self._on_notify = on_notify
        self.listener: Listener | None = None
        self._again: asyncio.Task[None] | None = None

    def _heard(self, *args: Any) -> None:
        self._on_notify(args[3] if len(args) > 3 else None)  # bare: the connection is lost

    async def start(self) -> None:
        try:
            self.listener = await self._db._listen(self.channel, self._heard)
        except DatabaseUnavailable:
            self.listener = None  # `live()` listens again
        self._on_notify(None)  # what changed before the LISTEN began was not heard

    def live(self) -> bool:
        listener = self.listener
        if listener is not None and listener.alive():
            return True
        if self._again is None:
            self._again = asyncio.get_running_loop().create_task(self._listen_again())
        return False

    async def _listen_again(self) -> None:
        old, self.listener = self.listener, None
        delay = 0.1
        try:
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.close()
            while True:
                try:
                    self.listener = await self._db._listen(self.channel, self._heard)
                except DatabaseUnavailable:
                    await asyncio.sleep(delay)
                    delay = min(2.0, delay * 2)
                    continue
                self._on_notify(None)
                state_log.info("listening on %s again", self.channel)
                return
        finally:
            self._again = None

    async def close(self) -> None:
        if self._again is not None:
            self._again.cancel()
        listener, self.listener = self.listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.close(), self._db.wait_timeout)


class _Connection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection handed back without asyncpg's reset query (`pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`): that is one more round trip per release, i.e. per
    request, and Hearth leaves no session state behind. Its advisory locks are transaction-scoped,
    it opens no cursors outside transactions, a Listener UNLISTENs before it hands its connection
    back, and it never SETs a session variable (hooks that run SQL must use `SET LOCAL`). asyncpg
    still rolls back a transaction left open and drops listener callbacks on release."""

    def get_reset_query(self) -> str:
        return ""


def _abandoned_transactions_end(seconds: float) -> Callable[[Any], Awaitable[None]]:
    """Each new connection asks the server to end its session when it sits inside a
    transaction without sending anything for `seconds` (HEARTH_DB_QUERY_TIMEOUT).

    Without it, an instance frozen in the middle of a transaction (a paused VM, SIGSTOP, a
    network partition: its socket stays open, so the server never notices) keeps that
    transaction's locks for good, and with them every other instance's writes: the realtime
    publish lock (`pg_advisory_xact_lock`, taken by every write while someone listens) made
    each write of the surviving instance wait for HEARTH_DB_QUERY_TIMEOUT and answer 503, for
    as long as the frozen one stayed frozen (tests/e2e/test_faults.py, frozen instance). A
    transaction of Hearth's own never waits that long between two statements; user hooks that
    do slow work inside one should not either. Set once per connection rather than as a
    startup parameter, which connection poolers may refuse."""
    statement = f"SET idle_in_transaction_session_timeout = {max(1, round(seconds * 1000))}"

    async def init(conn: Any) -> None:
        await conn.execute(statement)

    return init


class PostgresDatabase:
    dialect = POSTGRES
    pooled = True  # db.base.Database.pooled

    def __init__(
        self, pool: asyncpg.Pool, *, wait_timeout: float | None = None, query_timeout: float | None = None
    ) -> None:
        self.pool = pool
        self.wait_timeout = wait_timeout if wait_timeout is not None else faults.wait_timeout()
        self.query_timeout = query_timeout if query_timeout is not None else faults.query_timeout()
        self.outage = faults.outage_log()
        # What changed in _hearth_state (schema, settings, revocations, realtime presence) is
        # pushed by NOTIFY: see `generation`.
        self._state_generation = 0
        self._state: Watch | None = None
        self._state_checked = 0.0
        self._watches: set[Watch] = set()
        self._listening: Any = None  # the connection every Listener of this process shares
        self._listeners: set[Listener] = set()
        self._listening_lock = asyncio.Lock()
        # Connections kept between uses (db/lending.py): every checkout goes through it.
        self._lender: Lender[Any] = Lender(self._from_pool, self._to_pool, _is_closed, pool.get_max_size())

    @classmethod
    async def connect(cls, dsn: str, min_size: int = 2, max_size: int = 10) -> PostgresDatabase:
        """A pool, or DatabaseUnavailable (one line of reason) when the server cannot be reached."""
        wait, query = faults.wait_timeout(), faults.query_timeout()
        dsn = await pg_socket.nearest(dsn)
        try:
            pool = await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                # asyncpg's defaults wait 60 s for a connection and forever for a statement.
                timeout=min(faults.CONNECT_TIMEOUT, wait),
                command_timeout=query,
                connection_class=_Connection,
                init=_abandoned_transactions_end(query),
            )
        except Exception as exc:
            raise DatabaseUnavailable(faults.describe(exc)) from exc
        return cls(pool, wait_timeout=wait, query_timeout=query)

    # ----- failures -------------------------------------------------------------------------
    def fail(self, exc: Exception, conn: Any) -> NoReturn:
        """Raise what `exc`, raised by a statement on `conn`, means. A connection that failed is
        terminated: it may be dead, or stuck behind a statement nobody waits for any more."""
        reason = unavailable_reason(exc, conn)
        if reason is None:
            if isinstance(exc, asyncpg.PostgresError):
                raise _translate(exc) from exc
            raise exc
        _terminate(conn)
        self.outage.failed(reason)
        raise DatabaseUnavailable(reason) from exc

    def _unavailable(self, exc: Exception) -> DatabaseUnavailable:
        """Any failure to get a connection (refused, timed out, pool exhausted, auth refused…)."""
        reason = unavailable_reason(exc)
        if reason is None or isinstance(exc, TimeoutError):
            reason = (
                f"no connection within {self.wait_timeout:g} s (server not answering, or every "
                f"pooled connection busy)"
                if isinstance(exc, TimeoutError)
                else faults.describe(exc)
            )
        self.outage.failed(reason)
        return DatabaseUnavailable(reason)

    # ----- connections ----------------------------------------------------------------------
    def usage(self) -> tuple[int, int, int]:
        size = self.pool.get_size()
        return size, self._lender.held - self._lender.idle, self.pool.get_max_size()

    async def acquire(self) -> Any:
        """A connection for one use; end it with `reuse` (it ended cleanly) or `release`."""
        try:
            return await self._lender.acquire(self.wait_timeout)
        except TimeoutError as exc:  # every connection busy for wait_timeout
            raise self._unavailable(exc) from exc

    async def _from_pool(self) -> Any:
        try:
            return await self.pool.acquire(timeout=self.wait_timeout)
        except Exception as exc:
            raise self._unavailable(exc) from exc

    def reuse(self, conn: Any) -> None:
        self._lender.reuse(conn)

    async def release(self, conn: Any) -> None:
        await self._lender.discard(conn)

    async def _to_pool(self, conn: Any) -> None:
        try:
            await self.pool.release(conn)
        except Exception as exc:
            # Resetting the connection failed: asyncpg terminated it, the pool replaces it. The
            # caller's work is done (a commit stays a commit), so this is not its failure.
            if unavailable_reason(exc, conn) is None:
                raise

    async def _run(self, method: str, sql: str, params: Sequence[Any]) -> Any:
        conn = await self.acquire()
        try:
            result = await getattr(conn, method)(sql, *params)
        except BaseException as exc:
            try:
                if isinstance(exc, Exception):
                    self.fail(exc, conn)
                raise
            finally:
                await self.release(conn)
        self.reuse(conn)
        if self.outage.down:
            self.outage.ok()
        return result

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self._run("fetchrow", sql, params)  # type: ignore[no-any-return]

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self._run("fetch", sql, params)  # type: ignore[no-any-return]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _rowcount(await self._run("execute", sql, params))

    async def column_names(self, sql: str) -> list[str]:
        async with self.transaction() as tx:
            return await tx.column_names(sql)

    @asynccontextmanager
    async def exclusive(self, key: int) -> AsyncIterator[None]:
        """db.base.Database.exclusive: a session advisory lock on a connection held meanwhile."""
        conn = await self.acquire()
        try:
            try:
                await conn.execute(locks.session_lock(int(key)))
            except Exception as exc:
                self.fail(exc, conn)
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute(locks.session_unlock(int(key)))
        finally:
            await self.release(conn)

    async def console(self, sql: str, max_rows: int, timeout: float) -> ConsoleResult:
        """db.base.Database.console: one statement is prepared (its result columns and their
        types), read through a cursor up to `max_rows`; several go as one simple query, which
        answers no rows. `statement_timeout` cuts it off; the transaction commits when it ends."""
        conn = await self.acquire()
        try:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL statement_timeout = {max(1, round(timeout * 1000))}")
                try:
                    stmt = await conn.prepare(sql)
                except asyncpg.PostgresSyntaxError as exc:
                    if "multiple commands" not in str(exc):
                        raise
                    return ConsoleResult([], [], _rowcount(await conn.execute(sql)))
                attributes = stmt.get_attributes()
                if not attributes:
                    await stmt.fetch()
                    return ConsoleResult([], [], _rowcount(stmt.get_statusmsg()))
                rows = await (await stmt.cursor()).fetch(max_rows) if max_rows else []
                columns = [(a.name, a.type.name.upper()) for a in attributes]
                return ConsoleResult(columns, [tuple(r) for r in rows], 0)
        except asyncpg.PostgresError as exc:
            if unavailable_reason(exc, conn) is not None:
                self.fail(exc, conn)
            raise ConsoleError(str(exc)) from exc
        except Exception as exc:
            self.fail(exc, conn)
        finally:
            # Closed, not handed on: the statement may have changed the session (SET, LISTEN,
            # temporary tables), which Hearth's pooled connections never reset.
            _terminate(conn)
            await self.release(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Tx]:
        after = _Tx(None, self)
        try:
            async with self._transaction() as conn:
                after._conn = conn
                yield after
                after._conn = None  # the connection serves others now
        except BaseException:
            await after.rolled_back()
            raise
        await after.committed()  # the connection is back in the pool: reactions may write again

    @asynccontextmanager
    async def one_statement(self) -> AsyncIterator[_Tx]:
        """db.base.Database.one_statement: see `_OneStatement`."""
        tx = _OneStatement(None, self)
        try:
            conn = await self.acquire()
            try:
                tx._conn = conn
                yield tx
            except BaseException:
                await self.release(conn)
                raise
            tx._conn = None  # the connection serves others now
            self.reuse(conn)
        except BaseException:
            # A failure after the statement answered cannot undo it: it committed.
            await (tx.committed() if tx.wrote else tx.rolled_back())
            raise
        if self.outage.down:
            self.outage.ok()
        await tx.committed()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Any]:
        conn = await self.acquire()
        committed = False
        try:
            tx = conn.transaction()
            try:
                await tx.start()
            except Exception as exc:
                self.fail(exc, conn)
            try:
                yield conn
            except BaseException:
                if not _is_closed(conn):
                    try:
                        await tx.rollback()
                    except BaseException as exc:
                        # The server rolls back a transaction whose connection goes away.
                        if isinstance(exc, Exception) and unavailable_reason(exc, conn) is None:
                            log.warning("rollback failed (%s); dropping the connection", faults.describe(exc))
                        _terminate(conn)
                        if not isinstance(exc, Exception):
                            raise
                raise
            try:
                await tx.commit()
            except Exception as exc:
                self.fail(exc, conn)
            committed = True
        finally:
            if committed:
                self.reuse(conn)
            else:
                await self.release(conn)
        if self.outage.down:
            self.outage.ok()

    async def listen(self, channel: str, wake: Callable[[], None]) -> Listener:
        """Call `wake` on every NOTIFY on `channel` (on this process's listening connection)."""

        def on_notify(*_args: Any) -> None:
            wake()

        return await self._listen(channel, on_notify)

    async def _listen(self, channel: str, on_notify: Callable[..., None]) -> Listener:
        """`on_notify` as asyncpg calls it, `(connection, pid, channel, payload)`, for each NOTIFY
        on `channel`; bare when the connection is lost (Listener.lost)."""
        async with self._listening_lock:
            conn = self._listening
            if conn is None or _is_closed(conn):
                conn = self._listening = await self.acquire()
                conn.add_termination_listener(self._listening_lost)
            listener = Listener(self, conn, channel, on_notify)
            try:
                await conn.add_listener(channel, on_notify)
            except Exception as exc:
                try:
                    self.fail(exc, conn)
                finally:
                    if not self._listeners:
                        self._listening = None
                        await self.release(conn)
            self._listeners.add(listener)
        if self.outage.down:
            self.outage.ok()
        return listener

    async def watch(self, channel: str, on_notify: Callable[[str | None], None]) -> Watch:
        """A LISTEN kept for as long as the process runs (see `Watch`)."""
        watch = Watch(self, channel, on_notify)
        self._watches.add(watch)
        await watch.start()
        return watch

    def _listening_lost(self, conn: Any) -> None:
        """asyncpg's termination callback: the connection is gone, and every LISTEN on it."""
        if self._listening is conn:
            self._listening = None
        for listener in list(self._listeners):
            if listener._conn is conn:
                listener.lost()

    async def _unlisten(self, conn: Any, listener: Listener) -> None:
        async with self._listening_lock:
            self._listeners.discard(listener)
            try:
                if not _is_closed(conn):
                    await conn.remove_listener(listener._channel, listener._callback)
            except Exception as exc:
                if unavailable_reason(exc, conn) is None:
                    raise
                _terminate(conn)
            if any(other._conn is conn for other in self._listeners):
                return
            if self._listening is conn:
                self._listening = None
            if not _is_closed(conn):
                conn.remove_termination_listener(self._listening_lost)
            await self.release(conn)

    # ----- coherence: what other processes and instances changed -------------------------------
    async def configuration_warnings(self) -> list[str]:
        """What in the server's configuration works against Hearth, one line each.

        Autovacuum off (a non-default some test and bulk-load setups use): every update or
        delete leaves a dead row version, and its index entries, that nothing removes; tables and
        indexes only grow and writes slow down (measured on the bench's update workload: a
        posts table updated ~200,000 times ran 15 % faster right after a manual VACUUM)."""
        settings = {str(r[0]): str(r[1]) for r in await self.fetch_all(system.PG_MAINTENANCE_SETTINGS)}
        if settings.get("autovacuum") == "off" or settings.get("track_counts") == "off":
            return [
                "PostgreSQL's autovacuum is off (autovacuum or track_counts): dead row versions of updated "
                "and deleted records are never removed, so tables grow and writes slow down; turn it on, "
                "or run VACUUM regularly"
            ]
        return []

    async def watch_state(self) -> None:
        """LISTEN for changes of `_hearth_state` (a trigger NOTIFYs on every update), so that a
        request needs no round trip to learn whether the schema, the settings or the revoked
        sessions changed. Without the listener (not yet, or its connection lost) `generation`
        says None: every request reads the counters, as before."""
        self._state = await self.watch(STATE_CHANNEL, lambda _payload: self.bump_generation())

    def generation(self) -> int | None:
        """A counter that moves whenever another process may have changed `_hearth_state`, or
        None when the database must be asked. Bounded staleness: a change is seen as soon as
        its NOTIFY arrives (a millisecond or so after the commit), and at most STATE_MAX_STALE
        after it even if the listening connection died without a word."""
        if self._state is None or not self._state.live():
            return None
        now = time.monotonic()
        if now - self._state_checked > STATE_MAX_STALE:
            self._state_checked = now
            self._state_generation += 1
        return self._state_generation

    def bump_generation(self) -> None:
        self._state_generation += 1

    async def close(self) -> None:
        for watch in list(self._watches):
            await watch.close()
        self._watches.clear()
        with contextlib.suppress(Exception):
            await self._lender.close()
        # A graceful close waits for every connection to say goodbye; an unreachable or hung
        # server would hold shutdown forever.
        try:
            await asyncio.wait_for(self.pool.close(), self.wait_timeout)
        except Exception:
            self.pool.terminate()
