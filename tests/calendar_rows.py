"""The ``calendar_syncs`` rows of tests: the calendars read back (the import keeps them in
step with the catalog; tests of the push channels put them in place themselves)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.tables import calendar_syncs, staff


async def read_back(engine: AsyncEngine, staff_key: str, calendar_id: str) -> None:
    """The staff member's calendar is read back: a ``calendar_syncs`` row, nothing synced."""
    async with engine.begin() as connection:
        staff_id = select(staff.c.id).where(staff.c.key == staff_key).scalar_subquery()
        await connection.execute(
            insert(calendar_syncs).values(staff_id=staff_id, calendar_id=calendar_id)
        )


async def sync_row(engine: AsyncEngine, staff_key: str) -> dict[str, Any]:
    """The staff member's ``calendar_syncs`` row, every column."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(calendar_syncs)
                .join(staff, staff.c.id == calendar_syncs.c.staff_id)
                .where(staff.c.key == staff_key)
            )
        ).one()
    return dict(row._mapping)


async def sync_not_wanted(engine: AsyncEngine) -> None:
    """As after the import's sync: no sync asked for."""
    async with engine.begin() as connection:
        await connection.execute(calendar_syncs.update().values(wanted_at=None))
