"""Where the staff pages put things: 15-minute rows in real time for a day (DST days too),
by the wall clock for a week, clamped to the grid."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.staff_web.grid import MAX_ROWS, day_grid, week_grid
from core.calendar.views import BookingBlock, DayView, Shade, ShadeKind, StaffDay, WeekView
from core.domain.booking import BookingStatus

BERLIN = ZoneInfo("Europe/Berlin")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def booking(start: datetime, end: datetime) -> BookingBlock:
    return BookingBlock(
        1, 1, start, end, "manicure", "Manicure", "Ada", "+49 1", "telegram",
        BookingStatus.CONFIRMED,
    )  # fmt: skip


def view(
    day: date, opens: datetime, closes: datetime, *blocks: BookingBlock, now: datetime | None = None
) -> DayView:
    column = StaffDay("maria", "Maria", blocks, (Shade(ShadeKind.BREAK, opens, opens),))
    return DayView(day, BERLIN, opens, closes, now or opens - timedelta(days=1), (column,))


def test_a_day_has_a_row_per_quarter_hour_from_opening_to_closing() -> None:
    day = date(2026, 12, 8)
    grid = day_grid(
        view(day, local(day, 9), local(day, 18), booking(local(day, 10), local(day, 11)))
    )
    assert grid.rows == 36
    assert [m.moment for m in grid.marks] == [time(h) for h in range(9, 18)]
    placed = grid.columns[0].bookings[0]
    assert (placed.start, placed.end) == (5, 9)


def test_the_spring_forward_day_has_real_hours_and_skips_the_missing_one() -> None:
    day = date(2027, 3, 28)  # Berlin: 02:00 becomes 03:00
    stays = booking(local(day, 3), local(day, 4))
    grid = day_grid(view(day, local(day, 0), local(day, 6), stays))
    assert grid.rows == 20  # five real hours
    assert [m.moment for m in grid.marks] == [time(0), time(1), time(3), time(4), time(5)]
    placed = grid.columns[0].bookings[0]
    assert (placed.start, placed.end) == (9, 13)  # two real hours after midnight


def test_the_fall_back_day_shows_the_repeated_hour_twice() -> None:
    day = date(2026, 10, 25)  # Berlin: 03:00 goes back to 02:00
    opens = local(day, 0)
    closes = datetime(2026, 10, 25, 5, tzinfo=UTC)  # 06:00 local, seven real hours later
    grid = day_grid(view(day, opens, closes))
    assert grid.rows == 28
    assert [m.moment for m in grid.marks] == [time(h) for h in (0, 1, 2, 2, 3, 4, 5)]


def test_a_booking_past_the_grid_is_squeezed_against_its_edge() -> None:
    day = date(2026, 12, 8)
    late = booking(local(day, 17, 30), local(day, 19))
    early = booking(local(day, 7), local(day, 8))
    grid = day_grid(view(day, local(day, 9), local(day, 18), late, early))
    assert [(p.start, p.end) for p in grid.columns[0].bookings] == [(35, 37), (1, 2)]


def test_the_now_line_is_on_the_quarter_hour_it_falls_in_and_only_within_the_grid() -> None:
    day = date(2026, 12, 8)
    now = local(day, 10, 40)
    assert day_grid(view(day, local(day, 9), local(day, 18), now=now)).columns[0].now_line == 7
    evening = local(day, 18, 1)
    assert (
        day_grid(view(day, local(day, 9), local(day, 18), now=evening)).columns[0].now_line is None
    )


def test_an_endless_day_is_capped() -> None:
    day = date(2026, 12, 8)
    assert day_grid(view(day, local(day, 0), local(day, 0) + timedelta(days=5))).rows == MAX_ROWS


def test_a_week_lines_its_days_up_by_the_wall_clock_across_midnight() -> None:
    monday = date(2026, 12, 7)
    days = []
    for n in range(7):
        day = monday + timedelta(days=n)
        opens, closes = local(day, 9), local(day, 18)
        if n == 1:
            opens = local(day, 8)
        if n == 4:  # Friday's late shift ends at 02:00 on Saturday
            closes = local(day + timedelta(days=1), 2)
        blocks = (booking(local(day, 10), local(day, 11)),) if n == 2 else ()
        days.append(view(day, opens, closes, *blocks))
    week = WeekView("maria", "Maria", BERLIN, local(monday, 12), tuple(days))
    grid = week_grid(week)
    assert grid.rows == 18 * 4  # 08:00 to 02:00 the next morning
    assert grid.marks[0].moment == time(8)
    assert grid.marks[-1].moment == time(1)
    assert [c.day for c in grid.columns] == [monday + timedelta(days=n) for n in range(7)]
    placed = grid.columns[2].bookings[0]
    assert (placed.start, placed.end) == (9, 13)  # 10:00 is two hours below 08:00


def test_a_grid_opening_between_quarter_hours_starts_at_the_quarter_before() -> None:
    day = date(2026, 12, 8)
    grid = day_grid(
        view(day, local(day, 9, 10), local(day, 10), booking(local(day, 9, 30), local(day, 10)))
    )
    assert grid.rows == 4  # 09:00 to 10:00
    assert grid.marks[0].moment == time(9)
    placed = grid.columns[0].bookings[0]
    assert (placed.start, placed.end) == (3, 5)
