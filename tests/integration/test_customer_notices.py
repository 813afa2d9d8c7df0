"""Customer notices on Postgres: a chat customer hears in their chat, in their language,
of the visit the salon moved or cancelled (with the reason); never of their own changes
nor of a visit booked for them at the desk; a customer without a chat, or unreachable,
is not told."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.calendar.desk import NewCustomer
from core.calendar.ports import Role, StaffUser
from core.conversation.state import State
from core.db.conversation_repository import ConversationRepository
from core.db.customer_repository import CustomerRepository
from core.db.reachability_repository import ReachabilityRepository
from core.domain.booking import Actor, Booking
from salonbot.bootstrap import Salonbot
from tests.db_state import rows

OWNER = StaffUser(1, "owner@salon.test", Role.OWNER, None, "en")
MARIA = StaffUser(2, "maria@salon.test", Role.STAFF, "maria", "en")


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


async def chat_customer(
    app: Salonbot, chat: str, *, language: str | None, channel: str = "telegram"
) -> int:
    """A customer who has written to the salon from ``chat``."""
    now = app.clock.now()
    async with app.uow() as uow:
        customer_id, _ = await CustomerRepository(uow.connection).for_identity(
            channel, chat, now, name="Eva", language=language
        )
        await ConversationRepository(uow.connection).save(
            channel, chat, customer_id, State().to_json(), None, now
        )
        await uow.commit()
    return customer_id


async def booked_by_customer(app: Salonbot, customer_id: int) -> Booking:
    return await app.bookings.book(
        "manicure", utc(8, 9), Actor.customer(customer_id), staff_key="maria",
        customer_id=customer_id,
    )  # fmt: skip


async def told(app: Salonbot, chat: str) -> list[tuple[Any, ...]]:
    """(text, choice ids, priority, booking id, status) of each message to ``chat``."""
    found = await rows(
        app.engine,
        "SELECT body, priority, booking_id, status FROM outbound_messages"
        f" WHERE chat_id = '{chat}' ORDER BY id",
    )
    return [
        (body["text"], [c["id"] for c in body["choices"]], priority, booking_id, status)
        for body, priority, booking_id, status in found
    ]


async def test_a_visit_the_salon_cancels_is_told_in_the_customers_language_with_the_reason(
    app: Salonbot,
) -> None:
    eva = await chat_customer(app, "100", language="ru")
    booking = await booked_by_customer(app, eva)

    await app.front_desk.cancel(MARIA, booking.id, "Мастер заболела")

    [(text, choices, priority, about, status)] = await told(app, "100")
    assert text.splitlines()[0] == "Studio Lumen: ваш визит отменён:"
    assert "Маникюр" in text
    assert "Причина: Мастер заболела" in text
    assert "Приносим извинения." in text
    assert len(choices) == 1  # Book again
    assert (priority, about, status) == (1, booking.id, "pending")


async def test_the_customers_own_cancel_is_not_told_back_to_them(app: Salonbot) -> None:
    eva = await chat_customer(app, "100", language="en")
    booking = await booked_by_customer(app, eva)

    await app.bookings.cancel(booking.id, Actor.customer(eva))

    assert await told(app, "100") == []


async def test_a_visit_the_salon_moves_is_told_with_the_old_and_new_time(app: Salonbot) -> None:
    eva = await chat_customer(app, "100", language="en")
    booking = await booked_by_customer(app, eva)

    moved = await app.front_desk.move(OWNER, booking.id, utc(8, 14))

    [(text, choices, _, about, status)] = await told(app, "100")
    lines = text.splitlines()
    assert lines[0] == (
        "Studio Lumen has moved your visit of Tuesday, 8 December at 10:00\u202fAM. The new time:"
    )
    assert "When: Tuesday, 8 December at 3:00\u202fPM" in text
    assert lines[-1] == "Please confirm that the new time suits you, or change your visit below."
    # Confirm, Reschedule and Cancel of the visit as it now is (its version 2).
    assert len(choices) == 3
    assert all(c.endswith(f"{moved.id}.2") for c in choices)
    assert (about, status) == (booking.id, "pending")


async def test_a_visit_moved_again_withdraws_the_notice_not_yet_sent(app: Salonbot) -> None:
    eva = await chat_customer(app, "100", language="en")
    booking = await booked_by_customer(app, eva)

    await app.front_desk.move(OWNER, booking.id, utc(8, 14))
    await app.front_desk.move(OWNER, booking.id, utc(8, 15))

    statuses = [
        (status, "4:00\u202fPM" in text) for text, _, _, _, status in await told(app, "100")
    ]
    assert statuses == [("expired", False), ("pending", True)]


async def test_a_chat_customer_booked_at_the_desk_is_not_told(app: Salonbot) -> None:
    """They are at the desk or on the phone as it is made; the reminders come all the same."""
    eva = await chat_customer(app, "100", language="en")

    await app.front_desk.walk_in(MARIA, "manicure", None, utc(8, 9), eva)

    assert await told(app, "100") == []


async def test_a_customer_without_a_chat_or_unreachable_is_not_told(app: Salonbot) -> None:
    walk_in = await app.front_desk.walk_in(
        MARIA, "manicure", None, utc(8, 9), NewCustomer("Ben", "+4930")
    )
    eva = await chat_customer(app, "100", language="en")
    booking = await app.bookings.book(
        "manicure", utc(8, 14), Actor.customer(eva), staff_key="maria", customer_id=eva
    )
    async with app.uow() as uow:
        await ReachabilityRepository(uow.connection).mark_unreachable(
            "telegram", "100", app.clock.now()
        )
        await uow.commit()

    await app.front_desk.cancel(MARIA, walk_in.id, "")
    await app.front_desk.cancel(MARIA, booking.id, "")

    assert await rows(app.engine, "SELECT count(*) FROM outbound_messages") == [(0,)]


async def test_a_customer_in_a_language_the_salon_does_not_offer_gets_its_default(
    app: Salonbot,
) -> None:
    eva = await chat_customer(app, "100", language="pt-BR")
    booking = await booked_by_customer(app, eva)

    await app.front_desk.cancel(OWNER, booking.id, "")

    [(text, *_)] = await told(app, "100")
    assert text.splitlines()[0] == "Studio Lumen has cancelled your visit:"
    assert "Reason" not in text
