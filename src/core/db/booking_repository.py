"""Bookings, their history, and the staff-row locks that serialize taking time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import RowMapping, ScalarSelect, and_, func, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.blocking import blocks_time
from core.db.tables import (
    REQUEST_KEY_INDEX,
    SLOT_TAKEN_CONSTRAINT,
    booking_events,
    bookings,
    calendar_busy,
    services,
    staff,
    time_off,
)
from core.domain.availability import Slot
from core.domain.booking import Actor, Booking, BookingStatus
from core.domain.timeline import Interval


class SlotConflict(Exception):
    """The database refused the row: the exclusion constraint found overlapping time."""


class RequestKeyUsed(Exception):
    """The database refused the row: another booking was made with its request key."""


def _violates(error: IntegrityError, constraint: str) -> bool:
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None) or getattr(error.orig, "constraint_name", None)
    return name == constraint or constraint in str(error.orig)


def _is_slot_conflict(error: IntegrityError) -> bool:
    return _violates(error, SLOT_TAKEN_CONSTRAINT)


@dataclass(frozen=True, slots=True)
class NewBooking:
    customer_id: int | None
    service_key: str
    slot: Slot
    status: BookingStatus
    price: Decimal
    hold_expires_at: datetime | None
    request_key: str | None = None


@dataclass(frozen=True, slots=True)
class MadeWithKey:
    """The booking a request key made, as it is now, and the start and staff member it
    was made with (a move since changes the booking, not the request that made it)."""

    booking: Booking
    start: datetime
    staff_key: str


_BOOKING_COLUMNS = (
    bookings.c.id,
    bookings.c.customer_id,
    services.c.key.label("service_key"),
    staff.c.key.label("staff_key"),
    bookings.c.starts_at,
    bookings.c.ends_at,
    bookings.c.status,
    bookings.c.hold_expires_at,
    bookings.c.customer_confirmed_at,
    bookings.c.version,
)
_BOOKING_FROM = bookings.join(services, bookings.c.service_id == services.c.id).join(
    staff, bookings.c.staff_id == staff.c.id
)


def _booking(m: RowMapping) -> Booking:
    return Booking(
        id=m["id"],
        customer_id=m["customer_id"],
        service_key=m["service_key"],
        staff_key=m["staff_key"],
        start=m["starts_at"],
        end=m["ends_at"],
        status=BookingStatus(m["status"]),
        hold_expires_at=m["hold_expires_at"],
        customer_confirmed_at=m["customer_confirmed_at"],
        version=m["version"],
    )


def _staff_id(key: str) -> ScalarSelect[int]:
    return select(staff.c.id).where(staff.c.key == key).scalar_subquery()


class BookingRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    @property
    def connection(self) -> AsyncConnection:
        """The connection (and transaction) this repository works in."""
        return self._db

    async def lock_staff(self, keys: Iterable[str]) -> dict[str, int]:
        """Lock the active staff rows (in id order, so lockers never deadlock); key -> id.

        ``FOR NO KEY UPDATE``, like every row lock of this repository: it serializes the
        writers of a staff member's (or a booking's) time all the same, and leaves alone
        what only refers to the row (an insert of a row whose foreign key names it takes
        ``FOR KEY SHARE``): a notice queued about a booking never waits for, or deadlocks
        with, a change of that booking.
        """
        rows = await self._db.execute(
            select(staff.c.key, staff.c.id)
            .where(staff.c.key.in_(sorted(set(keys))), staff.c.active)
            .order_by(staff.c.id)
            .with_for_update(key_share=True)
        )
        return {row.key: row.id for row in rows}

    async def get(self, booking_id: int, *, for_update: bool = False) -> Booking | None:
        """The booking; ``for_update``: its row locked first, then read as committed.

        Locked alone, then read: a joined read ``FOR UPDATE`` that waited for a change of
        the booking's staff member re-checks the new row against the staff row it had
        joined before, and would find no booking at all.
        """
        if for_update:
            locked = await self._db.execute(
                select(bookings.c.id)
                .where(bookings.c.id == booking_id)
                .with_for_update(key_share=True)
            )
            if locked.first() is None:
                return None
        query = (
            select(*_BOOKING_COLUMNS).select_from(_BOOKING_FROM).where(bookings.c.id == booking_id)
        )
        row = (await self._db.execute(query)).first()
        return None if row is None else _booking(row._mapping)

    async def upcoming_for(self, customer_id: int, now: datetime) -> list[Booking]:
        """The customer's confirmed visits that have not started yet, soonest first."""
        rows = await self._db.execute(
            select(*_BOOKING_COLUMNS)
            .select_from(_BOOKING_FROM)
            .where(
                bookings.c.customer_id == customer_id,
                bookings.c.status == BookingStatus.CONFIRMED.value,
                bookings.c.starts_at > now,
            )
            .order_by(bookings.c.starts_at, bookings.c.id)
        )
        return [_booking(row._mapping) for row in rows]

    async def lock_ended(self, now: datetime, limit: int) -> list[Booking]:
        """Lock up to ``limit`` confirmed bookings whose visit has ended, earliest end
        first, skipping rows another session holds."""
        rows = await self._db.execute(
            select(*_BOOKING_COLUMNS)
            .select_from(_BOOKING_FROM)
            .where(
                bookings.c.status == BookingStatus.CONFIRMED.value,
                bookings.c.ends_at <= now,
            )
            .order_by(bookings.c.ends_at, bookings.c.id)
            .limit(limit)
            .with_for_update(of=bookings, skip_locked=True, key_share=True)
        )
        return [_booking(row._mapping) for row in rows]

    async def add(self, new: NewBooking, staff_id: int, at: datetime) -> int:
        """Insert the booking; raise ``SlotConflict`` if the constraint refuses it.

        The insert runs in a savepoint so the transaction stays usable after a conflict.
        """
        service_id = (
            select(services.c.id).where(services.c.key == new.service_key).scalar_subquery()
        )
        values = {
            "customer_id": new.customer_id,
            "service_id": service_id,
            "staff_id": staff_id,
            "starts_at": new.slot.start,
            "ends_at": new.slot.end,
            "blocked_from": new.slot.blocked.start,
            "blocked_until": new.slot.blocked.end,
            "status": new.status.value,
            "hold_expires_at": new.hold_expires_at,
            "price": new.price,
            "request_key": new.request_key,
            "created_at": at,
            "updated_at": at,
        }
        try:
            async with self._db.begin_nested():
                result = await self._db.execute(
                    bookings.insert().values(values).returning(bookings.c.id)
                )
                return int(result.scalar_one())
        except IntegrityError as error:
            if _is_slot_conflict(error):
                raise SlotConflict(str(error.orig)) from error
            if _violates(error, REQUEST_KEY_INDEX):
                raise RequestKeyUsed(new.request_key) from error
            raise

    async def made_with(self, request_key: str) -> MadeWithKey | None:
        """The booking made with ``request_key``, if one was (committed, or made earlier
        in this transaction)."""
        found = await self._db.execute(
            select(bookings.c.id).where(bookings.c.request_key == request_key)
        )
        booking_id = found.scalar_one_or_none()
        booking = None if booking_id is None else await self.get(booking_id)
        if booking is None:
            return None
        made_staff = staff.alias("made_staff")
        first = (
            await self._db.execute(
                select(booking_events.c.to_starts_at, made_staff.c.key)
                .select_from(
                    booking_events.join(made_staff, booking_events.c.to_staff_id == made_staff.c.id)
                )
                .where(booking_events.c.booking_id == booking.id)
                .order_by(booking_events.c.id)
                .limit(1)
            )
        ).first()
        if first is None or first.to_starts_at is None:
            return MadeWithKey(booking, booking.start, booking.staff_key)
        return MadeWithKey(booking, first.to_starts_at, first.key)

    async def move(self, booking_id: int, slot: Slot, staff_id: int, at: datetime) -> int:
        """Give the booking new time (and maybe staff); its id, or ``SlotConflict`` if refused."""
        try:
            async with self._db.begin_nested():
                await self._db.execute(
                    update(bookings)
                    .where(bookings.c.id == booking_id)
                    .values(
                        staff_id=staff_id,
                        starts_at=slot.start,
                        ends_at=slot.end,
                        blocked_from=slot.blocked.start,
                        blocked_until=slot.blocked.end,
                        updated_at=at,
                        # The customer confirmed the old time, not this one.
                        customer_confirmed_at=None,
                        version=bookings.c.version + 1,
                    )
                )
            return booking_id
        except IntegrityError as error:
            if _is_slot_conflict(error):
                raise SlotConflict(str(error.orig)) from error
            raise

    async def set_status(
        self,
        booking_id: int,
        status: BookingStatus,
        at: datetime,
        hold_expires_at: datetime | None = None,
    ) -> None:
        await self._db.execute(
            update(bookings)
            .where(bookings.c.id == booking_id)
            .values(status=status.value, updated_at=at, hold_expires_at=hold_expires_at)
        )

    async def confirm_attendance(self, booking_id: int, at: datetime) -> None:
        """Note that the customer said they are coming; the status is unchanged."""
        await self._db.execute(
            update(bookings)
            .where(bookings.c.id == booking_id)
            .values(customer_confirmed_at=at, updated_at=at)
        )

    async def expire_holds(self, staff_ids: Sequence[int] | None, now: datetime) -> list[Booking]:
        """Cancel the lapsed holds of these staff (None: everyone's); returns them as they were."""
        scope = [] if staff_ids is None else [bookings.c.staff_id.in_(list(staff_ids))]
        expired = (
            (
                await self._db.execute(
                    update(bookings)
                    .where(
                        *scope,
                        bookings.c.status == BookingStatus.HELD.value,
                        bookings.c.hold_expires_at <= now,
                    )
                    .values(status=BookingStatus.CANCELLED.value, updated_at=now)
                    .returning(bookings.c.id)
                )
            )
            .scalars()
            .all()
        )
        if not expired:
            return []
        rows = await self._db.execute(
            select(*_BOOKING_COLUMNS).select_from(_BOOKING_FROM).where(bookings.c.id.in_(expired))
        )
        return [replace(_booking(row._mapping), status=BookingStatus.HELD) for row in rows]

    async def busy(
        self,
        staff_ids: Sequence[int],
        window: Interval,
        now: datetime,
        *,
        ignore: int | None = None,
    ) -> dict[int, list[Interval]]:
        """Taken time per staff id in ``window``: active bookings, unexpired holds, time off
        and the busy time read from their linked calendars (``calendar_busy``), in one
        round trip. The locked re-check of every booking reads it too, so an event read
        from a staff member's calendar blocks a slot as a booking does."""
        taken: dict[int, list[Interval]] = {staff_id: [] for staff_id in staff_ids}
        conditions = [
            bookings.c.staff_id.in_(list(staff_ids)),
            blocks_time(now),
            bookings.c.blocked_from < window.end,
            bookings.c.blocked_until > window.start,
        ]
        if ignore is not None:
            conditions.append(bookings.c.id != ignore)
        booked = select(
            bookings.c.staff_id, bookings.c.blocked_from.label("start"), bookings.c.blocked_until
        ).where(and_(*conditions))
        absent = select(time_off.c.staff_id, time_off.c.starts_at, time_off.c.ends_at).where(
            time_off.c.staff_id.in_(list(staff_ids)),
            time_off.c.starts_at < window.end,
            time_off.c.ends_at > window.start,
        )
        imported = select(
            calendar_busy.c.staff_id, calendar_busy.c.starts_at, calendar_busy.c.ends_at
        ).where(
            calendar_busy.c.staff_id.in_(list(staff_ids)),
            calendar_busy.c.starts_at < window.end,
            calendar_busy.c.ends_at > window.start,
        )
        for staff_id, start, end in await self._db.execute(union_all(booked, absent, imported)):
            taken[staff_id].append(Interval(start, end))
        return taken

    async def active_count_between(
        self, staff_ids: Sequence[int], start: datetime, end: datetime, now: datetime
    ) -> dict[int, int]:
        """Active bookings per staff id starting in ``[start, end)`` (the "least booked" rule)."""
        rows = await self._db.execute(
            select(bookings.c.staff_id, func.count())
            .where(
                bookings.c.staff_id.in_(list(staff_ids)),
                blocks_time(now),
                bookings.c.starts_at >= start,
                bookings.c.starts_at < end,
            )
            .group_by(bookings.c.staff_id)
        )
        counts = {staff_id: 0 for staff_id in staff_ids}
        counts.update({row[0]: row[1] for row in rows})
        return counts

    async def record(
        self,
        booking_id: int,
        actor: Actor,
        action: str,
        at: datetime,
        *,
        before: Booking | None = None,
        after: Booking | None = None,
        note: str = "",
    ) -> None:
        """Append one history line: who did what, when, from which state to which."""
        await self._db.execute(
            booking_events.insert().values(
                booking_id=booking_id,
                at=at,
                actor_kind=actor.kind.value,
                actor_ref=actor.ref,
                action=action,
                from_status=before.status.value if before else None,
                to_status=after.status.value if after else None,
                from_staff_id=_staff_id(before.staff_key) if before else None,
                to_staff_id=_staff_id(after.staff_key) if after else None,
                from_starts_at=before.start if before else None,
                to_starts_at=after.start if after else None,
                note=note,
            )
        )

    async def history(self, booking_id: int) -> list[dict[str, object]]:
        rows = await self._db.execute(
            select(booking_events)
            .where(booking_events.c.booking_id == booking_id)
            .order_by(booking_events.c.id)
        )
        return [dict(row._mapping) for row in rows]

    async def staff_ids(self, keys: Sequence[str]) -> dict[str, int]:
        """Active and inactive staff ids by key (no lock)."""
        if not keys:
            return {}
        rows = await self._db.execute(select(staff.c.key, staff.c.id).where(staff.c.key.in_(keys)))
        return {row.key: row.id for row in rows}
