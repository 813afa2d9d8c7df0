"""Staff time off: dated absences added by staff, outside the catalog file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.blocking import blocks_time
from core.db.tables import bookings, staff, time_off
from core.domain.timeline import Interval


@dataclass(frozen=True, slots=True)
class StoredTimeOff:
    id: int
    staff_key: str
    span: Interval
    reason: str


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

    async def overlapping(self, staff_key: str, span: Interval) -> list[StoredTimeOff]:
        """``staff_key``'s time off sharing time with ``span``, in time order."""
        rows = await self._db.execute(
            self._stored()
            .where(
                staff.c.key == staff_key,
                time_off.c.starts_at < span.end,
                time_off.c.ends_at > span.start,
            )
            .order_by(time_off.c.starts_at, time_off.c.id)
        )
        return [_stored(row) for row in rows]

    async def get(self, time_off_id: int) -> StoredTimeOff | None:
        row = (await self._db.execute(self._stored().where(time_off.c.id == time_off_id))).first()
        return None if row is None else _stored(row)

    async def remove(self, time_off_id: int) -> bool:
        """Delete it; whether it was there."""
        result = await self._db.execute(
            delete(time_off).where(time_off.c.id == time_off_id).returning(time_off.c.id)
        )
        return result.first() is not None

    @staticmethod
    def _stored() -> Select[Any]:
        return select(
            time_off.c.id,
            staff.c.key,
            time_off.c.starts_at,
            time_off.c.ends_at,
            time_off.c.reason,
        ).select_from(time_off.join(staff, staff.c.id == time_off.c.staff_id))


def _stored(row: Row[Any]) -> StoredTimeOff:
    return StoredTimeOff(
        int(row.id), row.key, Interval(row.starts_at, row.ends_at), row.reason or ""
    )
