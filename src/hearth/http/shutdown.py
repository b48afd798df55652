"""How a server worker stops: from the moment SIGTERM or SIGINT arrives, within a bound.

granian, the HTTP server, handles SIGTERM/SIGINT in each worker process by closing its listener
and waiting for every open connection to end; only then does it run the application's lifespan
shutdown. A realtime (SSE) stream never ends by itself, so one open stream kept a stop waiting
forever, and nothing bounded a slow request either. When its lifespan starts, the App therefore
chains a handler to the worker's own SIGTERM/SIGINT handlers (whichever delivered the signal: the
main process forwarding it, systemd signalling the whole control group, or a terminal's Ctrl-C):

1. at the signal, `on_begin` ends every realtime stream at once (the SDKs reconnect, to another
   instance behind a load balancer) and new ones are refused; requests in flight carry on, and
   granian closes idle keep-alive connections and stops accepting new ones;
2. at `timeout - grace`, requests still running are cancelled (answered 503 if nothing was sent
   yet) and the application cleans up (Hearth.stop: mails drained, database closed) without
   waiting for granian's lifespan shutdown, which a connection that never completes its request
   (half-sent headers) would hold back;
3. at `timeout`, a worker that is still alive (something is stuck) exits on the spot.

The main process kills any worker still alive a second later (granian's `workers_kill_timeout`),
in case the worker cannot even run step 3.

How many times granian hears of the signal matters. Since granian 2.8 a worker's stop flag
(`WorkerSignal.set()`) blocks, holding the GIL, on its third call: the worker freezes (no request
finishes, no stream ends, not even step 3's timer runs) until the main process kills it. A stop by
Ctrl-C or by systemd delivers two signals to each worker (its own, then the main process's
SIGTERM), which is fine as long as each reaches granian once. So:

- the handler chained to is not the event loop's own (uvloop's records the signal for the loop,
  which also gets it through its wakeup fd; when the two reach the loop in different iterations,
  uvloop dispatches the one signal twice: three calls for two signals);
- a third signal (Ctrl-C pressed again) ends the worker at once, before granian hears of it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("hearth")

SIGNALS = (signal.SIGINT, signal.SIGTERM)
KILL_MARGIN = 1.0  # the main process kills workers this long after the timeout
# Signals a stop delivers to a worker at most (its own SIGINT/SIGTERM and the main process's
# SIGTERM); granian's stop flag takes no more without freezing the worker (see above).
EXPECTED_SIGNALS = 2


def grace(timeout: float) -> float:
    """The part of the timeout kept for cleanup after cutting requests still running."""
    return min(1.0, timeout / 4)


class GracefulStop:
    """Watches for SIGTERM/SIGINT in one worker process and runs the stop sequence above."""

    def __init__(
        self,
        timeout: float,
        on_begin: Callable[[float], None],
        on_overdue: Callable[[], Awaitable[None]],
        inflight: set[asyncio.Task[Any]],
    ) -> None:
        self.timeout = timeout
        self.on_begin = on_begin  # gets the loop.time() by which everything must be done
        self.on_overdue = on_overdue  # the application's cleanup, when the server is still busy
        self.inflight = inflight
        self.started: float | None = None  # loop.time() of the first signal
        self.cutting = False  # requests still running are being cancelled
        self.signals = 0  # SIGTERM/SIGINT received
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit_timer: threading.Timer | None = None
        self._overdue: asyncio.Task[None] | None = None

    def install(self) -> None:
        """Chain to the current SIGTERM/SIGINT handlers (granian's, in a worker). Only handlers
        that are Python callables are chained: a signal left to its default action keeps it.
        The event loop's own handler (granian's `loop.add_signal_handler`) is not called: the
        loop hears of the signal through its wakeup fd already, and hearing of it twice makes
        uvloop run granian's handler twice for one signal (see above)."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._loop = loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            previous = signal.getsignal(sig)
            if callable(previous):
                loops = getattr(previous, "__self__", None) is loop
                signal.signal(sig, self._handler(None if loops else previous))

    def _handler(self, previous: Callable[[int, Any], Any] | None) -> Callable[[int, Any], Any]:
        def handler(signum: int, frame: Any) -> Any:
            self.signals += 1
            if self.signals > EXPECTED_SIGNALS:
                # Before the loop passes it on to granian, whose stop flag would freeze the worker.
                self._exit(f"signalled again ({signal.Signals(signum).name})")
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self.begin)
            return None if previous is None else previous(signum, frame)

        return handler

    def begin(self) -> None:
        """The stop sequence; idempotent (a worker often gets both SIGINT and SIGTERM)."""
        if self.started is not None:
            return
        loop = asyncio.get_running_loop()
        self.started = now = loop.time()
        cut = max(0.0, self.timeout - grace(self.timeout))
        log.info("stopping: realtime streams closed; requests in flight get up to %.1f s", cut)
        # A thread, not the loop: it must fire even if the loop is stuck or no longer runs.
        late = f"still running {self.timeout:.1f} s after the signal"
        self._exit_timer = threading.Timer(self.timeout, self._exit, (late,))
        self._exit_timer.daemon = True
        self._exit_timer.start()
        loop.call_later(cut, self._cut)
        try:
            self.on_begin(now + self.timeout)
        except Exception:
            log.exception("closing realtime streams failed")

    def _cut(self) -> None:
        running = [t for t in self.inflight if not t.done()]
        if running:
            log.warning(
                "stopping: cancelling %d request(s) still running after the shutdown timeout", len(running)
            )
        self.cutting = True
        for task in running:
            task.cancel()
        self._overdue = asyncio.get_running_loop().create_task(self._cleanup(running))

    async def _cleanup(self, cancelled: list[asyncio.Task[Any]]) -> None:
        """Clean up now rather than when the server is done with its connections: one that never
        completes its request (half-sent headers) would keep the server waiting past the exit."""
        if cancelled:
            await asyncio.wait(cancelled, timeout=grace(self.timeout) / 2)
        await self.on_overdue()

    def _exit(self, why: str) -> None:
        log.warning("stopping: %s; exiting now", why)
        for handler in logging.getLogger("hearth").handlers:
            handler.flush()
        os._exit(1)
