"""salonbot's own events deleted in Google, end to end: the booking pushed through the real
client to the fake Calendar API, the staff member deleting the event in Google's own app,
the import reading it back (``showDeleted``: with its details), and ``CalendarEdits``
cancelling the booking and telling the customer. A full read (a 410, a resync) that finds
events of ours deleted long ago leaves their bookings alone.

These run on the real clock (set into the fake clock): Google's ``updated`` and the
pusher's ``done_at`` are compared, as in production. The visit is a few days ahead."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.conversation.state import State
from core.db.conversation_repository import ConversationRepository
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor
from core.linked_calendars.ports import OurEventsSeen, event_id
from core.services.calendar_edits import CalendarEdits
from core.services.calendar_import import CalendarImport
from salonbot.bootstrap import Salonbot
from tests.db_state import rows
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.google_import import (
    BERLIN,
    MARIA,
    OLGA,
    WITH_MARIA,
    WITH_OLGA,
    alerts,
    google_calendars,
    kept_events,
    load,
)

STAFF = Actor.staff("owner@salon.test")
CHAT = "100"


def coming(weekday: int, hour: int) -> datetime:
    """``hour`` in Berlin on the first ``weekday`` (Monday 0) at least two days from now."""
    day = datetime.now(UTC).astimezone(ZoneInfo(BERLIN)).date() + timedelta(days=2)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime.combine(day, time(hour), ZoneInfo(BERLIN)).astimezone(UTC)


def next_monday_ten() -> datetime:
    return coming(0, 10)  # Maria works then


@pytest.fixture
async def google() -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA, time_zone=BERLIN)
        server.add_calendar(OLGA, time_zone=BERLIN)
        yield server


class HandedOver:
    """``OurEventsSeen``: notes the deleted events the import kept, then has
    ``CalendarEdits`` reconcile them as serve does."""

    def __init__(self) -> None:
        self.edits: OurEventsSeen | None = None
        self.engine: AsyncEngine | None = None
        self.seen_deleted: set[str] = set()

    async def reconcile(self, staff_key: str | None = None) -> None:
        assert self.edits is not None
        assert self.engine is not None
        kept = await kept_events(self.engine)
        self.seen_deleted |= {event.event_id for _, _, event in kept if event.cancelled}
        await self.edits.reconcile(staff_key)


@pytest.fixture
def handed_over() -> HandedOver:
    return HandedOver()


@pytest.fixture
async def app(
    clean_engine: AsyncEngine,
    clock: FakeClock,
    google: FakeGoogleCalendar,
    tmp_path: Path,
    handed_over: HandedOver,
) -> Salonbot:
    clock.set(datetime.now(UTC))
    calendars = google_calendars(google, tmp_path)
    salonbot = Salonbot(clean_engine, clock, linked_calendars=calendars, our_events=handed_over)
    handed_over.edits = CalendarEdits(salonbot.uow, clock, salonbot.catalogs, salonbot.bookings)
    handed_over.engine = salonbot.engine
    await load(salonbot, clock, WITH_MARIA, WITH_OLGA)
    return salonbot


@pytest.fixture
async def eva(app: Salonbot) -> int:
    """A customer who has written to the salon from a Telegram chat."""
    now = app.clock.now()
    async with app.uow() as uow:
        customer_id, _ = await CustomerRepository(uow.connection).for_identity(
            "telegram", CHAT, now, name="Eva", language="en"
        )
        await ConversationRepository(uow.connection).save(
            "telegram", CHAT, customer_id, State().to_json(), None, now
        )
        await uow.commit()
    return customer_id


def importer(app: Salonbot) -> CalendarImport:
    assert app.calendar_import is not None
    return app.calendar_import


async def push_all(app: Salonbot) -> None:
    assert app.calendar_pusher is not None
    while (run := await app.calendar_pusher.run()).done + run.retried + run.parked:
        pass


def a_poll_later(clock: FakeClock) -> None:
    """The real time now, a poll interval on: the import reads the calendars again."""
    clock.set(datetime.now(UTC) + timedelta(minutes=5, seconds=1))


async def booking_rows(app: Salonbot) -> list[tuple[Any, ...]]:
    return await rows(app.engine, "SELECT id, status FROM bookings ORDER BY id")


async def history(app: Salonbot, booking_id: int) -> list[tuple[Any, ...]]:
    return await rows(
        app.engine,
        "SELECT action, actor_kind, actor_ref FROM booking_events"
        f" WHERE booking_id = {booking_id} ORDER BY id",
    )


async def told(app: Salonbot) -> list[str]:
    found = await rows(
        app.engine, f"SELECT body FROM outbound_messages WHERE chat_id = '{CHAT}' ORDER BY id"
    )
    return [body["text"] for (body,) in found]


async def test_an_event_deleted_in_google_cancels_its_booking_and_the_customer_is_told(
    app: Salonbot, google: FakeGoogleCalendar, clock: FakeClock, eva: int
) -> None:
    booking = await app.bookings.book(
        "manicure", next_monday_ten(), STAFF, staff_key="maria", customer_id=eva
    )
    await push_all(app)
    await importer(app).run()  # the first full read: our event as we put it, nothing to do
    assert await booking_rows(app) == [(booking.id, "confirmed")]
    messages = len(await told(app))

    google.owner_delete(MARIA, event_id(booking.id))  # in Google's own app
    a_poll_later(clock)
    await importer(app).run()  # incremental: the deletion, with its details

    assert await booking_rows(app) == [(booking.id, "cancelled")]
    assert (await history(app, booking.id))[-1] == ("cancelled", "staff", "google:maria")
    [notice] = (await told(app))[messages:]
    assert notice.startswith("Studio Lumen has cancelled your visit:")
    await push_all(app)  # the remove of an event already gone (410) is done
    assert [e["status"] for e in google.events(MARIA, deleted=True)] == ["cancelled"]
    assert await alerts(app.engine) == []


async def test_a_full_read_finding_our_long_deleted_events_leaves_their_bookings_alone(
    app: Salonbot,
    google: FakeGoogleCalendar,
    clock: FakeClock,
    eva: int,
    handed_over: HandedOver,
) -> None:
    """After a 410 (or a resync) a full read returns deleted events as well: those of
    bookings cancelled in salonbot, or handed to a colleague, change nothing."""
    visit = next_monday_ten()
    kept = await app.bookings.book("manicure", visit, STAFF, staff_key="maria", customer_id=eva)
    cancelled = await app.bookings.book(
        "manicure", visit + timedelta(hours=4), STAFF, staff_key="maria"
    )
    # A Wednesday: Olga works then too.
    handed = await app.bookings.book("manicure", coming(2, 16), STAFF, staff_key="maria")
    await push_all(app)
    await importer(app).run()
    await app.bookings.cancel(cancelled.id, STAFF)
    await app.bookings.reschedule(handed.id, handed.start, STAFF, staff_key="olga")
    await push_all(app)  # both removed from Maria's calendar (deleted there)
    a_poll_later(clock)
    await importer(app).run()
    before = [await history(app, b.id) for b in (kept, cancelled, handed)]
    messages = await told(app)
    handed_over.seen_deleted.clear()

    google.expire_sync_tokens(MARIA)  # 410: read in full again, deleted events included
    a_poll_later(clock)
    await importer(app).run()
    await importer(app).resync("maria")

    assert handed_over.seen_deleted == {event_id(cancelled.id), event_id(handed.id)}
    assert await booking_rows(app) == [
        (kept.id, "confirmed"),
        (cancelled.id, "cancelled"),
        (handed.id, "confirmed"),
    ]
    assert [await history(app, b.id) for b in (kept, cancelled, handed)] == before
    assert await told(app) == messages
    assert await alerts(app.engine) == []
