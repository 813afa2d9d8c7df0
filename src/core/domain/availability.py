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
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.domain.catalog import Catalog, Service, Staff, WorkPeriod
from core.domain.errors import StaffDoesNotPerform
from core.domain.timeline import Interval, IntervalSet, boundary_to_utc, local_to_utc, to_utc


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A bookable start for one staff member; all instants are UTC."""

    start: datetime
    staff_key: str
    end: datetime
    blocked: Interval


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """What to look for: a service, optionally one staff member, over local dates."""

    service_key: str
    first_day: date
    last_day: date
    staff_key: str | None = None


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

    def candidate_starts(self, catalog: Catalog) -> Iterator[datetime]:
        """Grid starts (UTC) whose local date is one of the schedule's days.

        They come from the periods that begin on those days and from the day before's, whose
        overnight part lies on the first day; the part of the last day's period that runs
        past midnight lies on a later date and belongs to that date's query.
        """
        zone = catalog.salon.zone
        step = catalog.salon.policies.slot_step
        for day in _days(self.first_day - timedelta(days=1), self.last_day):
            for period in self.member.periods_on(day):
                wall, end = _period_walls(day, period)
                while wall < end:
                    if self.first_day <= wall.date() <= self.last_day:
                        instant = local_to_utc(wall, zone)
                        if instant is not None:
                            yield instant
                    wall += step


def free_slots(
    catalog: Catalog,
    query: SlotQuery,
    now: datetime,
    busy: Mapping[str, Iterable[Interval]],
) -> list[Slot]:
    """Every free slot for the query, ordered by start then staff key.

    ``busy`` maps staff keys to their taken time (UTC); staff missing from it are free.
    Slots are those whose start falls on a local date in ``[first_day, last_day]``.
    """
    service = catalog.service(query.service_key)
    if query.staff_key is not None:
        member = catalog.member(query.staff_key)
        if not member.performs(service.key):
            raise StaffDoesNotPerform(member.key, service.key)
        members = [member]
    else:
        members = catalog.staff_for(service.key)
    slots: list[Slot] = []
    for member in members:
        slots.extend(_free_for(catalog, service, member, query, now, busy.get(member.key, ())))
    slots.sort()
    return slots


def _free_for(
    catalog: Catalog,
    service: Service,
    member: Staff,
    query: SlotQuery,
    now: datetime,
    busy: Iterable[Interval],
) -> Iterator[Slot]:
    now = to_utc(now)
    policies = catalog.salon.policies
    earliest = now + policies.min_notice
    latest = now + policies.booking_horizon
    duration = member.duration_of(service)
    schedule = StaffSchedule(member, catalog, query.first_day, query.last_day)
    taken = IntervalSet([*busy, *schedule.breaks])
    seen: set[datetime] = set()
    for start in schedule.candidate_starts(catalog):
        if start < earliest or start > latest or start in seen:
            continue
        end = start + duration
        if not schedule.working.covers(Interval(start, end)):
            continue
        blocked = Interval(start - service.buffer_before, end + service.buffer_after)
        if taken.overlaps(blocked):
            continue
        seen.add(start)
        yield Slot(start=start, staff_key=member.key, end=end, blocked=blocked)


def local_day(moment: datetime, catalog: Catalog) -> date:
    """The salon-local calendar date of an instant."""
    return to_utc(moment).astimezone(catalog.salon.zone).date()


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
