"""Work started in the background (mails, realtime publishing) that shutdown waits for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger("hearth")


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # a reference until it finishes, or the loop may drop it
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for everything still running (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class SharedRun(Generic[T]):
    """One run of a coroutine for every caller that arrives while it is under way (for the same
    `key`); a caller arriving after it ended starts the next one. A caller cancelled while waiting
    does not cancel the run the others wait for."""

    def __init__(self) -> None:
        self._run: asyncio.Future[T] | None = None
        self._key: Hashable = None

    async def __call__(self, start: Callable[[], Coroutine[Any, Any, T]], key: Hashable = None) -> T:
        run = self._run
        if run is None or run.done() or self._key != key:
            run = self._run = asyncio.ensure_future(start())
            self._key = key
            run.add_done_callback(_retrieved)
        return await asyncio.shield(run)


def _retrieved(run: asyncio.Future[Any]) -> None:
    """A run's failure reaches its waiters; if every one of them was cancelled, it is not also
    reported as never retrieved."""
    if not run.cancelled():
        run.exception()


async def cancel(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and wait until it is done. Python 3.11's wait_for can swallow a cancellation
    that arrives as its awaitable completes (the pump woken up as a stop begins), so it is repeated;
    and a cancellation of the caller is not mistaken for the task's."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        log.error("task %s ended with an error", task.get_name(), exc_info=task.exception())
