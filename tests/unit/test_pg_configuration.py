"""`hearth serve` warns about PostgreSQL settings that work against Hearth (autovacuum off)."""

from __future__ import annotations

import pytest

from hearth.db.postgres import PostgresDatabase


@pytest.fixture
async def db(pg_database: str | None) -> PostgresDatabase:
    if pg_database is None:
        pytest.skip("PostgreSQL not reachable (set HEARTH_REQUIRE_PG=1 to make this an error)")
    return await PostgresDatabase.connect(pg_database, min_size=1, max_size=1)


async def test_autovacuum_off_is_warned_about_and_on_is_not(db: PostgresDatabase) -> None:
    try:
        row = await db.fetch_one(
            "SELECT current_setting('autovacuum') = 'on' AND current_setting('track_counts') = 'on'"
        )
        assert row is not None
        warnings = await db.configuration_warnings()
        if row[0]:
            assert warnings == []
        else:
            assert len(warnings) == 1 and "autovacuum is off" in warnings[0] and "VACUUM" in warnings[0]
    finally:
        await db.close()
