"""Request counts and latencies, observed on the `request_done` event.

Labels are bounded whatever clients send: the route is the matched route's template (never the
path, which holds ids), "unmatched" when no route matched; a method outside HTTP's usual ones is
"other". The series are plain counters kept per (method, route, status) and written out by
prometheus_client when collected: a request costs a dict lookup, two additions and a bisect
(prometheus_client's own Counter and Histogram take a lock per increment: ~3x the time here,
docs/operations.md "Metrics").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from hearth.hooks.catalog import Hooks
from hearth.hooks.chain import OUTERMOST
from hearth.hooks.events import RequestDone

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: from a record read served from memory (~1 ms) to a slow list or upload.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LE = [*(floatToGoString(b) for b in BUCKETS), "+Inf"]  # type: ignore[no-untyped-call]
# A realtime stream lasts as long as its client stays: its "latency" would only fill +Inf.
STREAMS = frozenset({"GET /api/realtime"})


class _Count:
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0


class _Latency:
    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # per bucket, not cumulative; the last is +Inf
        self.sum = 0.0


class RequestMetrics:
    def __init__(self, hooks: Hooks) -> None:
        self._children: dict[tuple[str, str, int], tuple[_Count, _Latency | None]] = {}
        self._counts: dict[tuple[str, str, str], _Count] = {}  # (method, route, status)
        self._latencies: dict[tuple[str, str, str], _Latency] = {}  # (method, route, status class)
        # Outermost: counted even when a user's handler of the event fails.
        hooks.request_done.bind(self._observe, id="hearth.metrics", priority=OUTERMOST, observer=True)

    async def _observe(self, e: RequestDone) -> None:
        key = (e.method if e.method in METHODS else "other", e.route, e.status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = self._series(*key)
        children[0].n += 1
        latency = children[1]
        if latency is not None:
            latency.counts[bisect_left(BUCKETS, e.duration)] += 1
            latency.sum += e.duration
        await e.next()

    def _series(self, method: str, template: str, status: int) -> tuple[_Count, _Latency | None]:
        route = template.partition(" ")[2] if template else UNMATCHED
        count = self._counts.setdefault((method, route, str(status)), _Count())
        if template in STREAMS:
            return count, None
        return count, self._latencies.setdefault((method, route, f"{status // 100}xx"), _Latency())

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "hearth_http_requests",
            'HTTP requests answered, by method, route template ("unmatched": no route) and status.',
            labels=("method", "route", "status"),
        )
        for labels, count in list(self._counts.items()):
            requests.add_metric(labels, count.n)
        yield requests
        duration = HistogramMetricFamily(
            "hearth_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by method, route template "
            "and status class (realtime streams are not timed).",
            labels=("method", "route", "status_class"),
        )
        for labels, latency in list(self._latencies.items()):
            cumulative, buckets = 0, []
            for le, n in zip(_LE, latency.counts, strict=True):
                cumulative += n
                buckets.append((le, cumulative))
            duration.add_metric(labels, buckets, latency.sum)
        yield duration
