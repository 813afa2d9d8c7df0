"""Free slots: where a service fits a staff member's working time and nothing else.

The rules, all evaluated on the absolute timeline after local times are resolved:

* Candidate starts lie on the local wall-clock grid: each working period's start, then
  every ``slot_step`` after it. A grid time that does not exist (DST gap) is skipped; one
  that happens twice (DST fold) is offered once, at its first occurrence.
* The service itself (``start`` to ``start + duration``) lies inside working time. Working
  periods that touch, such as a shift to 24:00 and one from 00:00, join, so a service may
  run past midnight.
* The blocked span (the service widened by its buffers) shares no time with a break or
  with anything in ``busy``: bookings (their blocked spans), unexpired holds, time off and
  external busy times. Buffers may reach outside working time (preparation before opening).
* ``now + min_notice <= start <= now + booking_horizon``.

Any date or instant is accepted, however far from now (a forged button may carry year 1 or
9999): a query is narrowed to the dates a slot can start on before anything is computed,
and dates and instants near the ends of the calendar are clamped (``clamp_day``,
``local_day``), so nothing overflows.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from core.domain.catalog import Catalog, Service, Staff, WorkPeriod
from core.domain.errors import StaffDoesNotPerform
from core.domain.timeline import Interval, IntervalSet, boundary_to_utc, local_to_utc, to_utc


class Slot(NamedTuple):
    """A bookable start for one staff member; all instants are UTC.

    A named tuple rather than a dataclass: availability makes thousands of these per
    query, and a tuple is several times cheaper to build.
    """

    start: datetime
    staff_key: str
    end: datetime
    buffer_before: timedelta
    buffer_after: timedelta

    @property
    def blocked(self) -> Interval:
        """The span the staff member is unavailable: the service widened by its buffers."""
        return Interval(self.start - self.buffer_before, self.end + self.buffer_after)


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """What to look for: a service, optionally one staff member, over local dates."""

    service_key: str
    first_day: date
    last_day: date
    staff_key: str | None = None


# Days this close to the ends of the calendar have no neighbours to look at and no UTC
# instant in every zone; availability never needs them (its "now" is the real clock).
_EDGE = timedelta(days=7)
_FIRST_DAY, _LAST_DAY = date.min + _EDGE, date.max - _EDGE
_FIRST_INSTANT = datetime.combine(_FIRST_DAY, time(0), UTC)
_LAST_INSTANT = datetime.combine(_LAST_DAY, time(0), UTC)


def clamp_day(day: date) -> date:
    """``day``, or the nearest date a week away from the ends of the calendar."""
    return min(max(day, _FIRST_DAY), _LAST_DAY)


def _period_walls(day: date, period: WorkPeriod) -> tuple[datetime, datetime]:
    start = datetime.combine(day, period.start)
    end_day = day + timedelta(days=1) if period.crosses_midnight else day
    return start, datetime.combine(end_day, period.end)


def _break_walls(day: date, period: WorkPeriod) -> Iterator[tuple[datetime, datetime]]:
    for break_start, break_end in period.breaks:
        # In a period that runs past midnight, a time before the period's start is tomorrow.
        start_day = day if break_start >= period.start else day + timedelta(days=1)
        end_day = day if break_end > period.start else day + timedelta(days=1)
        yield datetime.combine(start_day, break_start), datetime.combine(end_day, break_end)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


class StaffSchedule:
    """One staff member's working time and breaks around a range of local dates."""

    def __init__(self, member: Staff, catalog: Catalog, first_day: date, last_day: date) -> None:
        zone = catalog.salon.zone
        first_day, last_day = clamp_day(first_day), clamp_day(last_day)
        self.member = member
        self.first_day = first_day
        self.last_day = last_day
        work: list[Interval] = []
        breaks: list[Interval] = []
        # One day of margin each side: yesterday's overnight shift reaches into today,
        # and a shift ending at 24:00 joins tomorrow's from 00:00.
        for day in _days(first_day - timedelta(days=1), last_day + timedelta(days=1)):
            for period in member.periods_on(day):
                start, end = _period_walls(day, period)
                work.append(Interval(boundary_to_utc(start, zone), boundary_to_utc(end, zone)))
                for break_start, break_end in _break_walls(day, period):
                    breaks.append(
                        Interval(
                            boundary_to_utc(break_start, zone), boundary_to_utc(break_end, zone)
                        )
                    )
        self.working = IntervalSet(work)
        self.breaks = IntervalSet(breaks)

    def grid(self, catalog: Catalog) -> Iterator[tuple[datetime, datetime | None, range]]:
        """The local grid of each period, as (first wall time, its UTC instant, indexes).

        Index ``k`` is the wall time ``wall + k * slot_step``; only indexes whose wall time
        falls on one of the schedule's days are given. Periods come from those days and from
        the day before, whose overnight part lies on the first day; the part of the last
        day's period that runs past midnight belongs to a later date's query. The instant is
        None when a clock change falls inside the period (its wall-clock and real lengths
        differ), so each wall time there must be resolved on its own.
        """
        zone = catalog.salon.zone
        step = catalog.salon.policies.slot_step
        day_min = datetime.combine(self.first_day, time(0))
        day_max = datetime.combine(self.last_day + timedelta(days=1), time(0))
        for day in _days(self.first_day - timedelta(days=1), self.last_day):
            for period in self.member.periods_on(day):
                wall, end = _period_walls(day, period)
                first = max(0, _ceil_div(day_min - wall, step))
                stop = min(_ceil_div(end - wall, step), _ceil_div(day_max - wall, step))
                if first >= stop:
                    continue
                start_utc = local_to_utc(wall, zone)
                end_utc = local_to_utc(end, zone)
                steady = start_utc is not None and end_utc is not None
                if steady and end_utc - start_utc != end - wall:  # type: ignore[operator]
                    steady = False
                yield wall, (start_utc if steady else None), range(first, stop)


