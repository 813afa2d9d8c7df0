"""Where things sit on the calendar's grid: rows of 15 minutes, pure arithmetic.

The day view counts real elapsed time from the grid's opening (a DST day has 23 or 25
hours of rows); the week view lines its seven days up by wall-clock time, so 10:00 is on
one row across the week. Row numbers are CSS grid lines, 1-based; the stylesheet has a
class per line up to ``MAX_ROWS + 1`` (inline styles are barred by the CSP).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Generic, TypeVar

from core.calendar.views import BookingBlock, DayView, Shade, WeekView

ROW_MINUTES = 15
MAX_ROWS = 192  # 48 hours: more than any salon's day, even across midnight

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Placed(Generic[T]):
    """``item`` from grid line ``start`` to line ``end`` (``end > start``)."""

    item: T
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Mark:
    """An hour's label at grid line ``line``."""

    line: int
    moment: time


@dataclass(frozen=True, slots=True)
class Column:
    """One column: a staff member's day (day view) or one day of a week."""

    day: date
    staff_key: str
    staff_name: str
    bookings: tuple[Placed[BookingBlock], ...]
    shades: tuple[Placed[Shade], ...]
    now_line: int | None = None


@dataclass(frozen=True, slots=True)
class Grid:
    """``top``: the instant of line 1 when the lines count real time (the day view), so a
    line's instant is ``top`` plus its rows; None when they are the wall clock (the week)."""

    rows: int
    marks: tuple[Mark, ...]
    columns: tuple[Column, ...]
    top: datetime | None = None
    row_minutes: int = ROW_MINUTES


Minutes = Callable[[datetime], float]


def _place(item: T, first: float, last: float, rows: int) -> Placed[T]:
    """Lines for minutes ``first``..``last`` from the grid's top, clamped to the grid (a
    booking outside it still shows, squeezed against the edge)."""
    start = min(max(math.floor(first / ROW_MINUTES) + 1, 1), rows)
    end = min(max(math.ceil(last / ROW_MINUTES) + 1, start + 1), rows + 1)
    return Placed(item, start, end)


def _rows(minutes: float) -> int:
    return min(max(math.ceil(minutes / ROW_MINUTES), 1), MAX_ROWS)


def _column(view: DayView, index: int, minutes: Minutes, rows: int) -> Column:
    staff = view.columns[index]
    now = minutes(view.now)
    return Column(
        day=view.day,
        staff_key=staff.staff_key,
        staff_name=staff.staff_name,
        bookings=tuple(_place(b, minutes(b.start), minutes(b.end), rows) for b in staff.bookings),
        shades=tuple(_place(s, minutes(s.start), minutes(s.end), rows) for s in staff.shades),
        now_line=math.floor(now / ROW_MINUTES) + 1 if 0 <= now < rows * ROW_MINUTES else None,
    )


def day_grid(view: DayView) -> Grid:
    """The salon's day: lines counted in real time from ``view.opens`` (back to its local
    quarter hour, so the rows fall on :00, :15, :30 and :45)."""
    local = view.opens.astimezone(view.zone)
    past_quarter = timedelta(
        minutes=local.minute % ROW_MINUTES, seconds=local.second, microseconds=local.microsecond
    )
    opens = view.opens.astimezone(UTC) - past_quarter

    def minutes(moment: datetime) -> float:
        # In UTC: two datetimes of one ZoneInfo subtract as wall clocks, not as instants.
        return (moment.astimezone(UTC) - opens) / timedelta(minutes=1)

    rows = _rows(minutes(view.closes))
    marks = []
    for line in range(1, rows + 1):
        local = (opens + timedelta(minutes=(line - 1) * ROW_MINUTES)).astimezone(view.zone)
        if local.minute == 0 or line == 1:
            marks.append(Mark(line, local.time().replace(tzinfo=None)))
    columns = tuple(_column(view, i, minutes, rows) for i in range(len(view.columns)))
    return Grid(rows=rows, marks=tuple(marks), columns=columns, top=opens)


def wall_minutes(moment: datetime, day: date, view: DayView) -> int:
    """Minutes on the wall clock from ``day``'s local midnight (past 1440 after midnight)."""
    local = moment.astimezone(view.zone)
    return (local.date() - day).days * 1440 + local.hour * 60 + local.minute


def week_grid(week: WeekView) -> Grid:
    """Seven days of one staff member, lined up by the wall clock."""
    top = min(wall_minutes(d.opens, d.day, d) for d in week.days)
    top -= top % ROW_MINUTES
    bottom = max(wall_minutes(d.closes, d.day, d) for d in week.days)
    rows = _rows(bottom - top)
    marks = [
        Mark(line, time((minute // 60) % 24, minute % 60))
        for line in range(1, rows + 1)
        if (minute := top + (line - 1) * ROW_MINUTES) % 60 == 0 or line == 1
    ]
    columns = []
    for view in week.days:

        def minutes(moment: datetime, view: DayView = view) -> float:
            return wall_minutes(moment, view.day, view) - top

        if view.columns:
            columns.append(_column(view, 0, minutes, rows))
        else:
            columns.append(Column(view.day, week.staff_key, week.staff_name, (), ()))
    return Grid(rows=rows, marks=tuple(marks), columns=tuple(columns))
