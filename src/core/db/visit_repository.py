"""A customer's visits: every booking of theirs, with its staff member's name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import bookings, services, staff
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

    async def of_customer(self, customer_id: int) -> list[StoredVisit]:
        """All of the customer's bookings, newest first (lapsed holds included: they are
        cancelled bookings as the database keeps them)."""
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
            .where(bookings.c.customer_id == customer_id)
            .order_by(bookings.c.starts_at.desc(), bookings.c.id.desc())
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
