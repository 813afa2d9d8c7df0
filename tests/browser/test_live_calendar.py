"""A booking made in chat appears in an open day view without a reload: Postgres tells the
server (the bookings' notify trigger), the server tells the page (``/staff/live``,
Server-Sent Events), ``live.js`` tells the page's scripts (a ``salonbot:changed`` event)
and ``staff.js`` swaps the grid.

The chat is the real conversation (``converse``, as ``salonbot chat`` runs it on the
terminal channel), driven in-process by a customer tapping its buttons.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from adapters.terminal.chat import CAPACITY
from core.conversation.messages import Inbound, Reply
from salonbot.terminal_chat import terminal_contact
from tests.browser.browsing import sign_in
from tests.browser.conftest import Salon
from tests.browser.demo_day import OWNER
from tests.conversation_driver import Driver
from tests.waiting import until

pytestmark = pytest.mark.db


def chat_as(salon: Salon, name: str) -> Driver:
    contact = terminal_contact(name.lower(), name, "en")

    async def send(inbound: Inbound) -> list[Reply]:
        return await salon.app.converse(contact, inbound, CAPACITY)

    return Driver(send)


async def test_a_booking_made_in_chat_appears_in_the_open_day_view(
    page: Page, salon: Salon
) -> None:
    async with page.expect_response(re.compile(r"/staff/live$")) as live:
        await sign_in(page, OWNER)
    assert (await live.value).status == 200

    async def page_listens() -> bool:
        # The headers come before the stream subscribes: a change committed in between
        # would never reach the page. Changes committed once this holds do.
        return salon.app.live.subscribers == 1 and salon.app.live.listening

    await until(page_listens, "the page's stream listens to the database")
    maria = page.locator("section.column").filter(has=page.get_by_role("heading", name="Maria"))
    await expect(maria.locator("article.booking")).to_have_count(3)
    await page.evaluate(
        """() => {
            window.toldOf = [];  // gone if the page were reloaded
            document.addEventListener("salonbot:changed", (e) => window.toldOf.push(e.detail));
        }"""
    )

    chat = chat_as(salon, "Zoe")
    await chat.command("start")
    for label in ("Book a visit", "Nails", "Manicure", "Maria", "Wed 9 Dec", "11:30"):
        await chat.tap(label)
    await chat.tap("Confirm")

    zoe = maria.locator("article.booking").filter(has_text="Zoe")
    await expect(zoe).to_be_visible()
    await expect(zoe.locator(".when")).to_have_text("11:30–12:30")
    await expect(zoe.locator(".service")).to_have_text("Manicure")
    # Held while she chose, then confirmed: the second change came through too.
    await expect(zoe.locator(".status")).to_have_text("Confirmed")
    await expect(zoe.locator(".channel")).to_have_text("Terminal")
    await expect(maria.locator("article.booking")).to_have_count(4)
    told = await page.evaluate("() => window.toldOf")
    assert {"staff_key": "maria", "days": ["2026-12-09"]} in told, told
