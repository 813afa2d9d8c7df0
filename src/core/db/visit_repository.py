"""A customer's visits: the bookings of theirs that were made (a hold the customer let go
or let lapse in chat was never a visit), with their staff member's name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.db.tables import booking_events, bookings, services, staff
from core.domain.booking import BookingStatus


@dataclass(frozen=True, slots=True)
class StoredVisit:
    booking_id: int
    start: datetime
    service_key: str
    staff_name: str
    status: BookingStatus


class VisitRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def of_customer(self, customer_id: int, limit: int) -> list[StoredVisit]:
        """The customer's newest ``limit`` visits, newest first."""
        rows = await self._db.execute(
            select(
                bookings.c.id,
                bookings.c.starts_at,
                services.c.key.label("service_key"),
                staff.c.name.label("staff_name"),
                bookings.c.status,
            )
            .select_from(
                bookings.join(staff, staff.c.id == bookings.c.staff_id).join(
                    services, services.c.id == bookings.c.service_id
                )
            )
            .where(bookings.c.customer_id == customer_id, _made())
            .order_by(bookings.c.starts_at.desc(), bookings.c.id.desc())
            .limit(limit)
        )
        return [
            StoredVisit(
                int(row.id),
                row.starts_at,
                row.service_key,
                row.staff_name,
                BookingStatus(row.status),
            )
            for row in rows
        ]

    async def counts(self, customer_id: int) -> dict[BookingStatus, int]:
        """How many of all the customer's visits are in each status."""
        rows = await self._db.execute(
            select(bookings.c.status, func.count())
            .where(bookings.c.customer_id == customer_id, _made())
            .group_by(bookings.c.status)
        )
        return {BookingStatus(status): int(count) for status, count in rows}


def _made() -> ColumnElement[bool]:
    """The booking was made: booked in one step, or a hold confirmed."""
    return exists().where(
        booking_events.c.booking_id == bookings.c.id,
        booking_events.c.action.in_(("booked", "confirmed")),
    )
