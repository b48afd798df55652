"""The default realtime broker: an event table in the database.

Every worker and instance of one Hearth shares the database, so it carries realtime traffic too:
a record change, or a message for one client, is a row in `_hearth_rt_events`. PostgreSQL wakes
every process with NOTIFY; SQLite processes watch the shared change counter (hearth.db.sqlite), a
memory read every few milliseconds. Each process reads the rows after the last one it saw, in
order, and handles those meant for it. Rows are kept a minute.

Outages: while the database is unreachable the pump retries quietly (the db layer logs the
outage once per interval). A lost LISTEN connection (PostgreSQL restarted, network cut) is
noticed through asyncpg's termination callback and replaced by a new one as soon as the server
answers again; the table is read right after, so events published meanwhile are not skipped.
An event whose handling finds the database unavailable is handled again after the outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson

from hearth._util import deepjson
from hearth._util.outage import Throttle
from hearth._util.tasks import cancel
from hearth.db.base import Database, Transaction
from hearth.errors import DatabaseUnavailable
from hearth.realtime.broker.base import Coalescer, Handler
from hearth.sql import system

log = logging.getLogger("hearth.realtime")

POLL_SECONDS = 0.01  # SQLite: how often the shared counter is looked at
KEEP_SECONDS = 60
LISTEN_FALLBACK_SECONDS = 1.0  # read the table at least this often (while there are clients)
IDLE_SECONDS = 1.0  # without local clients, only look whether that changed
RETRY_SECONDS = (0.1, 0.25, 0.5, 1.0)  # pauses after failures, the last one repeated


class Listener(Protocol):
    def alive(self) -> bool: ...

    async def close(self) -> None: ...


class DatabaseBroker:
    writes_in_transaction = True  # the event row is written with the transaction

    def __init__(self, db: Database, handle: Handler, active: Callable[[], bool] = lambda: True) -> None:
        self.db = db
        self.handle = handle
        # Whether this process has clients: without any, events are not for it and nothing polls.
        self.active = active
        self._last = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listen: Callable[[str, Callable[[], None]], Awaitable[Listener]] | None = getattr(
            db, "listen", None
        )
        self._listener: Listener | None = None
        self._pruned = 0.0
        self._errors = Throttle()
        self._outside: Coalescer[tuple[str, str, int]] = Coalescer(self._write)  # publishes outside a transaction

    async def start(self) -> None:
        row = await self.db.fetch_one(system.last_rt_event(self.db.dialect))
        self._last = int(row[0]) if row else 0
        if self._listen is not None:
            self._listener = await self._listen("hearth_rt", self._wake.set)
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def stop(self) -> None:
        if self._task is not None:
            await cancel(self._task)
            self._task = None
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.close()

    async def publish(self, target: str, payload: dict[str, Any], tx: Transaction | None = None) -> None:
        """An event for every process (`target` ""), or for the one `target` names. Inside `tx`
        it is written with the transaction (gone if it rolls back, kept by its commit whatever
        happens to the process next) and the processes are woken after commit. Outside one, the
        events published at the same moment share one transaction (a burst of subscription
        requests or answers is one write, not one each); this returns once it is committed."""
        row = (target, deepjson.dumps(payload).decode(), int(time.time()))
        if tx is not None and tx.autocommit:
            # A write judged to need no event row (no process had clients: Hook.quiet_chain),
            # and a client arrived since: its statement is its own transaction, so the event
            # follows its commit instead of riding with it (a crash in between would lose it).
            tx.after_commit(lambda: self._outside.add(row))
            return
        if tx is not None:
            await self._ordered(tx)
            await tx.execute(system.insert_rt_event(self.db.dialect), row)
            tx.after_commit(self._after_commit)
            return
        await self._outside.add(row)

    async def _write(self, rows: list[tuple[str, str, int]]) -> None:
        async with self.db.transaction() as tx:
            await self._ordered(tx)
            await tx.execute_many(system.insert_rt_event(self.db.dialect), rows)
        self._woken()

    async def _ordered(self, tx: Transaction) -> None:
        """PostgreSQL: publishers take turns until they commit, so events become visible in
        the order of their numbers. Readers go on from the last number they saw: without this
        an event numbered before one that committed first would be skipped for good (a
        subscription request never answered, a record change never delivered). SQLite writers
        take turns anyway."""
        lock = system.rt_publish_lock(self.db.dialect)
        if lock is not None:
            await tx.execute(lock)

    async def _after_commit(self) -> None:
        self._woken()

    def _woken(self) -> None:
        if self._listen is None:
            # SQLite: the shared counter is how the other processes hear of the event.
            # (PostgreSQL's NOTIFY went with the insert; bumping here would only make every
            # request of this process read the state again.)
            self.db.bump_generation()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def catch_up(self) -> None:
        """Skip the events published while this process had no clients (its first client
        connects now and must not receive older ones)."""
        row = await self.db.fetch_one(system.last_rt_event(self.db.dialect))
        self._last = max(self._last, int(row[0]) if row else 0)

    async def _relisten(self) -> None:
        """The LISTEN connection is gone: listen on a new one (DatabaseUnavailable while the
        server is still away)."""
        assert self._listen is not None
        old, self._listener = self._listener, None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close()
        self._listener = await self._listen("hearth_rt", self._wake.set)
        log.info("realtime: listening for other processes' events again")

    async def _pump(self) -> None:
        generation = self.db.generation()
        failures = 0
        drained = time.monotonic()
        while True:
            try:
                if not self.active():
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)
                    continue
                if self._listen is not None:
                    if self._listener is None or not self._listener.alive():
                        # Events published while nobody listened are read right below.
                        await self._relisten()
                    else:
                        # NOTIFY wakes us at once; the timeout covers a connection that died
                        # silently (no RST: the table is still read every second).
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), LISTEN_FALLBACK_SECONDS)
                else:
                    # SQLite: wake on our own publishes at once, else look at the shared counter;
                    # and read the table every second anyway: a process killed right after its
                    # commit never bumped the counter, but its event is in the table.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                    current = self.db.generation()
                    stale = time.monotonic() - drained > LISTEN_FALLBACK_SECONDS
                    if not self._wake.is_set() and current == generation and not stale:
                        continue
                    generation = current
                self._wake.clear()
                await self._drain()
                drained = time.monotonic()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not isinstance(exc, DatabaseUnavailable):  # that one is logged by the db layer
                    held = self._errors.admit(type(exc).__name__)
                    if held is not None:
                        log.exception("realtime event pump failed; retrying (%d more like it held back)", held)
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1

    async def _drain(self) -> None:
        d = self.db.dialect
        while True:
            rows = await self.db.fetch_all(system.select_rt_events(d), (self._last,))
            for seq, target, payload in rows:
                if not self.active():  # no longer for this process (its last client left)
                    self._last = int(seq)
                    continue
                try:
                    await self.handle(str(target), orjson.loads(payload))
                except DatabaseUnavailable:
                    # Handled again, from this event on, once the database answers: a client's
                    # new subscriptions must not be lost to an outage (a record event may then
                    # reach some clients twice).
                    raise
                except Exception:
                    log.exception("realtime event %s failed", seq)
                self._last = int(seq)
            if len(rows) < 500:
                break
        now = time.time()
        if now - self._pruned > KEEP_SECONDS / 2:
            self._pruned = now
            await self.db.execute(system.delete_old_rt_events(d), (int(now) - KEEP_SECONDS,))
