"""Conflicts between bookings and the busy time read from a staff member's Google Calendar,
on Postgres with the real client against the fake Calendar API: whichever comes second
notices. A hold confirmed over an event read meanwhile is alerted at its confirmation; a
booking committing while the import writes the event's busy time is alerted by the import
(it waits for the staff member's lock); a full read reconciles a conflict missed before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.unit_of_work import NestedUnitOfWorkFactory
from core.domain.booking import Actor
from core.services.booking import Bookings
from core.services.calendar_conflicts import CalendarConflicts
from core.services.calendar_import import CalendarImport, ImportRun
from salonbot.bootstrap import Salonbot
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.google_import import (
    BERLIN,
    MARIA,
    WITH_MARIA,
    alerts,
    busy_rows,
    google_calendars,
    load,
    timed,
)
from tests.waiting import until

# The clock stands at Monday 2026-12-07 06:00 UTC; Maria works Mondays 09:00-18:00 Berlin.
MONDAY_11 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
STAFF = Actor.staff("owner@salon.test")


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA, time_zone=BERLIN)
        yield server


@pytest.fixture
async def app(
    clean_engine: AsyncEngine, clock: FakeClock, google: FakeGoogleCalendar, tmp_path: Path
) -> Salonbot:
    salonbot = Salonbot(clean_engine, clock, linked_calendars=google_calendars(google, tmp_path))
    await load(salonbot, clock, WITH_MARIA)
    return salonbot


def importer(app: Salonbot) -> CalendarImport:
    assert app.calendar_import is not None
    return app.calendar_import


def told(found: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    return [(alert["kind"], alert["booking_id"], alert["event_id"]) for alert in found]


async def test_a_hold_confirmed_over_an_event_read_meanwhile_is_alerted_at_its_confirmation(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    await importer(app).run()
    hold = await app.bookings.hold("manicure", MONDAY_11, STAFF, staff_key="maria")
    dentist = google.owner_put(MARIA, timed(MONDAY_11 + timedelta(minutes=30)))
    clock.advance(timedelta(minutes=5))
    await importer(app).run()  # the dentist read over a hold: no conflict while it is one
    assert await alerts(app.engine) == []

    confirmed = await app.bookings.confirm(hold.id, STAFF)  # in time: its slot not checked

    [alert] = await alerts(app.engine)
    assert told([alert]) == [("conflict", confirmed.id, dentist)]
    assert "(2026-12-07 11:00-12:00) overlaps an event of their Google Calendar" in alert["detail"]
    # Later reads, a full one too, tell it no more.
    clock.advance(timedelta(minutes=5))
    await importer(app).run()
    await importer(app).resync("maria")
    assert len(await alerts(app.engine)) == 1


async def test_a_booking_committing_while_the_import_writes_its_event_is_alerted(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    await importer(app).run()
    dentist = google.owner_put(MARIA, timed(MONDAY_11 + timedelta(minutes=30)))
    clock.advance(timedelta(minutes=5))

    async with app.uow() as uow:
        # The booking use case in a transaction not committed yet: Maria's row locked, the
        # slot re-checked (no busy time yet), the booking written.
        nested = NestedUnitOfWorkFactory(uow.connection)
        booking = await app.bookings.over(nested).book(
            "manicure", MONDAY_11, STAFF, staff_key="maria"
        )
        reading = asyncio.create_task(importer(app).run())
        await until(_done_or_waiting(reading, app.engine), "the import is done or waits")
        assert not reading.done(), "the import wrote busy time without Maria's lock"
        await uow.commit()

    assert await reading == ImportRun(read=1)
    assert [event for _, event, _, _ in await busy_rows(app.engine)] == [dentist]
    assert told(await alerts(app.engine)) == [("conflict", booking.id, dentist)]


def _done_or_waiting(task: asyncio.Task[ImportRun], engine: AsyncEngine) -> Any:
    async def check() -> bool:
        if task.done():
            return True
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        return bool(waiting)

    return check


async def test_a_full_read_reconciles_a_conflict_missed_before(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    """A hold confirmed over busy time by a process that did not check (the release
    before this one): incremental reads never see the event change, a full read does."""
    await importer(app).run()
    hold = await app.bookings.hold("manicure", MONDAY_11, STAFF, staff_key="maria")
    dentist = google.owner_put(MARIA, timed(MONDAY_11 + timedelta(minutes=30)))
    clock.advance(timedelta(minutes=5))
    await importer(app).run()
    unchecked = [f for f in app.followers if not isinstance(f, CalendarConflicts)]
    older = Bookings(app.uow, clock, app.catalogs, app.external_busy, unchecked)
    await older.confirm(hold.id, STAFF)
    clock.advance(timedelta(minutes=5))
    await importer(app).run()
    assert await alerts(app.engine) == []

    await importer(app).resync("maria")

    assert told(await alerts(app.engine)) == [("conflict", hold.id, dentist)]
