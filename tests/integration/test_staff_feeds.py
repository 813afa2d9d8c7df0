"""Staff members' calendar feeds on Postgres: a link made on the command line or by a staff
user opens the member's visits as iCalendar (parsed back by ``icalendar``); a new link ends
the old; only digests are stored; a wrong token is a bare 404."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import icalendar
import pytest

from core.calendar.desk import NotAllowed
from core.calendar.ports import Role, StaffUser
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor, BookingStatus
from core.domain.errors import UnknownStaff
from salonbot.bootstrap import Salonbot
from salonbot.web import create_web_app
from tests.cli_run import cli_environment
from tests.cli_run import salonbot as run_in_process
from tests.db_state import rows
from tests.fakes.clock import FakeClock

OWNER = StaffUser(1, "owner@salon.test", Role.OWNER, None, "en")
ANNA = StaffUser(2, "anna@salon.test", Role.STAFF, "anna", "en")
DESK = Actor.staff("owner@salon.test")


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def customer(app: Salonbot, name: str, phone: str) -> int:
    async with app.uow() as uow:
        found = await CustomerRepository(uow.connection).add(name, app.clock.now(), phone=phone)
        await uow.commit()
    return found


async def fetch(app: Salonbot, path: str) -> httpx.Response:
    web = create_web_app(app, [], lambda: True)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="https://salon.test") as client:
        return await client.get(path)


def token_of(url: str) -> str:
    found = re.search(r"/staff/feed/([A-Za-z0-9_-]+)\.ics$", url)
    assert found is not None, url
    return found.group(1)


async def test_a_feed_lists_the_members_visits_but_not_cancelled_ones_nor_others(
    app: Salonbot, clock: FakeClock
) -> None:
    olga = await customer(app, "Olga Petrova-Smirnova", "+49 151 000000")
    kept = await app.bookings.book("manicure", utc(8, 8), DESK, staff_key="maria", customer_id=olga)
    moved = await app.bookings.book("pedicure", utc(9, 8), DESK, staff_key="maria")
    moved = await app.bookings.reschedule(moved.id, utc(9, 10), DESK)
    gone = await app.bookings.book("manicure", utc(8, 14), DESK, staff_key="maria")
    await app.bookings.cancel(gone.id, DESK)
    await app.bookings.book("manicure", utc(9, 10), DESK, staff_key="olga")
    link = await app.feeds.new_link(OWNER, "maria")

    answer = await fetch(app, f"/staff/feed/{link.token}.ics")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(answer.text)
    events = calendar.walk("VEVENT")
    assert str(calendar["X-WR-CALNAME"]) == "Studio Lumen: Maria"
    assert [(e.decoded("DTSTART"), e.decoded("DTEND")) for e in events] == [
        (kept.start, kept.end),
        (moved.start, moved.end),
    ]
    assert str(events[0]["SUMMARY"]) == "Manicure, Olga"  # first name only
    assert "Petrova" not in answer.text
    assert "151" not in answer.text
    assert [e.decoded("SEQUENCE") for e in events] == [0, 1]
    assert str(events[0]["UID"]) != str(events[1]["UID"])


async def test_a_feed_keeps_completed_visits_for_a_month(app: Salonbot, clock: FakeClock) -> None:
    done = await app.bookings.book("manicure", utc(8, 8), DESK, staff_key="maria")
    clock.set(utc(8, 12))
    await app.bookings.record_outcome(done.id, DESK, BookingStatus.COMPLETED)
    link = await app.feeds.new_link(None, "maria")
    clock.advance(timedelta(days=20))
    within = await app.feeds.feed(link.token)
    clock.advance(timedelta(days=15))
    after = await app.feeds.feed(link.token)

    assert within is not None
    assert [v.booking_id for v in within.visits] == [done.id]
    assert after is not None
    assert after.visits == ()


async def test_a_new_link_ends_the_old_one_and_only_its_digest_is_kept(app: Salonbot) -> None:
    first = await app.feeds.new_link(ANNA, "anna")
    second = await app.feeds.new_link(OWNER, "anna")

    assert await app.feeds.feed(first.token) is None
    assert (await fetch(app, f"/staff/feed/{first.token}.ics")).status_code == 404
    feed = await app.feeds.feed(second.token)
    assert feed is not None
    assert (feed.staff_key, feed.staff_name) == ("anna", "Anna")
    [(digest, made_by)] = await rows(app.engine, "SELECT token_digest, created_by FROM staff_feeds")
    assert second.token not in digest
    assert made_by == OWNER.email


async def test_a_stopped_link_opens_nothing_and_no_new_one_is_made(app: Salonbot) -> None:
    made = await app.feeds.new_link(ANNA, "anna")

    assert await app.feeds.stop_link(ANNA, "anna") is True
    assert await app.feeds.feed(made.token) is None
    assert (await fetch(app, f"/staff/feed/{made.token}.ics")).status_code == 404
    assert await rows(app.engine, "SELECT 1 FROM staff_feeds") == []
    assert await app.feeds.stop_link(OWNER, "anna") is False  # nothing left to stop
    with pytest.raises(NotAllowed):
        await app.feeds.stop_link(ANNA, "maria")


async def test_a_staff_member_makes_only_their_own_link(app: Salonbot) -> None:
    with pytest.raises(NotAllowed):
        await app.feeds.new_link(ANNA, "maria")
    with pytest.raises(UnknownStaff):
        await app.feeds.new_link(OWNER, "nobody")
    assert await rows(app.engine, "SELECT 1 FROM staff_feeds") == []


@pytest.mark.parametrize("token", ["x" * 43, "x" * 65, "not%20ours", "a.b", ""], ids=str)
async def test_a_token_that_is_not_ours_is_a_404_that_says_nothing(
    app: Salonbot, token: str
) -> None:
    await app.feeds.new_link(OWNER, "maria")

    answer = await fetch(app, f"/staff/feed/{token}.ics")

    assert answer.status_code == 404
    # "" is not a path the feed route takes: the staff side's own "page not found".
    assert answer.text == "Not found" or "feed" not in answer.text.lower()


async def test_the_command_line_prints_a_working_link(
    app: Salonbot, database_url: str, tmp_path: Path
) -> None:
    env = cli_environment(database_url, tmp_path / "data")
    args = ("staff-feed", "new", "olga", "--base-url", "https://salon.example/")
    code, printed, errors = await asyncio.to_thread(run_in_process, env, *args)

    assert (code, errors) == (0, "")
    url = printed.strip().splitlines()[-1]
    assert url.startswith("https://salon.example/staff/feed/")
    assert url.endswith(".ics")
    feed = await app.feeds.feed(token_of(url))
    assert feed is not None
    assert feed.staff_key == "olga"
    [(made_by,)] = await rows(app.engine, "SELECT created_by FROM staff_feeds")
    assert made_by == "cli"

    stopped = await asyncio.to_thread(run_in_process, env, "staff-feed", "stop", "olga")
    assert stopped[0] == 0
    assert "stopped" in stopped[1]
    assert await app.feeds.feed(token_of(url)) is None

    refused = await asyncio.to_thread(
        run_in_process, env, "staff-feed", "new", "nobody", "--base-url", "https://s.example"
    )
    assert refused[0] == 1
    assert "nobody" in refused[2]
