"""Staff agendas as scheduled notices: one row per staff member and local day, claimed once.

The row's unique key (staff, kind ``agenda``, the day's first instant) is the claim: the
runner whose insert wins queues the agenda, in the same transaction; any other runner's
insert waits for it and then does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import scheduled_notices

AGENDA = "agenda"


class AgendaRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def claimed(self, staff_ids: Iterable[int], day_start: datetime) -> set[int]:
        """Which of these staff members' agendas of the day were claimed already."""
        wanted = sorted(set(staff_ids))
        if not wanted:
            return set()
        rows = await self._db.execute(
            select(scheduled_notices.c.staff_id).where(
                scheduled_notices.c.kind == AGENDA,
                scheduled_notices.c.occasion == day_start,
                scheduled_notices.c.staff_id.in_(wanted),
            )
        )
        return {int(staff_id) for staff_id in rows.scalars()}

    async def claim(
        self, staff_id: int, day_start: datetime, due_at: datetime, at: datetime
    ) -> int | None:
        """The new row's id if this transaction claimed the agenda, else None."""
        inserted = await self._db.execute(
            insert(scheduled_notices)
            .values(
                kind=AGENDA,
                staff_id=staff_id,
                occasion=day_start,
                due_at=due_at,
                created_at=at,
            )
            .on_conflict_do_nothing(
                index_elements=["staff_id", "kind", "occasion"],
                index_where=text("staff_id IS NOT NULL"),
            )
            .returning(scheduled_notices.c.id)
        )
        notice_id = inserted.scalar_one_or_none()
        return None if notice_id is None else int(notice_id)

    async def queued(self, notice_id: int, outbox_id: int, at: datetime) -> None:
        await self._decide(notice_id, at, status="queued", outbox_id=outbox_id)

    async def skipped(self, notice_id: int, note: str, at: datetime) -> None:
        await self._decide(notice_id, at, status="skipped", note=note)

    async def _decide(self, notice_id: int, at: datetime, **values: object) -> None:
        await self._db.execute(
            update(scheduled_notices)
            .where(scheduled_notices.c.id == notice_id)
            .values(decided_at=at, **values)
        )
