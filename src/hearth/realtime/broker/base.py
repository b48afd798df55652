"""What a realtime broker does: carry events between the processes (and instances) of one Hearth.

An event has a `target` ("" for every process, else the address of one process or client; the
receiver filters) and a JSON payload. Every process receives every event published after it
started or last caught up, in the order each publisher published them, and hands it to its
`Handler`. Inside a transaction an event is published only if the transaction commits.

Implementations (one contract test suite covers them all: tests/unit/test_realtime_brokers.py):
hearth.realtime.broker.database (the default: an event table, NOTIFY on PostgreSQL, the shared
change counter on SQLite) and hearth.realtime.broker.redis (Redis Streams, when
HEARTH_REDIS_URL is set).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from hearth.db.base import Transaction
from hearth.errors import ApiError

# (target, payload): one event, as any process published it (this one included).
Handler = Callable[[str, dict[str, Any]], Awaitable[None]]
# Whether this process wants events now (it has clients, or awaits an answer).
Active = Callable[[], bool]


T = TypeVar("T")


class Coalescer(Generic[T]):
    """Items added at the same moment (before the loop turns) are written together by one
    `write(items)` call: a burst of publishes is one transaction or one pipeline, not one each.
    `add` returns once its own write is done, and raises what that write raised."""

    def __init__(self, write: Callable[[list[T]], Awaitable[None]]) -> None:
        self._write = write
        self._batch: tuple[list[T], asyncio.Future[None]] | None = None

    async def add(self, item: T) -> None:
        batch = self._batch
        if batch is None:
            batch = self._batch = ([], asyncio.get_running_loop().create_future())
            asyncio.get_running_loop().create_task(self._flush(batch))
        batch[0].append(item)
        await asyncio.shield(batch[1])

    async def _flush(self, batch: tuple[list[T], asyncio.Future[None]]) -> None:
        self._batch = None  # what is added from now on goes in the next write
        items, done = batch
        try:
            await self._write(items)
        except BaseException as exc:
            done.set_exception(exc)
            done.exception()  # retrieved here: an adder may have been cancelled meanwhile
            if not isinstance(exc, Exception):
                raise
            return
        done.set_result(None)


class BrokerUnavailable(ApiError):
    status = 503
    default_message = "Realtime is unavailable right now; try again later."


class Broker(Protocol):
    # Whether publishing inside a transaction writes to it (an event row), or only after commit.
    writes_in_transaction: bool

    async def start(self) -> None:
        """Begin receiving events published from now on."""
        ...

    async def stop(self) -> None: ...

    async def publish(self, target: str, payload: dict[str, Any], tx: Transaction | None = None) -> None:
        """Publish one event; with `tx`, once (and only if) it commits. Raises
        BrokerUnavailable (or DatabaseUnavailable) when it cannot be published now."""
        ...

    async def catch_up(self) -> None:
        """Skip what was published until now (a process whose first client arrives must not
        receive older events)."""
        ...

    def wake(self) -> None:
        """This process became active: look for events now rather than at the next poll."""
        ...
