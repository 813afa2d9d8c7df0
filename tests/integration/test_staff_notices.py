"""Staff notices: each change to a staff member's bookings is queued to each of their linked
chats, in that chat's language, as bulk, in the change's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.catalog.file import load_catalog_text
from core.db.outbox_repository import OutboxRepository
from core.domain.booking import Actor, BookingStatus
from core.domain.errors import SlotTaken
from core.services.catalog import load_catalog
from core.services.staff_notices import NOTICE_FRESH_FOR
from salonbot.bootstrap import Salonbot
from tests.catalog_cases import DEMO_TEXT
from tests.db_state import rows
from tests.fakes.clock import FakeClock
from tests.staff_chats import add_customer, link, queued

# The clock stands at Monday 2026-12-07 06:00 UTC (07:00 in Berlin).
MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Maria works Mondays
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
WEDNESDAY_10 = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
WEDNESDAY_12 = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)  # Olga's (Maria's break is near)
STAFF = Actor.staff("owner")
NOTICE = 1  # Priority.BULK


async def _notices(app: Salonbot, chat_id: str) -> list[str]:
    """What the chat was sent besides the answer to its /link."""
    return [s.text for s in await queued(app.engine, chat_id) if s.priority == NOTICE]


@pytest.fixture
async def ada(app: Salonbot) -> int:
    return await add_customer(app, "Ada", "+4930111222")


async def test_a_booking_is_told_to_each_linked_chat_of_its_staff_member_in_its_language(
    app: Salonbot, ada: int
) -> None:
    await link(app, "maria", "9001", language="en")
    await link(app, "maria", "9002", language="ru")
    await link(app, "anna", "9003")

    booking = await app.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )

    assert await _notices(app, "9001") == [
        "New booking\nManicure: Ada, +4930111222\nMonday, 7 December at 10:00\u202fAM"
    ]
    assert await _notices(app, "9002") == [
        "Новая запись\nМаникюр: Ada, +4930111222\nпонедельник, 7 декабря, 10:00"
    ]
    assert await _notices(app, "9003") == []
    [sent] = [s for s in await queued(app.engine, "9001") if s.priority == NOTICE]
    # Stale once the visit began; not tied to the booking, whose reminders are withdrawn
    # when it moves or ends (a notice must survive that).
    assert (sent.expires_at, sent.booking_id) == (booking.start, None)


async def test_a_hold_is_told_only_once_it_is_confirmed(app: Salonbot, ada: int) -> None:
    await link(app, "maria", "9001")
    customer = Actor.customer(ada)
    hold = await app.bookings.hold("manicure", MONDAY_10, customer, customer_id=ada)
    assert await _notices(app, "9001") == []

    await app.bookings.confirm(hold.id, customer)

    assert [n.splitlines()[0] for n in await _notices(app, "9001")] == ["New booking"]


async def test_a_hold_let_go_is_no_cancelled_visit(app: Salonbot, ada: int) -> None:
    await link(app, "maria", "9001")
    customer = Actor.customer(ada)
    hold = await app.bookings.hold("manicure", MONDAY_10, customer, customer_id=ada)

    await app.bookings.cancel(hold.id, customer)

    assert await _notices(app, "9001") == []


async def test_a_cancelled_visit_is_told(app: Salonbot, ada: int) -> None:
    await link(app, "maria", "9001")
    booking = await app.bookings.book("manicure", TUESDAY_11, STAFF, customer_id=ada)

    await app.bookings.cancel(booking.id, STAFF)

    assert [n.splitlines()[0] for n in await _notices(app, "9001")] == [
        "New booking",
        "Booking cancelled",
    ]


async def test_a_visit_moved_to_another_staff_member_is_told_to_both(
    app: Salonbot, ada: int
) -> None:
    await link(app, "maria", "9001")
    await link(app, "olga", "9004", language="ru")
    booking = await app.bookings.book(
        "manicure", TUESDAY_11, STAFF, staff_key="maria", customer_id=ada
    )

    await app.bookings.reschedule(booking.id, WEDNESDAY_12, STAFF, staff_key="olga")

    assert (await _notices(app, "9001"))[-1].splitlines() == [
        "Booking moved",
        "Manicure: Ada, +4930111222",
        "Was: Tuesday, 8 December at 11:00\u202fAM (Maria)",
        "Now: Wednesday, 9 December at 12:00\u202fPM (Olga)",
    ]
    assert await _notices(app, "9004") == [
        "Запись перенесена\nМаникюр: Ada, +4930111222\n"
        "Было: вторник, 8 декабря, 11:00 (Maria)\nСтало: среда, 9 декабря, 12:00 (Olga)"
    ]


async def test_a_visit_moved_with_the_same_staff_member_is_told_once_per_chat(
    app: Salonbot, ada: int
) -> None:
    await link(app, "maria", "9001")
    booking = await app.bookings.book(
        "manicure", TUESDAY_11, STAFF, staff_key="maria", customer_id=ada
    )

    await app.bookings.reschedule(booking.id, WEDNESDAY_10, STAFF)

    assert [n.splitlines()[0] for n in await _notices(app, "9001")] == [
        "New booking",
        "Booking moved",
    ]


async def test_the_customers_confirmation_that_they_come_is_told(app: Salonbot, ada: int) -> None:
    await link(app, "maria", "9001")
    booking = await app.bookings.book(
        "manicure", TUESDAY_11, STAFF, staff_key="maria", customer_id=ada
    )

    await app.bookings.confirm_attendance(booking.id, Actor.customer(ada))
    await app.bookings.confirm_attendance(booking.id, Actor.customer(ada))  # once only

    assert [n.splitlines()[0] for n in await _notices(app, "9001")] == [
        "New booking",
        "The customer confirmed they are coming",
    ]


async def test_an_outcome_is_not_told(app: Salonbot, clock: FakeClock, ada: int) -> None:
    await link(app, "maria", "9001")
    booking = await app.bookings.book(
        "manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada
    )
    clock.set(MONDAY_10)

    await app.bookings.record_outcome(booking.id, STAFF, BookingStatus.NO_SHOW)

    assert len(await _notices(app, "9001")) == 1


async def test_a_walk_in_without_a_customer_is_told_without_a_name(app: Salonbot) -> None:
    await link(app, "maria", "9001")

    await app.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria")

    assert (await _notices(app, "9001"))[0].splitlines()[1] == (
        "Manicure: a customer without a name"
    )


async def test_a_walk_in_booked_to_start_now_is_still_told_a_minute_later(
    app: Salonbot, clock: FakeClock
) -> None:
    walk_ins = DEMO_TEXT.replace("min_notice: 2h", "min_notice: 0m")
    await load_catalog(app.uow, clock, load_catalog_text(walk_ins)[0])
    await link(app, "maria", "9001")
    clock.set(MONDAY_10)

    await app.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria")

    [sent] = [s for s in await queued(app.engine, "9001") if s.priority == NOTICE]
    assert sent.expires_at == MONDAY_10 + NOTICE_FRESH_FOR
    clock.advance(timedelta(minutes=1))  # the dispatcher's turn comes
    async with app.uow() as uow:
        taken = await OutboxRepository(uow.connection).take_pending("telegram", "9001", clock.now())
        await uow.commit()
    assert "New booking" in [m.reply.text.splitlines()[0] for m in taken]


async def test_a_booking_refused_queues_no_notice(app: Salonbot, ada: int) -> None:
    await link(app, "maria", "9001")
    await app.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)

    with pytest.raises(SlotTaken):
        await app.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)

    assert len(await _notices(app, "9001")) == 1


async def test_without_linked_chats_a_booking_queues_nothing(app: Salonbot, ada: int) -> None:
    await app.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria", customer_id=ada)

    assert await rows(app.engine, "SELECT count(*) FROM outbound_messages") == [(0,)]
