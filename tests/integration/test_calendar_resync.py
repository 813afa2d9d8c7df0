"""The resync's puts on Postgres, racing the booking changes: a booking cancelled or handed
to a colleague while the resync waits for its lock is never put back on the calendar."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.db.tables import bookings
from core.db.unit_of_work import NestedUnitOfWorkFactory
from core.domain.booking import Actor
from core.domain.catalog import Catalog
from core.linked_calendars.ports import event_id
from core.services.calendar_resync import CalendarResync
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.waiting import waiting_for_a_lock

# The clock stands at Monday 2026-12-07 06:00 UTC (07:00 in Berlin).
MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WEDNESDAY_12 = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)  # Olga works then
OWNER = Actor.staff("owner")
CALENDARS = {"maria": "maria@example.org", "olga": "olga@example.org"}
MARIA, OLGA = CALENDARS["maria"], CALENDARS["olga"]


def calendar_of(catalog: Catalog, staff_key: str) -> str | None:
    return CALENDARS.get(staff_key)


@pytest.fixture
def calendars() -> FakeLinkedCalendars:
    return FakeLinkedCalendars()


@pytest.fixture
async def app(
    clean_engine: AsyncEngine, clock: FakeClock, calendars: FakeLinkedCalendars
) -> Salonbot:
    salonbot = Salonbot(clean_engine, clock, linked_calendars=calendars, calendar_of=calendar_of)
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(salonbot.uow, clock, document)
    return salonbot


def resync(app: Salonbot) -> CalendarResync:
    assert app.calendar_import is not None
    assert app.calendar_pusher is not None
    return CalendarResync(
        app.uow, app.clock, app.catalogs, app.calendar_import, app.calendar_pusher
    )


@pytest.mark.parametrize("change", ["cancelled", "handed over"])
async def test_a_booking_changed_while_the_resync_waits_for_it_is_not_put_back(
    app: Salonbot, calendars: FakeLinkedCalendars, change: str
) -> None:
    booking = await app.bookings.book("manicure", MONDAY_10, OWNER, staff_key="maria")
    assert app.calendar_pusher is not None
    await app.calendar_pusher.run()
    assert event_id(booking.id) in calendars.events[MARIA]

    async with app.uow() as uow:
        # The desk's change holds the booking (as its own use case would) while the
        # resync, having listed Maria's upcoming bookings, waits to lock it.
        await uow.connection.execute(
            select(bookings.c.id).where(bookings.c.id == booking.id).with_for_update(key_share=True)
        )
        resyncing = asyncio.create_task(resync(app).run("maria", push_for=10))
        await waiting_for_a_lock(app.engine)
        desk = app.bookings.over(NestedUnitOfWorkFactory(uow.connection))
        if change == "cancelled":
            await desk.cancel(booking.id, OWNER)
        else:
            await desk.reschedule(booking.id, WEDNESDAY_12, OWNER, staff_key="olga")
        await uow.commit()
    [outcome] = await asyncio.wait_for(resyncing, 30)

    assert (outcome.bookings, outcome.pushed) == (0, 0)
    assert event_id(booking.id) not in calendars.events[MARIA]
    if change == "handed over":
        assert calendars.events[OLGA][event_id(booking.id)].start == WEDNESDAY_12
