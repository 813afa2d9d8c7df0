"""What sits on the staff calendar's grid: bookings and time off, read in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, Text, and_, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import bookings, customers, services, staff, time_off
from core.domain.booking import BookingStatus
from core.domain.timeline import Interval

# Cancelled bookings are no visits; a lapsed hold (swept or not) holds nothing.
_SHOWN = (
    BookingStatus.HELD,
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
)
_BOOKING, _TIME_OFF = "booking", "time_off"


@dataclass(frozen=True, slots=True)
class GridBooking:
    staff_key: str
    id: int
    version: int
    start: datetime
    end: datetime
    service_key: str
    status: BookingStatus
    customer_name: str
    customer_phone: str
    channel: str  # "" for a customer staff added by hand, or no customer
    customer_confirmed: bool


@dataclass(frozen=True, slots=True)
class GridTimeOff:
    staff_key: str
    span: Interval
    reason: str


@dataclass(frozen=True, slots=True)
class OnTheGrid:
    """Everything found, each list in time order."""

    bookings: tuple[GridBooking, ...] = ()
    time_off: tuple[GridTimeOff, ...] = ()

    def time_off_of(self, staff_key: str) -> list[GridTimeOff]:
        return [t for t in self.time_off if t.staff_key == staff_key]


class CalendarRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def on_the_grid(
        self, staff_keys: Sequence[str], reach: Interval, now: datetime
    ) -> OnTheGrid:
        """The bookings (held until their hold lapses at ``now``, confirmed, completed, no
        show) and time off of these staff members that share time with ``reach``.

        One statement whatever the number of staff members or days.
        """
        keys = sorted(set(staff_keys))
        if not keys:
            return OnTheGrid()
        booked = (
            select(
                literal(_BOOKING).label("kind"),
                staff.c.key.label("staff_key"),
                bookings.c.id,
                bookings.c.version,
                bookings.c.starts_at,
                bookings.c.ends_at,
                services.c.key.label("service_key"),
                bookings.c.status,
                customers.c.name,
                customers.c.phone,
                customers.c.channel,
                (bookings.c.customer_confirmed_at.is_not(None)).label("confirmed"),
            )
            .select_from(
                bookings.join(staff, staff.c.id == bookings.c.staff_id)
                .join(services, services.c.id == bookings.c.service_id)
                .outerjoin(customers, customers.c.id == bookings.c.customer_id)
            )
            .where(
                staff.c.key.in_(keys),
                bookings.c.status.in_([status.value for status in _SHOWN]),
                or_(
                    bookings.c.status != BookingStatus.HELD.value,
                    bookings.c.hold_expires_at > now,
                ),
                # blocked_from <= starts_at: the redundant bound lets the staff index serve.
                bookings.c.blocked_from < reach.end,
                and_(bookings.c.starts_at < reach.end, bookings.c.ends_at > reach.start),
            )
        )
        absent = (
            select(
                literal(_TIME_OFF).label("kind"),
                staff.c.key.label("staff_key"),
                time_off.c.id,
                null().cast(Integer).label("version"),
                time_off.c.starts_at,
                time_off.c.ends_at,
                null().cast(Text).label("service_key"),
                null().cast(Text).label("status"),
                time_off.c.reason.label("name"),
                null().cast(Text).label("phone"),
                null().cast(Text).label("channel"),
                literal(False).label("confirmed"),
            )
            .select_from(time_off.join(staff, staff.c.id == time_off.c.staff_id))
            .where(
                staff.c.key.in_(keys),
                time_off.c.starts_at < reach.end,
                time_off.c.ends_at > reach.start,
            )
        )
        found = union_all(booked, absent).subquery()
        rows = await self._db.execute(
            select(found).order_by(found.c.starts_at, found.c.kind, found.c.id)
        )
        grid_bookings: list[GridBooking] = []
        grid_time_off: list[GridTimeOff] = []
        for row in rows:
            if row.kind == _TIME_OFF:
                span = Interval(row.starts_at, row.ends_at)
                grid_time_off.append(GridTimeOff(row.staff_key, span, row.name or ""))
                continue
            grid_bookings.append(
                GridBooking(
                    staff_key=row.staff_key,
                    id=row.id,
                    version=row.version,
                    start=row.starts_at,
                    end=row.ends_at,
                    service_key=row.service_key,
                    status=BookingStatus(row.status),
                    customer_name=row.name or "",
                    customer_phone=row.phone or "",
                    channel=row.channel or "",
                    customer_confirmed=bool(row.confirmed),
                )
            )
        return OnTheGrid(tuple(grid_bookings), tuple(grid_time_off))
