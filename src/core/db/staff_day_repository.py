"""A staff member's day as they see it: the visits booked with them, with who comes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.conversation.staff_texts import AgendaEntry, Visitor
from core.db.tables import bookings, customers, services
from core.domain.booking import BookingStatus
from core.domain.timeline import Interval

# Held slots are not bookings yet and cancelled ones are no visits.
_ON_THE_DAY = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


class StaffDayRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def visits(self, staff_id: int, span: Interval) -> list[AgendaEntry]:
        """The staff member's visits starting in ``span``, in time order."""
        rows = await self._db.execute(
            select(
                bookings.c.starts_at,
                services.c.key,
                bookings.c.status,
                bookings.c.customer_confirmed_at,
                customers.c.name,
                customers.c.phone,
                bookings.c.customer_id,
            )
            .select_from(
                bookings.join(services, bookings.c.service_id == services.c.id).outerjoin(
                    customers, bookings.c.customer_id == customers.c.id
                )
            )
            .where(
                bookings.c.staff_id == staff_id,
                bookings.c.status.in_([s.value for s in _ON_THE_DAY]),
                bookings.c.starts_at >= span.start,
                bookings.c.starts_at < span.end,
            )
            .order_by(bookings.c.starts_at, bookings.c.id)
        )
        return [
            AgendaEntry(
                start=row.starts_at,
                service_key=row.key,
                visitor=Visitor(row.name or "", row.phone or ""),
                status=BookingStatus(row.status),
                customer_confirmed=row.customer_confirmed_at is not None,
                customer_id=row.customer_id,
            )
            for row in rows
        ]
