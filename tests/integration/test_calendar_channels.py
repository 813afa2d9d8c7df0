"""Push channels of the staff's calendars on Postgres: opened per calendar read back (only
the token's digest kept), renewed in the last part of the life Google granted, stopped
when a calendar leaves the catalog, left alone by a process without an https address
(another process's to keep), failures tried again later, two processes never opening two
channels for one calendar; and a notification in, only with the channel's own token."""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.catalog import Catalog
from core.ports import StoreUnavailable
from core.services.calendar_channels import (
    CHANNEL_LIFE,
    OPENING_FOR,
    REFUSED_FOR_GOOD_RETRY,
    CalendarChannels,
    ChannelRun,
)
from core.services.calendar_notifications import StoredCalendarNotifications
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from tests.adapters.telegram_harness import eventually
from tests.calendar_rows import read_back, sync_not_wanted, sync_row
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars

ADDRESS = "https://salon.example/webhooks/google-calendar"
MARIA, OLGA = "maria@example.org", "olga@example.org"


@pytest.fixture
def calendars() -> FakeLinkedCalendars:
    return FakeLinkedCalendars()


@pytest.fixture
def catalog_names() -> dict[str, str]:
    """Each staff member's calendar in the catalog (the test edits it)."""
    return {"maria": MARIA, "olga": OLGA}


@pytest.fixture
async def watched(app: Salonbot) -> Salonbot:
    await read_back(app.engine, "maria", MARIA)
    await read_back(app.engine, "olga", OLGA)
    return app


def upkeep(
    app: Salonbot,
    calendars: FakeLinkedCalendars,
    names: dict[str, str],
    *,
    address: str | None = ADDRESS,
    uow: UnitOfWorkFactory | None = None,
) -> CalendarChannels:
    def calendar_of(catalog: Catalog, staff_key: str) -> str | None:
        return names.get(staff_key)

    return CalendarChannels(
        uow or app.uow,
        app.clock,
        calendars,
        app.catalogs,
        address=address,
        calendar_of=calendar_of,
    )


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calls(calendars: FakeLinkedCalendars, calendar_id: str) -> list[tuple[str, str]]:
    return [
        (what, channel) for what, calendar, channel in calendars.calls if calendar == calendar_id
    ]


async def test_a_channel_is_opened_per_calendar_and_only_its_token_digest_is_kept(
    watched: Salonbot, calendars: FakeLinkedCalendars, catalog_names: dict[str, str]
) -> None:
    channels = upkeep(watched, calendars, catalog_names)
    assert await channels.run() == ChannelRun(opened=2)

    row = await sync_row(watched.engine, "maria")
    [(_, channel_id)] = calls(calendars, MARIA)
    token = calendars.tokens[channel_id]
    assert row["channel_id"] == channel_id
    assert row["channel_resource_id"] == calendars.channels[channel_id].resource_id
    assert row["channel_expires_at"] == watched.clock.now() + CHANNEL_LIFE
    assert row["channel_token_digest"] == digest(token)
    assert all(token not in str(value) for value in row.values())
    assert len(token) >= 43  # 32 random bytes
    assert row["wanted_at"] == watched.clock.now()  # a sync once it is open

    assert await channels.run() == ChannelRun()  # nothing more to do
    assert len(calendars.calls) == 2


@pytest.mark.parametrize("address", [None, "http://salon.example/webhooks/google-calendar"])
async def test_without_an_https_address_no_channel_is_opened(
    watched: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    address: str | None,
) -> None:
    assert await upkeep(watched, calendars, catalog_names, address=address).run() == ChannelRun()
    assert calendars.calls == []
    assert (await sync_row(watched.engine, "maria"))["channel_id"] is None


async def test_a_channel_is_renewed_a_day_before_it_expires_and_the_old_one_stopped(
    watched: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
) -> None:
    channels = upkeep(watched, calendars, catalog_names)
    await channels.run()
    old = (await sync_row(watched.engine, "maria"))["channel_id"]
    clock.advance(CHANNEL_LIFE - timedelta(days=1, hours=1))
    assert await channels.run() == ChannelRun()

    clock.advance(timedelta(hours=2))
    assert await channels.run() == ChannelRun(renewed=2)
    row = await sync_row(watched.engine, "maria")
    new = row["channel_id"]
    assert new != old
    assert calls(calendars, MARIA) == [("watch", old), ("watch", new), ("stop_watch", old)]
    assert old not in calendars.channels
    assert row["channel_expires_at"] == clock.now() + CHANNEL_LIFE
    assert row["channel_token_digest"] == digest(calendars.tokens[new])


async def test_the_expiry_google_answers_is_the_one_kept(
    watched: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
) -> None:
    calendars.shortened_to = clock.now() + timedelta(hours=12)
    channels = upkeep(watched, calendars, catalog_names)
    await channels.run()
    row = await sync_row(watched.engine, "maria")
    assert row["channel_expires_at"] == calendars.shortened_to
    assert row["channel_opened_at"] == clock.now()

    calendars.shortened_to = None
    clock.advance(timedelta(hours=10))  # its last fifth: 2 h 24 min
    assert await channels.run() == ChannelRun(renewed=2)


