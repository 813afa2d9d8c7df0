"""``StaffCustomerBook``: the staff's look-up of customers and their visits
(``core.calendar.desk.CustomerBook``). Read-only."""

from __future__ import annotations

from core.calendar import entries
from core.calendar.desk import CustomerCard, CustomerNotFound, CustomerVisits, Visit
from core.db.customer_repository import CustomerRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.db.visit_repository import VisitRepository
from core.domain.booking import BookingStatus
from core.services.catalog import CatalogReader

MAX_FOUND = 50
MAX_VISITS = 100  # the newest; the counts cover them all
MIN_DIGITS = 3  # fewer digits than this match half the book: searched as a name only


class StaffCustomerBook:
    def __init__(self, uow_factory: UnitOfWorkFactory, catalogs: CatalogReader) -> None:
        self._uow = uow_factory
        self._catalogs = catalogs

    async def find(self, text: str, limit: int = 20) -> list[CustomerCard]:
        """As ``CustomerBook.find``; blank text finds nobody, ``limit`` is capped at
        ``MAX_FOUND``, a text longer than ``MAX_SEARCH`` is ``EntryRefused``."""
        wanted = entries.search(text)
        limit = min(limit, MAX_FOUND)
        if not wanted or limit < 1:
            return []
        digits = entries.phone_digits(wanted)
        async with self._uow() as uow:
            return await CustomerRepository(uow.connection).search(
                wanted, digits if len(digits) >= MIN_DIGITS else "", limit
            )

    async def visits(self, customer_id: int) -> CustomerVisits:
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
            card = await CustomerRepository(uow.connection).card(customer_id)
            if card is None:
                raise CustomerNotFound(customer_id)
            repository = VisitRepository(uow.connection)
            stored = await repository.of_customer(customer_id, MAX_VISITS)
            counts = await repository.counts(customer_id)
        language = catalog.salon.default_language
        visits = tuple(
            Visit(
                v.booking_id,
                v.start,
                # A service since removed from the catalog is shown by its key.
                s.name(language) if (s := catalog.services.get(v.service_key)) else v.service_key,
                v.staff_name,
                v.status,
            )
            for v in stored
        )
        return CustomerVisits(
            customer=card,
            visits=visits,
            zone=catalog.salon.zone,
            completed=counts.get(BookingStatus.COMPLETED, 0),
            cancelled=counts.get(BookingStatus.CANCELLED, 0),
            no_shows=counts.get(BookingStatus.NO_SHOW, 0),
        )
