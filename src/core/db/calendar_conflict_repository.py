"""Where confirmed bookings and the busy time read from their staff members' own calendars
(``calendar_busy``) overlap: the conflicts ``core.services.calendar_conflicts`` tells."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.db.blocking import blocks_time
from core.db.tables import bookings, calendar_busy
from core.domain.booking import BookingStatus
from core.domain.timeline import Interval


@dataclass(frozen=True, slots=True)
class Overlap:
    """A booking that a busy event overlaps."""

    booking_id: int
    event_id: str
    booking: Interval


class CalendarConflictRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def of_events(
        self, staff_id: int, event_ids: Collection[str] | None, now: datetime
    ) -> list[Overlap]:
        """The staff member's confirmed bookings not over yet that these busy events
        (None: every one of theirs) overlap."""
        if event_ids is not None and not event_ids:
            return []
        where = calendar_busy.c.staff_id == staff_id
        if event_ids is not None:
            where = and_(where, calendar_busy.c.event_id.in_(list(event_ids)))
        return await self._overlaps(where, now)

    async def of_booking(self, booking_id: int, now: datetime) -> list[Overlap]:
        """The busy events of its staff member that the booking overlaps, when it is
        confirmed and not over yet."""
        return await self._overlaps(bookings.c.id == booking_id, now)

    async def _overlaps(self, where: ColumnElement[bool], now: datetime) -> list[Overlap]:
        # The visit itself, not its buffers: a busy event in a buffer is no conflict.
        rows = await self._db.execute(
            select(
                bookings.c.id, calendar_busy.c.event_id, bookings.c.starts_at, bookings.c.ends_at
            )
            .join(
                calendar_busy,
                and_(
                    calendar_busy.c.staff_id == bookings.c.staff_id,
                    calendar_busy.c.starts_at < bookings.c.ends_at,
                    calendar_busy.c.ends_at > bookings.c.starts_at,
                ),
            )
            .where(
                where,
                blocks_time(now),
                bookings.c.status != BookingStatus.HELD.value,
                bookings.c.ends_at > now,
            )
            .order_by(bookings.c.starts_at, bookings.c.id, calendar_busy.c.event_id)
        )
        return [
            Overlap(int(row.id), str(row.event_id), Interval(row.starts_at, row.ends_at))
            for row in rows
        ]
