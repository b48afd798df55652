"""The request gate (hearth._util.gate) across processes: two gates on one data directory stand
for two processes (flocks conflict between open file descriptions, as between processes)."""

from __future__ import annotations

import asyncio
import mmap
import os
import struct
import subprocess
from pathlib import Path

from hearth._util.gate import FILE, RequestGate


async def test_closing_waits_for_every_process_and_holds_new_requests(tmp_path: Path) -> None:
    restorer, other = RequestGate(tmp_path), RequestGate(tmp_path)
    await other.enter()  # a request in flight in the other process
    order: list[str] = []

    async def switch() -> None:
        async with restorer.closed(5):
            order.append("switch")
        order.append("open")

    task = asyncio.create_task(switch())
    await asyncio.sleep(0.05)
    assert order == []  # the switch waits for the other process's request
    arriving = asyncio.create_task(other.enter())
    mine = asyncio.create_task(restorer.enter())
    await asyncio.sleep(0.05)
    assert not arriving.done() and not mine.done()  # new requests of both processes wait
    order.append("request ended")
    other.leave()
    await asyncio.wait_for(task, 2)
    await asyncio.wait_for(asyncio.gather(arriving, mine), 2)
    assert order == ["request ended", "switch", "open"]
    other.leave()
    restorer.leave()
    restorer.close()
    other.close()


async def test_a_closer_that_died_leaves_the_gate_open(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    fd = os.open(tmp_path / FILE, os.O_RDWR | os.O_CREAT)
    os.ftruncate(fd, 8)
    with mmap.mmap(fd, 8) as flag:
        struct.pack_into("<I", flag, 0, dead.pid)
    os.close(fd)
    gate = RequestGate(tmp_path)
    await asyncio.wait_for(gate.enter(), 1)
    gate.leave()
    gate.close()


async def test_closing_goes_on_after_the_drain_timeout(tmp_path: Path) -> None:
    restorer, other = RequestGate(tmp_path), RequestGate(tmp_path)
    await other.enter()  # never ends
    async with restorer.closed(0.1):
        pass
    other.leave()
    restorer.close()
    other.close()
