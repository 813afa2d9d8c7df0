"""``/today`` and ``/tomorrow``: a linked staff member's day; refused to everyone else, whose
conversation stays exactly as it was."""

from __future__ import annotations

from datetime import UTC, datetime

from core.conversation.messages import Command, Text
from core.domain.booking import Actor, BookingStatus
from salonbot.bootstrap import Salonbot
from tests.db_state import rows
from tests.staff_chats import add_customer, link, queued, say

# The clock stands at Monday 2026-12-07 06:00 UTC (07:00 in Berlin): Maria works 09-18.
MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MONDAY_14 = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
STAFF = Actor.staff("owner")
REFUSED = "That command is for the salon's staff."


async def _book(app: Salonbot, start: datetime, customer_id: int, service: str = "manicure") -> int:
    booking = await app.bookings.book(
        service, start, STAFF, staff_key="maria", customer_id=customer_id
    )
    return booking.id


async def test_today_lists_the_staff_members_visits_of_the_local_day_in_order(
    app: Salonbot,
) -> None:
    ada = await add_customer(app, "Ada", "+4930111222")
    bo = await add_customer(app, "Bo")
    await link(app, "maria", "9001")
    await _book(app, MONDAY_14, bo, "pedicure")
    await _book(app, MONDAY_10, ada)
    cancelled = await _book(app, TUESDAY_11, ada)
    await app.bookings.cancel(cancelled, STAFF)
    await app.bookings.hold("manicure", TUESDAY_11, STAFF, staff_key="maria", customer_id=bo)

    today = await say(app, "9001", Command("today"))
    tomorrow = await say(app, "9001", Command("tomorrow"))

    assert today.text.splitlines() == [
        "Monday, 7 December, your bookings:",
        "10:00\u202fAM Manicure: Ada, +4930111222 (booked)",
        "2:00\u202fPM Pedicure: Bo (booked)",
    ]
    # A cancelled visit and a slot only held are no bookings of the day.
    assert tomorrow.text == "Tuesday, 8 December: nothing booked."


async def test_staff_commands_answer_in_the_chats_language(app: Salonbot) -> None:
    ada = await add_customer(app, "Ada")
    await link(app, "maria", "9001", language="ru")
    await _book(app, TUESDAY_11, ada)

    tomorrow = await say(app, "9001", Command("tomorrow"))

    assert tomorrow.text.splitlines() == [
        "вторник, 8 декабря, ваши записи:",
        "11:00 Маникюр: Ada (записан)",
    ]


async def test_the_answer_goes_through_the_outbox_as_a_conversation_reply(app: Salonbot) -> None:
    await link(app, "maria", "9001")

    today = await say(app, "9001", Command("today"))

    sent = await queued(app.engine, "9001")
    assert [s.text for s in sent][-1] == today.text
    assert sent[-1].priority == 0


async def test_staff_commands_are_refused_to_a_customer_whose_conversation_is_unchanged(
    app: Salonbot,
) -> None:
    await say(app, "42", Text("hello"))
    await say(app, "42", Text("1"))  # on the way to a booking
    query = "SELECT state, version, updated_at FROM conversations WHERE chat_id = '42'"
    before = await rows(app.engine, query)

    answers = [await say(app, "42", Command(name)) for name in ("today", "tomorrow", "unlink")]

    assert [a.text for a in answers] == [REFUSED] * 3
    assert [a.choices for a in answers] == [()] * 3
    assert await rows(app.engine, query) == before


async def test_a_stranger_asking_for_today_becomes_no_customer(app: Salonbot) -> None:
    answer = await say(app, "77", Command("today"), language="ru")

    assert answer.text == "Эта команда — для сотрудников салона."
    assert await rows(app.engine, "SELECT count(*) FROM customers") == [(0,)]


async def test_a_linked_chat_still_talks_to_the_booking_conversation(app: Salonbot) -> None:
    await link(app, "maria", "9001")

    menu = await say(app, "9001", Text("hello"))

    assert "Book a visit" in [c.label for c in menu.choices]


async def test_another_staff_members_day_is_not_shown(app: Salonbot) -> None:
    ada = await add_customer(app, "Ada")
    await link(app, "anna", "9002")
    await _book(app, MONDAY_10, ada)

    today = await say(app, "9002", Command("today"))

    assert today.text == "Monday, 7 December: nothing booked."
    assert BookingStatus.CONFIRMED.value not in today.text
