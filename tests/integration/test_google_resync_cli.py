"""``salonbot google resync`` against the fake Calendar API, the key made in the test: each
linked calendar read in full and every upcoming booking put there again, one line per
staff member, exit status 1 when one is not in step. The command runs on the real clock,
so the booking here is made a few days from now."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.domain.booking import Actor
from core.linked_calendars.ports import event_id
from salonbot.bootstrap import Salonbot
from tests.cli_run import cli_environment, salonbot
from tests.db_state import rows
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.google_import import (
    BERLIN,
    MARIA,
    OLGA,
    WITH_MARIA,
    WITH_OLGA,
    busy_rows,
    load,
    timed,
)

STAFF = Actor.staff("owner@salon.test")


def next_monday_ten() -> datetime:
    """10:00 in Berlin on a Monday at least two days from now (Maria works then)."""
    day = datetime.now(UTC).astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=2)
    day += timedelta(days=(7 - day.weekday()) % 7)
    return datetime.combine(day, time(10), ZoneInfo(BERLIN)).astimezone(UTC)


async def resync(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    return await asyncio.to_thread(salonbot, env, "google", "resync", *args)


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA, time_zone=BERLIN)
        server.add_calendar(OLGA, time_zone=BERLIN)
        yield server


@pytest.fixture
def env(google: FakeGoogleCalendar, database_url: str, tmp_path: Path) -> dict[str, str]:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(google.service_account_info()))
    environment = cli_environment(database_url, tmp_path / "data")
    environment.update(
        GOOGLE_SERVICE_ACCOUNT_FILE=str(key_file), GOOGLE_CALENDAR_API_BASE=google.base_url
    )
    return environment


async def test_resync_reads_each_calendar_and_puts_every_upcoming_booking_back(
    app: Salonbot, clock: FakeClock, google: FakeGoogleCalendar, env: dict[str, str]
) -> None:
    clock.set(datetime.now(UTC))
    await load(app, clock, WITH_MARIA, WITH_OLGA)
    visit = next_monday_ten()
    booking = await app.bookings.book("manicure", visit, STAFF, staff_key="maria")
    dentist = google.owner_put(MARIA, timed(visit + timedelta(hours=2)))

    code, out, err = await resync(env)

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"maria  {MARIA}  read: 1 busy; 1 of 1 bookings pushed",
        f"olga  {OLGA}  read: 0 busy; 0 of 0 bookings pushed",
    ]
    assert {event["id"] for event in google.events(MARIA)} == {dentist, event_id(booking.id)}
    assert [event for _, event, _, _ in await busy_rows(app.engine)] == [dentist]

    # Deleted in Google by hand: the staff member cancelled the visit there. The resync's
    # full read sees the deletion first and cancels the booking, so there is nothing to
    # put back (the booking's remove is done: the event is gone already).
    google.owner_delete(MARIA, event_id(booking.id))
    code, out, _ = await resync(env, "--staff", "maria")
    assert code == 0
    assert out == f"maria  {MARIA}  read: 1 busy; 0 of 0 bookings pushed\n"
    assert event_id(booking.id) not in {event["id"] for event in google.events(MARIA)}
    assert await booking_status(app, booking.id) == "cancelled"
    assert "PRIVATE KEY" not in out


async def booking_status(app: Salonbot, booking_id: int) -> str:
    [(status,)] = await rows(app.engine, f"SELECT status FROM bookings WHERE id = {booking_id}")
    return str(status)


async def test_a_calendar_that_cannot_be_read_exits_1_with_its_reason(
    app: Salonbot, clock: FakeClock, google: FakeGoogleCalendar, env: dict[str, str]
) -> None:
    await load(app, clock, WITH_MARIA, WITH_OLGA)
    google.add_calendar(OLGA, access=None)

    code, out, err = await resync(env, "--staff", "olga")

    assert code == 1
    assert out.startswith(f"olga  {OLGA}  cannot read: calendar not found or not shared")
    assert out.endswith("; 0 of 0 bookings pushed\n")
    assert err == "salonbot: 1 of 1 calendars are not in step\n"


async def test_a_staff_member_without_a_calendar_or_unknown_is_one_line(
    app: Salonbot, clock: FakeClock, env: dict[str, str]
) -> None:
    await load(app, clock, WITH_MARIA)

    code, out, err = await resync(env, "--staff", "anna")
    assert (code, out) == (1, "")
    assert err == "salonbot: anna has no google_calendar in the catalog\n"

    code, out, err = await resync(env, "--staff", "nobody")
    assert (code, out) == (1, "")
    assert "nobody" in err


async def test_without_linked_calendars_there_is_nothing_to_resync(
    app: Salonbot, env: dict[str, str]
) -> None:
    code, out, _ = await resync(env)
    assert (code, out) == (0, "no staff member has a google_calendar in the catalog\n")
