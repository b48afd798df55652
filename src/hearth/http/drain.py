"""Draining: taking one instance out of a load balancer's rotation, without reloading the balancer,
before it is stopped (SIGUSR2; deploy/rolling-restart.sh, docs/deploy.md).

Why not just SIGTERM: a balancer keeps idle keep-alive connections to each instance (nginx's
`keepalive`). On SIGTERM, granian closes the idle ones at once; a request the balancer writes into
one of them at that moment is lost, and nginx answers it 502 when it is a POST or PATCH (it never
sends those twice). Why not reload nginx with the instance marked `down`: nginx's old workers then
close their idle client connections at once, and a client request arriving on one at that moment
is lost the same way (measured: 1 to 3 requests per rolling restart of 3 instances; nginx 1.27.4
added `keepalive_min_timeout` for this, distributions ship older ones).

So, from SIGUSR2 on, the instance stays up but sends its balancer away:

- a request the balancer may safely send elsewhere (every method but POST and PATCH, which nginx
  never re-sends) is answered 503 without being run; nginx then sends it to another instance and
  counts a failure, which (`max_fails=1`) keeps this instance out of its rotation for
  `fail_timeout`: nothing new arrives, and its idle connections to this instance stay unused;
- a POST or PATCH still on its way is served as usual;
- every response says `Connection: close`, so no connection is kept for another request;
- realtime streams end (the clients reconnect through the balancer, to another instance) and new
  ones are refused; `GET /api/health` answers 503.

SIGTERM afterwards then finds nothing the balancer could still send: it stops as usual.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("hearth")

SIGNAL = signal.SIGUSR2
# What nginx sends again to another server after a 503 (its "non-idempotent" ones excepted).
ANSWERED_WHILE_DRAINING = frozenset({"POST", "PATCH"})


class Drain:
    """Watches for SIGUSR2 in one worker process; `active` from then on."""

    def __init__(self, on_begin: Callable[[], None]) -> None:
        self.on_begin = on_begin
        self.active = False
        self.refused = 0  # requests answered 503 since the drain began
        self.proxied = 0  # those of them that came through a proxy (X-Forwarded-For)
        self._loop: asyncio.AbstractEventLoop | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self._loop = asyncio.get_running_loop()
        signal.signal(SIGNAL, self._handler)

    def _handler(self, signum: int, frame: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.begin)

    def begin(self) -> None:
        if self.active:
            return
        self.active = True
        log.info("draining: POST/PATCH still served, other requests answered 503, connections closed")
        try:
            self.on_begin()
        except Exception:
            log.exception("closing realtime streams failed")

    def refuses(self, method: str, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether a request with this method is answered 503 (counted)."""
        if not self.active or method in ANSWERED_WHILE_DRAINING:
            return False
        self.refused += 1
        if any(key == b"x-forwarded-for" for key, _ in headers):
            self.proxied += 1
            if self.proxied == 1:
                log.info("draining: a first request sent back to the load balancer (%s)", method)
        return True


def ignore_in_main_process() -> None:
    """SIGUSR2 would end a process that does not handle it: the serving command's main process
    ignores it (its workers, which inherit that, install their handler when they start), so that
    signalling the whole process group (systemd's `systemctl kill`) drains and ends nothing."""
    signal.signal(SIGNAL, signal.SIG_IGN)
