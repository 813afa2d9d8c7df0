"""One booking as its staff page shows it: the booking, its customer and its history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.calendar.desk import CustomerCard, HistoryLine
from core.db.tables import booking_events, bookings, customers, services, staff
from core.domain.booking import ActorKind, BookingStatus


@dataclass(frozen=True, slots=True)
class StoredBooking:
    id: int
    version: int
    start: datetime
    end: datetime
    service_key: str
    staff_key: str
    staff_name: str
    status: BookingStatus
    customer_confirmed: bool
    customer: CustomerCard | None


class BookingDetailRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def booking(self, booking_id: int) -> StoredBooking | None:
        row = (
            await self._db.execute(
                select(
                    bookings.c.id,
                    bookings.c.version,
                    bookings.c.starts_at,
                    bookings.c.ends_at,
                    services.c.key.label("service_key"),
                    staff.c.key.label("staff_key"),
                    staff.c.name.label("staff_name"),
                    bookings.c.status,
                    bookings.c.customer_confirmed_at,
                    customers.c.id.label("customer_id"),
                    customers.c.name.label("customer_name"),
                    customers.c.phone,
                    customers.c.channel,
                    customers.c.language,
                )
                .select_from(
                    bookings.join(staff, staff.c.id == bookings.c.staff_id)
                    .join(services, services.c.id == bookings.c.service_id)
                    .outerjoin(customers, customers.c.id == bookings.c.customer_id)
                )
                .where(bookings.c.id == booking_id)
            )
        ).first()
        if row is None:
            return None
        customer = (
            None
            if row.customer_id is None
            else CustomerCard(
                int(row.customer_id),
                row.customer_name,
                row.phone or "",
                row.channel or "",
                row.language,
            )
        )
        return StoredBooking(
            id=int(row.id),
            version=row.version,
            start=row.starts_at,
            end=row.ends_at,
            service_key=row.service_key,
            staff_key=row.staff_key,
            staff_name=row.staff_name,
            status=BookingStatus(row.status),
            customer_confirmed=row.customer_confirmed_at is not None,
            customer=customer,
        )

    async def history(self, booking_id: int) -> list[HistoryLine]:
        """Its recorded changes, oldest first. The actor is a staff user's email (or a
        staff key, for changes made from a staff chat), "customer" or "system"."""
        rows = await self._db.execute(
            select(
                booking_events.c.at,
                booking_events.c.action,
                booking_events.c.actor_kind,
                booking_events.c.actor_ref,
                booking_events.c.note,
            )
            .where(booking_events.c.booking_id == booking_id)
            .order_by(booking_events.c.at, booking_events.c.id)
        )
        return [
            HistoryLine(
                row.at,
                row.action,
                row.actor_ref
                if row.actor_kind == ActorKind.STAFF.value and row.actor_ref
                else row.actor_kind,
                row.note or "",
            )
            for row in rows
        ]
