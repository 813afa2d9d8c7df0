"""``StaffFrontDesk``: bookings and time off changed from the staff web
(``core.calendar.desk.FrontDesk``).

Every change goes through the same use cases as the chat (``Bookings``, ``AddTimeOff``),
with the signed-in user as the actor, so the booking's history names their email. The
role rule (``core.calendar.roles``) is checked on the booking as it stands under the use
case's lock: a staff member's cancel that waited while the owner handed the booking to a
colleague is refused, not carried out on the colleague's booking.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncConnection

from core.calendar import entries
from core.calendar.desk import (
    BookingDetail,
    CustomerNotFound,
    EntryRefused,
    FreeStart,
    NewCustomer,
    NotAllowed,
    TimeOffNotFound,
    TimeOffSpan,
)
from core.calendar.ports import Role, StaffUser
from core.calendar.roles import actor_of, require_may_edit
from core.calendar.views import BookingBlock
from core.db.booking_detail_repository import BookingDetailRepository, StoredBooking
from core.db.booking_repository import BookingRepository
from core.db.customer_repository import CustomerRepository
from core.db.time_off_repository import TimeOffRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.availability import SlotQuery
from core.domain.booking import Booking, BookingStatus
from core.domain.catalog import Catalog
from core.domain.errors import BookingNotFound
from core.domain.timeline import Interval, to_utc
from core.ports import Clock
from core.services.availability import FindSlots
from core.services.booking import BookingCheck, Bookings
from core.services.catalog import CatalogReader
from core.services.time_off import AddTimeOff


class StaffFrontDesk:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        bookings: Bookings,
        add_time_off: AddTimeOff,
        find_slots: FindSlots,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._bookings = bookings
        self._add_time_off = add_time_off
        self._find_slots = find_slots

    async def _catalog(self) -> Catalog:
        async with self._uow() as uow:
            return await self._catalogs.current(uow.connection)

    # Reading.

    async def instant(self, day: date, at: time) -> datetime:
        catalog = await self._catalog()
        return entries.instant(day, at, catalog.salon.zone)

    async def booking(self, booking_id: int) -> BookingDetail:
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
            repository = BookingDetailRepository(uow.connection)
            stored = await repository.booking(booking_id)
            if stored is None:
                raise BookingNotFound(booking_id)
            history = await repository.history(booking_id)
        return BookingDetail(
            block=_block(catalog, stored),
            staff_key=stored.staff_key,
            staff_name=stored.staff_name,
            customer=stored.customer,
            history=tuple(history),
            zone=catalog.salon.zone,
            now=self._clock.now(),
        )

    async def free_starts(
        self, service_key: str, staff_key: str | None, day: date
    ) -> list[FreeStart]:
        slots = await self._find_slots(
            SlotQuery(service_key, day, day, staff_key), at_the_desk=True
        )
        found = [FreeStart(s.staff_key, s.start) for s in slots]
        return sorted(found, key=lambda f: (f.start, f.staff_key))

    async def time_off(self, staff_key: str, start: datetime, end: datetime) -> list[TimeOffSpan]:
        start, end = to_utc(start), to_utc(end)
        span = Interval(start, max(start, end))
        async with self._uow() as uow:
            (await self._catalogs.current(uow.connection)).member(staff_key)
            stored = await TimeOffRepository(uow.connection).overlapping(staff_key, span)
        return [TimeOffSpan(t.id, t.staff_key, t.span.start, t.span.end, t.reason) for t in stored]

    # Changing bookings.

    async def walk_in(
        self,
        user: StaffUser,
        service_key: str,
        staff_key: str | None,
        start: datetime,
        customer: int | NewCustomer,
        request_key: str | None = None,
    ) -> Booking:
        key = None if request_key is None else entries.request_key(request_key)
        if staff_key is None and user.role is not Role.OWNER:
            if user.staff_key is None:
                raise NotAllowed("book without a column of one's own")
            staff_key = user.staff_key
        if staff_key is not None:
            # The column is the caller's word, not the database's: no race to lose here.
            require_may_edit(user, staff_key, "book for a colleague")
        if isinstance(customer, NewCustomer):
            return await self._bookings.book(
                service_key,
                start,
                actor_of(user),
                staff_key=staff_key,
                customer_for=_NewCustomerFor(customer),
                request_key=key,
            )
        async with self._uow() as uow:
            if await CustomerRepository(uow.connection).card(customer) is None:
                raise CustomerNotFound(customer)
        # A customer is never deleted, so the id checked stays good for the booking.
        return await self._bookings.book(
            service_key,
            start,
            actor_of(user),
            staff_key=staff_key,
            customer_id=customer,
            request_key=key,
        )

    async def move(
        self, user: StaffUser, booking_id: int, start: datetime, staff_key: str | None = None
    ) -> Booking:
        if staff_key is not None:
            require_may_edit(user, staff_key, "hand a booking to a colleague")
        return await self._bookings.reschedule(
            booking_id,
            start,
            actor_of(user),
            staff_key=staff_key,
            check=_editable_by(user, "move a colleague's booking"),
        )

    async def cancel(self, user: StaffUser, booking_id: int, reason: str) -> Booking:
        note = entries.reason(reason)
        return await self._bookings.cancel(
            booking_id,
            actor_of(user),
            note=note,
            check=_editable_by(user, "cancel a colleague's booking"),
        )

    async def mark(self, user: StaffUser, booking_id: int, outcome: BookingStatus) -> Booking:
        return await self._bookings.record_outcome(
            booking_id,
            actor_of(user),
            outcome,
            check=_editable_by(user, "mark a colleague's visit"),
        )

    # Changing time off.

    async def add_time_off(
        self, user: StaffUser, staff_key: str, start: datetime, end: datetime, reason: str
    ) -> int:
        note = entries.reason(reason)
        require_may_edit(user, staff_key, "add a colleague's time off")
        start, end = to_utc(start), to_utc(end)
        if start >= end:
            raise EntryRefused("span", "empty")
        return await self._add_time_off(staff_key, Interval(start, end), actor_of(user), note)

    async def remove_time_off(self, user: StaffUser, time_off_id: int) -> None:
        async with self._uow() as uow:
            repository = TimeOffRepository(uow.connection)
            seen = await repository.get(time_off_id)
            if seen is None:
                raise TimeOffNotFound(time_off_id)
            require_may_edit(user, seen.staff_key, "remove a colleague's time off")
            # Like adding, under the staff lock: a booking being made for this time waits
            # for the removal, and the calendar never shows a half-made change.
            await BookingRepository(uow.connection).lock_staff([seen.staff_key])
            if not await repository.remove(time_off_id):
                raise TimeOffNotFound(time_off_id)
            await uow.commit()


def _editable_by(user: StaffUser, what: str) -> BookingCheck:
    def check(booking: Booking) -> None:
        require_may_edit(user, booking.staff_key, what)

    return check


MIN_PHONE_DIGITS = 7
"""Fewest digits of a phone number that names a customer: the shortest subscriber numbers
in use, with no area code."""


class _NewCustomerFor:
    """The walk-in's customer (``CustomerFor``), checked now and found (by phone digits)
    or added in the booking's transaction."""

    def __init__(self, customer: NewCustomer) -> None:
        self._name = entries.customer_name(customer.name)
        self._phone = entries.phone(customer.phone)
        digits = entries.phone_digits(self._phone)
        # A short number ("0", an extension) is a placeholder, not who someone is:
        # matching by it would book one walk-in as another customer.
        self._known_by = digits if len(digits) >= MIN_PHONE_DIGITS else ""

    async def __call__(self, connection: AsyncConnection, at: datetime) -> int:
        repository = CustomerRepository(connection)
        return await repository.with_phone_or_new(self._name, self._phone, self._known_by, at)

    async def names(self, connection: AsyncConnection, customer_id: int | None) -> bool:
        if customer_id is None:
            return False
        card = await CustomerRepository(connection).card(customer_id)
        if card is None:
            return False
        if self._known_by:
            return entries.phone_digits(card.phone) == self._known_by
        # Added new: as typed then (the name found by phone may differ from the typed one).
        return card.name == self._name and card.phone == self._phone


def _block(catalog: Catalog, stored: StoredBooking) -> BookingBlock:
    service = catalog.services.get(stored.service_key)
    # A service since removed from the catalog keeps its past bookings: shown by its key.
    language = catalog.salon.default_language
    name = service.name(language) if service is not None else stored.service_key
    customer = stored.customer
    return BookingBlock(
        id=stored.id,
        version=stored.version,
        start=stored.start,
        end=stored.end,
        service_key=stored.service_key,
        service_name=name,
        customer_name=customer.name if customer else "",
        customer_phone=customer.phone if customer else "",
        channel=customer.channel if customer else "",
        status=stored.status,
        customer_confirmed=stored.customer_confirmed,
    )
