"""``CalendarChanges``: the database's notices of changed bookings and time off, as the
staff calendar's ``CalendarChange``s (a staff key and the salon's local days).

A day's grid shows the visits of that local day, and on into the next morning while a
shift that started that day runs (``StaffCalendar``); so a change early in the morning
also names the day before when some shift of that day runs past its start.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from core.calendar.desk import EVERYTHING, CalendarChange
from core.calendar.hours import hours_on, opening_hours
from core.db.calendar_notices import NoticedSpan, staff_keys
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.catalog import Catalog
from core.services.catalog import CatalogNotLoaded, CatalogReader

# A span of more days than this (a long holiday entered as time off) is announced as
# "reload everything" rather than as a list nobody would read.
MOST_DAYS = 62


class CalendarChanges:
    def __init__(self, uow_factory: UnitOfWorkFactory, catalogs: CatalogReader) -> None:
        self._uow = uow_factory
        self._catalogs = catalogs

    async def of(self, spans: Sequence[NoticedSpan]) -> list[CalendarChange]:
        """One change per staff member the spans touch (in the order first named), with
        the local days they cover, earliest first. ``[EVERYTHING]`` when the days cannot
        be told (no catalog, a span too long); spans of unknown staff ids are left out."""
        if not spans:
            return []
        try:
            async with self._uow() as uow:
                catalog = await self._catalogs.current(uow.connection)
                keys = await staff_keys(uow.connection, {span.staff_id for span in spans})
        except CatalogNotLoaded:
            return [EVERYTHING]
        days: dict[str, set[date]] = {}
        for span in spans:
            key = keys.get(span.staff_id)
            if key is None:
                continue
            touched = local_days(catalog, span.start, span.end)
            if touched is None:
                return [EVERYTHING]
            days.setdefault(key, set()).update(touched)
        return [CalendarChange(key, tuple(sorted(found))) for key, found in days.items()]


def local_days(catalog: Catalog, start: datetime, end: datetime) -> list[date] | None:
    """The local days whose grids show ``start``..``end`` (the end excluded), or None when
    they are more than ``MOST_DAYS``."""
    zone = catalog.salon.zone
    first = start.astimezone(zone).date()
    last = max(first, (end - timedelta(microseconds=1)).astimezone(zone).date())
    if (last - first).days >= MOST_DAYS:
        return None
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    try:
        before = first - timedelta(days=1)
        hours = [hours_on(member, before, zone) for member in catalog.staff.values()]
    except (OverflowError, ValueError):
        return days  # the first day there is: no day before it to show anything
    shifts = opening_hours(hours)
    if shifts is not None and start < shifts.end:
        days.insert(0, before)
    return days
