"""``salonbot google status``: how each staff member's linked calendar is doing, as the
database has it (no call to Google: ``salonbot google check`` does that).

A calendar needs attention when a push to it is parked (given up, not settled by a later
push, its visit not over) or reading it back keeps failing (``SYNC_KEEPS_FAILING`` times
in a row); pushes still being retried, open alerts and an expiring push channel are told,
not counted against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.db.calendar_health_repository import CalendarHealth, CalendarHealthRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock
from core.services.calendar_push import CalendarOfStaff, calendar_in_catalog
from core.services.catalog import CatalogReader

SYNC_KEEPS_FAILING = 3
"""Failed reads in a row (each retried with backoff) after which reading back counts as
failing for good."""


@dataclass(frozen=True, slots=True)
class CalendarStatus:
    """``calendar_id``: the catalog's (or, for a staff member no longer linked there, the
    one last read back); ``linked``: the catalog links it."""

    health: CalendarHealth
    calendar_id: str
    linked: bool

    @property
    def needs_attention(self) -> bool:
        return bool(self.health.parked.count) or self.health.sync_failures >= SYNC_KEEPS_FAILING


class CalendarStatuses:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        calendar_of: CalendarOfStaff = calendar_in_catalog,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._calendar_of = calendar_of

    async def __call__(self) -> tuple[datetime, list[CalendarStatus]]:
        """Now, and one status per staff member with a calendar in the catalog (in its
        order), then any other with something stored (by key)."""
        now = self._clock.now()
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
            stored = await CalendarHealthRepository(uow.connection).health(now)
        statuses = []
        for member in catalog.staff.values():
            calendar = self._calendar_of(catalog, member.key)
            if calendar is not None:
                health = stored.pop(member.key, None) or CalendarHealth(member.key, member.name)
                statuses.append(CalendarStatus(health, calendar, linked=True))
        for key in sorted(stored):
            health = stored[key]
            statuses.append(CalendarStatus(health, health.calendar_id or "?", linked=False))
        return now, statuses
