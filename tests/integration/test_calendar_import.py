"""The calendar import end to end: events a staff member puts in their own Google Calendar
(the fake Calendar API, read through the real client) become busy time on Postgres, and
the slot search and the booking's locked re-check honour it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.tables import calendar_syncs
from core.domain.availability import SlotQuery
from core.domain.booking import Actor
from core.domain.errors import SlotTaken
from core.services.calendar_import import CalendarImport, ImportRun
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import Edit, put
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.google_import import (
    BERLIN,
    MARIA,
    OLGA,
    WITH_MARIA,
    WITH_OLGA,
    busy_rows,
    google_calendars,
    load,
    sync_rows,
    timed,
)

# The clock stands at Monday 2026-12-07 06:00 UTC (07:00 in Berlin); Maria works Mondays
# 09:00-18:00 (13:00-13:30 a break), manicure is 1 h and 10 min of buffer after.
MONDAY = date(2026, 12, 7)
MONDAY_11 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
STAFF = Actor.staff("owner@salon.test")


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA, time_zone=BERLIN)
        server.add_calendar(OLGA, time_zone=BERLIN)
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


async def maria_starts(app: Salonbot, day: date = MONDAY) -> list[datetime]:
    slots = await app.find_slots(SlotQuery("manicure", day, day, "maria"))
    return [slot.start for slot in slots]


async def test_an_opaque_event_blocks_its_slots_and_the_booking_re_check(
    app: Salonbot, google: FakeGoogleCalendar
) -> None:
    assert MONDAY_11 in await maria_starts(app)
    google.owner_put(MARIA, timed(MONDAY_11))

    assert await importer(app).run() == ImportRun(read=1)

    starts = await maria_starts(app)
    # 11:00-12:00 is taken; a manicure (and its 10 minutes after) must end by 11:00.
    assert MONDAY_11 not in starts
    assert MONDAY_11 - timedelta(minutes=75) in starts
    assert MONDAY_11 - timedelta(minutes=60) not in starts
    # 12:00 would run into the 13:00 break: the next start is after it.
    assert MONDAY_11 + timedelta(hours=2, minutes=30) in starts
    with pytest.raises(SlotTaken):
        await app.bookings.book("manicure", MONDAY_11, STAFF, staff_key="maria")


async def test_transparent_and_other_staff_members_events_do_not_block(
    app: Salonbot, google: FakeGoogleCalendar
) -> None:
    google.owner_put(MARIA, timed(MONDAY_11, transparency="transparent"))
    google.owner_put(OLGA, timed(MONDAY_11))  # Olga's calendar is not in the catalog

    await importer(app).run()

    assert MONDAY_11 in await maria_starts(app)
    assert await busy_rows(app.engine) == []
    assert [path for _, path in google.calls if OLGA in path] == []


async def test_a_deleted_or_moved_event_frees_its_time_on_the_next_poll(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    dentist = google.owner_put(MARIA, timed(MONDAY_11))
    lunch = google.owner_put(MARIA, timed(MONDAY_11 + timedelta(hours=4)))
    await importer(app).run()
    token = (await sync_rows(app.engine))["maria"]["sync_token"]

    google.owner_delete(MARIA, dentist)
    later = MONDAY_11 + timedelta(hours=5)
    google.owner_move(MARIA, lunch, later, later + timedelta(minutes=30))
    assert await importer(app).run() == ImportRun()  # not due before the poll interval
    clock.advance(timedelta(minutes=5))
    await importer(app).run()

    assert MONDAY_11 in await maria_starts(app)
    assert await busy_rows(app.engine) == [("maria", lunch, later, later + timedelta(minutes=30))]
    row = (await sync_rows(app.engine))["maria"]
    assert row["sync_token"] not in (None, token)
    assert row["synced_at"] == clock.now()


async def test_an_all_day_event_blocks_the_salons_local_day_a_dst_day_too(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    # Sunday 2027-03-28: Berlin springs forward, the day is 23 hours long. Maria works
    # Sundays here.
    clock.set(datetime(2027, 3, 26, 8, 0, tzinfo=UTC))
    await load(app, clock, WITH_MARIA, put_hours("sun", ["10:00-15:00"]))
    sunday, saturday = date(2027, 3, 28), date(2027, 3, 27)
    assert await maria_starts(app, sunday)
    day_off = google.owner_put(
        MARIA, {"start": {"date": "2027-03-28"}, "end": {"date": "2027-03-29"}}
    )

    await importer(app).run()

    assert await busy_rows(app.engine) == [
        (
            "maria",
            day_off,
            datetime(2027, 3, 27, 23, 0, tzinfo=UTC),  # midnight, winter time
            datetime(2027, 3, 28, 22, 0, tzinfo=UTC),  # midnight, summer time
        )
    ]
    assert await maria_starts(app, sunday) == []
    assert await maria_starts(app, saturday)


async def test_a_free_all_day_event_blocks_nothing(
    app: Salonbot, google: FakeGoogleCalendar
) -> None:
    google.owner_put(
        MARIA,
        {
            "start": {"date": "2026-12-07"},
            "end": {"date": "2026-12-08"},
            "transparency": "transparent",
        },
    )
    await importer(app).run()
    assert MONDAY_11 in await maria_starts(app)


async def test_recurring_events_block_each_instance_within_the_window(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    # Every Monday 11:00-12:00 in Berlin, for ever, from a month ago.
    first = MONDAY_11 - timedelta(weeks=4)
    google.owner_put(MARIA, {**timed(first), "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO"]})

    await importer(app).run()

    rows = await busy_rows(app.engine)
    # The window: from a day ago to the 60-day horizon and 8 days more.
    window_end = clock.now() + timedelta(days=68)
    mondays = [MONDAY_11 + timedelta(weeks=week) for week in range(10)]
    assert [start for _, _, start, _ in rows] == [m for m in mondays if m < window_end]
    assert MONDAY_11 + timedelta(weeks=3) not in await maria_starts(
        app, MONDAY + timedelta(weeks=3)
    )


async def test_an_expired_sync_token_reads_the_calendar_in_full_again(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    dentist = google.owner_put(MARIA, timed(MONDAY_11))
    await importer(app).run()
    google.owner_delete(MARIA, dentist)
    gym = google.owner_put(MARIA, timed(MONDAY_11 + timedelta(hours=3)))
    google.expire_sync_tokens(MARIA)
    clock.advance(timedelta(minutes=5))

    assert await importer(app).run() == ImportRun(read=1)

    assert [event for _, event, _, _ in await busy_rows(app.engine)] == [gym]
    row = (await sync_rows(app.engine))["maria"]
    assert row["window_start"] == clock.now() - timedelta(days=1)
    assert row["sync_token"] is not None
    # A 410 once, then the full read.
    lists = [path for method, path in google.calls if method == "GET"]
    assert len(lists) == 3


async def test_many_events_and_many_changes_are_read_page_by_page(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    starts = [MONDAY_11 + timedelta(days=day // 5, hours=day % 5) for day in range(300)]
    ids = [google.owner_put(MARIA, timed(start, 30)) for start in starts]
    await importer(app).run()
    assert len(await busy_rows(app.engine)) == 300
    for event_id, start in zip(ids, starts, strict=True):
        google.owner_move(
            MARIA, event_id, start + timedelta(minutes=30), start + timedelta(hours=1)
        )
    calls = len(google.calls)
    clock.advance(timedelta(minutes=5))

    await importer(app).run()

    rows = await busy_rows(app.engine)
    assert [start for _, _, start, _ in rows] == [s + timedelta(minutes=30) for s in starts]
    assert len(google.calls) - calls == 2  # two pages of changes


async def test_a_calendar_refused_for_good_is_tried_hourly_and_the_others_go_on(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await load(app, clock, WITH_MARIA, WITH_OLGA)
    google.add_calendar(MARIA, access=None)  # unshared: 404
    olga_busy = google.owner_put(OLGA, timed(MONDAY_11))

    assert await importer(app).run() == ImportRun(read=1, failed=1)

    assert [event for _, event, _, _ in await busy_rows(app.engine)] == [olga_busy]
    maria = (await sync_rows(app.engine))["maria"]
    assert maria["failures"] == 1
    assert "not found or not shared" in maria["last_error"]
    assert maria["claimed_until"] is None
    # It will not work until someone shares it again: not every few minutes, hourly.
    assert maria["next_attempt_at"] == clock.now() + timedelta(hours=1)
    caplog.clear()
    for _ in range(11):
        clock.advance(timedelta(minutes=5))
        assert (await importer(app).run()).failed == 0  # Olga's polls go on
    assert not [call for call in google.calls if "maria" in call[1]][1:]
    assert "calendar read failed" not in caplog.text

    google.add_calendar(MARIA)
    google.owner_put(MARIA, timed(MONDAY_11))
    clock.advance(timedelta(minutes=5))
    assert (await importer(app).run()).read >= 1
    maria = (await sync_rows(app.engine))["maria"]
    assert (maria["failures"], maria["last_error"], maria["next_attempt_at"]) == (0, None, None)
    assert len(await busy_rows(app.engine)) == 2


async def test_a_read_google_refuses_for_now_keeps_the_busy_time_it_had(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    google.owner_put(MARIA, timed(MONDAY_11))
    await importer(app).run()
    google.fail_next(1, 503, "backendError")
    clock.advance(timedelta(minutes=5))

    assert await importer(app).run() == ImportRun(failed=1)

    assert len(await busy_rows(app.engine)) == 1
    maria = (await sync_rows(app.engine))["maria"]
    assert "backendError" in maria["last_error"]
    # Refused for now: tried again within seconds (backoff), not in an hour.
    assert clock.now() < maria["next_attempt_at"] <= clock.now() + timedelta(seconds=2)


async def test_idle_ticks_call_nobody_and_a_wanted_sync_goes_at_once(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    await importer(app).run()
    calls = len(google.calls)
    for _ in range(3):
        assert await importer(app).run() == ImportRun()
    assert len(google.calls) == calls

    async with app.engine.begin() as connection:
        await connection.execute(update(calendar_syncs).values(wanted_at=clock.now()))
    assert await importer(app).run() == ImportRun(read=1)
    assert (await sync_rows(app.engine))["maria"]["wanted_at"] is None


async def test_the_window_moves_on_with_a_full_read_before_the_horizon_outgrows_it(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock
) -> None:
    await importer(app).run()
    first = (await sync_rows(app.engine))["maria"]
    clock.advance(timedelta(days=7, hours=1))  # 60 + 1 days ahead now passes its end
    far = google.owner_put(MARIA, timed(first["window_end"] + timedelta(days=1)))

    await importer(app).run()

    row = (await sync_rows(app.engine))["maria"]
    assert row["window_start"] == clock.now() - timedelta(days=1)
    assert row["window_end"] == clock.now() + timedelta(days=68)
    assert [event for _, event, _, _ in await busy_rows(app.engine)] == [far]


def put_hours(day: str, hours: list[str]) -> Edit:
    return put("staff", 1, "hours", day, value=hours)
