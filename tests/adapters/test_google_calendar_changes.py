"""``GoogleCalendars.changes``: a staff member's calendar read back through the real
google-api-python-client (service-account key made here, OAuth JWT flow included)
against the fake Calendar API: full reads in pages, sync tokens, 410, all-day,
transparent, deleted and recurring events."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.google_calendar.client import GoogleCalendars
from core.linked_calendars.ports import (
    CalendarEvent,
    CalendarRefused,
    EventDraft,
    EventPage,
    SyncExpired,
    event_id,
)
from tests.fakes.google_calendar import FakeGoogleCalendar

MARIA = "maria@group.calendar.google.com"
MONDAY = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
WINDOW = (MONDAY - timedelta(days=1), MONDAY + timedelta(days=30))


@pytest.fixture
async def fake() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA, time_zone="Europe/Berlin")
        yield server


@pytest.fixture
def calendars(fake: FakeGoogleCalendar, tmp_path: Path) -> GoogleCalendars:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(fake.service_account_info()))
    return GoogleCalendars.from_key_file(key_file, api_base=fake.base_url, timeout=5.0)


def timed(start: datetime, minutes: int = 60, **more: Any) -> dict[str, Any]:
    end = start + timedelta(minutes=minutes)
    return {
        "summary": "Dentist",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": end.isoformat()},
        **more,
    }


async def read_all(
    calendars: GoogleCalendars, sync_token: str | None = None
) -> tuple[list[EventPage], str]:
    """Every page of one read, and the sync token its last page gave."""
    pages: list[EventPage] = []
    page_token = None
    while True:
        page = await calendars.changes(
            MARIA, sync_token=sync_token, page_token=page_token, window=WINDOW
        )
        pages.append(page)
        if page.next_page is None:
            assert page.sync_token is not None
            return pages, page.sync_token
        assert page.sync_token is None
        page_token = page.next_page


def events_of(pages: list[EventPage]) -> dict[str, CalendarEvent]:
    return {event.event_id: event for page in pages for event in page.events}


async def test_a_full_read_pages_through_the_window_and_gives_a_sync_token_on_the_last_page(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars
) -> None:
    inside = [fake.owner_put(MARIA, timed(MONDAY + timedelta(hours=h))) for h in range(300)]
    fake.owner_put(MARIA, timed(WINDOW[1] + timedelta(hours=1)))  # after the window
    fake.owner_put(MARIA, timed(WINDOW[0] - timedelta(hours=2)))  # ended before it
    gone = fake.owner_put(MARIA, timed(MONDAY))
    fake.owner_delete(MARIA, gone)

    pages, _ = await read_all(calendars)

    assert [len(page.events) for page in pages] == [250, 51]
    assert set(events_of(pages)) == {*inside, gone}
    # Deleted ones come too (showDeleted: the same as on an incremental read), as such.
    deleted = events_of(pages)[gone]
    assert (deleted.cancelled, deleted.start) == (True, MONDAY)
    first = events_of(pages)[inside[0]]
    assert (first.start, first.end) == (MONDAY, MONDAY + timedelta(hours=1))
    assert first.busy
    assert not first.cancelled
    assert first.start is not None
    assert first.start.tzinfo is UTC


async def test_the_sync_token_brings_what_changed_since_deleted_ones_with_their_details(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars
) -> None:
    kept = fake.owner_put(MARIA, timed(MONDAY))
    moved = fake.owner_put(MARIA, timed(MONDAY + timedelta(hours=2)))
    deleted = fake.owner_put(MARIA, timed(MONDAY + timedelta(hours=4)))
    _, token = await read_all(calendars)

    later = MONDAY + timedelta(days=1)
    fake.owner_move(MARIA, moved, later, later + timedelta(minutes=30))
    fake.owner_delete(MARIA, deleted)
    added = fake.owner_put(MARIA, timed(MONDAY + timedelta(days=2)))
    pages, next_token = await read_all(calendars, token)

    changed = events_of(pages)
    assert set(changed) == {moved, deleted, added}
    assert kept not in changed
    assert changed[moved].start == later
    assert changed[deleted].cancelled
    # Asked with showDeleted: its details too, ``updated`` above all (when it was deleted).
    [stored] = [event for event in fake.events(MARIA, deleted=True) if event["id"] == deleted]
    assert changed[deleted].updated == datetime.fromisoformat(stored["updated"])
    assert changed[deleted].start == MONDAY + timedelta(hours=4)
    assert not changed[moved].cancelled
    # Nothing new: an empty page, and a token again.
    pages, _ = await read_all(calendars, next_token)
    assert events_of(pages) == {}
    assert [("GET" in method) for method, _ in fake.calls] == [True] * len(fake.calls)


async def test_an_expired_sync_token_is_sync_expired(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars
) -> None:
    fake.owner_put(MARIA, timed(MONDAY))
    _, token = await read_all(calendars)
    fake.expire_sync_tokens(MARIA)

    with pytest.raises(SyncExpired):
        await calendars.changes(MARIA, sync_token=token, page_token=None, window=WINDOW)


async def test_a_token_google_never_gave_is_sync_expired_too(calendars: GoogleCalendars) -> None:
    with pytest.raises(SyncExpired):
        await calendars.changes(MARIA, sync_token="CPDAlvWDx70C", page_token=None, window=WINDOW)


async def test_all_day_transparent_and_salonbots_own_events_are_read_as_they_are(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars
) -> None:
    holiday = fake.owner_put(
        MARIA, {"start": {"date": "2026-12-08"}, "end": {"date": "2026-12-10"}}
    )
    free = fake.owner_put(MARIA, timed(MONDAY, transparency="transparent"))
    ours = EventDraft(event_id(7), 7, "Manicure", "", MONDAY, MONDAY + timedelta(hours=1), "UTC")
    await calendars.put(MARIA, ours)
    odd = {
        "0": fake.owner_put(MARIA, timed(MONDAY, extendedProperties=_booking("0"))),
        "-3": fake.owner_put(MARIA, timed(MONDAY, extendedProperties=_booking("-3"))),
        "12x": fake.owner_put(MARIA, timed(MONDAY, extendedProperties=_booking("12x"))),
        "huge": fake.owner_put(MARIA, timed(MONDAY, extendedProperties=_booking("9" * 40))),
    }

    events = events_of((await read_all(calendars))[0])

    assert events[holiday].first_day == date(2026, 12, 8)
    assert events[holiday].end_day == date(2026, 12, 10)
    assert (events[holiday].start, events[holiday].busy) == (None, True)
    assert not events[free].busy
    assert events[ours.event_id].booking_id == 7
    assert [events[odd_id].booking_id for odd_id in odd.values()] == [None] * 4
    stored = fake.events(MARIA)[2]
    assert events[ours.event_id].updated == datetime.fromisoformat(stored["updated"])


async def test_recurring_events_come_as_their_instances_within_the_window(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars
) -> None:
    # Every Tuesday 08:00 in Berlin, from a week before the window, for ever.
    first = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    ends = first + timedelta(hours=1)
    weekly = fake.owner_put(
        MARIA,
        {
            "start": {"dateTime": first.isoformat(), "timeZone": "Europe/Berlin"},
            "end": {"dateTime": ends.isoformat(), "timeZone": "Europe/Berlin"},
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TU"],
        },
    )

    events = events_of((await read_all(calendars))[0])

    tuesdays = [datetime(2026, 12, 8, 7, 0, tzinfo=UTC) + timedelta(weeks=w) for w in range(5)]
    assert sorted(event.start for event in events.values() if event.start) == tuesdays
    assert events[f"{weekly}_20261208T070000Z"].recurring_event_id == weekly


async def test_a_malformed_event_is_skipped_with_a_log_line_and_the_rest_is_read(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars, caplog: pytest.LogCaptureFixture
) -> None:
    good = fake.owner_put(MARIA, timed(MONDAY))
    naive = fake.owner_put(
        MARIA,
        {
            "summary": "Private: therapist",
            "start": {"dateTime": "2026-12-07T10:00:00"},
            "end": {"dateTime": "2026-12-07T11:00:00"},
        },
    )
    caplog.set_level(logging.WARNING)

    events = events_of((await read_all(calendars))[0])

    assert set(events) == {good}
    assert naive[:20] in caplog.text
    assert "therapist" not in caplog.text


async def test_a_refused_read_is_calendar_refused(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars
) -> None:
    fake.fail_next(1, 503, "backendError")
    with pytest.raises(CalendarRefused) as refused:
        await calendars.changes(MARIA, sync_token=None, page_token=None, window=WINDOW)
    assert refused.value.transient

    fake.add_calendar(MARIA, access=None)
    with pytest.raises(CalendarRefused) as refused:
        await calendars.changes(MARIA, sync_token=None, page_token=None, window=WINDOW)
    assert not refused.value.transient


async def test_an_invitation_the_calendar_declined_shows_it_free(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars
) -> None:
    def invited(answer: str, email: str = MARIA) -> dict[str, Any]:
        guests = [
            {"email": "boss@salon.test", "organizer": True, "responseStatus": "accepted"},
            {"email": email, "responseStatus": answer},
        ]
        return timed(MONDAY, attendees=guests)

    declined = fake.owner_put(MARIA, invited("declined"))
    accepted = fake.owner_put(MARIA, invited("accepted"))
    unanswered = fake.owner_put(MARIA, invited("needsAction"))
    tentative = fake.owner_put(MARIA, invited("tentative"))
    someone_else_declined = fake.owner_put(MARIA, invited("declined", "anna@salon.test"))

    events = events_of((await read_all(calendars))[0])

    assert not events[declined].busy
    for busy in (accepted, unanswered, tentative, someone_else_declined):
        assert events[busy].busy


def _booking(value: str) -> dict[str, Any]:
    return {"private": {"salonbotBookingId": value}}
