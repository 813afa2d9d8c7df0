"""salonbot's own events edited in Google, read back by the calendar import through the
real client against the fake Calendar API, and reconciled by ``CalendarEdits`` (the
wiring ``Salonbot`` makes).

Google stamps ``updated`` with the real clock and salonbot compares it with when its own
writes landed, so these tests keep salonbot's clock on the real one, and the visit a few
days ahead; every tick reads the calendar (``calendar_poll_every`` 0)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.tables import bookings
from core.domain.booking import Actor, Booking
from core.linked_calendars.edits import RevertReason
from core.linked_calendars.ports import event_id
from salonbot.bootstrap import Salonbot
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.google_import import BERLIN, MARIA, WITH_MARIA, alerts, busy_rows, google_calendars, load

STAFF = Actor.staff("owner@salon.test")


def next_monday_ten() -> datetime:
    """10:00 in Berlin on a Monday at least two days from now (Maria works then)."""
    day = datetime.now(UTC).astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=2)
    day += timedelta(days=(7 - day.weekday()) % 7)
    return datetime.combine(day, time(10), ZoneInfo(BERLIN)).astimezone(UTC)


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA, time_zone=BERLIN)
        yield server


@pytest.fixture
async def app(
    clean_engine: AsyncEngine, clock: FakeClock, google: FakeGoogleCalendar, tmp_path: Path
) -> Salonbot:
    clock.set(datetime.now(UTC))
    salonbot = Salonbot(
        clean_engine,
        clock,
        linked_calendars=google_calendars(google, tmp_path),
        calendar_poll_every=timedelta(0),
    )
    await load(salonbot, clock, WITH_MARIA)
    return salonbot


async def push_all(app: Salonbot) -> None:
    assert isinstance(app.clock, FakeClock)
    app.clock.set(datetime.now(UTC))
    assert app.calendar_pusher is not None
    while (run := await app.calendar_pusher.run()).done + run.retried + run.parked:
        pass


async def read(app: Salonbot) -> None:
    """One tick of the import, now."""
    assert isinstance(app.clock, FakeClock)
    app.clock.set(datetime.now(UTC))
    assert app.calendar_import is not None
    run = await app.calendar_import.run()
    assert (run.read, run.failed) == (1, 0)


async def booked(app: Salonbot) -> Booking:
    """Maria's manicure next Monday at 10, on her calendar, read back once."""
    booking = await app.bookings.book("manicure", next_monday_ten(), STAFF, staff_key="maria")
    await push_all(app)
    await read(app)
    return booking


async def visit(app: Salonbot, booking_id: int) -> tuple[Any, ...]:
    async with app.engine.connect() as connection:
        row = (
            await connection.execute(
                select(bookings.c.status, bookings.c.starts_at).where(bookings.c.id == booking_id)
            )
        ).one()
    return tuple(row)


async def test_salonbots_event_made_recurring_in_google_is_never_busy_and_is_put_back(
    app: Salonbot, google: FakeGoogleCalendar
) -> None:
    booking = await booked(app)
    ours = google.calendars[MARIA].events[event_id(booking.id)]
    google.owner_put(MARIA, {**ours, "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]})

    await read(app)  # four instances of salonbot's event, the first over its own booking

    assert await busy_rows(app.engine) == []
    [alert] = await alerts(app.engine)
    assert (alert["kind"], alert["booking_id"]) == ("reverted", booking.id)
    assert alert["detail"] == RevertReason.RECURRING
    await push_all(app)
    [event] = google.events(MARIA)
    assert (event["id"], event.get("recurrence")) == (event_id(booking.id), [])
    assert datetime.fromisoformat(event["start"]["dateTime"]) == booking.start

    await read(app)  # its instances deleted, the event as salonbot put it back: echoes
    assert await busy_rows(app.engine) == []
    assert len(await alerts(app.engine)) == 1
    assert await visit(app, booking.id) == ("confirmed", booking.start)


async def test_a_move_whose_reconciling_failed_is_followed_on_a_later_tick(
    app: Salonbot, google: FakeGoogleCalendar
) -> None:
    """The read that brings the move commits its sync token: the move is kept with it, so
    a failure while reconciling it (the database away for a moment, say; here a damaged
    row) loses nothing."""
    booking = await booked(app)
    async with app.engine.begin() as connection:
        pushed = await connection.scalar(text("SELECT event::text FROM calendar_pushes"))
        await connection.execute(text("UPDATE calendar_pushes SET event = '{}'"))
    later = booking.start + timedelta(hours=1)
    google.owner_move(MARIA, event_id(booking.id), later, later + (booking.end - booking.start))

    await read(app)  # the move read, its sync token kept; reconciling it fails

    assert await visit(app, booking.id) == ("confirmed", booking.start)
    async with app.engine.begin() as connection:
        await connection.execute(
            text("UPDATE calendar_pushes SET event = CAST(:event AS jsonb)"), {"event": pushed}
        )
    assert isinstance(app.clock, FakeClock)
    app.clock.advance(timedelta(seconds=10))  # past the retry's backoff
    assert app.calendar_import is not None
    await app.calendar_import.run()  # nothing new in Google: what was kept is reconciled

    assert await visit(app, booking.id) == ("confirmed", later)
    async with app.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM calendar_seen_events")) == 0
