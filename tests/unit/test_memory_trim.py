"""The heap trim after dropped realtime streams (hearth.http.memory): one trim for drops that
come together, none where the C library has no malloc_trim."""

from __future__ import annotations

import asyncio
import platform

import pytest

from hearth.http import memory


async def test_requests_made_together_share_one_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "DELAY_SECONDS", 0.05)
    trimmer = memory.Trimmer()
    if platform.libc_ver()[0] == "glibc":
        assert trimmer._trim is not None  # the real one is found
    calls: list[int] = []
    trimmer._trim = lambda: calls.append(1)
    for _ in range(100):
        trimmer.request()
    await asyncio.sleep(0.2)
    assert calls == [1]
    trimmer.request()
    await asyncio.sleep(0.2)
    assert calls == [1, 1]


async def test_nothing_without_malloc_trim() -> None:
    trimmer = memory.Trimmer()
    trimmer._trim = None
    trimmer.request()
    assert trimmer._scheduled is None
