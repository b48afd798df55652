"""`hearth serve` warns about PostgreSQL settings that work against Hearth (autovacuum off)."""

from __future__ import annotations

from tests.unit.test_pg_pool import db  # noqa: F401 - the fixture (one pooled connection)

from hearth.db.postgres import PostgresDatabase


async def test_autovacuum_off_is_warned_about_and_on_is_not(db: PostgresDatabase) -> None:  # noqa: F811 - the fixture
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
