"""An in-memory desk: the conversation's port, with the booking rules of the domain.

It keeps bookings in a list and answers from the same pure functions the real use cases
use (``free_slots``, ``find_slot``, ``nearest``), so the flows can be tested without a
database. ``take_elsewhere`` plays another customer booking a slot meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from core.domain.availability import Slot, SlotQuery, find_slot, free_slots, local_day, nearest
from core.domain.booking import Booking, BookingStatus
from core.domain.catalog import Catalog
from core.domain.errors import (
    Alternative,
    BookingNotFound,
    CutoffPassed,
    HoldExpired,
    InvalidTransition,
    SlotTaken,
    StaffDoesNotPerform,
    VisitMoved,
)
from core.domain.timeline import Interval
from tests.fakes.clock import FakeClock

ME = 1
SOMEONE_ELSE = 2


class FakeDesk:
    def __init__(self, catalog: Catalog, clock: FakeClock) -> None:
        self._catalog = catalog
        self.clock = clock
        self.bookings: list[Booking] = []
        self.language: str | None = None
        self.phone: str | None = None
        self.attendance_confirmations = 0  # how many were recorded, as booking events are

    def now(self) -> datetime:
        return self.clock.now()

    async def catalog(self) -> Catalog:
        return self._catalog

    def _busy(self, ignore: int | None = None) -> dict[str, list[Interval]]:
        busy: dict[str, list[Interval]] = {key: [] for key in self._catalog.staff}
        for b in self.bookings:
            if b.id == ignore or not b.status.is_active or b.hold_expired(self.now()):
                continue
            service = self._catalog.service(b.service_key)
            busy[b.staff_key].append(
                Interval(b.start - service.buffer_before, b.end + service.buffer_after)
            )
        return busy

    async def slots(self, query: SlotQuery) -> list[Slot]:
        return free_slots(self._catalog, query, self.now(), self._busy())

    def _find(self, service: str, start: datetime, staff: str | None, ignore: int | None = None):  # type: ignore[no-untyped-def]
        self._catalog.service(service)  # UnknownService, as the real use case raises
        if staff is not None and not self._catalog.member(staff).performs(service):
            raise StaffDoesNotPerform(staff, service)
        members = [staff] if staff else [m.key for m in self._catalog.staff_for(service)]
        busy = self._busy(ignore)
        for key in members:
            slot = find_slot(self._catalog, service, key, start, self.now(), busy[key])
            if slot is not None:
                return slot
        day = local_day(start, self._catalog)
        around = [
            s
            for key in members
            for s in free_slots(
                self._catalog,
                SlotQuery(service, day - timedelta(days=1), day + timedelta(days=1), key),
                self.now(),
                busy,
            )
        ]
        raise SlotTaken(start, [Alternative(s.staff_key, s.start) for s in nearest(around, start)])

    def _add(self, customer: int, service: str, slot: Slot, status: BookingStatus) -> Booking:
        expires = self.now() + self._catalog.salon.policies.hold_ttl
        booking = Booking(
            len(self.bookings) + 1,
            customer,
            service,
            slot.staff_key,
            slot.start,
            slot.end,
            status,
            expires if status is BookingStatus.HELD else None,
        )
        self.bookings.append(booking)
        return booking

    def _set(self, booking: Booking) -> Booking:
        self.bookings[booking.id - 1] = booking
        return booking

    async def hold(self, service_key: str, start: datetime, staff_key: str | None) -> Booking:
        slot = self._find(service_key, start, staff_key)
        return self._add(ME, service_key, slot, BookingStatus.HELD)

    def take_elsewhere(self, service_key: str, start: datetime, staff_key: str | None) -> Booking:
        """Another customer books ``start`` (raises SlotTaken if it is not free)."""
        slot = self._find(service_key, start, staff_key)
        return self._add(SOMEONE_ELSE, service_key, slot, BookingStatus.CONFIRMED)

    async def booking(self, booking_id: int) -> Booking:
        if not 1 <= booking_id <= len(self.bookings):
            raise BookingNotFound(booking_id)
        booking = self.bookings[booking_id - 1]
        if booking.customer_id != ME:
            raise BookingNotFound(booking_id)
        return booking

    async def release(self, booking_id: int) -> None:
        try:
            booking = await self.booking(booking_id)
        except BookingNotFound:
            return  # as the real desk: not this customer's, leave it alone
        if booking.status is BookingStatus.HELD:
            self._set(replace(booking, status=BookingStatus.CANCELLED))

    async def confirm(self, booking_id: int) -> Booking:
        booking = await self.booking(booking_id)
        if booking.status is BookingStatus.CONFIRMED:
            return booking
        if booking.status is not BookingStatus.HELD:
            raise HoldExpired(booking_id)
        if booking.hold_expired(self.now()):
            try:
                self._find(booking.service_key, booking.start, booking.staff_key, booking.id)
            except SlotTaken:
                self._set(replace(booking, status=BookingStatus.CANCELLED))
                raise HoldExpired(booking_id) from None
        return self._set(replace(booking, status=BookingStatus.CONFIRMED, hold_expires_at=None))

    async def confirm_attendance(self, booking_id: int, version: int) -> Booking:
        booking = await self.booking(booking_id)
        if booking.status is not BookingStatus.CONFIRMED:
            raise InvalidTransition(booking_id, booking.status.value, "confirm attendance")
        if booking.version != version:
            raise VisitMoved(booking_id, version)
        if booking.customer_confirmed_at is not None:
            return booking
        if booking.start <= self.now():
            raise InvalidTransition(booking_id, "started", "confirm attendance")
        self.attendance_confirmations += 1
        return self._set(replace(booking, customer_confirmed_at=self.now()))

    async def upcoming(self) -> Sequence[Booking]:
        return sorted(
            (
                b
                for b in self.bookings
                if b.customer_id == ME
                and b.status is BookingStatus.CONFIRMED
                and b.start > self.now()
            ),
            key=lambda b: b.start,
        )

    def _check_cutoff(self, booking: Booking, cutoff: timedelta, action: str) -> None:
        if booking.start - self.now() < cutoff:
            raise CutoffPassed(booking.id, action, cutoff.total_seconds() / 3600)

    async def cancel(self, booking_id: int) -> Booking:
        booking = await self.booking(booking_id)
        if booking.status is not BookingStatus.CONFIRMED:
            raise InvalidTransition(booking_id, booking.status.value, "cancel")
        policies = self._catalog.salon.policies
        self._check_cutoff(booking, policies.customer_cancel_cutoff, "cancelled")
        return self._set(replace(booking, status=BookingStatus.CANCELLED))

    async def reschedule(self, booking_id: int, start: datetime) -> Booking:
        booking = await self.booking(booking_id)
        if booking.status is not BookingStatus.CONFIRMED:
            raise InvalidTransition(booking_id, booking.status.value, "reschedule")
        policies = self._catalog.salon.policies
        self._check_cutoff(booking, policies.customer_reschedule_cutoff, "rescheduled")
        slot = self._find(booking.service_key, start, booking.staff_key, booking.id)
        return self._set(
            replace(
                booking,
                start=slot.start,
                end=slot.end,
                customer_confirmed_at=None,
                version=booking.version + 1,
            )
        )

    async def set_language(self, language: str) -> None:
        self.language = language

    async def set_phone(self, phone: str) -> None:
        self.phone = phone
