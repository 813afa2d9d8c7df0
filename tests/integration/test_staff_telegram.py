"""Staff chats on Telegram end to end: the real webhook route, inbox, converse, outbox and
aiogram client against the fake Bot API. A staff member links their chat with the code the
owner was given, hears of a customer's booking and asks for their day; the customer may not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.booking import Actor
from tests.adapters.telegram_harness import Salon, demo_app, eventually, serving
from tests.fakes.telegram_api import FakeTelegram

TEN_IN_BERLIN = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MARIA = 7001
ADA = 5001


@pytest.fixture
async def salon(clean_engine: AsyncEngine) -> AsyncIterator[Salon]:
    """The demo salon on Monday 2026-12-07, 07:00 in Berlin, serving the fake Bot API."""
    app = await demo_app(clean_engine)
    async with FakeTelegram() as fake, serving(app, fake) as running:
        yield running


async def test_a_linked_staff_member_hears_of_a_booking_and_sees_their_day(salon: Salon) -> None:
    issued = await salon.app.staff_links.issue_code("maria")
    linked = await salon.say(MARIA, f"/link {issued.code}", language="ru")
    assert linked.text.startswith("Готово: в этот чат теперь приходят уведомления")

    await salon.say(ADA, "/start")
    [(ada,)] = await salon.rows("SELECT id FROM customers")
    await salon.app.bookings.book(
        "manicure", TEN_IN_BERLIN, Actor.customer(ada), staff_key="maria", customer_id=ada
    )

    notice = await eventually(lambda: salon.to(MARIA)[1:])
    assert notice[0].text.startswith("Новая запись\nМаникюр: Ada")
    today = await salon.say(MARIA, "/today", language="ru")
    assert today.text.startswith("понедельник, 7 декабря, ваши записи:\n")
    assert "Маникюр: Ada (записан)" in today.text


async def test_a_customer_asking_for_the_staff_day_is_refused(salon: Salon) -> None:
    await salon.say(ADA, "/start")

    refused = await salon.say(ADA, "/today")

    assert refused.text == "That command is for the salon's staff."


async def test_the_deep_link_start_parameter_links_the_chat(salon: Salon) -> None:
    issued = await salon.app.staff_links.issue_code("maria")

    linked = await salon.say(MARIA, f"/start link-{issued.code}")

    assert linked.text.startswith("Linked: this chat now gets Maria's booking notices")
    assert await salon.rows("SELECT chat_id FROM staff_chats") == [(str(MARIA),)]
    assert await salon.rows("SELECT count(*) FROM customers") == [(0,)]