class ScheduleCache:
    """Staff schedules of one catalog, reused across queries.

    A schedule depends only on the catalog and the days, so a caller that asks often (the
    slot finder) keeps one of these; it empties itself when handed another catalog.
    """

    def __init__(self, limit: int = 512) -> None:
        self._limit = limit
        self._catalog: Catalog | None = None
        self._items: dict[tuple[str, date, date], StaffSchedule] = {}

    def get(
        self, member: Staff, catalog: Catalog, first_day: date, last_day: date
    ) -> StaffSchedule:
        if catalog is not self._catalog:
            self._catalog = catalog
            self._items.clear()
        key = (member.key, first_day, last_day)
        schedule = self._items.get(key)
        if schedule is None:
            if len(self._items) >= self._limit:
                self._items.clear()
            schedule = self._items[key] = StaffSchedule(member, catalog, first_day, last_day)
        return schedule


def _ceil_div(span: timedelta, step: timedelta) -> int:
    return -(-span // step)


def _allowed_starts(
    working: IntervalSet,
    taken: IntervalSet,
    duration: timedelta,
    before: timedelta,
    after: timedelta,
    earliest: datetime,
    latest: datetime,
) -> list[tuple[datetime, datetime]]:
    """Closed ranges ``[lo, hi]`` of UTC starts that satisfy every rule but the grid.

    ``s`` fits working time when ``w.start <= s <= w.end - duration``; its blocked span
    ``[s - before, s + duration + after)`` misses a taken span ``t`` unless
    ``t.start - duration - after < s < t.end + before``.
    """
    fits = [
        (max(w.start, earliest), min(w.end - duration, latest))
        for w in working
        if max(w.start, earliest) <= min(w.end - duration, latest)
    ]
    # Taken spans are disjoint and sorted; widening each by the same amounts keeps both
    # their starts and their ends sorted, so one forward walk subtracts them.
    forbidden = [(t.start - duration - after, t.end + before) for t in taken]
    allowed: list[tuple[datetime, datetime]] = []
    skip = 0
    for lo, hi in fits:
        while skip < len(forbidden) and forbidden[skip][1] <= lo:
            skip += 1
        cursor = lo
        index = skip
        while index < len(forbidden) and forbidden[index][0] < hi:
            no_start, no_end = forbidden[index]
            if cursor <= no_start:
                allowed.append((cursor, no_start))
            cursor = max(cursor, no_end)
            index += 1
        if cursor <= hi:
            allowed.append((cursor, hi))
    return allowed


def free_slots(
    catalog: Catalog,
    query: SlotQuery,
    now: datetime,
    busy: Mapping[str, Iterable[Interval]],
    schedules: ScheduleCache | None = None,
) -> list[Slot]:
    """Every free slot for the query, ordered by start then staff key.

    ``busy`` maps staff keys to their taken time (UTC); staff missing from it are free.
    Slots are those whose start falls on a local date in ``[first_day, last_day]``.
    """
    schedules = schedules or ScheduleCache()
    service = catalog.service(query.service_key)
    if query.staff_key is not None:
        member = catalog.member(query.staff_key)
        if not member.performs(service.key):
            raise StaffDoesNotPerform(member.key, service.key)
        members = [member]
    else:
        members = catalog.staff_for(service.key)
    days = bookable_days(catalog, now, query.first_day, query.last_day)
    if days is None:
        return []
    slots: list[Slot] = []
    for member in members:
        schedule = schedules.get(member, catalog, *days)
        slots.extend(_free_for(catalog, service, member, schedule, now, busy.get(member.key, ())))
    if len(members) > 1:
        slots.sort()  # tuples: by start, then staff key
    return slots


def _free_for(
    catalog: Catalog,
    service: Service,
    member: Staff,
    schedule: StaffSchedule,
    now: datetime,
    busy: Iterable[Interval],
) -> list[Slot]:
    now = to_utc(now)
    policies = catalog.salon.policies
    step = policies.slot_step
    zone = catalog.salon.zone
    duration = member.duration_of(service)
    before, after = service.buffer_before, service.buffer_after
    allowed = _allowed_starts(
        schedule.working,
        IntervalSet([*busy, *schedule.breaks]),
        duration,
        before,
        after,
        now + policies.min_notice,
        now + policies.booking_horizon,
    )
    if not allowed:
        return []
    lows = [lo for lo, _ in allowed]
    key = member.key
    slots: list[Slot] = []
    ordered = True  # periods come in order and never overlap in a valid catalog
    for wall, instant, indexes in schedule.grid(catalog):
        if instant is None:  # a clock change inside the period: resolve each wall time
            for k in indexes:
                start = local_to_utc(wall + k * step, zone)
                if start is not None and _within(allowed, lows, start):
                    end = start + duration
                    ordered = ordered and (not slots or slots[-1].start < start)
                    slots.append(Slot(start, key, end, before, after))
            continue
        # Steady period: the grid is an arithmetic progression on the UTC timeline too.
        first_start = instant + indexes.start * step
        last_start = instant + (indexes.stop - 1) * step
        if slots and slots[-1].start >= first_start:
            ordered = False
        at = max(0, bisect.bisect_right(lows, first_start) - 1)
        for lo, hi in allowed[at:]:
            if lo > last_start:
                break
            if hi < first_start:
                continue
            k_from = max(indexes.start, _ceil_div(lo - instant, step))
            count = min(indexes.stop - 1, (hi - instant) // step) - k_from + 1
            start = instant + k_from * step
            for _ in range(count):
                slots.append(Slot(start, key, start + duration, before, after))
                start += step
    if not ordered:
        # A dated exception met yesterday's overnight spill: sort, and offer a start once.
        slots.sort()
        slots = [slot for i, slot in enumerate(slots) if i == 0 or slots[i - 1][0] != slot[0]]
    return slots


def _within(allowed: list[tuple[datetime, datetime]], lows: list[datetime], at: datetime) -> bool:
    index = bisect.bisect_right(lows, at) - 1
    return index >= 0 and at <= allowed[index][1]


def local_day(moment: datetime, catalog: Catalog) -> date:
    """The salon-local calendar date of an instant (one near the ends of the calendar is
    taken a week away from them first)."""
    instant = min(max(to_utc(moment), _FIRST_INSTANT), _LAST_INSTANT)
    return instant.astimezone(catalog.salon.zone).date()


def bookable_days(
    catalog: Catalog, now: datetime, first_day: date, last_day: date
) -> tuple[date, date] | None:
    """The dates of ``[first_day, last_day]`` a slot may start on at ``now`` (between the
    minimum notice and the horizon), as a range; None when there are none."""
    policies = catalog.salon.policies
    now = to_utc(now)
    first = max(first_day, local_day(now + policies.min_notice, catalog))
    last = min(last_day, local_day(now + policies.booking_horizon, catalog))
    return (first, last) if first <= last else None


def find_slot(
    catalog: Catalog,
    service_key: str,
    staff_key: str,
    start: datetime,
    now: datetime,
    busy: Iterable[Interval],
) -> Slot | None:
    """The offered slot at exactly ``start`` for this staff member, if there is one.

    Booking re-checks through this, so what can be booked is exactly what is offered.
    """
    day = local_day(start, catalog)
    query = SlotQuery(service_key, day, day, staff_key)
    for slot in free_slots(catalog, query, now, {staff_key: busy}):
        if slot.start == to_utc(start):
            return slot
    return None


def nearest(slots: Iterable[Slot], target: datetime, count: int = 3) -> list[Slot]:
    """The ``count`` slots closest to ``target``, nearest first, earlier on ties."""
    target = to_utc(target)
    return sorted(slots, key=lambda s: (abs(s.start - target), s.start, s.staff_key))[:count]


def offered_starts(slots: Iterable[Slot]) -> list[datetime]:
    """Distinct starts across staff, for an "any staff" offer."""
    return sorted({slot.start for slot in slots})
