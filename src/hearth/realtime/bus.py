"""How realtime processes talk to each other: an event table in the database.

Every worker and instance of one Hearth shares the database, so it carries realtime traffic too:
a record change, or a message for one client, is a row in `_hearth_rt_events`. PostgreSQL wakes
every process with NOTIFY; SQLite processes watch the shared change counter (hearth.db.sqlite), a
memory read every few milliseconds. Each process reads the rows after the last one it saw, in
order, and handles those meant for it. Rows are kept a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from hearth.db.base import Database
from hearth.sql import system

log = logging.getLogger("hearth.realtime")

Handler = Callable[[str, dict[str, Any]], Awaitable[None]]
POLL_SECONDS = 0.01  # SQLite: how often the shared counter is looked at
KEEP_SECONDS = 60
LISTEN_FALLBACK_SECONDS = 1.0  # PostgreSQL: read the table at least this often
IDLE_SECONDS = 1.0  # without local clients, only look whether that changed


async def cancel(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and wait until it is done. Python 3.11's wait_for can swallow a cancellation
    that arrives as its awaitable completes (the pump woken up as a stop begins), so it is repeated;
    and a cancellation of the caller is not mistaken for the task's."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        log.error("realtime task %s ended with an error", task.get_name(), exc_info=task.exception())


class Bus:
    def __init__(self, db: Database, handle: Handler, active: Callable[[], bool] = lambda: True) -> None:
        self.db = db
        self.handle = handle
        # Whether this process has clients: without any, events are not for it and nothing polls.
        self.active = active
        self._last = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._close_listener: Callable[[], Awaitable[None]] | None = None
        self._pruned = 0.0

    async def start(self) -> None:
        row = await self.db.fetch_one(system.last_rt_event(self.db.dialect))
        self._last = int(row[0]) if row else 0
        listen = getattr(self.db, "listen", None)
        if listen is not None:
            self._close_listener = await listen("hearth_rt", self._wake.set)
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def stop(self) -> None:
        if self._task is not None:
            await cancel(self._task)
            self._task = None
        if self._close_listener is not None:
            await self._close_listener()
            self._close_listener = None

    async def publish(self, target: str, payload: dict[str, Any]) -> None:
        """An event for every process (`target` ""), or for the one holding client `target`."""
        d = self.db.dialect
        await self.db.execute(
            system.insert_rt_event(d), (target, orjson.dumps(payload).decode(), int(time.time()))
        )
        self.db.bump_generation()
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def catch_up(self) -> None:
        """Skip the events published while this process had no clients (its first client
        connects now and must not receive older ones)."""
        row = await self.db.fetch_one(system.last_rt_event(self.db.dialect))
        self._last = max(self._last, int(row[0]) if row else 0)

    async def _pump(self) -> None:
        generation = self.db.generation()
        while True:
            try:
                if not self.active():
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)
                    continue
                if self._close_listener is not None:
                    # NOTIFY wakes us at once; the timeout covers a lost LISTEN connection.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), LISTEN_FALLBACK_SECONDS)
                else:
                    # SQLite: wake on our own publishes at once, else look at the shared counter.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
                    current = self.db.generation()
                    if not self._wake.is_set() and current == generation:
                        continue
                    generation = current
                self._wake.clear()
                await self._drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("realtime event pump failed; retrying")
                await asyncio.sleep(0.5)

    async def _drain(self) -> None:
        d = self.db.dialect
        while True:
            rows = await self.db.fetch_all(system.select_rt_events(d), (self._last,))
            for seq, target, payload in rows:
                self._last = int(seq)
                try:
                    await self.handle(str(target), orjson.loads(payload))
                except Exception:
                    log.exception("realtime event %s failed", seq)
            if len(rows) < 500:
                break
        now = time.time()
        if now - self._pruned > KEEP_SECONDS / 2:
            self._pruned = now
            await self.db.execute(system.delete_old_rt_events(d), (int(now) - KEEP_SECONDS,))
