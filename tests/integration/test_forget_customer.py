"""``salonbot customer forget`` on real Postgres: a customer's personal data goes from every
table (and from the staff's calendars, by a new put), their bookings stay, anonymous;
anyone else's data, and everything when the customer is unknown, stays as it was."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.conversation.messages import Command
from core.db.erasure_repository import ERASED
from core.db.tables import customers, outbound_messages
from core.linked_calendars.ports import event_id
from core.services.catalog import load_catalog
from core.services.forget_customer import (
    AmbiguousCustomer,
    BadCustomerReference,
    CustomerReference,
    ForgetCustomer,
    Forgotten,
    UnknownCustomer,
)
from salonbot.bootstrap import Salonbot
from tests.busy_salon import (
    CALENDARS,
    CHAT,
    MONDAY_10,
    STAFF_CHAT,
    WALK_IN_PHONE,
    Salon,
    calendar_of,
    fill_every_table,
)
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.cli_run import cli_environment, salonbot
from tests.db_state import State, dump_tables
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.staff_chats import add_customer, say

# What names the chatty customer, in every form it is stored in.
PERSONAL = (CHAT, f"person {CHAT}", "5550123")
# Tables that hold nothing of a customer: a forget never changes them.
UNTOUCHED = {
    "salon_catalog", "services", "staff", "bookings", "booking_events", "time_off",
    "scheduled_notices", "staff_chats", "staff_link_codes", "early_delivery_reports",
    "staff_users", "staff_sessions", "login_failures", "staff_feeds", "calendar_syncs",
    "calendar_busy", "calendar_alerts",
}  # fmt: skip


@pytest.fixture
def calendars() -> FakeLinkedCalendars:
    return FakeLinkedCalendars()


@pytest.fixture
async def busy(
    clean_engine: AsyncEngine, clock: FakeClock, calendars: FakeLinkedCalendars
) -> tuple[Salonbot, Salon]:
    app = Salonbot(clean_engine, clock, linked_calendars=calendars, calendar_of=calendar_of)
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(app.uow, clock, document)
    salon = await fill_every_table(app)
    await _push(app)
    return app, salon


async def _push(app: Salonbot) -> None:
    assert app.calendar_pusher is not None
    for _ in range(5):
        run = await app.calendar_pusher.run()
        if run.done + run.retried + run.parked == 0:
            return
    raise AssertionError("the pusher never ran dry")


def _forget(app: Salonbot) -> ForgetCustomer:
    return ForgetCustomer(app.uow, app.clock, app.catalogs)


def _mentions(state: State, text: str) -> list[str]:
    """The tables with a row whose text holds ``text``."""
    return sorted(name for name, rows in state.items() if any(text in repr(r) for r in rows))


def _of_chat(rows: list[tuple[Any, ...]], chat: str) -> list[tuple[Any, ...]]:
    return [row for row in rows if chat in row]


_BODY, _STATUS, _IDS = (
    list(outbound_messages.c.keys()).index(name) for name in ("body", "status", "customer_ids")
)


def _except(row: tuple[Any, ...], *columns: int) -> tuple[Any, ...]:
    return tuple(value for i, value in enumerate(row) if i not in columns)


def _names(message: tuple[Any, ...]) -> list[int]:
    """The customers an outbound message (a row of ``dump_tables``) names."""
    return list(message[_IDS] or [])


async def test_forgetting_erases_the_customer_from_every_table_and_keeps_their_bookings(
    busy: tuple[Salonbot, Salon], clock: FakeClock, calendars: FakeLinkedCalendars
) -> None:
    app, salon = busy
    before = await dump_tables(app.engine)
    for text in PERSONAL:
        assert _mentions(before, text), f"the test salon should hold {text!r} somewhere"
    first, cancelled = salon.chatty_bookings
    maria = calendars.events[CALENDARS["maria"]]
    assert maria[event_id(first)].summary == "Manicure: person"  # the first name
    assert "+491515550123" in maria[event_id(first)].description

    forgotten = await _forget(app)(CustomerReference.parse(str(salon.chatty)))

    after = await dump_tables(app.engine)
    for text in PERSONAL:
        assert _mentions(after, text) == [], text
    for name in UNTOUCHED:
        assert after[name] == before[name], name
    # The first name alone, as the events' titles carried it, is gone from them too (and
    # from the staff's notices, which wrote "Manicure: person CHAT").
    assert _mentions(before, "Manicure: person") == ["calendar_pushes", "outbound_messages"]
    assert _mentions(after, ": person") == []
    (blank,) = [row for row in after["customers"] if row[0] == salon.chatty]
    row = dict(zip(customers.c.keys(), blank, strict=True))
    assert row["name"] == ""
    assert row["phone"] is row["channel"] is row["external_id"] is row["start_payload"] is None
    assert row["forgotten_at"] == clock.now()
    # Everyone else's rows are as they were.
    for name in ("customers", "inbound_events", "outbound_messages"):
        others = [r for r in before[name] if r[0] != salon.chatty and CHAT not in r]
        if name == "outbound_messages":
            others = [r for r in others if salon.chatty not in _names(r)]
        assert [r for r in after[name] if r in others] == others, name
    # Maria's chat was told of the chatty customer's bookings and sent her day: the sent
    # messages' text is blanked, the unsent ones are gone, the others there stay.
    staff_before = _of_chat(before["outbound_messages"], STAFF_CHAT)
    staff_after = _of_chat(after["outbound_messages"], STAFF_CHAT)
    naming = {r[0]: r for r in staff_before if salon.chatty in _names(r)}
    (sent,) = [r for r in naming.values() if r[_STATUS] == "sent"]
    assert len(naming) >= 3  # booked, cancelled: the first sent; her day
    blanked = {r[0]: r for r in staff_after if r[0] in naming}
    assert list(blanked) == [sent[0]]
    assert blanked[sent[0]][_BODY] == {"text": ERASED, "choices": [], "button": ""}
    assert blanked[sent[0]][_IDS] is None
    assert _except(blanked[sent[0]], _BODY, _IDS) == _except(sent, _BODY, _IDS)
    assert [r for r in staff_after if r[0] not in naming] == [
        r for r in staff_before if r[0] not in naming
    ]
    assert forgotten == Forgotten(
        customer_id=salon.chatty,
        fields=("name", "phone", "chat identity", "language"),
        channel="telegram",
        conversations=1,
        inbound_events=len(_of_chat(before["inbound_events"], CHAT)),
        outbound_messages=len(_of_chat(before["outbound_messages"], CHAT)),
        calendar_pushes_scrubbed=2,  # both bookings were put once
        calendar_events_requeued=1,  # the cancelled one's event was taken off again
        bookings_kept=2,
        forgotten_before=False,
        staff_messages_deleted=len(naming) - 1,
        staff_messages_blanked=1,
    )
    assert forgotten.inbound_events == 2
    assert forgotten.outbound_messages >= 3

    # The event on Maria's calendar is put again, without the name or the phone.
    await _push(app)
    assert maria[event_id(first)].summary == "Manicure"
    assert maria[event_id(first)].description == f"salonbot #{first}"
    assert event_id(cancelled) not in maria


async def test_a_forgotten_customer_who_writes_again_is_someone_new(
    busy: tuple[Salonbot, Salon],
) -> None:
    app, salon = busy
    await _forget(app)(CustomerReference.parse(f"telegram:{CHAT}"))
    await say(app, CHAT, Command("start"))
    async with app.engine.connect() as connection:
        new = await connection.scalar(select(customers.c.id).where(customers.c.external_id == CHAT))
    assert new is not None
    assert new != salon.chatty


@pytest.mark.parametrize("forget", [False, True])
async def test_a_forgotten_customers_visit_sends_them_no_reminder(
    busy: tuple[Salonbot, Salon], clock: FakeClock, forget: bool
) -> None:
    app, salon = busy
    first, _ = salon.chatty_bookings
    if forget:
        await _forget(app)(CustomerReference.parse(str(salon.chatty)))
    # Monday 10:00 in Berlin: its 2-hour reminder waits for the quiet hours' end, 09:00.
    clock.set(MONDAY_10 - timedelta(minutes=30))
    await app.due_notices().run()
    async with app.engine.connect() as connection:
        reminders = await connection.scalar(
            select(func.count())
            .select_from(outbound_messages)
            .where(outbound_messages.c.booking_id == first)
        )
    assert reminders == (0 if forget else 1)


async def test_a_customer_is_found_by_chat_or_by_phone(busy: tuple[Salonbot, Salon]) -> None:
    app, salon = busy
    by_phone = await _forget(app)(CustomerReference.parse("+4930 111-222"))
    assert by_phone.customer_id == salon.walk_in
    assert by_phone.fields == ("name", "phone")
    assert by_phone.conversations == by_phone.inbound_events == by_phone.outbound_messages == 0
    by_chat = await _forget(app)(CustomerReference.parse(f"telegram:{CHAT}"))
    assert by_chat.customer_id == salon.chatty


async def test_forgetting_again_erases_what_came_since(busy: tuple[Salonbot, Salon]) -> None:
    app, salon = busy
    await _forget(app)(CustomerReference.parse(str(salon.walk_in)))
    again = await _forget(app)(CustomerReference.parse(str(salon.walk_in)))
    assert again.forgotten_before
    assert again.fields == ()


@pytest.mark.parametrize(
    ("reference", "refusal"),
    [
        ("999999", UnknownCustomer),
        ("telegram:424242", UnknownCustomer),
        ("+49 000 000 000", UnknownCustomer),
        ("whoever", BadCustomerReference),
    ],
)
async def test_an_unknown_customer_is_a_clear_error_and_nothing_changes(
    busy: tuple[Salonbot, Salon], reference: str, refusal: type[Exception]
) -> None:
    app, _ = busy
    before = await dump_tables(app.engine)
    with pytest.raises(refusal):
        await _forget(app)(CustomerReference.parse(reference))
    assert await dump_tables(app.engine) == before


async def test_a_phone_of_several_customers_names_them_and_forgets_none(
    busy: tuple[Salonbot, Salon],
) -> None:
    app, salon = busy
    twin = await add_customer(app, "Ada's sister", WALK_IN_PHONE)
    before = await dump_tables(app.engine)
    with pytest.raises(AmbiguousCustomer) as refused:
        await _forget(app)(CustomerReference.parse(WALK_IN_PHONE))
    assert refused.value.ids == [salon.walk_in, twin]
    assert f"ids {salon.walk_in}, {twin}" in str(refused.value)
    assert await dump_tables(app.engine) == before


async def test_the_command_prints_what_it_erased_and_refuses_an_unknown_customer(
    busy: tuple[Salonbot, Salon], database_url: str, tmp_path: Path
) -> None:
    _, salon = busy
    env = cli_environment(database_url, tmp_path)
    code, out, err = await asyncio.to_thread(
        salonbot, env, "customer", "forget", f"telegram:{CHAT}"
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"customer {salon.chatty} forgotten:",
        "  erased from the customer: name, phone, chat identity, language (telegram)",
        "  conversations deleted: 1",
        "  inbound events deleted: 2",
        out.splitlines()[4],
        out.splitlines()[5],
        "  calendar pushes blanked: 2; calendar events queued to be put again without them: 1",
        "  kept, anonymous: 2 bookings and their history",
    ]
    assert out.splitlines()[4].startswith("  outbound messages deleted: ")
    assert out.splitlines()[5].startswith("  messages to staff naming them: ")
    assert out.splitlines()[5].endswith(" unsent deleted, 1 sent (or failed) blanked")
    assert CHAT not in out.replace(f"telegram:{CHAT}", "")
    code, out, err = await asyncio.to_thread(salonbot, env, "customer", "forget", "424242")
    assert (code, out) == (1, "")
    assert err == "salonbot: no customer '424242': nothing was erased\n"
