"""A booking made in chat reaches an open day view as it is committed: Postgres tells the
server (the bookings' notify trigger), the server tells the page (``/staff/live``,
Server-Sent Events), ``live.js`` tells the page's scripts (a ``salonbot:changed`` event).

The chat is the real conversation (``converse``, as ``salonbot chat`` runs it on the
terminal channel), driven in-process by a customer tapping its buttons.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from adapters.terminal.chat import CAPACITY
from core.conversation.messages import Inbound, Reply
from salonbot.terminal_chat import terminal_contact
from tests.browser.browsing import sign_in
from tests.browser.conftest import Salon
from tests.browser.demo_day import OWNER
from tests.conversation_driver import Driver

pytestmark = pytest.mark.db


def chat_as(salon: Salon, name: str) -> Driver:
    contact = terminal_contact(name.lower(), name, "en")

    async def send(inbound: Inbound) -> list[Reply]:
        return await salon.app.converse(contact, inbound, CAPACITY)

    return Driver(send)


async def test_an_open_day_view_is_told_of_a_booking_made_in_chat(page: Page, salon: Salon) -> None:
    async with page.expect_response(re.compile(r"/staff/live$")) as live:
        await sign_in(page, OWNER)
    assert (await live.value).status == 200  # the page listens: its stream is open
    await page.evaluate(
        """() => {
            window.toldOf = [];
            document.addEventListener("salonbot:changed", (e) => window.toldOf.push(e.detail));
        }"""
    )

    chat = chat_as(salon, "Zoe")
    await chat.command("start")
    for label in ("Book a visit", "Nails", "Manicure", "Maria", "Wed 9 Dec", "11:30"):
        await chat.tap(label)
    await chat.tap("Confirm")

    await page.wait_for_function("() => window.toldOf.length > 0")
    told = await page.evaluate("() => window.toldOf")
    assert {"staff_key": "maria", "days": ["2026-12-09"]} in told, told
