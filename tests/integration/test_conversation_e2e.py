"""The whole dialogue on real Postgres, through the terminal channel as ``salonbot chat`` runs it.

Each tap is typed as the number of its choice, each reply is read back from the outbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.terminal.chat import CAPACITY, TerminalChat
from core.catalog.file import load_catalog_text
from core.conversation.messages import Chosen, Command, Inbound, Reply
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.terminal_chat import terminal_contact, terminal_exchange
from tests.catalog_cases import DEMO_TEXT
from tests.conversation_driver import Driver
from tests.db_state import rows
from tests.fakes.clock import FakeClock

WORDS = {
    "en": {
        "book": "Book a visit",
        "nails": "Nails",
        "manicure": "Manicure",
        "confirm": "Confirm",
        "booked": "Booked! See you soon.",
        "my": "My bookings",
        "reschedule": "Reschedule",
        "move": "Yes, move it",
        "moved": "Done! Your visit is moved.",
        "cancel": "Cancel visit",
        "yes cancel": "Yes, cancel it",
        "cancelled": "is cancelled",
        "none": "You have no upcoming visits.",
        "hello": "Hello, Ada! Welcome to Studio Lumen.",
        "taken": "Sorry, that time was just taken.",
        "stale": "That button is from an earlier message.",
        "lost": "Sorry, that time could not be kept for you any longer.",
    },
    "ru": {
        "book": "Записаться",
        "nails": "Ногти",
        "manicure": "Маникюр",
        "confirm": "Подтвердить",
        "booked": "Вы записаны! До встречи.",
        "my": "Мои записи",
        "reschedule": "Перенести",
        "move": "Да, перенести",
        "moved": "Готово! Визит перенесён.",
        "cancel": "Отменить визит",
        "yes cancel": "Да, отменить",
        "cancelled": "отменён",
        "none": "У вас нет предстоящих визитов.",
        "hello": "Здравствуйте, Ada! Добро пожаловать в Studio Lumen.",
        "taken": "К сожалению, это время только что заняли.",
        "stale": "Эта кнопка из более раннего сообщения.",
        "lost": "К сожалению, это время больше не удаётся удержать за вами.",
    },
}


class Terminal(Driver):
    """A person at ``salonbot chat``: every tap is typed as its number."""

    def __init__(self, app: Salonbot, chat_id: str, language_code: str | None) -> None:
        contact = terminal_contact(chat_id, "Ada", language_code)
        self.printed: list[str] = []
        self.terminal = TerminalChat(
            terminal_exchange(app, contact), self._no_input, self.printed.append
        )
        super().__init__(self.terminal.send)

    @staticmethod
    async def _no_input() -> str | None:
        return None

    async def tap(self, label: str) -> Reply:
        number = self.reply.choices.index(self.choice(label)) + 1
        return await self.type(str(number))

    async def tap_first(self, skip: int = 0) -> Reply:
        return await self.type(str(skip + 1))

    async def type(self, line: str) -> Reply:
        replies: Sequence[Reply] = await self.terminal.type_line(line)
        assert len(replies) == 1
        self.reply = replies[0]
        return self.reply


async def _book_manicure(chat: Driver, words: dict[str, str], day: int = 2) -> Reply:
    await chat.tap(words["book"])
    await chat.tap(words["nails"])
    await chat.tap(words["manicure"])
    await chat.tap("Maria")
    await chat.tap_first(skip=day)
    await chat.tap_first()
    return await chat.tap(words["confirm"])


@pytest.mark.parametrize(("language", "code"), [("en", "en-US"), ("ru", "ru")])
async def test_book_list_reschedule_and_cancel_in_the_terminal(
    app: Salonbot, clean_engine: AsyncEngine, language: str, code: str
) -> None:
    words = WORDS[language]
    chat = Terminal(app, f"e2e-{language}", code)

    reply = await chat.type("/start")
    assert reply.text.startswith(words["hello"])
    reply = await _book_manicure(chat, words)
    assert reply.text.startswith(words["booked"])
    [(booking_id, status, first_start)] = await rows(
        clean_engine, "SELECT id, status, starts_at FROM bookings"
    )
    assert status == "confirmed"
    assert await rows(
        clean_engine, "SELECT channel, external_id, name, language FROM customers"
    ) == [("terminal", f"e2e-{language}", "Ada", language)]

    await chat.tap(words["my"])
    await chat.tap(words["manicure"])
    await chat.tap(words["reschedule"])
    await chat.tap_first(skip=3)
    await chat.tap_first(skip=1)
    reply = await chat.tap(words["move"])
    assert reply.text.startswith(words["moved"])
    [(moved_id, status, moved_start)] = await rows(
        clean_engine, "SELECT id, status, starts_at FROM bookings"
    )
    assert (moved_id, status) == (booking_id, "confirmed")
    assert moved_start != first_start

    await chat.tap(words["my"])
    await chat.tap(words["manicure"])
    await chat.tap(words["cancel"])
    reply = await chat.tap(words["yes cancel"])
    assert words["cancelled"] in reply.text
    assert words["none"] in reply.text
    assert await rows(clean_engine, "SELECT status FROM bookings") == [("cancelled",)]
    actions = await rows(clean_engine, "SELECT action FROM booking_events ORDER BY id")
    assert [a for (a,) in actions] == ["held", "confirmed", "rescheduled", "cancelled"]

    # Every reply went through the outbox and was delivered once, in order.
    outbox = await rows(
        clean_engine, "SELECT status, body->>'text' FROM outbound_messages ORDER BY id"
    )
    assert {status for status, _ in outbox} == {"sent"}
    assert len(outbox) == len(chat.printed)
    assert [body for _, body in outbox] == [
        p.split("\n  1. ")[0].rstrip("\n") for p in chat.printed
    ]


async def test_first_start_records_the_payload_and_the_platform_language(
    app: Salonbot, clean_engine: AsyncEngine
) -> None:
    contact = terminal_contact("ad", "Ivan", "ru-RU")
    await app.converse(contact, Command("start", "spring-ad"), CAPACITY)
    await app.converse(contact, Command("start", "other"), CAPACITY)
    assert await rows(clean_engine, "SELECT language, start_payload FROM customers") == [
        ("ru", "spring-ad")
    ]


async def test_a_stale_choice_gets_the_current_screen(app: Salonbot) -> None:
    chat = Terminal(app, "stale", "en")
    await chat.type("/start")
    old = chat.choice("Book a visit")
    await chat.tap("Book a visit")
    nails = chat.choice("Nails")
    await chat.tap("Nails")
    reply = await chat.send(Chosen(nails.id))
    assert reply.text.startswith(WORDS["en"]["stale"])
    assert "Manicure" in reply.text
    # A main-menu entry is never stale: it means the same from any message.
    reply = await chat.send(Chosen(old.id))
    assert chat.labels()[:2] == ["Hair", "Nails"]


async def _at_times(app: Salonbot, chat_id: str) -> Driver:
    chat = Terminal(app, chat_id, "en")
    await chat.type("/start")
    await chat.tap("Book a visit")
    await chat.tap("Nails")
    await chat.tap("Manicure")
    await chat.tap("Maria")
    await chat.tap_first(skip=2)
    return chat


async def test_two_customers_taking_the_same_time_at_once_one_holds_one_hears_just_taken(
    app: Salonbot, clean_engine: AsyncEngine
) -> None:
    ana, ben = await _at_times(app, "ana"), await _at_times(app, "ben")
    assert ana.labels() == ben.labels()

    replies = await asyncio.gather(ana.tap_first(), ben.tap_first())

    summaries = [r for r in replies if r.text.startswith("Please check your booking:")]
    taken = [r for r in replies if r.text.startswith(WORDS["en"]["taken"])]
    assert (len(summaries), len(taken)) == (1, 1)
    assert "The nearest free times:" in taken[0].text
    assert len([c for c in taken[0].choices if not c.label.startswith("↩")]) == 3
    assert await rows(clean_engine, "SELECT status FROM bookings") == [("held",)]


async def test_two_customers_confirming_the_same_slot_at_once_book_it_once(
    app: Salonbot, clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    ana = await _at_times(app, "ana")
    await ana.tap_first()
    clock.advance(timedelta(minutes=11))  # Ana's hold lapses: the slot is free again
    ben = await _at_times(app, "ben")
    await ben.tap_first()
    assert ben.reply.text.startswith("Please check your booking:")

    replies = await asyncio.gather(ana.tap("Confirm"), ben.tap("Confirm"))

    assert replies[0].text.startswith(WORDS["en"]["lost"])
    assert replies[1].text.startswith(WORDS["en"]["booked"])
    statuses = await rows(clean_engine, "SELECT status FROM bookings ORDER BY id")
    assert statuses == [("cancelled",), ("confirmed",)]


async def test_ten_first_messages_at_once_from_one_new_chat_make_one_customer(
    app: Salonbot, clean_engine: AsyncEngine
) -> None:
    contact = terminal_contact("burst", "Ada", "en")
    events: list[Inbound] = [Command("start")] * 10
    await asyncio.gather(*(app.converse(contact, e, CAPACITY) for e in events))
    assert await rows(clean_engine, "SELECT count(*) FROM customers") == [(1,)]
    assert await rows(clean_engine, "SELECT version FROM conversations") == [(10,)]


async def test_forged_choice_ids_on_real_postgres_are_answered_and_change_nothing(
    app: Salonbot, clean_engine: AsyncEngine
) -> None:
    chat = Terminal(app, "forger", "en")
    await chat.type("/start")
    await chat.tap("My bookings")
    for forged in ("².x", "1.v.99999999999999999999", "9" * 9 + ".v.1", "0.v.-1", "x" * 64):
        reply = await chat.send(Chosen(forged))
        assert reply.text.startswith(WORDS["en"]["stale"]), forged
    assert await rows(clean_engine, "SELECT count(*) FROM bookings") == [(0,)]


async def test_a_catalog_change_under_a_flow_is_explained_and_the_flow_starts_over(
    app: Salonbot, clean_engine: AsyncEngine
) -> None:
    chat = await _at_times(app, "moved-on")
    # The owner takes manicures away from Maria while the customer looks at her times.
    edited = DEMO_TEXT.replace(
        "services: [manicure, pedicure, brow-shaping]", "services: [pedicure, brow-shaping]", 1
    )
    assert edited != DEMO_TEXT
    document, _ = load_catalog_text(edited)
    await load_catalog(app.uow, app.clock, document)

    reply = await chat.tap_first()

    assert reply.text.startswith("That is no longer available.")
    assert chat.labels()[:2] == ["Hair", "Nails"]
    assert await rows(clean_engine, "SELECT count(*) FROM bookings") == [(0,)]
