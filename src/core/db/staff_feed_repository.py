"""Staff members' calendar feed links (their tokens' digests) and what a feed lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import bookings, customers, services, staff, staff_feeds
from core.domain.booking import BookingStatus

# Bounds a feed whatever the salon: about three months of a busy chair.
MOST_VISITS = 2_000
SHOWN = (BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


@dataclass(frozen=True, slots=True)
class FeedRow:
    booking_id: int
    version: int
    start: datetime
    end: datetime
    service_key: str
    customer_name: str
    status: BookingStatus
    changed_at: datetime


class StaffFeedRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def staff_id(self, staff_key: str) -> int | None:
        found = await self._connection.scalar(select(staff.c.id).where(staff.c.key == staff_key))
        return None if found is None else int(found)

    async def replace(self, staff_id: int, digest: str, at: datetime, by: str) -> None:
        """``staff_id``'s link is now the one of ``digest`` (any other stops working)."""
        row = {"staff_id": staff_id, "token_digest": digest, "created_at": at, "created_by": by}
        statement = insert(staff_feeds).values(row)
        await self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[staff_feeds.c.staff_id],
                set_={k: statement.excluded[k] for k in row if k != "staff_id"},
            )
        )

    async def remove(self, staff_id: int) -> bool:
        """``staff_id``'s link stops working; whether there was one."""
        result = await self._connection.execute(
            staff_feeds.delete().where(staff_feeds.c.staff_id == staff_id)
        )
        return bool(result.rowcount)

    async def holder(self, digest: str) -> tuple[str, str] | None:
        """The staff key of the link whose token has ``digest``, with the stored digest."""
        found = (
            await self._connection.execute(
                select(staff.c.key, staff_feeds.c.token_digest)
                .join(staff, staff.c.id == staff_feeds.c.staff_id)
                .where(staff_feeds.c.token_digest == digest)
            )
        ).first()
        return None if found is None else (found.key, found.token_digest)

    async def visits(self, staff_key: str, since: datetime, until: datetime) -> list[FeedRow]:
        """``staff_key``'s shown bookings starting in ``since``..``until``, earliest first,
        at most ``MOST_VISITS``."""
        rows = await self._connection.execute(
            select(
                bookings.c.id,
                bookings.c.version,
                bookings.c.starts_at,
                bookings.c.ends_at,
                services.c.key.label("service_key"),
                customers.c.name.label("customer_name"),
                bookings.c.status,
                bookings.c.updated_at,
            )
            .join(staff, staff.c.id == bookings.c.staff_id)
            .join(services, services.c.id == bookings.c.service_id)
            .outerjoin(customers, customers.c.id == bookings.c.customer_id)
            .where(
                staff.c.key == staff_key,
                bookings.c.status.in_([s.value for s in SHOWN]),
                bookings.c.starts_at >= since,
                bookings.c.starts_at < until,
            )
            .order_by(bookings.c.starts_at, bookings.c.id)
            .limit(MOST_VISITS)
        )
        return [
            FeedRow(
                row.id,
                row.version,
                row.starts_at,
                row.ends_at,
                row.service_key,
                row.customer_name or "",
                BookingStatus(row.status),
                row.updated_at,
            )
            for row in rows
        ]
