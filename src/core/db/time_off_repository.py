"""Staff time off: dated absences added by staff, outside the catalog file."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.blocking import blocks_time
from core.db.tables import bookings, time_off
from core.domain.timeline import Interval


class TimeOffRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add(
        self, staff_id: int, span: Interval, reason: str, created_by: str, at: datetime
    ) -> int:
        result = await self._db.execute(
            time_off.insert()
            .values(
                staff_id=staff_id,
                starts_at=span.start,
                ends_at=span.end,
                reason=reason,
                created_by=created_by,
                created_at=at,
            )
            .returning(time_off.c.id)
        )
        return int(result.scalar_one())

    async def clashing_bookings(self, staff_id: int, span: Interval, now: datetime) -> list[int]:
        """Active bookings (unexpired holds included) whose blocked time meets ``span``."""
        rows = await self._db.execute(
            select(bookings.c.id)
            .where(
                bookings.c.staff_id == staff_id,
                blocks_time(now),
                bookings.c.blocked_from < span.end,
                bookings.c.blocked_until > span.start,
            )
            .order_by(bookings.c.starts_at)
        )
        return list(rows.scalars())
