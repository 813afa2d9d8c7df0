"""Migrations: the stairway (up, down, up for every revision) and schema drift."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from core.db.tables import metadata
from salonbot.database import asyncpg_url
from salonbot.migrate import alembic_config, downgrade, upgrade


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def _inspect(url: str, probe: Callable[[Connection], object]) -> object:
    async def run() -> object:
        engine = create_async_engine(asyncpg_url(url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(probe)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _diff(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


def test_every_revision_upgrades_downgrades_and_upgrades_again(fresh_database) -> None:  # type: ignore[no-untyped-def]
    url = fresh_database()
    revisions = _revisions()
    assert revisions, "no migrations found"
    previous = "base"
    for revision in revisions:
        upgrade(url, revision)
        downgrade(url, previous)
        upgrade(url, revision)
        previous = revision
    assert _inspect(url, _tables) == set(metadata.tables)
    downgrade(url, "base")
    assert _inspect(url, _tables) == set()


def test_the_migrated_schema_matches_the_tables_in_code(database_url: str) -> None:
    assert _inspect(database_url, _diff) == []


def test_upgrading_an_up_to_date_database_changes_nothing(database_url: str) -> None:
    upgrade(database_url)
    assert _inspect(database_url, _diff) == []


def _exclusion(connection: Connection) -> object:
    return connection.exec_driver_sql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conname = 'ex_bookings_staff_blocked'"
    ).scalar_one()


def test_the_double_booking_constraint_is_in_the_schema(database_url: str) -> None:
    # Alembic's comparison does not see exclusion constraints, so check it by hand.
    definition = str(_inspect(database_url, _exclusion))
    assert definition.startswith("EXCLUDE USING gist")
    assert "int8range(staff_id, staff_id, '[]'::text) WITH &&" in definition
    assert "tstzrange(blocked_from, blocked_until, '[)'::text) WITH &&" in definition
    assert "WHERE ((status = ANY (ARRAY['held'::text, 'confirmed'::text])))" in definition
