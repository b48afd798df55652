"""Connections lent from a pool without a checkout per use.

asyncpg's pool costs, per checkout, a timeout timer on acquire and, on release, a task (the
release is shielded from cancellation), a reset call and an idle timer: py-spy put it at ~15 % of
a worker's CPU for a GET on PostgreSQL, and a single statement took ~80 µs of client CPU through
the pool against ~36 µs with the connection kept between uses. A `Lender` takes connections
from the pool once and keeps those whose use ended cleanly (the statement answered, the
transaction committed): the next caller gets one with a list pop, a waiting caller is handed one
directly. A connection that failed, was cancelled midway or served a LISTEN goes back to the
pool (`discard`), whose reset and checks apply, and the pool replaces it as it would.

The lender counts what it holds against the pool's size, so it knows when taking another would
wait; callers then wait on the lender, in order, never on the pool while a parked connection sits
idle. asyncpg keeps what a pool cannot: connecting, replacing dead connections, closing.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

C = TypeVar("C")


class Lender(Generic[C]):
    def __init__(
        self,
        take: Callable[[], Awaitable[C]],
        give_back: Callable[[C], Awaitable[None]],
        is_closed: Callable[[C], bool],
        capacity: int,
    ) -> None:
        self._take = take  # a connection from the pool (raises when none comes in time)
        self._give_back = give_back  # back to the pool, reset and checked
        self._is_closed = is_closed
        self.capacity = capacity  # the pool's maximum size
        self.held = 0  # connections taken from the pool: in use or parked
        self._parked: list[C] = []
        # Callers waiting for a connection; a result of None means "a slot is yours: take one".
        self._waiters: deque[asyncio.Future[C | None]] = deque()

    @property
    def idle(self) -> int:
        return len(self._parked)

    async def acquire(self, timeout: float) -> C:
        while self._parked:
            conn = self._parked.pop()
            if not self._is_closed(conn):
                return conn
            await self.discard(conn)  # the server closed it meanwhile: the pool replaces it
        if self.held >= self.capacity or self._waiters:
            got = await self._wait(timeout)
            if got is not None:
                return got
        else:
            self.held += 1
        try:
            return await self._take()
        except BaseException:
            self._slot_freed()
            raise

    async def _wait(self, timeout: float) -> C | None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[C | None] = loop.create_future()
        # A timer of our own rather than asyncio.wait_for, which on Python 3.11 may return a
        # result despite a cancellation: here a cancelled caller always raises, and what it was
        # handed meanwhile is passed on.
        timer = loop.call_later(timeout, _expire, fut)
        self._waiters.append(fut)
        try:
            return await fut
        except BaseException:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                got = fut.result()  # handed something just as the wait ended
                if got is None:
                    self._slot_freed()
                else:
                    self.reuse(got)
            else:
                fut.cancel()
                if fut in self._waiters:
                    self._waiters.remove(fut)
            raise
        finally:
            timer.cancel()

    def reuse(self, conn: C) -> None:
        """`conn`'s use ended cleanly: hand it to the first waiter, or keep it for the next."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(conn)
                return
        self._parked.append(conn)

    async def discard(self, conn: C) -> None:
        """`conn` goes back to the pool (after a failure, a cancellation or a LISTEN)."""
        try:
            await self._give_back(conn)
        finally:
            self._slot_freed()

    def _slot_freed(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot passes to it; `held` stays
                return
        self.held -= 1

    async def close(self) -> None:
        """Give the parked connections back (the pool's close waits for every one it lent)."""
        parked, self._parked = self._parked, []
        for conn in parked:
            await self.discard(conn)


def _expire(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())
