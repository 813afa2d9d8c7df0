"""A reminder from the scheduler's tick to the customer's tap, through the real Telegram
route, dispatcher and sender against the fake Bot API, on the demo salon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.domain.booking import Actor
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from tests.adapters.telegram_harness import MONDAY_MORNING, buttons, eventually, serving
from tests.catalog_cases import DEMO_TEXT
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegram

CHAT = 501
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # 11:00 in Berlin


async def test_a_reminder_is_sent_by_the_tick_and_its_confirm_tap_is_recorded(
    clean_engine: AsyncEngine,
) -> None:
    clock = FakeClock(MONDAY_MORNING)
    app = Salonbot(clean_engine, clock)
    await load_catalog(app.uow, clock, load_catalog_text(DEMO_TEXT)[0])
    async with FakeTelegram() as fake, serving(app, fake) as salon:
        await salon.say(CHAT, "/start")
        [(customer,)] = await salon.rows("SELECT id FROM customers")
        booking = await app.bookings.book(
            "manicure", TUESDAY_11, Actor.staff("desk"), staff_key="maria", customer_id=customer
        )
        clock.set(TUESDAY_11 - timedelta(hours=24))  # the demo's first rule: 24 h before

        counts = await app.due_notices(salon.runtime.outbox).run()

        assert counts.queued == 1
        reminder = await eventually(lambda: len(salon.to(CHAT)) > 1 and salon.to(CHAT)[-1])
        assert "Manicure" in reminder.text
        assert [label for label, _ in buttons(reminder)] == [
            "✅ Confirm",
            "Reschedule",
            "✖ Cancel visit",
        ]
        answer = await salon.tap(CHAT, "Confirm")

    assert "Manicure" in answer.text
    assert await salon.rows(
        f"SELECT customer_confirmed_at IS NOT NULL FROM bookings WHERE id = {booking.id}"
    ) == [(True,)]
    assert await salon.rows(
        f"SELECT action, actor_kind FROM booking_events WHERE booking_id = {booking.id} ORDER BY id"
    ) == [("booked", "staff"), ("attendance_confirmed", "customer")]
