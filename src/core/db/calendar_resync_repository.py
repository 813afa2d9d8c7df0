"""What ``salonbot google resync`` reads besides the calendars' rows: a staff member's
bookings to push again, and how those pushes went (``calendar_pushes``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import bookings, calendar_pushes
from core.domain.booking import BookingStatus


@dataclass(frozen=True, slots=True)
class PushState:
    done: bool
    parked: bool
    last_error: str | None


class CalendarResyncRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def upcoming_bookings(self, staff_id: int, now: datetime) -> list[int]:
        """The staff member's confirmed bookings not over yet, soonest first."""
        found = await self._db.scalars(
            select(bookings.c.id)
            .where(
                bookings.c.staff_id == staff_id,
                bookings.c.status == BookingStatus.CONFIRMED.value,
                bookings.c.ends_at > now,
            )
            .order_by(bookings.c.starts_at, bookings.c.id)
        )
        return [int(booking_id) for booking_id in found]

    async def push_states(self, push_ids: Collection[int]) -> dict[int, PushState]:
        rows = await self._db.execute(
            select(
                calendar_pushes.c.id,
                calendar_pushes.c.done_at,
                calendar_pushes.c.parked_at,
                calendar_pushes.c.last_error,
            ).where(calendar_pushes.c.id.in_(list(push_ids)))
        )
        return {
            int(row.id): PushState(
                row.done_at is not None, row.parked_at is not None, row.last_error
            )
            for row in rows
        }