async def test_a_channel_google_grants_an_hour_is_renewed_in_its_last_fifth_not_every_minute(
    watched: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
) -> None:
    calendars.shortened_to = clock.now() + timedelta(hours=1)
    channels = upkeep(watched, calendars, catalog_names)
    assert await channels.run() == ChannelRun(opened=2)
    for _ in range(47):  # the scheduler's ticks, a minute apart
        clock.advance(timedelta(minutes=1))
        assert await channels.run() == ChannelRun()

    clock.advance(timedelta(minutes=2))  # 11 minutes left: within the last 12
    calendars.shortened_to = clock.now() + timedelta(hours=1)
    assert await channels.run() == ChannelRun(renewed=2)
    clock.advance(timedelta(minutes=1))
    assert await channels.run() == ChannelRun()
    assert len([call for call in calendars.calls if call[0] == "watch"]) == 4


async def test_a_calendar_out_of_the_catalog_or_changed_has_its_channel_stopped(
    watched: Salonbot, calendars: FakeLinkedCalendars, catalog_names: dict[str, str]
) -> None:
    channels = upkeep(watched, calendars, catalog_names)
    await channels.run()
    olga_channel = (await sync_row(watched.engine, "olga"))["channel_id"]
    maria_channel = (await sync_row(watched.engine, "maria"))["channel_id"]
    del catalog_names["olga"]
    catalog_names["maria"] = "maria.new@example.org"

    assert await channels.run() == ChannelRun(closed=2)
    for key, channel_id in (("olga", olga_channel), ("maria", maria_channel)):
        row = await sync_row(watched.engine, key)
        assert ("stop_watch", channel_id) in calls(calendars, row["calendar_id"])
        assert channel_id not in calendars.channels
        channel_columns = [value for name, value in row.items() if name.startswith("channel_")]
        assert channel_columns == [None] * 5  # the import may now delete or reset the row


@pytest.mark.parametrize("address", [None, "http://salon.example/webhooks/google-calendar"])
async def test_a_process_without_an_https_address_leaves_the_channels_to_one_with_it(
    watched: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
    address: str | None,
) -> None:
    """Two serves, one with PUBLIC_BASE_URL and one without: they never fight, closing
    and reopening every channel each minute."""
    keeper = upkeep(watched, calendars, catalog_names)
    other = upkeep(watched, calendars, catalog_names, address=address)
    await keeper.run()
    before = {key: await sync_row(watched.engine, key) for key in ("maria", "olga")}

    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        assert await other.run() == ChannelRun()
        assert await keeper.run() == ChannelRun()
    assert len(calendars.channels) == 2
    assert {key: await sync_row(watched.engine, key) for key in ("maria", "olga")} == before

    # A calendar out of the catalog has its channel stopped by either: nobody keeps it.
    del catalog_names["olga"]
    assert await other.run() == ChannelRun(closed=1)
    assert (await sync_row(watched.engine, "olga"))["channel_id"] is None
    assert list(calendars.channels) == [before["maria"]["channel_id"]]


async def test_without_an_address_anywhere_the_channels_expire_and_are_forgotten(
    watched: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
) -> None:
    await upkeep(watched, calendars, catalog_names).run()
    without = upkeep(watched, calendars, catalog_names, address=None)
    calls_before = len(calendars.calls)

    clock.advance(CHANNEL_LIFE - timedelta(minutes=1))
    assert await without.run() == ChannelRun()
    clock.advance(timedelta(minutes=1))
    assert await without.run() == ChannelRun(closed=2)  # expired at Google: nothing to ask
    assert len(calendars.calls) == calls_before
    row = await sync_row(watched.engine, "maria")
    assert [value for name, value in row.items() if name.startswith("channel_")] == [None] * 5


async def test_a_refused_opening_leaves_no_channel_and_is_tried_again_later(
    app: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
) -> None:
    await read_back(app.engine, "maria", MARIA)
    channels = upkeep(app, calendars, catalog_names)
    calendars.refuse_next(1, "Google Calendar is busy (503 backendError)", transient=True)
    assert await channels.run() == ChannelRun(failed=1)
    assert (await sync_row(app.engine, "maria"))["channel_id"] is None

    assert await channels.run() == ChannelRun()  # backing off
    clock.advance(timedelta(seconds=2))
    assert await channels.run() == ChannelRun(opened=1)
    assert [what for what, _ in calls(calendars, MARIA)] == ["watch", "watch"]


