"""``StaffCalendar``: the staff web's read model, a day of the salon and a week of one staff
member (``core.calendar.ports.Calendar``).

Read-only. A view is two statements whatever the number of staff members or days: the
catalog's digest (``CatalogReader``) and one query for the bookings and time off on the
grid (``CalendarRepository``); hours, breaks and closed time come from the catalog.

The grid runs from the earliest opening to the latest closing of the staff shown that day
(a shift past midnight carries it into the next morning), or the salon's usual hours on a
day nobody works; it is widened to any booking of the day outside those hours (one made
before the catalog's hours changed, say), so no visit is ever off the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta

from core.calendar.hours import (
    DayHours,
    check_day,
    clipped,
    day_span,
    gaps,
    hours_on,
    opening_hours,
    usual_hours,
)
from core.calendar.views import BookingBlock, DayView, Shade, ShadeKind, StaffDay, WeekView
from core.db.calendar_repository import CalendarRepository, GridBooking, GridTimeOff, OnTheGrid
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.catalog import Catalog, Staff
from core.domain.timeline import Interval
from core.ports import Clock
from core.services.catalog import CatalogReader


class StaffCalendar:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, catalogs: CatalogReader
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs

    async def day(self, day: date) -> DayView:
        """The salon's local ``day``: a column per catalog staff member, in catalog order.
        Raises ``DayOutOfRange`` for a date before year 2 or after 9998, and
        ``CatalogNotLoaded`` before a catalog is loaded."""
        check_day(day)
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
            now = self._clock.now()
            members = list(catalog.staff.values())
            hours = {m.key: hours_on(m, day, catalog.salon.zone) for m in members}
            reach = _reach(catalog, day, hours.values())
            found = await CalendarRepository(uow.connection).on_the_grid(list(hours), reach, now)
        return _day_view(catalog, day, now, members, hours, found)

    async def week(self, staff_key: str, day: date) -> WeekView:
        """``staff_key``'s local week, Monday to Sunday, containing ``day``: seven days of
        their one column. Raises ``UnknownStaff`` for a key not in the catalog."""
        monday = check_day(day) - timedelta(days=day.weekday())
        days = [monday + timedelta(days=n) for n in range(7)]
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
            member = catalog.member(staff_key)
            now = self._clock.now()
            hours = {d: {member.key: hours_on(member, d, catalog.salon.zone)} for d in days}
            reaches = [_reach(catalog, d, hours[d].values()) for d in days]
            week = Interval(reaches[0].start, max(r.end for r in reaches))
            found = await CalendarRepository(uow.connection).on_the_grid([member.key], week, now)
        return WeekView(
            staff_key=member.key,
            staff_name=member.name,
            zone=catalog.salon.zone,
            now=now,
            days=tuple(_day_view(catalog, d, now, [member], hours[d], found) for d in days),
        )


def _reach(catalog: Catalog, day: date, hours: Iterable[DayHours]) -> Interval:
    """Where a day's bookings are looked for: the local day, and on into the next morning
    while a shift that started on the day runs."""
    span = day_span(day, catalog.salon.zone)
    opened = opening_hours(hours)
    end = span.end if opened is None else max(span.end, opened.end)
    return Interval(span.start, end)


def _day_view(
    catalog: Catalog,
    day: date,
    now: datetime,
    members: Sequence[Staff],
    hours: Mapping[str, DayHours],
    found: OnTheGrid,
) -> DayView:
    reach = _reach(catalog, day, hours.values())
    booked = [b for b in found.bookings if b.start < reach.end and b.end > reach.start]
    grid = opening_hours(hours.values()) or usual_hours(catalog, day)
    if booked:
        # Never hide a visit: widen the grid to the day's bookings outside the hours.
        first = max(min(b.start for b in booked), reach.start)
        last = min(max(b.end for b in booked), reach.end)
        grid = Interval(min(grid.start, first), max(grid.end, last))
    language = catalog.salon.default_language
    columns = tuple(
        StaffDay(
            staff_key=member.key,
            staff_name=member.name,
            bookings=tuple(
                _block(catalog, b, language) for b in booked if b.staff_key == member.key
            ),
            shades=_shades(grid, hours[member.key], found.time_off_of(member.key)),
        )
        for member in members
    )
    return DayView(
        day=day,
        zone=catalog.salon.zone,
        opens=grid.start,
        closes=grid.end,
        now=now,
        columns=columns,
    )


def _shades(grid: Interval, hours: DayHours, time_off: Iterable[GridTimeOff]) -> tuple[Shade, ...]:
    """A column's closed time, breaks and time off, cut to the grid, in time order."""
    shades = [
        Shade(ShadeKind.CLOSED, s.start, s.end, hours.note) for s in gaps(grid, hours.working)
    ]
    for kind, spans in (
        (ShadeKind.BREAK, [(b, "") for b in hours.breaks]),
        (ShadeKind.TIME_OFF, [(t.span, t.reason) for t in time_off]),
    ):
        for span, note in spans:
            part = clipped(span, grid)
            if part is not None:
                shades.append(Shade(kind, part.start, part.end, note))
    return tuple(sorted(shades, key=lambda s: (s.start, s.end, s.kind.value)))


def _block(catalog: Catalog, booking: GridBooking, language: str) -> BookingBlock:
    service = catalog.services.get(booking.service_key)
    # A service since removed from the catalog keeps its past bookings: shown by its key.
    name = service.name(language) if service is not None else booking.service_key
    return BookingBlock(
        id=booking.id,
        version=booking.version,
        start=booking.start,
        end=booking.end,
        service_key=booking.service_key,
        service_name=name,
        customer_name=booking.customer_name,
        customer_phone=booking.customer_phone,
        channel=booking.channel,
        status=booking.status,
        customer_confirmed=booking.customer_confirmed,
    )
