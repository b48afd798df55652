"""Work started in the background (mails, realtime publishing) that shutdown waits for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

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


async def cancel(task: asyncio.Task[Any]) -> None:
    """Cancel `task` and wait until it is done. Python 3.11's wait_for can swallow a cancellation
    that arrives as its awaitable completes (the pump woken up as a stop begins), so it is repeated;
    and a cancellation of the caller is not mistaken for the task's."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.cancelled() and task.exception() is not None:
        log.error("task %s ended with an error", task.get_name(), exc_info=task.exception())
