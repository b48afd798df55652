"""A gate for the API requests of every process on one data directory: closed, it holds new
requests and waits for those in flight to end, in this process and in the others, so that work
done while it is closed (a restore switching the data) is seen by each request wholly or not at
all.

Shared through one small file, `<data dir>/.hearth-gate`:
- its first 4 bytes (mapped in memory by every process) hold the pid of the process that closed
  the gate, 0 while open: a request checks them as it arrives, for the cost of reading 4 bytes;
- each process holds a shared flock on it while it has requests in flight (taken when its count
  goes from 0 to 1, released when it goes back to 0: two system calls only at those moments),
  and the closing process waits for the exclusive flock, which it gets once every process has
  drained. A process that dies releases its flock with it, and a gate whose closer is no longer
  alive counts as open, so a crash mid-restore never leaves requests held for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import mmap
import os
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path

log = logging.getLogger("hearth")

FILE = ".hearth-gate"
OPEN = bytes(4)
POLL = 0.005  # seconds between looks while held or waiting


class RequestGate:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE
        self.inflight = 0
        self._fd: int | None = None
        self._flag: mmap.mmap | None = None
        self._held = False  # this process's shared flock
        self._holding: asyncio.Task[None] | None = None

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(fd).st_size < 8:
            os.ftruncate(fd, 8)
        self._flag = mmap.mmap(fd, 8)
        self._fd = fd

    def _closer(self) -> int:
        """The pid of the live process that closed the gate, or 0."""
        if self._flag is None:
            self._open()
        assert self._flag is not None
        pid = int(struct.unpack_from("<I", self._flag, 0)[0])
        if pid and pid != os.getpid():
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                struct.pack_into("<I", self._flag, 0, 0)  # its closer died: open again
                return 0
            except PermissionError:
                pass
        return pid

    async def enter(self) -> None:
        if self._flag is None or self._flag[:4] != OPEN:
            while self._closer():
                await asyncio.sleep(POLL)
        self.inflight += 1
        if not self._held:
            if self._holding is None and self._fd is not None:
                try:  # the usual case: no closer holds it, taken at once
                    fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    self._held = True
                    return
                except BlockingIOError:
                    pass
            try:
                await self._hold()
            except BaseException:
                self.leave()
                raise

    async def _hold(self) -> None:
        if self._holding is None:
            self._holding = asyncio.get_running_loop().create_task(self._take_shared())
        await asyncio.shield(self._holding)

    async def _take_shared(self) -> None:
        assert self._fd is not None
        try:
            while True:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(POLL)  # a closer holds it exclusively: the switch is under way
            self._held = True
            if self.inflight == 0:
                self._release()
        finally:
            self._holding = None

    def leave(self) -> None:
        self.inflight -= 1
        if self.inflight == 0 and self._held:
            self._release()

    def _release(self) -> None:
        if self._fd is not None:  # (closed by a stop meanwhile: the flock went with it)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._held = False

    @contextlib.asynccontextmanager
    async def closed(self, drain_timeout: float) -> AsyncIterator[None]:
        """Hold new requests of every process, wait up to `drain_timeout` seconds for those in
        flight, run the body, open again."""
        if self._flag is None:
            self._open()
        assert self._flag is not None
        struct.pack_into("<I", self._flag, 0, os.getpid())
        fd = os.open(self.path, os.O_RDWR)  # a description of its own: it conflicts with ours too
        try:
            deadline = time.monotonic() + drain_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        log.warning("requests still running after %g s; going on without them", drain_timeout)
                        break
                    await asyncio.sleep(POLL)
            yield
        finally:
            struct.pack_into("<I", self._flag, 0, 0)
            os.close(fd)  # releases the exclusive flock

    def close(self) -> None:
        self._held = False
        if self._flag is not None:
            self._flag.close()
            self._flag = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
