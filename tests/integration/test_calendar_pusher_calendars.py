"""The calendar pusher between calendars: one that hangs or refuses never holds up another,
a run is shared fairly between calendars, and a parked push is settled by a later one."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.db.calendar_push_repository import PUSHES_CHANNEL
from core.domain.booking import Booking
from core.linked_calendars.ports import event_id
from core.services.calendar_pusher import CalendarPusher
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.live import connector
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.integration.test_calendar_pushes import (
    MARIA,
    MONDAY_10,
    OLGA,
    STAFF,
    TUESDAY_11,
    WEDNESDAY_12,
    calendar_of,
    drain,
    pusher,
    queue,
)
from tests.staff_chats import add_customer
from tests.waiting import until


@pytest.fixture
def calendars() -> FakeLinkedCalendars:
    return FakeLinkedCalendars()


@pytest.fixture
async def pushing(
    clean_engine: AsyncEngine, clock: FakeClock, calendars: FakeLinkedCalendars
) -> Salonbot:
    salonbot = Salonbot(clean_engine, clock, linked_calendars=calendars, calendar_of=calendar_of)
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(salonbot.uow, clock, document)
    return salonbot


@pytest.fixture
async def ada(pushing: Salonbot) -> int:
    return await add_customer(pushing, "Ada Lovelace", "+4930111222")


async def _book(app: Salonbot, staff_key: str, start: datetime, customer: int) -> Booking:
    return await app.bookings.book(
        "manicure", start, STAFF, staff_key=staff_key, customer_id=customer
    )


async def test_a_hanging_calendar_does_not_hold_up_another_calendars_push(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    marias = await _book(pushing, "maria", MONDAY_10, ada)
    olgas = await _book(pushing, "olga", WEDNESDAY_12, ada)
    calendars.gates[MARIA] = asyncio.Event()

    run = asyncio.create_task(pusher(pushing).run())
    # Olga's event lands while the call to Maria's calendar is still hanging.
    await until(
        lambda: _on(calendars, OLGA, olgas.id), "Olga's push lands while Maria's calendar hangs"
    )
    assert not run.done()
    assert ("put", MARIA, event_id(marias.id)) in calendars.calls
    assert MARIA not in calendars.events

    calendars.gates[MARIA].set()
    assert (await run).done == 2
    assert await _on(calendars, MARIA, marias.id)


async def test_a_calendar_that_refuses_for_now_is_not_tried_again_in_the_same_run(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    first = await _book(pushing, "maria", MONDAY_10, ada)
    second = await _book(pushing, "maria", TUESDAY_11, ada)
    olgas = await _book(pushing, "olga", WEDNESDAY_12, ada)
    calendars.refuse_next(1, "503 backend error", transient=True)

    run = await pusher(pushing).run()

    # Maria's calendar refused her first push; her second was let go untried, for the
    # next run. Olga's calendar went on.
    assert (run.done, run.retried) == (1, 1)
    assert [c[2] for c in calendars.calls if c[1] == MARIA] == [event_id(first.id)]
    assert await _on(calendars, OLGA, olgas.id)
    rows = {row["booking_id"]: row for row in await queue(pushing.engine)}
    assert (rows[second.id]["attempts"], rows[second.id]["claimed_until"]) == (0, None)
    assert rows[second.id]["next_attempt_at"] == clock.now()
    assert run.next_retry == rows[first.id]["next_attempt_at"]

    assert (await pusher(pushing).run()).done == 1  # the next run: the second, not the first
    assert await _on(calendars, MARIA, second.id)
    clock.advance(timedelta(seconds=5))
    await drain(pushing)
    assert await _on(calendars, MARIA, first.id)


async def test_a_calendar_that_asks_to_wait_gets_none_of_its_pushes_until_then(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    await _book(pushing, "maria", MONDAY_10, ada)
    second = await _book(pushing, "maria", TUESDAY_11, ada)
    calendars.refuse_next(1, "429 rate limit", transient=True, retry_after=30)

    run = await pusher(pushing).run()

    rows = {row["booking_id"]: row for row in await queue(pushing.engine)}
    assert rows[second.id]["attempts"] == 0
    assert rows[second.id]["next_attempt_at"] == clock.now() + timedelta(seconds=30)
    assert run.next_retry == clock.now() + timedelta(seconds=30)
    assert (await pusher(pushing).run()).done == 0


async def test_a_run_takes_every_calendars_first_push_before_anyones_second(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    marias = [await _book(pushing, "maria", MONDAY_10 + timedelta(hours=h), ada) for h in (0, 4, 6)]
    olgas = await _book(pushing, "olga", WEDNESDAY_12, ada)
    two_at_a_time = CalendarPusher(pushing.uow, pushing.clock, calendars, limit=2)

    assert (await two_at_a_time.run()).done == 2

    assert sorted(c[2] for c in calendars.calls) == sorted(
        [event_id(marias[0].id), event_id(olgas.id)]
    )


async def test_a_parked_push_is_settled_by_a_later_push_of_its_booking(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    booking = await _book(pushing, "maria", MONDAY_10, ada)
    calendars.refuse_next(1, "calendar not shared with salonbot", transient=False)
    assert (await pusher(pushing).run()).parked == 1

    await pushing.bookings.reschedule(booking.id, TUESDAY_11, STAFF)
    await drain(pushing)

    parked, later = await queue(pushing.engine)
    assert parked["parked_at"] is not None
    assert parked["done_at"] is not None
    assert parked["last_error"] == "calendar not shared with salonbot (settled by a later push)"
    assert later["done_at"] is not None
    assert calendars.events[MARIA][event_id(booking.id)].start == TUESDAY_11


async def test_queuing_a_push_is_announced_at_commit(pushing: Salonbot, ada: int) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await connector(pushing.engine)()
    try:
        await listener.add_listener(PUSHES_CHANNEL, lambda *args: heard.put_nowait(args[2]))
        await _book(pushing, "maria", MONDAY_10, ada)

        assert await asyncio.wait_for(heard.get(), 5) == PUSHES_CHANNEL
    finally:
        await listener.close()


async def _on(calendars: FakeLinkedCalendars, calendar_id: str, booking_id: int) -> bool:
    return event_id(booking_id) in calendars.events.get(calendar_id, {})


async def test_two_runs_of_one_pusher_never_push_one_calendar_at_once(
    pushing: Salonbot, calendars: FakeLinkedCalendars, ada: int
) -> None:
    first = await _book(pushing, "maria", MONDAY_10, ada)
    second = await _book(pushing, "maria", TUESDAY_11, ada)
    olgas = await _book(pushing, "olga", WEDNESDAY_12, ada)
    one_at_a_time = CalendarPusher(pushing.uow, pushing.clock, calendars, limit=1)
    calendars.gates[MARIA] = asyncio.Event()
    held = asyncio.create_task(one_at_a_time.run())  # Maria's first push, hanging
    await until(lambda: _called(calendars, first.id), "Maria's calendar is called")

    # The next run leaves Maria's calendar to the run pushing to it: Olga's goes.
    assert (await one_at_a_time.run()).done == 1
    assert await _on(calendars, OLGA, olgas.id)
    assert not await _called(calendars, second.id)

    calendars.gates[MARIA].set()
    assert (await held).done == 1
    assert (await one_at_a_time.run()).done == 1
    assert [c[2] for c in calendars.calls if c[1] == MARIA] == [
        event_id(first.id),
        event_id(second.id),
    ]


async def _called(calendars: FakeLinkedCalendars, booking_id: int) -> bool:
    return any(call[2] == event_id(booking_id) for call in calendars.calls)


async def test_one_calendars_run_pushes_only_its_own_and_says_which_calendars_are_due(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock, ada: int
) -> None:
    marias = await _book(pushing, "maria", MONDAY_10, ada)
    olgas = await _book(pushing, "olga", WEDNESDAY_12, ada)
    assert sorted(await pusher(pushing).due_calendars()) == sorted([MARIA, OLGA])

    assert (await pusher(pushing).run_calendar(OLGA)).done == 1

    assert await _on(calendars, OLGA, olgas.id)
    assert MARIA not in calendars.events
    assert await pusher(pushing).due_calendars() == [MARIA]
    calendars.refuse_next(1, "503 backend error", transient=True)
    assert (await pusher(pushing).run_calendar(MARIA)).retried == 1
    assert await pusher(pushing).due_calendars() == []  # its retry is not due yet
    clock.advance(timedelta(seconds=5))
    assert await pusher(pushing).due_calendars() == [MARIA]
    assert (await pusher(pushing).run_calendar(MARIA)).done == 1
    assert await _on(calendars, MARIA, marias.id)
