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
        self._desk_schedules = ScheduleCache()  # one per rule set: a cache keeps one catalog
        self._desk: tuple[Catalog, Catalog] | None = None  # (loaded, its at_the_desk())
        # Staff ids change only when a catalog is loaded, which gives a new catalog object.
        self._staff_ids: tuple[Catalog, dict[str, int]] | None = None

    async def __call__(self, query: SlotQuery, *, at_the_desk: bool = False) -> list[Slot]:
        """``at_the_desk``: the slots the salon's own people may book
        (``Catalog.at_the_desk``: no minimum notice), not a customer's."""
        async with self._uow() as uow:
            return await self.within(uow.connection, query, at_the_desk=at_the_desk)

    async def within(
        self, connection: AsyncConnection, query: SlotQuery, *, at_the_desk: bool = False
    ) -> list[Slot]:
        """The same, read in a transaction the caller owns (``converse``'s)."""
        catalog = loaded = await self._catalogs.current(connection)
        schedules = self._schedules
        if at_the_desk:
            if self._desk is None or self._desk[0] is not catalog:
                self._desk = (catalog, catalog.at_the_desk())
            catalog, schedules = self._desk[1], self._desk_schedules
        service = catalog.service(query.service_key)
        keys = (
            [query.staff_key]
            if query.staff_key is not None
            else [m.key for m in catalog.staff_for(service.key)]
        )
        repository = BookingRepository(connection)
        if self._staff_ids is None or self._staff_ids[0] is not loaded:
            all_keys = list(catalog.staff)
            self._staff_ids = (loaded, await repository.staff_ids(all_keys))
        staff_ids = {key: self._staff_ids[1][key] for key in keys if key in self._staff_ids[1]}
        now = self._clock.now()
        days = bookable_days(catalog, now, query.first_day, query.last_day)
        if days is None:  # nothing can start then: no taken time to read
            return free_slots(catalog, query, now, {}, schedules)
        window = local_days_window(catalog, *days)
        busy = await busy_by_staff(repository, self._external, staff_ids, window, now)
        return free_slots(catalog, query, now, busy, schedules)
