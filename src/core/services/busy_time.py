"""Reading taken time for availability: shared by every use case that offers or takes slots."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from core.db.booking_repository import BookingRepository
from core.domain.availability import clamp_day
from core.domain.catalog import Catalog
from core.domain.timeline import Interval, boundary_to_utc
from core.ports import ExternalBusy


def local_days_window(catalog: Catalog, first_day: date, last_day: date) -> Interval:
    """UTC span from local midnight before ``first_day`` to local midnight after ``last_day``,
    widened by two days each side for overnight shifts, buffers and nearby alternatives.

    Days near the ends of the calendar are clamped (``clamp_day``): no slot lies there."""
    zone = catalog.salon.zone
    first_day, last_day = clamp_day(first_day), clamp_day(last_day)
    start = boundary_to_utc(datetime.combine(first_day - timedelta(days=2), time(0)), zone)
    end = boundary_to_utc(datetime.combine(last_day + timedelta(days=3), time(0)), zone)
    return Interval(start, end)


def local_day_span(catalog: Catalog, day: date) -> Interval:
    """The UTC span of one local calendar day (23, 24 or 25 hours long); ``day`` clamped."""
    zone = catalog.salon.zone
    day = clamp_day(day)
    return Interval(
        boundary_to_utc(datetime.combine(day, time(0)), zone),
        boundary_to_utc(datetime.combine(day + timedelta(days=1), time(0)), zone),
    )


async def busy_by_staff(
    repository: BookingRepository,
    external: ExternalBusy,
    staff_ids: Mapping[str, int],
    window: Interval,
    now: datetime,
    *,
    ignore_booking: int | None = None,
) -> dict[str, list[Interval]]:
    """Taken time per staff key: bookings, unexpired holds, time off and external busy."""
    by_id = await repository.busy(list(staff_ids.values()), window, now, ignore=ignore_booking)
    busy: dict[str, list[Interval]] = {}
    for key, staff_id in staff_ids.items():
        busy[key] = [*by_id.get(staff_id, []), *await external.busy(key, window)]
    return busy
