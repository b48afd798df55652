"""Quiet logging for failures that repeat on every request.

An unreachable database or Redis fails every request the same way, often thousands of times a
second; a traceback for each would bury everything else (issue 9: ~4 MB of log per second). So:

- `OutageLog` logs one WARNING when a backing service goes away, at most one more per interval
  while it stays away (with how many calls failed meanwhile), and one INFO line when it is back.
- `Throttle` lets one log record per key through per interval and counts the ones it held back,
  for errors that are genuine bugs (their first traceback is logged; its copies are not).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable

INTERVAL_SECONDS = 10.0


class OutageLog:
    """The state of one backing service, as seen by this process, and its log lines.

    `failed(reason, kind)` after each call the service refused; `ok(kind)` after a call that
    worked (cheap while nothing failed: callers may test `down` first). Kinds let a service fail
    partly: SQLite may refuse writes (locked, disk full) while reads still work, and a working
    read must not announce the end of a write outage.
    """

    def __init__(
        self,
        name: str,
        logger: logging.Logger,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        unit: str = "failed calls",
    ) -> None:
        self.name = name
        self.log = logger
        self.unit = unit
        self.interval = interval
        self.clock = clock
        self.down = False
        self.reason = ""
        self._kinds: set[str] = set()
        self._since = 0.0
        self._logged_at = 0.0
        self._unlogged = 0  # failures since the last line
        self._total = 0  # failures since the outage began

    def failed(self, reason: str, kind: str = "") -> None:
        now = self.clock()
        self.reason = reason
        self._kinds.add(kind)
        self._total += 1
        if not self.down:
            self.down = True
            self._since = self._logged_at = now
            self._total = 1
            self._unlogged = 0
            self.log.warning("%s unavailable: %s", self.name, reason)
            return
        self._unlogged += 1
        if now - self._logged_at >= self.interval:
            self.log.warning(
                "%s unavailable: %s (%d %s in the last %.0f s)",
                self.name,
                reason,
                self._unlogged,
                self.unit,
                now - self._logged_at,
            )
            self._logged_at = now
            self._unlogged = 0

    def ok(self, kind: str = "") -> None:
        if not self.down or kind not in self._kinds:
            return
        self._kinds.discard(kind)
        if self._kinds:
            return
        self.down = False
        self.log.info(
            "%s available again after %.1f s (%d %s)",
            self.name,
            self.clock() - self._since,
            self._total,
            self.unit,
        )


class Throttle:
    """One pass per key and interval; `admit` says how many were held back since the last pass."""

    def __init__(
        self, interval: float = INTERVAL_SECONDS, clock: Callable[[], float] = time.monotonic, max_keys: int = 512
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.max_keys = max_keys
        self._keys: dict[Hashable, list[float]] = {}  # key -> [last pass, held back since]

    def admit(self, key: Hashable) -> int | None:
        """None when this one should stay quiet; else the number held back since the last pass."""
        now = self.clock()
        entry = self._keys.get(key)
        if entry is None:
            if len(self._keys) >= self.max_keys:
                self._keys = {k: e for k, e in self._keys.items() if now - e[0] < self.interval}
            self._keys[key] = [now, 0]
            return 0
        if now - entry[0] < self.interval:
            entry[1] += 1
            return None
        held = int(entry[1])
        entry[0], entry[1] = now, 0
        return held
