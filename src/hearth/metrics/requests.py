"""Request counts and latencies, observed on the `request_done` event.

Labels are bounded whatever clients send: the route is the matched route's template (never the
path, which holds ids), "unmatched" when no route matched; a method outside HTTP's usual ones is
"other". The label children are kept per (method, route, status), so a request costs one dict
lookup, one counter increment and one histogram observation.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import OUTERMOST
from hearth.hooks.events import RequestDone

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: from a record read served from memory (~1 ms) to a slow list or upload.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A realtime stream lasts as long as its client stays: its "latency" would only fill +Inf.
STREAMS = frozenset({"GET /api/realtime"})

_Children = tuple["Counter", "Histogram | None"]


class RequestMetrics:
    def __init__(self, registry: CollectorRegistry, hooks: Hooks) -> None:
        self.requests = Counter(
            "hearth_http_requests",
            "HTTP requests answered, by method, route template (\"unmatched\": no route) and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.duration = Histogram(
            "hearth_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by method, route template "
            "and status class (realtime streams are not timed).",
            ("method", "route", "status_class"),
            buckets=BUCKETS,
            registry=registry,
        )
        self._children: dict[tuple[str, str, int], _Children] = {}
        # Outermost: counted even when a user's handler of the event fails.
        hooks.request_done.bind(self._observe, id="hearth.metrics", priority=OUTERMOST, observer=True)

    async def _observe(self, e: RequestDone) -> None:
        key = (e.method if e.method in METHODS else "other", e.route, e.status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = self._labelled(*key)
        children[0].inc()
        if children[1] is not None:
            children[1].observe(e.duration)
        await e.next()

    def _labelled(self, method: str, template: str, status: int) -> _Children:
        route = template.partition(" ")[2] if template else UNMATCHED
        counter = self.requests.labels(method, route, str(status))
        if template in STREAMS:
            return counter, None
        return counter, self.duration.labels(method, route, f"{status // 100}xx")
