"""Records a process read a moment ago, kept to spare a round trip (PostgreSQL).

Shared by the auth records of tokens (hearth.records.auth_cache) and the records that showed a
public file (hearth.records.downloads); each owner decides when an entry must go. Here: an entry
is for one Collection object (a schema change makes new ones, so a row of the old columns is
never used), it is used for `max_age` seconds at most, and beyond `limit` entries the one read
longest ago goes first.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

from hearth.schema.collection import Collection

V = TypeVar("V")


class RecentRecords(dict[tuple[str, str], tuple[Collection, float, V]], Generic[V]):
    """(collection id, record id) -> (the collection object, monotonic time of the read, value)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def fresh(self, c: Collection, rid: str, max_age: float) -> V | None:
        """What was kept for `rid` of `c`, if read less than `max_age` seconds ago."""
        kept = self.get((c.id, rid))
        if kept is None or kept[0] is not c or time.monotonic() - kept[1] >= max_age:
            return None
        return kept[2]

    def keep(self, c: Collection, rid: str, value: V, read_at: float | None = None) -> None:
        """Keep `value`, read at `read_at` (monotonic; now by default)."""
        key = (c.id, rid)
        self.pop(key, None)  # re-inserted last: the dict stays in order of reads
        self[key] = (c, time.monotonic() if read_at is None else read_at, value)
        if len(self) > self.limit:
            del self[next(iter(self))]

    def forget(self, cid: str, rid: str = "") -> None:
        """Drop record `rid` of collection `cid`, or every record of it when `rid` is ""."""
        if rid:
            self.pop((cid, rid), None)
            return
        for key in [k for k in self if k[0] == cid]:
            del self[key]
