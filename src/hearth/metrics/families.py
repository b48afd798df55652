"""Metric families as plain data: what one worker process sends another over the local channel,
merged into the instance's answer and written in Prometheus' text format.

Each worker keeps its own registry in memory (no locks shared between processes, no files); a
scrape reaches one worker, which adds the others' families to its own (hearth.metrics.service).
Samples with the same name and labels are summed: request counts, histogram buckets, realtime
clients and pool connections of the workers add up to the instance's. Two exceptions: `process_*`
families describe one process each, so each worker's keep a `pid` label; families every worker
reports alike (`hearth_build_info`) are taken once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

# Prometheus' classic text format: read by every Prometheus version and compatible scraper.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
PER_PROCESS_PREFIX = "process_"
SAME_IN_EVERY_WORKER = frozenset({"hearth_build_info"})

# [name, type, help, [[sample name, labels, value], ...]]: JSON as it is.
Family = list[Any]


def snapshot(collector: Collector) -> list[Family]:
    """The families of a registry as plain data. `_created` samples (when each series began) are
    left out: they cannot be summed across workers, and rate() does not need them."""
    families: list[Family] = []
    for m in collector.collect():
        samples = [[s.name, s.labels, s.value] for s in m.samples if not s.name.endswith("_created")]
        families.append([m.name, m.type, m.documentation, samples])
    return families


def merge(workers: Iterable[tuple[int, list[Family]]]) -> list[Metric]:
    """The families of several workers (pid, families) as one instance's."""
    merged: dict[str, tuple[Metric, dict[tuple[str, tuple[tuple[str, str], ...]], float]]] = {}
    for pid, families in workers:
        for name, kind, help_text, samples in families:
            entry = merged.get(name)
            if entry is None:
                entry = merged[name] = (Metric(name, help_text, kind), {})
            values = entry[1]
            per_process = name.startswith(PER_PROCESS_PREFIX)
            keep_one = name in SAME_IN_EVERY_WORKER
            for sample, labels, value in samples:
                if per_process:
                    labels = {**labels, "pid": str(pid)}
                key = (sample, tuple(sorted(labels.items())))
                if keep_one or key not in values:
                    values[key] = float(value)
                else:
                    values[key] += float(value)
    out = []
    for metric, values in merged.values():
        for (sample, labels), value in values.items():
            metric.add_sample(sample, dict(labels), value)
        out.append(metric)
    return out


class _Fixed:
    """A collector of families already gathered (what generate_latest reads)."""

    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return iter(self.metrics)


def render(metrics: list[Metric]) -> bytes:
    return generate_latest(_Fixed(metrics))
