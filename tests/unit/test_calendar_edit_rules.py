"""The rules for salonbot's own events as a read of a staff calendar finds them: what is a
staff edit to follow or put back, and what is an echo of salonbot's own writes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from core.domain.booking import Booking, BookingStatus
from core.linked_calendars.edits import (
    EditAction,
    LastWrite,
    RevertReason,
    Verdict,
    judge,
    one_per_booking,
)
from core.linked_calendars.ports import CalendarEvent, event_id

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
TEN = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
BOOKING = Booking(7, 3, "manicure", "maria", TEN, TEN + HOUR, BookingStatus.CONFIRMED)
PUT_DONE = NOW - timedelta(minutes=5)
LAST = LastWrite(put=True, done_at=PUT_DONE, start=TEN, end=TEN + HOUR)
EDITED = PUT_DONE + timedelta(minutes=1)  # by Google's clock


def event(
    start: datetime | None = TEN + 2 * HOUR,
    length: timedelta = HOUR,
    *,
    cancelled: bool = False,
    updated: datetime | None = EDITED,
    booking_id: int = BOOKING.id,
    event_id_: str | None = None,
) -> CalendarEvent:
    return CalendarEvent(
        event_id=event_id_ or event_id(booking_id),
        cancelled=cancelled,
        start=start,
        end=None if start is None else start + length,
        booking_id=booking_id,
        updated=updated,
    )


def verdict(
    seen: CalendarEvent,
    booking: Booking | None = BOOKING,
    *,
    open_push: bool = False,
    last: LastWrite | None = LAST,
    staff_key: str = "maria",
) -> Verdict:
    return judge(staff_key, seen, booking, open_push=open_push, last=last, now=NOW)


def test_a_move_to_a_new_start_of_the_same_length_is_followed() -> None:
    assert verdict(event()) == Verdict(EditAction.MOVE, "moved in Google Calendar", TEN + 2 * HOUR)


def test_salonbots_event_made_recurring_in_google_is_put_back_as_a_single_event() -> None:
    ours = event_id(BOOKING.id)
    first = replace(event(TEN), event_id=f"{ours}_20261208T090000Z", recurring_event_id=ours)
    later = replace(first, event_id=f"{ours}_20261215T090000Z", start=TEN + timedelta(weeks=1),
                    end=TEN + timedelta(weeks=1) + HOUR)  # fmt: skip
    made_recurring = Verdict(EditAction.REVERT, RevertReason.RECURRING)
    assert verdict(first) == made_recurring
    assert verdict(later) == made_recurring
    # Its instances deleted by that put, or read before it landed: its echo.
    assert verdict(replace(first, cancelled=True)).action is EditAction.IGNORE
    assert verdict(replace(first, updated=PUT_DONE)).action is EditAction.IGNORE
    assert verdict(first, open_push=True).action is EditAction.IGNORE
    # A recurring copy of it is the staff member's own.
    copy = replace(first, event_id="copy12345_20261208T090000Z", recurring_event_id="copy12345")
    assert verdict(copy).action is EditAction.IGNORE


def test_a_read_keeps_what_it_found_of_each_booking_once() -> None:
    ours = event_id(BOOKING.id)
    single = event(TEN)
    instance = replace(single, event_id=f"{ours}_20261208T090000Z", recurring_event_id=ours)
    deleted_instance = replace(instance, cancelled=True)
    other = event(TEN, booking_id=8)
    # Put back as a single event: its series' instances listed deleted beside it.
    assert one_per_booking([single, deleted_instance, other]) == [single, other]
    assert one_per_booking([deleted_instance, single]) == [single]
    # Made recurring: its instances rather than the event listed deleted.
    assert one_per_booking([replace(single, cancelled=True), instance]) == [instance]
    # Otherwise the last word.
    assert one_per_booking([single, replace(single, start=TEN + HOUR)])[0].start == TEN + HOUR


def test_a_deletion_cancels() -> None:
    assert verdict(event(None, cancelled=True)).action is EditAction.CANCEL


def test_a_deletion_read_without_its_details_is_judged_by_when_the_read_began() -> None:
    """Google may give a deleted event's id alone: the read stamps it with its own start
    (``CalendarRead``), so a read that began before salonbot's last put landed is an echo,
    one that began after it a deletion; with no stamp at all it is never followed."""
    bare = event(None, cancelled=True, updated=None)
    after_the_put = replace(bare, updated=PUT_DONE + timedelta(seconds=1))
    before_the_put = replace(bare, updated=PUT_DONE - timedelta(seconds=1))

    assert verdict(after_the_put).action is EditAction.CANCEL
    assert verdict(before_the_put).action is EditAction.IGNORE
    assert verdict(bare).action is EditAction.IGNORE
    removed = LastWrite(put=False, done_at=PUT_DONE)
    assert verdict(after_the_put, last=removed).action is EditAction.IGNORE
    assert verdict(after_the_put, last=None).action is EditAction.IGNORE
    assert verdict(after_the_put, open_push=True).action is EditAction.IGNORE
    begun = replace(BOOKING, start=NOW - HOUR / 2, end=NOW + HOUR / 2)
    assert verdict(after_the_put, begun).action is EditAction.IGNORE


@pytest.mark.parametrize(
    ("seen", "why"),
    [
        (event(length=HOUR + timedelta(minutes=30)), RevertReason.LENGTH),
        (replace(event(None), first_day=date(2026, 12, 8), end_day=date(2026, 12, 9)),
         RevertReason.ALL_DAY),
    ],
)  # fmt: skip
def test_a_new_length_or_an_all_day_event_is_put_back(seen: CalendarEvent, why: str) -> None:
    assert verdict(seen) == Verdict(EditAction.REVERT, why)


@pytest.mark.parametrize(
    ("seen", "booking", "open_push", "last", "why"),
    [
        (event(event_id_="copy0123456789"), BOOKING, False, LAST, "not salonbot's event"),
        (event(), None, False, LAST, "no such booking"),
        (event(), replace(BOOKING, status=BookingStatus.CANCELLED), False, LAST, "cancelled"),
        (event(), replace(BOOKING, status=BookingStatus.HELD), False, LAST, "held"),
        (event(), replace(BOOKING, status=BookingStatus.NO_SHOW), False, LAST, "no_show"),
        (event(), replace(BOOKING, status=BookingStatus.COMPLETED), False, LAST, "completed"),
        (event(), replace(BOOKING, staff_key="olga"), False, LAST, "another staff member's"),
        (event(), BOOKING, True, LAST, "newer state of the booking is on its way"),
        (event(), BOOKING, False, None, "did not put the event"),
        (event(), BOOKING, False, LastWrite(put=False, done_at=PUT_DONE), "did not put"),
        (event(updated=PUT_DONE), BOOKING, False, LAST, "read before salonbot's last write"),
        (event(updated=None), BOOKING, False, LAST, "read before salonbot's last write"),
        (event(TEN), BOOKING, False, LAST, "as salonbot last put it"),
        (event(None, cancelled=True, updated=PUT_DONE - HOUR), BOOKING, False, LAST,
         "read before"),
    ],
)  # fmt: skip
def test_what_is_left_alone(
    seen: CalendarEvent,
    booking: Booking | None,
    open_push: bool,
    last: LastWrite | None,
    why: str,
) -> None:
    found = verdict(seen, booking, open_push=open_push, last=last)

    assert found.action is EditAction.IGNORE
    assert why in found.why


def test_an_event_as_the_booking_is_needs_nothing_though_the_last_put_differs() -> None:
    """A put that Google applied but that timed out and was parked: the calendar already
    shows the booking as it is."""
    moved = replace(BOOKING, start=TEN + 2 * HOUR, end=TEN + 3 * HOUR)

    found = verdict(event(TEN + 2 * HOUR), moved)

    assert (found.action, found.why) == (EditAction.IGNORE, "as the booking is")


def test_a_deleted_visit_that_has_begun_is_left_to_the_desk() -> None:
    begun = replace(BOOKING, start=NOW - HOUR / 2, end=NOW + HOUR / 2)
    last = replace(LAST, start=begun.start, end=begun.end)

    found = verdict(event(None, cancelled=True), begun, last=last)

    assert found.action is EditAction.IGNORE
    assert "begun" in found.why


def test_a_copy_under_another_id_is_never_followed_even_when_deleted() -> None:
    copy = event(None, cancelled=True, event_id_=event_id(BOOKING.id + 1))

    assert verdict(copy).action is EditAction.IGNORE


def test_an_edit_a_moment_after_our_write_is_followed() -> None:
    """Google's ``updated`` later than the pusher's done by a millisecond: a staff edit."""
    just_after = event(updated=PUT_DONE + timedelta(milliseconds=1))

    assert verdict(just_after).action is EditAction.MOVE
