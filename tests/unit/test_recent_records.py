"""hearth.records.recent: what a process keeps of records it read a moment ago."""

from __future__ import annotations

import time

from hearth.records.recent import RecentRecords
from hearth.schema.collection import Collection


def test_an_entry_is_used_for_its_collection_object_and_its_age_only() -> None:
    c, renamed = Collection(id="c1", name="posts"), Collection(id="c1", name="articles")
    kept: RecentRecords[str] = RecentRecords(10)
    kept.keep(c, "r1", "row")
    assert kept.fresh(c, "r1", 1.0) == "row"
    assert kept.fresh(renamed, "r1", 1.0) is None  # a schema change: the old columns are not used
    kept.keep(c, "r2", "old", read_at=time.monotonic() - 5)
    assert kept.fresh(c, "r2", 1.0) is None
    kept.forget("c1", "r1")
    assert kept.fresh(c, "r1", 1.0) is None and ("c1", "r2") in kept
    kept.forget("c1")
    assert kept == {}


def test_beyond_the_limit_the_entry_read_longest_ago_goes_first() -> None:
    c = Collection(id="c1", name="posts")
    kept: RecentRecords[int] = RecentRecords(2)
    kept.keep(c, "a", 1)
    kept.keep(c, "b", 2)
    kept.keep(c, "a", 3)  # read again: now the newest
    kept.keep(c, "c", 4)
    assert sorted(k[1] for k in kept) == ["a", "c"]
