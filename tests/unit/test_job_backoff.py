"""The retry delay: doubling from `backoff`, capped, with half of it random (equal jitter)."""

from __future__ import annotations

import random

from hearth.jobs.queue import MAX_BACKOFF, retry_delay


class Fixed(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_doubles_from_the_backoff_within_half_and_whole() -> None:
    for attempt, base in ((1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0)):
        assert retry_delay(attempt, 2.0, Fixed(0.0)) == base / 2
        assert retry_delay(attempt, 2.0, Fixed(0.999999)) < base
        assert retry_delay(attempt, 2.0, Fixed(0.5)) == base * 0.75


def test_capped_and_never_overflowing() -> None:
    assert retry_delay(12, 2.0, Fixed(0.999999)) < MAX_BACKOFF
    assert retry_delay(12, 2.0, Fixed(0.0)) == MAX_BACKOFF / 2
    assert retry_delay(10_000, 60.0, Fixed(0.0)) == MAX_BACKOFF / 2  # 2**9999 would overflow a float


def test_zero_backoff_retries_at_once() -> None:
    assert retry_delay(3, 0.0) == 0.0


def test_jitter_spreads_jobs_that_failed_together() -> None:
    rng = random.Random(7)
    delays = {round(retry_delay(4, 1.0, rng), 3) for _ in range(50)}
    assert len(delays) > 40 and min(delays) >= 4.0 and max(delays) < 8.0
