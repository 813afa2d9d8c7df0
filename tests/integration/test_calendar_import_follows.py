"""The calendar import follows the catalog and the bookings: a calendar taken out of the
catalog or changed loses its busy time at once, a read that lost its claim writes
nothing, a new event over a confirmed booking raises one conflict alert (over a hold, at
its confirmation), salonbot's own events go to whoever reconciles them, a calendar that
hangs holds up no other, and the scheduler ticks it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.tables import calendar_syncs
from core.domain.booking import Actor
from core.linked_calendars.ports import EventDraft, event_id
from core.services.calendar_alerts import AlertKind
from core.services.calendar_import import CalendarImport, ImportRun
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.scheduler import Scheduler
from tests.catalog_cases import put
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.google_import import (
    BERLIN,
    MARIA,
    OLGA,
    WITH_MARIA,
    WITH_OLGA,
    OursRecorded,
    alerts,
    busy_rows,
    google_calendars,
    kept_events,
    load,
    sync_rows,
    timed,
)
from tests.waiting import until

MONDAY_11 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, Maria works
STAFF = Actor.staff("owner@salon.test")


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA, time_zone=BERLIN)
        server.add_calendar(OLGA, time_zone=BERLIN)
        yield server


@pytest.fixture
def ours() -> OursRecorded:
    return OursRecorded()


@pytest.fixture
async def app(
    clean_engine: AsyncEngine,
    clock: FakeClock,
    google: FakeGoogleCalendar,
    tmp_path: Path,
    ours: OursRecorded,
) -> Salonbot:
    calendars = google_calendars(google, tmp_path)
    salonbot = Salonbot(clean_engine, clock, linked_calendars=calendars, our_events=ours)
    await load(salonbot, clock, WITH_MARIA)
    return salonbot


def importer(app: Salonbot) -> CalendarImport:
    assert app.calendar_import is not None
    return app.calendar_import


async def push_all(app: Salonbot) -> None:
    assert app.calendar_pusher is not None
    while (run := await app.calendar_pusher.run()).done + run.retried + run.parked:
        pass


async def test_a_calendar_taken_out_of_the_catalog_loses_its_busy_time_at_once(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    google.owner_put(MARIA, timed(MONDAY_11))
    await importer(app).run()
    assert len(await busy_rows(app.engine)) == 1

    await load(app, clock)  # no google_calendar for anyone
    calls = len(google.calls)
    assert await importer(app).run() == ImportRun()

    assert await busy_rows(app.engine) == []
    assert await sync_rows(app.engine) == {}
    assert len(google.calls) == calls


async def test_a_row_with_a_push_channel_waits_for_it_to_stop_and_is_never_read_meanwhile(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    google.owner_put(MARIA, timed(MONDAY_11))
    await importer(app).run()
    async with app.engine.begin() as connection:  # as the push channels' owner sets it
        await connection.execute(update(calendar_syncs).values(channel_id="channel-1"))

    await load(app, clock)
    await importer(app).run()
    assert await busy_rows(app.engine) == []
    assert (await sync_rows(app.engine))["maria"]["sync_token"] is None
    calls = len(google.calls)
    clock.advance(timedelta(hours=1))
    await importer(app).run()
    assert len(google.calls) == calls
    assert "maria" in await sync_rows(app.engine)

    async with app.engine.begin() as connection:  # the channel is stopped
        await connection.execute(update(calendar_syncs).values(channel_id=None))
    await importer(app).run()
    assert await sync_rows(app.engine) == {}


async def test_a_changed_calendar_drops_the_old_ones_busy_time_and_reads_the_new_one(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    google.owner_put(MARIA, timed(MONDAY_11))
    other = google.owner_put(OLGA, timed(MONDAY_11 + timedelta(hours=2)))
    await importer(app).run()

    await load(app, clock, put("staff", 1, "google_calendar", value=OLGA))
    assert await importer(app).run() == ImportRun(read=1)

    assert [(key, event) for key, event, _, _ in await busy_rows(app.engine)] == [("maria", other)]
    assert (await sync_rows(app.engine))["maria"]["calendar_id"] == OLGA


async def test_a_read_whose_calendar_left_the_catalog_meanwhile_writes_nothing(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    calendars = FakeLinkedCalendars()
    start = MONDAY_11
    mine = EventDraft("dentist1", 0, "Dentist", "", start, start + timedelta(hours=1), BERLIN)
    calendars.events[MARIA] = {mine.event_id: mine}
    app = Salonbot(clean_engine, clock, linked_calendars=calendars)
    await load(app, clock, WITH_MARIA)
    calendars.gate = asyncio.Event()

    reading = asyncio.create_task(importer(app).run())
    await until(_called(calendars), "the read is at the calendar")
    await load(app, clock)
    other = CalendarImport(app.uow, clock, app.catalogs, calendars)
    await other.run()  # puts the rows in step: Maria's claim is gone
    calendars.gate.set()

    assert await reading == ImportRun(dropped=1)
    assert await busy_rows(app.engine) == []
    assert await sync_rows(app.engine) == {}


def _called(calendars: FakeLinkedCalendars) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(calendars.calls)

    return check


async def test_a_new_event_over_a_confirmed_booking_raises_one_conflict_alert(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    booking = await app.bookings.book("manicure", MONDAY_11, STAFF, staff_key="maria")
    hold_at = MONDAY_11 + timedelta(hours=4)
    hold = await app.bookings.hold("manicure", hold_at, STAFF, staff_key="maria")
    await importer(app).run()
    dentist = google.owner_put(MARIA, timed(MONDAY_11 + timedelta(minutes=30)))
    over_hold = google.owner_put(MARIA, timed(hold_at))  # over a hold: not a conflict yet
    google.owner_put(MARIA, timed(MONDAY_11 + timedelta(hours=2)))  # clear of both
    clock.advance(timedelta(minutes=5))

    await importer(app).run()

    [alert] = await alerts(app.engine)
    assert (alert["kind"], alert["booking_id"], alert["event_id"]) == (
        AlertKind.CONFLICT.value,
        booking.id,
        dentist,
    )
    assert "11:00-12:00" in alert["detail"]

    # The hold confirmed in time (its slot is not checked again): a conflict, told at
    # once by the confirmation, not by a later read (the event does not change again).
    await app.bookings.confirm(hold.id, STAFF)
    assert [(a["booking_id"], a["event_id"]) for a in await alerts(app.engine)] == [
        (booking.id, dentist),
        (hold.id, over_hold),
    ]

    # Moved, still over it: told once. A full read again: still once each.
    google.owner_move(MARIA, dentist, MONDAY_11, MONDAY_11 + timedelta(minutes=20))
    clock.advance(timedelta(minutes=5))
    await importer(app).run()
    await importer(app).resync("maria")
    assert len(await alerts(app.engine)) == 2


async def test_salonbots_own_events_are_handed_over_never_busy(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock, ours: OursRecorded
) -> None:
    booking = await app.bookings.book("manicure", MONDAY_11, STAFF, staff_key="maria")
    await push_all(app)
    [pushed] = google.events(MARIA)
    copy = google.owner_put(MARIA, {**pushed, "id": None})  # duplicated in Google

    await importer(app).run()

    assert [event for _, event, _, _ in await busy_rows(app.engine)] == [copy]
    [(staff_key, calendar_id, event)] = await kept_events(app.engine)
    assert (staff_key, calendar_id) == ("maria", MARIA)
    assert (event.event_id, event.booking_id, event.start) == (
        event_id(booking.id),
        booking.id,
        MONDAY_11,
    )
    assert ours.asked == ["maria", None]  # after the read, and what is left after the tick

    # Deleted in Google: read with ``showDeleted``, it comes back with its details; its id
    # says whose it was.
    google.owner_delete(MARIA, event_id(booking.id))
    clock.advance(timedelta(minutes=5))
    await importer(app).run()
    [(_, _, deleted)] = await kept_events(app.engine)
    assert (deleted.event_id, deleted.booking_id, deleted.cancelled) == (
        event_id(booking.id),
        booking.id,
        True,
    )
    # With its details comes Google's ``updated`` (the deletion's time), not a stand-in.
    [stored] = [e for e in google.events(MARIA, deleted=True) if e["id"] == deleted.event_id]
    assert deleted.updated == datetime.fromisoformat(stored["updated"])


async def test_the_scheduler_ticks_the_import_only_when_calendars_are_configured(
    app: Salonbot, google: FakeGoogleCalendar, clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    without = Salonbot(clean_engine, clock)
    assert not Scheduler(without, Wakeup())._scheduler.get_job("calendar import")
    google.owner_put(MARIA, timed(MONDAY_11))
    scheduler = Scheduler(app, Wakeup(), visits_every=3600, agendas_every=3600)

    scheduler.start()
    try:
        await until(_busy(app), "the scheduler's tick reads Maria's calendar")
    finally:
        await scheduler.stop()


def _busy(app: Salonbot) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(await busy_rows(app.engine))

    return check


async def test_two_processes_ticking_together_read_a_calendar_once(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    google.owner_put(MARIA, timed(MONDAY_11))
    assert app.linked_calendars is not None
    other = CalendarImport(app.uow, clock, app.catalogs, app.linked_calendars)

    runs = await asyncio.gather(importer(app).run(), other.run())

    assert sorted(run.read for run in runs) == [0, 1]
    assert len([call for call in google.calls if call[0] == "GET"]) == 1
    assert len(await busy_rows(app.engine)) == 1


async def test_a_calendar_that_hangs_holds_up_no_other(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    calendars = FakeLinkedCalendars()
    start = MONDAY_11
    hers = EventDraft("dentist2", 0, "Dentist", "", start, start + timedelta(hours=1), BERLIN)
    calendars.events[OLGA] = {hers.event_id: hers}
    app = Salonbot(clean_engine, clock, linked_calendars=calendars)
    await load(app, clock, WITH_MARIA, WITH_OLGA)
    calendars.gates[MARIA] = asyncio.Event()  # Maria's calendar (read first) hangs

    reading = asyncio.create_task(importer(app).run())
    await until(_busy(app), "Olga's calendar is read while Maria's hangs")
    assert not reading.done()
    calendars.gates[MARIA].set()

    assert await reading == ImportRun(read=2)
    assert [(key, event) for key, event, _, _ in await busy_rows(app.engine)] == [
        ("olga", hers.event_id)
    ]


async def test_a_sync_asked_for_while_a_read_runs_is_still_asked_for_after_it(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    calendars = FakeLinkedCalendars()
    app = Salonbot(clean_engine, clock, linked_calendars=calendars)
    await load(app, clock, WITH_MARIA)
    calendars.gate = asyncio.Event()

    reading = asyncio.create_task(importer(app).run())
    await until(_called(calendars), "the read is at the calendar")
    clock.advance(timedelta(seconds=1))
    asked = clock.now()
    async with app.engine.begin() as connection:  # a push notification, say
        await connection.execute(update(calendar_syncs).values(wanted_at=asked))
    calendars.gate.set()
    assert await reading == ImportRun(read=1)

    assert (await sync_rows(app.engine))["maria"]["wanted_at"] == asked
    assert await importer(app).run() == ImportRun(read=1)
    assert (await sync_rows(app.engine))["maria"]["wanted_at"] is None
