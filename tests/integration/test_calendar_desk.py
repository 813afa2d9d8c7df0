"""The staff page's view of the staff's Google Calendars on Postgres: stuck pushes (parked,
or failing after a few tries), each calendar's sync state, to whom they concern, read in
one statement."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.linked import FAILING_AFTER
from core.calendar.ports import Role, StaffUser
from core.catalog.file import load_catalog_text
from core.db.tables import calendar_syncs, staff
from core.domain.booking import Actor
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.integration.test_calendar_pushes import (
    MONDAY_10,
    WEDNESDAY_12,
    calendar_of,
    pusher,
)
from tests.staff_chats import add_customer

STAFF = Actor.staff("owner")
OWNER = StaffUser(1, "owner@salon.test", Role.OWNER, None, "en")
MARIA = StaffUser(2, "maria@salon.test", Role.STAFF, "maria", "en")


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


async def _synced(app: Salonbot, staff_key: str, **state: Any) -> None:
    async with app.engine.begin() as connection:
        staff_id = await connection.scalar(select(staff.c.id).where(staff.c.key == staff_key))
        await connection.execute(
            insert(calendar_syncs).values(
                staff_id=staff_id, calendar_id=f"{staff_key}@example.org", **state
            )
        )


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends meanwhile (transaction control left out)."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_stuck_pushes_and_sync_states_reach_whom_they_concern_in_one_statement(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock
) -> None:
    ada = await add_customer(pushing, "Ada Lovelace")
    marias = await pushing.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    olgas = await pushing.bookings.book(
        "manicure", WEDNESDAY_12, STAFF, staff_key="olga", customer_id=ada
    )
    # Maria's calendar is not shared (parked at once); Olga's keeps answering 503.
    calendars.refuse_next(1, "calendar not found or not shared", transient=False)
    calendars.refuse_next(FAILING_AFTER, "Google Calendar is busy (503)", transient=True)
    for _ in range(FAILING_AFTER):
        await pusher(pushing).run()
        clock.advance(timedelta(minutes=10))
    await _synced(pushing, "maria", failures=4, last_error="cannot reach Google Calendar")
    await _synced(pushing, "olga", synced_at=clock.now())

    with statements(pushing.engine) as sent:
        everyone = await pushing.linked_calendars_desk.notices(OWNER)
    assert len(sent) == 1

    parked, failing = everyone.pushes
    assert (parked.booking_id, parked.staff_key, parked.action, parked.parked) == (
        marias.id,
        "maria",
        "put",
        True,
    )
    assert parked.last_error == "calendar not found or not shared"
    assert (parked.booking_start, parked.next_attempt_at) == (marias.start, None)
    assert (failing.booking_id, failing.parked, failing.attempts) == (olgas.id, False, 3)
    assert failing.next_attempt_at is not None
    assert failing.next_attempt_at > clock.now() - timedelta(minutes=10)
    assert [(s.staff_name, s.failures, s.last_error) for s in everyone.syncs] == [
        ("Maria", 4, "cannot reach Google Calendar"),
        ("Olga", 0, ""),
    ]
    assert everyone.troubled

    marias_own = await pushing.linked_calendars_desk.notices(MARIA)
    assert [p.booking_id for p in marias_own.pushes] == [marias.id]
    assert [s.staff_key for s in marias_own.syncs] == ["maria"]


async def test_a_push_two_failures_in_is_not_stuck_yet_and_a_parked_one_goes_with_its_visit(
    pushing: Salonbot, calendars: FakeLinkedCalendars, clock: FakeClock
) -> None:
    await pushing.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria")
    await pushing.bookings.book("manicure", WEDNESDAY_12, STAFF, staff_key="olga")
    calendars.refuse_next(1, "calendar not found or not shared", transient=False)
    calendars.refuse_next(1, "Google Calendar is busy (503)", transient=True)
    await pusher(pushing).run()

    assert [p.staff_key for p in (await pushing.linked_calendars_desk.notices(OWNER)).pushes] == [
        "maria"
    ]

    clock.set(datetime(2026, 12, 7, 10, 1, tzinfo=UTC))  # Maria's visit is over
    notices = await pushing.linked_calendars_desk.notices(OWNER)
    assert notices.pushes == ()
    assert not notices.linked  # no calendar read back yet, nothing stuck: nothing to show
