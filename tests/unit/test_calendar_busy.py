"""What an event read from a staff member's calendar means: salonbot's own (by its id), or
busy time on the UTC timeline, all-day events on the salon's local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.domain.timeline import Interval
from core.linked_calendars.busy import booking_of, busy_time
from core.linked_calendars.ports import CalendarEvent, event_id

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
WINDOW = Interval(NOW - timedelta(days=1), NOW + timedelta(days=68))
TEN = datetime(2026, 10, 21, 8, 0, tzinfo=UTC)


def timed(
    start: datetime, minutes: int = 60, *, busy: bool = True, cancelled: bool = False
) -> CalendarEvent:
    end = start + timedelta(minutes=minutes)
    return CalendarEvent("evt1", cancelled, busy, start=start, end=end)


def all_day(first: date, after: date, *, busy: bool = True) -> CalendarEvent:
    return CalendarEvent("day1", False, busy, first_day=first, end_day=after)


def test_salonbots_own_event_is_known_by_its_id_and_property() -> None:
    assert booking_of(CalendarEvent(event_id(42), False, booking_id=42)) == 42
    # A copy made in Google keeps the property under another id: the staff member's own.
    assert booking_of(CalendarEvent("copy12345", False, booking_id=42)) is None
    assert booking_of(CalendarEvent(event_id(42), False, booking_id=43)) is None


def test_a_deleted_event_comes_back_with_its_id_alone_and_the_id_says_whose() -> None:
    assert booking_of(CalendarEvent(event_id(7), True)) == 7
    assert booking_of(CalendarEvent(event_id(7), False)) is None  # not deleted: needs both
    for odd in ("sb", "sbzzzz", "sb" + "0" * 80, "k2bpnnpaka6uhcd7", event_id(7) + "0"):
        assert booking_of(CalendarEvent(odd, True)) is None


def test_an_instance_of_salonbots_event_made_recurring_in_google_is_salonbots_not_busy() -> None:
    ours, hour = event_id(42), timedelta(hours=1)
    instance = CalendarEvent(f"{ours}_20261021T080000Z", False, start=TEN, end=TEN + hour,
                             booking_id=42, recurring_event_id=ours)  # fmt: skip
    assert booking_of(instance) == 42
    assert busy_time(instance, BERLIN, WINDOW) is None
    # A recurring copy (another series) is the staff member's own, and busy.
    copy = CalendarEvent("copy12345_20261021T080000Z", False, start=TEN, end=TEN + hour,
                         booking_id=42, recurring_event_id="copy12345")  # fmt: skip
    assert booking_of(copy) is None
    assert busy_time(copy, BERLIN, WINDOW) == Interval(TEN, TEN + hour)
    # Google's minimal deleted instance names no booking: gone, never salonbot's deletion.
    assert booking_of(CalendarEvent(f"{ours}_20261021T080000Z", True)) is None


def test_an_opaque_timed_event_is_busy_and_others_are_not() -> None:
    assert busy_time(timed(TEN), BERLIN, WINDOW) == Interval(TEN, TEN + timedelta(hours=1))
    assert busy_time(timed(TEN, busy=False), BERLIN, WINDOW) is None
    assert busy_time(timed(TEN, cancelled=True), BERLIN, WINDOW) is None
    assert busy_time(timed(TEN, minutes=0), BERLIN, WINDOW) is None
    assert busy_time(timed(TEN, minutes=-30), BERLIN, WINDOW) is None
    assert busy_time(timed(WINDOW.end), BERLIN, WINDOW) is None
    assert busy_time(timed(WINDOW.start - timedelta(hours=1)), BERLIN, WINDOW) is None
    ours = CalendarEvent(event_id(5), False, start=TEN, end=TEN + timedelta(hours=1), booking_id=5)
    assert busy_time(ours, BERLIN, WINDOW) is None


def test_an_all_day_event_spans_its_local_days_a_25_hour_day_too() -> None:
    # Sunday 2026-10-25: Berlin falls back, the day is 25 hours long.
    busy = busy_time(all_day(date(2026, 10, 25), date(2026, 10, 26)), BERLIN, WINDOW)
    assert busy == Interval(
        datetime(2026, 10, 24, 22, 0, tzinfo=UTC), datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    )
    free = all_day(date(2026, 10, 25), date(2026, 10, 26), busy=False)
    assert busy_time(free, BERLIN, WINDOW) is None


@pytest.mark.parametrize(
    ("first", "after"), [(date(1, 1, 1), date(9999, 12, 31)), (date(2026, 1, 1), date(2027, 6, 1))]
)
def test_a_long_all_day_event_is_cut_to_the_days_around_the_window(
    first: date, after: date
) -> None:
    busy = busy_time(all_day(first, after), BERLIN, WINDOW)
    assert busy is not None
    assert busy.start <= WINDOW.start
    assert busy.end >= WINDOW.end
    assert busy.end - busy.start < timedelta(days=72)


def test_an_all_day_event_outside_the_window_blocks_nothing() -> None:
    far = WINDOW.end.date() + timedelta(days=5)
    assert busy_time(all_day(far, far + timedelta(days=1)), BERLIN, WINDOW) is None
    assert busy_time(all_day(date(2026, 10, 1), date(2026, 10, 2)), BERLIN, WINDOW) is None
    assert busy_time(CalendarEvent("x1", False), BERLIN, WINDOW) is None
