"""Find free slots: the read side of booking."""

from __future__ import annotations

from core.db.booking_repository import BookingRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.availability import Slot, SlotQuery, free_slots
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

    async def __call__(self, query: SlotQuery) -> list[Slot]:
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
            service = catalog.service(query.service_key)
            keys = (
                [query.staff_key]
                if query.staff_key is not None
                else [m.key for m in catalog.staff_for(service.key)]
            )
            repository = BookingRepository(uow.connection)
            staff_ids = await repository.staff_ids(keys)
            now = self._clock.now()
            window = local_days_window(catalog, query.first_day, query.last_day)
            busy = await busy_by_staff(repository, self._external, staff_ids, window, now)
        return free_slots(catalog, query, now, busy)
