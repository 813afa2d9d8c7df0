"""Find free slots: the read side of booking."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.booking_repository import BookingRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.availability import (
    ScheduleCache,
    Slot,
    SlotQuery,
    bookable_days,
    free_slots,
)
from core.domain.catalog import Catalog
from core.ports import Clock, ExternalBusy, NoExternalBusy
from core.services.busy_time import busy_by_staff, local_days_window
from core.services.catalog import CatalogReader


class FindSlots:
    """Free slots for a service over local dates, for one staff member or anyone."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        external: ExternalBusy | None = None,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._external = external or NoExternalBusy()
        self._schedules = ScheduleCache()
        # Staff ids change only when a catalog is loaded, which gives a new catalog object.
        self._staff_ids: tuple[Catalog, dict[str, int]] | None = None

    async def __call__(self, query: SlotQuery) -> list[Slot]:
        async with self._uow() as uow:
            return await self.within(uow.connection, query)

    async def within(self, connection: AsyncConnection, query: SlotQuery) -> list[Slot]:
        """The same, read in a transaction the caller owns (``converse``'s)."""
        catalog = await self._catalogs.current(connection)
        service = catalog.service(query.service_key)
        keys = (
            [query.staff_key]
            if query.staff_key is not None
            else [m.key for m in catalog.staff_for(service.key)]
        )
        repository = BookingRepository(connection)
        if self._staff_ids is None or self._staff_ids[0] is not catalog:
            all_keys = list(catalog.staff)
            self._staff_ids = (catalog, await repository.staff_ids(all_keys))
        staff_ids = {key: self._staff_ids[1][key] for key in keys if key in self._staff_ids[1]}
        now = self._clock.now()
        days = bookable_days(catalog, now, query.first_day, query.last_day)
        if days is None:  # nothing can start then: no taken time to read
            return free_slots(catalog, query, now, {}, self._schedules)
        window = local_days_window(catalog, *days)
        busy = await busy_by_staff(repository, self._external, staff_ids, window, now)
        return free_slots(catalog, query, now, busy, self._schedules)
