"""The inbox books through the ports the composition root supplies: a chat event handled by
an ``InboxWorker`` honours the ``ExternalBusy`` given to ``Salonbot`` (busy time from an
outside calendar), as every other entry does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import ChatContact, Chosen, Command, Inbound, Reply
from core.domain.timeline import Interval
from core.ports import Translated
from core.services.catalog import load_catalog
from core.services.inbox_store import StoreInbound
from core.services.inbox_worker import InboxWorker
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from tests.conftest import EXAMPLE_CATALOG
from tests.conversation_driver import Driver
from tests.fakes.clock import FakeClock

CAPACITY = ChannelCapacity(choices_per_message=10, label_length=40)


class ChatChannel:
    """A channel whose events carry an ``Inbound`` as plain JSON."""

    name = "test"
    capacity = CAPACITY

    def translate(self, payload: Mapping[str, Any]) -> Translated:
        chat = str(payload["chat"])
        inbound: Inbound = (
            Chosen(payload["chosen"]) if "chosen" in payload else Command(payload["command"])
        )
        return Translated(ChatContact("test", chat, chat, "Ada", "en"), inbound)

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        return None


class OutsideCalendar:
    """A staff member's own calendar (Google, later): busy over any window once ``blocked``."""

    def __init__(self) -> None:
        self.blocked: set[str] = set()
        self.asked: list[str] = []

    async def busy(self, staff_key: str, window: Interval) -> Sequence[Interval]:
        self.asked.append(staff_key)
        return [window] if staff_key in self.blocked else []


class InboxChat(Driver):
    """A customer whose every message goes through the inbox: stored, then handled by a
    worker, the reply read back from the outbox."""

    def __init__(self, app: Salonbot, worker: InboxWorker) -> None:
        self._store = StoreInbound(app.uow, app.clock, Wakeup())
        self._worker = worker
        self._app = app
        self._count = 0
        super().__init__(self._through_inbox)

    async def _through_inbox(self, inbound: Inbound) -> Sequence[Reply]:
        self._count += 1
        payload: dict[str, Any] = {"chat": "ada"}
        if isinstance(inbound, Chosen):
            payload["chosen"] = inbound.choice_id
        else:
            assert isinstance(inbound, Command)
            payload["command"] = inbound.name
        assert await self._store("test", f"event-{self._count}", "ada", payload)
        assert await self._worker.handle_one()
        return await self._app.deliver_in_process("test", "ada")


@pytest.mark.parametrize("blocked", [False, True])
async def test_a_chat_booking_through_the_inbox_honours_busy_time_from_outside(
    clean_engine: AsyncEngine, clock: FakeClock, blocked: bool
) -> None:
    calendar = OutsideCalendar()
    app = Salonbot(clean_engine, clock, external_busy=calendar)
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(app.uow, clock, document)
    worker = InboxWorker(app.uow, app.clock, app.inbox_handler({"test": ChatChannel()}), Wakeup())
    chat = InboxChat(app, worker)

    await chat.command("start")
    await chat.tap("Book a visit")
    await chat.tap("Nails")
    await chat.tap("Manicure")
    await chat.tap("Maria")
    await chat.tap_first()  # the first day Maria has time
    assert "maria" in calendar.asked  # the offered times already asked the calendar
    if blocked:
        calendar.blocked.add("maria")  # her own calendar fills up meanwhile
    reply = await chat.tap_first()  # the first time offered

    confirmable = any("Confirm" in label for label in chat.labels())
    if blocked:
        assert reply.text.startswith("Sorry, that time was just taken.")
        assert not confirmable
    else:
        assert confirmable
    async with clean_engine.connect() as connection:
        holds = await connection.scalar(text("SELECT count(*) FROM bookings"))
    assert holds == (0 if blocked else 1)