async def test_a_refused_renewal_keeps_the_old_channel_and_its_notifications(
    app: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
) -> None:
    await read_back(app.engine, "maria", MARIA)
    channels = upkeep(app, calendars, catalog_names)
    await channels.run()
    before = await sync_row(app.engine, "maria")
    clock.advance(CHANNEL_LIFE - timedelta(hours=1))

    calendars.refuse_next(1, "no permission", transient=False)
    assert await channels.run() == ChannelRun(failed=1)
    after = await sync_row(app.engine, "maria")
    assert {k: v for k, v in after.items() if k.startswith("channel_")} == {
        k: v for k, v in before.items() if k.startswith("channel_")
    }
    old = before["channel_id"]
    notices = StoredCalendarNotifications(app.uow, clock)
    assert await notices.notified(old, calendars.tokens[old])

    clock.advance(timedelta(minutes=5))
    assert await channels.run() == ChannelRun()  # refused for good: tried again in an hour
    clock.advance(REFUSED_FOR_GOOD_RETRY)
    assert await channels.run() == ChannelRun(renewed=1)


async def test_a_stop_refused_for_now_keeps_the_channel_until_it_stops(
    app: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
) -> None:
    await read_back(app.engine, "maria", MARIA)
    closing = upkeep(app, calendars, catalog_names)
    await closing.run()
    del catalog_names["maria"]

    calendars.refuse_next(1, "Google Calendar did not answer in time", transient=True)
    assert await closing.run() == ChannelRun(failed=1)
    assert (await sync_row(app.engine, "maria"))["channel_id"] is not None
    clock.advance(timedelta(seconds=2))
    assert await closing.run() == ChannelRun(closed=1)
    assert calendars.channels == {}


async def test_an_opening_that_died_is_taken_over_after_its_deadline(
    app: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
) -> None:
    await read_back(app.engine, "maria", MARIA)
    calendars.gate = asyncio.Event()  # Google does not answer...
    dying = asyncio.create_task(upkeep(app, calendars, catalog_names).run())
    await eventually(lambda: calendars.calls)
    dying.cancel()  # ...and the process stops meanwhile
    with pytest.raises(asyncio.CancelledError):
        await dying
    calendars.gate = None
    [(_, abandoned)] = calls(calendars, MARIA)
    assert (await sync_row(app.engine, "maria"))["channel_id"] == abandoned

    other = upkeep(app, calendars, catalog_names)
    assert await other.run() == ChannelRun()  # it may still be opening
    clock.advance(OPENING_FOR + timedelta(seconds=1))
    assert await other.run() == ChannelRun(opened=1)
    row = await sync_row(app.engine, "maria")
    assert row["channel_id"] not in (None, abandoned)
    assert row["channel_resource_id"] is not None


async def test_two_processes_at_once_open_one_channel_per_calendar(
    watched: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    database_url: str,
) -> None:
    other_engine = make_engine(database_url)
    try:
        one = upkeep(watched, calendars, catalog_names)
        two = upkeep(watched, calendars, catalog_names, uow=UnitOfWorkFactory(other_engine))
        calendars.gate = asyncio.Event()
        runs = asyncio.gather(one.run(), two.run())
        # Each process holds one calendar's opening (its call waits); neither took both.
        await eventually(lambda: len(calendars.calls) == 2)
        calendars.gate.set()
        first, second = await runs
    finally:
        await other_engine.dispose()

    assert first.opened + second.opened == 2
    assert sorted(calendar for _, calendar, _ in calendars.calls) == [MARIA, OLGA]
    for key in ("maria", "olga"):
        assert (await sync_row(watched.engine, key))["channel_id"] in calendars.channels


async def test_a_notification_asks_for_a_sync_only_with_its_channels_token(
    watched: Salonbot,
    calendars: FakeLinkedCalendars,
    catalog_names: dict[str, str],
    clock: FakeClock,
) -> None:
    await upkeep(watched, calendars, catalog_names).run()
    await sync_not_wanted(watched.engine)
    maria = (await sync_row(watched.engine, "maria"))["channel_id"]
    olga = (await sync_row(watched.engine, "olga"))["channel_id"]
    notices = StoredCalendarNotifications(watched.uow, clock)
    clock.advance(timedelta(minutes=1))

    assert not await notices.notified(maria, calendars.tokens[olga])
    assert not await notices.notified(maria, "")
    assert not await notices.notified("not-a-channel", calendars.tokens[maria])
    assert (await sync_row(watched.engine, "maria"))["wanted_at"] is None
    assert (await sync_row(watched.engine, "olga"))["wanted_at"] is None

    assert await notices.notified(maria, calendars.tokens[maria])
    assert (await sync_row(watched.engine, "maria"))["wanted_at"] == clock.now()
    assert (await sync_row(watched.engine, "olga"))["wanted_at"] is None


async def test_a_notification_with_the_database_away_is_refused_quickly(clock: FakeClock) -> None:
    away: AsyncEngine = make_engine("postgresql://salonbot@127.0.0.1:9/nowhere")
    try:
        notices = StoredCalendarNotifications(UnitOfWorkFactory(away), clock)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await notices.notified("channel-1", "token")
        assert time.monotonic() - started < 3
    finally:
        await away.dispose()
