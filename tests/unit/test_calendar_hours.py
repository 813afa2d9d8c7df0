"""A staff member's hours on one local day as the calendar draws them: shifts across midnight,
the salon's usual hours, closed time as the gaps between working spans, the dates shown."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.calendar.hours import (
    DayOutOfRange,
    check_day,
    clipped,
    gaps,
    hours_on,
    opening_hours,
    usual_hours,
)
from core.catalog.file import load_catalog_text
from core.domain.catalog import Catalog, WorkPeriod
from core.domain.timeline import Interval
from tests.catalog_cases import DEMO_TEXT

BERLIN = ZoneInfo("Europe/Berlin")


def demo() -> Catalog:
    document, _ = load_catalog_text(DEMO_TEXT)
    return document.catalog


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def span(start: tuple[int, int], end: tuple[int, int]) -> Interval:
    return Interval(at(7, *start), at(7, *end))


def with_weekly(catalog: Catalog, staff_key: str, weekday: int, *periods: WorkPeriod) -> Catalog:
    member = catalog.staff[staff_key]
    weekly = {**member.weekly, weekday: tuple(periods)}
    return replace(catalog, staff={**catalog.staff, staff_key: replace(member, weekly=weekly)})


def test_the_gaps_of_a_span_are_what_no_covered_part_touches() -> None:
    covered = [span((7, 0), (9, 0)), span((10, 0), (11, 0)), span((12, 0), (20, 0))]

    assert gaps(span((8, 0), (18, 0)), covered) == [span((9, 0), (10, 0)), span((11, 0), (12, 0))]
    assert gaps(span((8, 0), (18, 0)), []) == [span((8, 0), (18, 0))]
    assert gaps(span((8, 0), (9, 0)), covered) == []


def test_a_part_outside_the_span_or_touching_it_is_clipped_to_nothing() -> None:
    grid = span((8, 0), (18, 0))

    assert clipped(span((6, 0), (9, 0)), grid) == span((8, 0), (9, 0))
    assert clipped(span((18, 0), (19, 0)), grid) is None
    assert clipped(span((6, 0), (8, 0)), grid) is None


def test_a_shift_past_midnight_is_whole_on_its_day_and_its_tail_on_the_next() -> None:
    night = WorkPeriod(time(20, 0), time(2, 0), breaks=((time(23, 30), time(0, 30)),))
    member = with_weekly(demo(), "maria", 6, night).staff["maria"]  # Saturday 2026-12-12

    saturday = hours_on(member, date(2026, 12, 12), BERLIN)
    sunday = hours_on(member, date(2026, 12, 13), BERLIN)

    assert saturday.working == (Interval(at(12, 19), at(13, 1)),)
    assert saturday.breaks == (Interval(at(12, 22, 30), at(12, 23, 30)),)
    assert sunday.working == (Interval(at(12, 23), at(13, 1)),)
    assert sunday.breaks == (Interval(at(12, 23), at(12, 23, 30)),)


def test_a_shift_ending_at_midnight_leaves_nothing_on_the_next_day() -> None:
    evening = WorkPeriod(time(18, 0), time(0, 0))
    member = with_weekly(demo(), "maria", 6, evening).staff["maria"]

    assert hours_on(member, date(2026, 12, 13), BERLIN).working == ()
    assert hours_on(member, date(2026, 12, 12), BERLIN).working == (
        Interval(at(12, 17), at(12, 23)),
    )


def test_a_dated_exception_gives_its_hours_and_its_note() -> None:
    anna = demo().staff["anna"]

    short = hours_on(anna, date(2026, 12, 31), BERLIN)
    off = hours_on(anna, date(2026, 12, 24), BERLIN)

    assert (short.working, short.note) == (
        (Interval(at(31, 9), at(31, 13)),),
        "New Year's Eve, short day",
    )
    assert (off.working, off.note) == ((), "Christmas Eve")


def test_the_opening_hours_run_from_the_earliest_start_to_the_latest_end() -> None:
    catalog = demo()
    tuesday = date(2026, 12, 8)

    hours = [hours_on(m, tuesday, BERLIN) for m in catalog.staff.values()]

    assert opening_hours(hours) == Interval(at(8, 8), at(8, 18))
    assert opening_hours([hours_on(catalog.staff["olga"], tuesday, BERLIN)]) is None


def test_the_usual_hours_are_those_most_weekdays_share_and_the_earlier_weekday_wins_a_tie() -> None:
    catalog = demo()
    # Mon, Wed and Fri run 09:00-20:00 in the demo.
    assert usual_hours(catalog, date(2026, 12, 13)) == Interval(at(13, 8), at(13, 19))

    # Wednesday made 10:00-16:00 like Saturday: two weekdays each (Mon and Fri against Wed
    # and Sat), and Monday comes first.
    catalog = with_weekly(catalog, "anna", 3, WorkPeriod(time(10, 0), time(16, 0)))
    catalog = with_weekly(catalog, "maria", 3)
    catalog = with_weekly(catalog, "olga", 3)
    assert usual_hours(catalog, date(2026, 12, 13)) == Interval(at(13, 8), at(13, 19))


def test_without_weekly_hours_the_usual_hours_are_nine_to_six() -> None:
    catalog = demo()
    bare = replace(catalog, staff={key: replace(m, weekly={}) for key, m in catalog.staff.items()})

    assert usual_hours(bare, date(2026, 12, 13)) == Interval(at(13, 8), at(13, 17))


@pytest.mark.parametrize("day", [date(1, 12, 31), date(9999, 1, 1)])
def test_a_date_outside_years_2_to_9998_is_refused(day: date) -> None:
    with pytest.raises(DayOutOfRange, match="year 2 to 9998"):
        check_day(day)


def test_the_first_and_last_dates_shown_are_accepted() -> None:
    assert check_day(date(2, 1, 1)) == date(2, 1, 1)
    assert check_day(date(9998, 12, 31)) == date(9998, 12, 31)
