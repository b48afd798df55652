"""The auth records of the tokens a process resolves, kept in its memory on PostgreSQL.

Every authenticated request resolves its token to the auth record: its tokenKey signs the
token (a new password or e-mail, or a logout everywhere, changes it: revocation), and its values
answer `@request.auth.*` in rules. Read from the database, that is one round trip of the two or
three a create or an update costs; kept here it is none.

Coherence, across processes and instances:
- A trigger on each auth collection's table NOTIFYs every change (UPDATE, DELETE, TRUNCATE) in
  the changing transaction (hearth.sql.system AUTH_CHANNEL): whatever writes it (the record
  service, the auth flows, a cascade, a user's hook running SQL, psql), every listening process
  drops the record when the commit's NOTIFY arrives (about a millisecond later).
- The process that wrote drops it itself right after the commit (`changed`, called by the
  record service), before its answer leaves: its own next request never sees the old record.
- A row read while a change was heard is not kept (the read may predate the change).
- While the listening connection is lost, nothing is kept and nothing is answered from memory
  (every lookup reads the database); what was kept is dropped when it is lost and again once
  listening again, since NOTIFYs in between were never heard.
- No entry is used after MAX_AGE seconds: that bounds what no NOTIFY can tell, a listening
  connection that died without a word (no RST) and changes made with triggers disabled.

So a change made anywhere is enforced everywhere as soon as its NOTIFY arrives, at most MAX_AGE
later in those failure cases. SQLite keeps nothing: a read there costs microseconds, no round
trip. Token types other than the auth token (password reset, verification, e-mail change,
files) always read the database: they are rare, and some are single-use.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from hearth.records.reads import RecordReader
from hearth.records.recent import RecentRecords
from hearth.schema.collection import Collection
from hearth.sql.system import AUTH_CHANNEL

MAX_AGE = 2.0  # seconds an entry is used at most
MAX_ENTRIES = 10_000  # the oldest go first beyond this


class _Watch(Protocol):
    """hearth.db.postgres Watch: whether the NOTIFYs of the channel are heard now."""

    def live(self) -> bool: ...


class AuthRecords:
    def __init__(self, reads: RecordReader) -> None:
        self.reads = reads
        self._watch: _Watch | None = None  # on PostgreSQL, once started
        self._rows: RecentRecords[Any] = RecentRecords(MAX_ENTRIES)
        self._heard = 0  # moves with every change heard: a read begun before one is not kept

    async def start(self) -> None:
        watch: Callable[[str, Callable[[str | None], None]], Awaitable[_Watch]] | None = getattr(
            self.reads.db, "watch", None
        )
        if watch is not None:
            self._watch = await watch(AUTH_CHANNEL, self._notified)

    def _notified(self, payload: str | None) -> None:
        """A NOTIFY (`<collection id>:<record id>`, or `<collection id>:` for several), or None:
        listening stopped or began again."""
        self._heard += 1
        if payload is None:
            self._rows.clear()
            return
        cid, _, rid = payload.partition(":")
        self._rows.forget(cid, rid)

    def changed(self, c: Collection, rid: str) -> None:
        """This process changed the record (its commit is done): drop it now, before the NOTIFY
        comes back."""
        self._notified(f"{c.id}:{rid}")

    async def row(self, c: Collection, rid: str) -> Any:
        """The record's row as `RecordReader.find_row` reads it (None: no such record)."""
        watch = self._watch
        if watch is None or not watch.live():
            return await self.reads.find_row(c, rid)
        kept = self._rows.fresh(c, rid, MAX_AGE)
        if kept is not None:
            return kept
        began, heard = time.monotonic(), self._heard
        row = await self.reads.find_row(c, rid)
        if row is not None and heard == self._heard:
            self._rows.keep(c, rid, row, began)
        return row
