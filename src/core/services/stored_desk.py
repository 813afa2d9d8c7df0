"""The conversation's desk on the database, inside the transaction of one ``converse`` step.

Every call runs the ordinary use case (``Bookings``, ``FindSlots``) in a savepoint of the
step's transaction, so a step's hold, confirmation or move commits together with the
chat's new state and its reply, or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.booking_repository import BookingRepository
from core.db.customer_repository import CustomerRepository
from core.db.unit_of_work import NestedUnitOfWorkFactory
from core.domain.availability import Slot, SlotQuery
from core.domain.booking import Actor, Booking, BookingStatus
from core.domain.catalog import Catalog
from core.domain.errors import BookingNotFound, DomainError
from core.ports import Clock, ExternalBusy
from core.services.availability import FindSlots
from core.services.booking import Bookings
from core.services.booking_changes import BookingFollower
from core.services.catalog import CatalogReader


class StoredDesk:
    """A ``Desk`` for one customer, over one open connection."""

    def __init__(
        self,
        connection: AsyncConnection,
        customer_id: int,
        clock: Clock,
        catalogs: CatalogReader,
        find_slots: FindSlots,
        external: ExternalBusy | None = None,
        followers: Sequence[BookingFollower] = (),
    ) -> None:
        self._db = connection
        self._customer = customer_id
        self._actor = Actor.customer(customer_id)
        self._clock = clock
        self._catalogs = catalogs
        self._find_slots = find_slots
        self._bookings = Bookings(
            NestedUnitOfWorkFactory(connection), clock, catalogs, external, followers
        )

    def now(self) -> datetime:
        return self._clock.now()

    async def catalog(self) -> Catalog:
        return await self._catalogs.current(self._db)

    async def slots(self, query: SlotQuery) -> list[Slot]:
        return await self._find_slots.within(self._db, query)

    async def hold(self, service_key: str, start: datetime, staff_key: str | None) -> Booking:
        return await self._bookings.hold(
            service_key, start, self._actor, staff_key=staff_key, customer_id=self._customer
        )

    async def release(self, booking_id: int) -> None:
        booking = await BookingRepository(self._db).get(booking_id)
        if booking is None or booking.status is not BookingStatus.HELD:
            return  # already swept or cancelled: nothing to let go (and never a visit)
        with suppress(DomainError):  # not this customer's: leave it alone
            await self._bookings.cancel(booking_id, self._actor, note="released by the customer")

    async def confirm(self, booking_id: int) -> Booking:
        return await self._bookings.confirm(booking_id, self._actor)

    async def confirm_attendance(self, booking_id: int, version: int) -> Booking:
        return await self._bookings.confirm_attendance(booking_id, self._actor, version=version)

    async def booking(self, booking_id: int) -> Booking:
        booking = await BookingRepository(self._db).get(booking_id)
        if booking is None or booking.customer_id != self._customer:
            raise BookingNotFound(booking_id)
        return booking

    async def upcoming(self) -> Sequence[Booking]:
        return await BookingRepository(self._db).upcoming_for(self._customer, self.now())

    async def cancel(self, booking_id: int) -> Booking:
        return await self._bookings.cancel(booking_id, self._actor)

    async def reschedule(self, booking_id: int, start: datetime) -> Booking:
        return await self._bookings.reschedule(booking_id, start, self._actor)

    async def set_language(self, language: str) -> None:
        await CustomerRepository(self._db).set_language(self._customer, language)

    async def set_phone(self, phone: str) -> None:
        await CustomerRepository(self._db).set_phone(self._customer, phone)
