"""A queued calendar push is pushed at once, not at the next tick: the database announces it
at commit (whichever process queued it), the scheduler's listener wakes the pusher; a
listener that loses its connection comes back and wakes the pusher for what it missed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.linked_calendars.ports import event_id
from core.services.calendar_push_wake import PushWhenWoken
from core.services.catalog import load_catalog
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.live import connector
from salonbot.push_notices import PushNotices
from salonbot.scheduler import Scheduler
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.integration.test_calendar_pushes import (
    MARIA,
    MONDAY_10,
    OLGA,
    STAFF,
    WEDNESDAY_12,
    calendar_of,
)
from tests.staff_chats import add_customer
from tests.waiting import until

HOUR = 3600.0


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


class CountedWakeup(Wakeup):
    """A ``Wakeup`` that counts how often it was woken."""

    def __init__(self) -> None:
        super().__init__()
        self.woken = 0

    def notify(self) -> None:
        self.woken += 1
        super().notify()


async def test_a_push_queued_by_another_process_lands_without_waiting_for_the_tick(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock
) -> None:
    ada = await add_customer(pushing, "Ada Lovelace")
    first = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    scheduler = Scheduler(
        pushing, Wakeup(), visits_every=HOUR, agendas_every=HOUR, calendars_every=HOUR
    )
    scheduler.start()
    try:
        # The first tick (at start) pushes what was queued before; the next is an hour away.
        await until(lambda: _pushed(calendars, first.id), "the first tick pushes the booking")
        await until(lambda: _idle(scheduler), "the first tick ends")
        assert scheduler.push_notices is not None
        notices = scheduler.push_notices
        await until(lambda: _is_listening(notices), "the scheduler listens for pushes")

        # A process without the key (``salonbot chat``, say) queues the next push.
        keyless = Salonbot(pushing.engine, clock, calendar_of=calendar_of)
        second = await keyless.bookings.book(
            "manicure", MONDAY_10 + timedelta(hours=4), STAFF, staff_key="maria", customer_id=ada
        )

        await until(
            lambda: _pushed(calendars, second.id), "the booking is pushed at once", within=5
        )
    finally:
        await scheduler.stop()


async def test_a_listener_that_lost_its_connection_listens_again_and_wakes_the_pusher(
    pushing: Salonbot,
) -> None:
    woken = CountedWakeup()
    notices = PushNotices(connector(pushing.engine), woken, first_pause=0.1)
    task = asyncio.create_task(notices.run())
    try:
        await until(lambda: _is_listening(notices), "it listens")
        assert woken.woken == 0

        async with pushing.engine.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE pid <> pg_backend_pid() AND datname = current_database()"
                    " AND query LIKE 'LISTEN%'"
                )
            )
        await until(lambda: _woken(woken), "it listens again and wakes the pusher")
        assert notices.listening
    finally:
        notices.stop()
        await task


async def _pushed(
    calendars: FakeLinkedCalendars, booking_id: int, calendar_id: str = MARIA
) -> bool:
    return event_id(booking_id) in calendars.events.get(calendar_id, {})


async def _idle(scheduler: Scheduler) -> bool:
    return not scheduler._ticking


async def _is_listening(notices: PushNotices) -> bool:
    return notices.listening


async def _woken(woken: CountedWakeup) -> bool:
    return woken.woken > 0


async def test_a_push_put_off_is_pushed_when_it_falls_due_not_at_the_tick(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock
) -> None:
    booking = await pushing.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria")
    calendars.refuse_next(1, "Google Calendar did not answer in time", transient=True)
    woken = Wakeup()
    assert pushing.calendar_pusher is not None
    pushes = PushWhenWoken(pushing.calendar_pusher, woken, clock, resting=HOUR)
    task = asyncio.create_task(pushes.run())
    try:
        woken.notify()
        await until(lambda: _tried(calendars), "the first try, refused")
        clock.advance(timedelta(seconds=2))  # its retry (about a second later) is due

        await until(lambda: _pushed(calendars, booking.id), "the retry, at its time", within=5)
    finally:
        pushes.stop()
        await task


async def _tried(calendars: FakeLinkedCalendars) -> bool:
    return bool(calendars.calls)


async def test_a_wake_while_a_run_hangs_on_one_calendar_pushes_another(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock
) -> None:
    marias = await pushing.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria")
    calendars.gates[MARIA] = asyncio.Event()
    woken = Wakeup()
    assert pushing.calendar_pusher is not None
    pushes = PushWhenWoken(pushing.calendar_pusher, woken, clock, resting=HOUR)
    task = asyncio.create_task(pushes.run())
    try:
        woken.notify()
        await until(lambda: _tried(calendars), "Maria's calendar is called, and hangs")

        olgas = await pushing.bookings.book("manicure", WEDNESDAY_12, STAFF, staff_key="olga")
        woken.notify()  # as the listener does when the push is announced

        await until(lambda: _pushed(calendars, olgas.id, OLGA), "Olga's push lands", within=5)
        assert not await _pushed(calendars, marias.id)
        calendars.gates[MARIA].set()
        await until(lambda: _pushed(calendars, marias.id), "Maria's lands once it answers")
    finally:
        calendars.gates[MARIA].set()
        pushes.stop()
        await task
