"""A booking reaches its staff member's Google Calendar end to end: the catalog's
``google_calendar``, the booking's change queuing a push, the pusher, the real
google-api-python-client with a service-account key made here (the OAuth JWT flow runs)
against the fake Calendar API; a move and a cancel follow."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.google_calendar.client import GoogleCalendars
from core.catalog.file import load_catalog_text
from core.db.tables import calendar_pushes
from core.domain.booking import Actor
from core.linked_calendars.ports import event_id
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import edited, put
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.staff_chats import add_customer

MARIA = "maria@group.calendar.google.com"
MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00 in Berlin; Maria works Mondays
STAFF = Actor.staff("owner@salon.test")


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA)
        yield server


@pytest.fixture
async def synced(
    clean_engine: AsyncEngine, clock: FakeClock, google: FakeGoogleCalendar, tmp_path: Path
) -> Salonbot:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(google.service_account_info()))
    calendars = GoogleCalendars.from_key_file(key_file, api_base=google.base_url)
    app = Salonbot(clean_engine, clock, linked_calendars=calendars)
    text = edited(put("staff", 1, "google_calendar", value=MARIA))
    document, _ = load_catalog_text(text)
    await load_catalog(app.uow, clock, document)
    return app


async def push_all(app: Salonbot) -> None:
    assert app.calendar_pusher is not None
    for _ in range(10):
        run = await app.calendar_pusher.run()
        if run.done + run.retried + run.parked == 0:
            return
    raise AssertionError("the pusher never ran dry")


async def test_a_booking_is_an_event_then_moves_then_goes(
    synced: Salonbot, google: FakeGoogleCalendar
) -> None:
    ada = await add_customer(synced, "Ada Lovelace", "+4930111222")
    booking = await synced.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    await push_all(synced)

    [event] = google.events(MARIA)
    assert event["id"] == event_id(booking.id)
    assert event["summary"] == "Manicure: Ada"
    assert event["start"]["timeZone"] == "Europe/Berlin"
    assert datetime.fromisoformat(event["start"]["dateTime"]) == MONDAY_10

    later = MONDAY_10 + timedelta(hours=1)
    await synced.bookings.reschedule(booking.id, later, STAFF)
    await push_all(synced)
    [moved] = google.events(MARIA)
    assert datetime.fromisoformat(moved["start"]["dateTime"]) == later

    await synced.bookings.cancel(booking.id, STAFF)
    await push_all(synced)
    assert google.events(MARIA) == []


async def test_a_staff_member_without_a_calendar_is_not_pushed(
    synced: Salonbot, google: FakeGoogleCalendar
) -> None:
    tuesday_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # Anna works Tuesdays
    await synced.bookings.book("womens-haircut", tuesday_11, STAFF, staff_key="anna")
    await push_all(synced)

    assert google.events(MARIA) == []
    assert google.calls == []


async def test_a_remove_from_a_calendar_no_longer_shared_is_parked_not_done(
    synced: Salonbot, google: FakeGoogleCalendar
) -> None:
    booking = await synced.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria")
    await push_all(synced)
    google.calendars[MARIA].access = None  # Maria stopped sharing her calendar

    await synced.bookings.cancel(booking.id, STAFF)
    await push_all(synced)

    async with synced.engine.connect() as connection:
        put, remove = (
            await connection.execute(select(calendar_pushes).order_by(calendar_pushes.c.id))
        ).all()
    assert put.done_at is not None
    assert remove.done_at is None
    assert remove.parked_at is not None
    assert str(remove.last_error).startswith("calendar not found or not shared")
    # The event is still there, for whoever shares the calendar again to see.
    assert [e["id"] for e in google.events(MARIA)] == [event_id(booking.id)]
