"""A staff member's hours on one local day, as real instants: what the calendar's grid and
shades are drawn from.

A local day shows the periods that start on it (whole, so a shift past midnight ends the
next morning) and the part of the day before's overnight periods that falls on it. Wall
times are resolved by ``boundary_to_utc``: on a DST day the hours keep their real length.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.domain.catalog import Catalog, Staff, WorkPeriod
from core.domain.errors import DomainError
from core.domain.timeline import Interval, boundary_to_utc, merge

# The dates the calendar shows: far enough from the ends of the calendar that the day
# before, the week around and their instants exist in every zone.
FIRST_DAY = date(2, 1, 1)
LAST_DAY = date(9998, 12, 31)

# The grid of a day nobody works when the catalog has no weekly hours at all.
DEFAULT_HOURS = (time(9, 0), time(18, 0))


class DayOutOfRange(DomainError, ValueError):
    """A date the calendar does not show (before year 2 or after 9998)."""

    def __init__(self, day: date) -> None:
        super().__init__(f"no calendar for {day.isoformat()}: dates from year 2 to 9998 only")
        self.day = day


def check_day(day: date) -> date:
    """``day`` unchanged, or ``DayOutOfRange``."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DayOutOfRange(day)
    return day


@dataclass(frozen=True, slots=True)
class DayHours:
    """One staff member's working time and breaks on a local day (sorted, disjoint) and the
    note of the day's dated exception ("Training day"), if any."""

    working: tuple[Interval, ...] = ()
    breaks: tuple[Interval, ...] = ()
    note: str = ""


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of local ``day``."""
    return boundary_to_utc(datetime.combine(day, time(0)), zone)


def day_span(day: date, zone: ZoneInfo) -> Interval:
    """Local ``day`` from midnight to midnight: 23, 24 or 25 hours."""
    return Interval(day_start(day, zone), day_start(day + timedelta(days=1), zone))


def hours_on(member: Staff, day: date, zone: ZoneInfo) -> DayHours:
    """``member``'s hours on local ``day``."""
    start = day_start(day, zone)
    working: list[Interval] = []
    breaks: list[Interval] = []
    yesterday = day - timedelta(days=1)
    spills = [p for p in member.periods_on(yesterday) if p.crosses_midnight]
    for period_day, periods in ((yesterday, spills), (day, list(member.periods_on(day)))):
        for period in periods:
            working.extend(_from(start, _resolved(_period_walls(period_day, period), zone)))
            for walls in _break_walls(period_day, period):
                breaks.extend(_from(start, _resolved(walls, zone)))
    exception = member.exceptions.get(day)
    return DayHours(
        tuple(merge(working)), tuple(merge(breaks)), exception.note if exception else ""
    )


def opening_hours(hours: Iterable[DayHours]) -> Interval | None:
    """From the earliest opening to the latest closing of these hours; None: nobody works."""
    spans = [span for day in hours for span in day.working]
    if not spans:
        return None
    return Interval(min(s.start for s in spans), max(s.end for s in spans))


def usual_hours(catalog: Catalog, day: date) -> Interval:
    """The salon's most common hours, placed on local ``day``: of each weekday with weekly
    hours, its earliest opening and latest closing; the pair most weekdays share (ties: the
    earlier weekday). 09:00-18:00 when the catalog has no weekly hours."""
    shapes: Counter[tuple[timedelta, timedelta]] = Counter()
    for weekday in range(1, 8):
        periods = [p for m in catalog.staff.values() for p in m.weekly.get(weekday, ())]
        if periods:
            walls = [_offsets(period) for period in periods]
            shapes[(min(w[0] for w in walls), max(w[1] for w in walls))] += 1
    if shapes:
        (opens, closes), _ = shapes.most_common(1)[0]
    else:
        opens, closes = (timedelta(hours=t.hour, minutes=t.minute) for t in DEFAULT_HOURS)
    midnight = datetime.combine(day, time(0))
    zone = catalog.salon.zone
    return Interval(
        boundary_to_utc(midnight + opens, zone), boundary_to_utc(midnight + closes, zone)
    )


def gaps(span: Interval, covered: Sequence[Interval]) -> list[Interval]:
    """The parts of ``span`` outside ``covered`` (sorted, disjoint)."""
    found: list[Interval] = []
    cursor = span.start
    for part in covered:
        if part.end <= cursor or part.start >= span.end:
            continue
        if part.start > cursor:
            found.append(Interval(cursor, part.start))
        cursor = max(cursor, part.end)
    if cursor < span.end:
        found.append(Interval(cursor, span.end))
    return found


def clipped(part: Interval, span: Interval) -> Interval | None:
    """The share of ``part`` inside ``span``; None when they share no time."""
    start, end = max(part.start, span.start), min(part.end, span.end)
    return Interval(start, end) if start < end else None


def _offsets(period: WorkPeriod) -> tuple[timedelta, timedelta]:
    start = timedelta(hours=period.start.hour, minutes=period.start.minute)
    end = timedelta(hours=period.end.hour, minutes=period.end.minute)
    return start, end + timedelta(days=1) if period.crosses_midnight else end


def _period_walls(day: date, period: WorkPeriod) -> tuple[datetime, datetime]:
    start, end = _offsets(period)
    midnight = datetime.combine(day, time(0))
    return midnight + start, midnight + end


def _break_walls(day: date, period: WorkPeriod) -> Iterator[tuple[datetime, datetime]]:
    for break_start, break_end in period.breaks:
        # In a period that runs past midnight, a time before the period's start is tomorrow.
        start_day = day if break_start >= period.start else day + timedelta(days=1)
        end_day = day if break_end > period.start else day + timedelta(days=1)
        yield datetime.combine(start_day, break_start), datetime.combine(end_day, break_end)


def _resolved(walls: tuple[datetime, datetime], zone: ZoneInfo) -> Interval:
    return Interval(boundary_to_utc(walls[0], zone), boundary_to_utc(walls[1], zone))


def _from(start: datetime, span: Interval) -> list[Interval]:
    """``span`` from ``start`` on (yesterday's spill starts at midnight), if any is left."""
    if span.end <= start:
        return []
    return [Interval(max(span.start, start), span.end)]
