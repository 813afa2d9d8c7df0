"""A reminder's buttons through ``converse`` on real Postgres: a confirm is a booking event
told to the followers and sets ``customer_confirmed_at``; a stale tap changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.terminal.chat import CAPACITY
from core.catalog.file import load_catalog_text
from core.conversation.messages import Chosen, Inbound, Reply
from core.conversation.reminders import reminder_reply
from core.db.booking_repository import BookingRepository
from core.domain.booking import Actor, Booking, BookingStatus
from core.domain.catalog import Catalog
from core.domain.errors import BookingNotFound, InvalidTransition, VisitMoved
from core.services.booking_changes import BookingAction, BookingChange
from salonbot.bootstrap import Salonbot
from salonbot.terminal_chat import terminal_contact
from tests.catalog_cases import DEMO_TEXT
from tests.conversation_driver import Driver
from tests.db_state import dump_tables, rows
from tests.fakes.clock import FakeClock

CATALOG = load_catalog_text(DEMO_TEXT)[1]
CONFIRM, RESCHEDULE, CANCEL = 0, 1, 2
STAFF = Actor.staff("owner")


class Recorder:
    """A booking follower that keeps what it was told."""

    def __init__(self) -> None:
        self.changes: list[BookingChange] = []

    async def booking_changed(
        self, connection: AsyncConnection, catalog: Catalog, change: BookingChange
    ) -> None:
        self.changes.append(change)


@pytest.fixture
def recorder(app: Salonbot) -> Recorder:
    recorder = Recorder()
    app.followers = (recorder,)
    return recorder


def _chat(app: Salonbot, chat_id: str = "ada") -> Driver:
    contact = terminal_contact(chat_id, "Ada", "en")
    converse = app.converse_in(app.uow)  # with the followers set by the fixture

    async def send(inbound: Inbound) -> list[Reply]:
        return await converse(contact, inbound, CAPACITY)

    return Driver(send)


async def _visit(engine: AsyncEngine, booking_id: int) -> Booking:
    async with engine.connect() as connection:
        visit = await BookingRepository(connection).get(booking_id)
    assert visit is not None
    return visit


async def _booked(app: Salonbot, engine: AsyncEngine, chat: Driver) -> tuple[Booking, Reply]:
    await chat.command("start")
    await chat.tap("Book a visit")
    await chat.tap("Nails")
    await chat.tap("Manicure")
    await chat.tap("Maria")
    await chat.tap_first(skip=2)
    await chat.tap_first()
    await chat.tap("Confirm")
    [(booking_id,)] = await rows(engine, "SELECT id FROM bookings WHERE status = 'confirmed'")
    visit = await _visit(engine, booking_id)
    return visit, reminder_reply(CATALOG, "en", visit, ask_to_confirm=True)


async def _actions(engine: AsyncEngine) -> list[tuple[str, str]]:
    return await rows(engine, "SELECT action, actor_kind FROM booking_events ORDER BY id")


async def test_confirm_records_the_event_sets_customer_confirmed_at_and_tells_the_followers(
    app: Salonbot, clean_engine: AsyncEngine, clock: FakeClock, recorder: Recorder
) -> None:
    chat = _chat(app)
    visit, reminder = await _booked(app, clean_engine, chat)
    clock.advance(timedelta(days=1))
    await chat.tap("My bookings")

    reply = await chat.send(Chosen(reminder.choices[CONFIRM].id))

    assert reply.text.startswith("Thank you for confirming! See you soon.")
    after = await _visit(clean_engine, visit.id)
    assert after == replace(visit, customer_confirmed_at=clock.now())
    assert (await _actions(clean_engine))[-1] == ("attendance_confirmed", "customer")
    told = recorder.changes[-1]
    assert (told.action, told.before, told.after) == (
        BookingAction.ATTENDANCE_CONFIRMED,
        visit,
        after,
    )
    [(queued,)] = await rows(
        clean_engine,
        "SELECT body->>'text' FROM outbound_messages ORDER BY id DESC LIMIT 1",
    )
    assert queued == reply.text


async def test_a_second_confirm_records_nothing_more(
    app: Salonbot, clean_engine: AsyncEngine, clock: FakeClock, recorder: Recorder
) -> None:
    chat = _chat(app)
    visit, reminder = await _booked(app, clean_engine, chat)
    await chat.send(Chosen(reminder.choices[CONFIRM].id))
    told = len(recorder.changes)
    confirmed_at = (await _visit(clean_engine, visit.id)).customer_confirmed_at
    clock.advance(timedelta(hours=1))

    reply = await chat.send(Chosen(reminder.choices[CONFIRM].id))

    assert reply.text.startswith("You have already confirmed this visit.")
    assert (await _visit(clean_engine, visit.id)).customer_confirmed_at == confirmed_at
    actions = [action for action, _ in await _actions(clean_engine)]
    assert actions.count("attendance_confirmed") == 1
    assert len(recorder.changes) == told


@pytest.mark.parametrize("button", [CONFIRM, RESCHEDULE, CANCEL])
async def test_a_tap_on_the_reminder_of_a_moved_visit_changes_nothing(
    app: Salonbot, clean_engine: AsyncEngine, button: int
) -> None:
    chat = _chat(app)
    visit, reminder = await _booked(app, clean_engine, chat)
    await chat.tap("My bookings")
    await chat.tap("Manicure")
    await chat.tap("Reschedule")
    await chat.tap_first(skip=3)
    await chat.tap_first(skip=1)
    await chat.tap("Yes, move it")
    moved = await _visit(clean_engine, visit.id)
    assert moved.start != visit.start
    before = await dump_tables(clean_engine)

    reply = await chat.send(Chosen(reminder.choices[button].id))

    assert reply.text.startswith("Your visit has moved: it is now on ")
    after = await dump_tables(clean_engine)
    for table in ("bookings", "booking_events", "customers"):
        assert after[table] == before[table], table


@pytest.mark.parametrize("button", [CONFIRM, RESCHEDULE, CANCEL])
async def test_a_tap_on_the_reminder_of_a_visit_the_salon_cancelled_changes_nothing(
    app: Salonbot, clean_engine: AsyncEngine, button: int
) -> None:
    chat = _chat(app)
    visit, reminder = await _booked(app, clean_engine, chat)
    await app.bookings.cancel(visit.id, Actor.staff("maria"))
    before = await dump_tables(clean_engine)

    reply = await chat.send(Chosen(reminder.choices[button].id))

    assert " is cancelled." in reply.text.splitlines()[0]
    after = await dump_tables(clean_engine)
    for table in ("bookings", "booking_events", "customers"):
        assert after[table] == before[table], table


async def test_someone_elses_reminder_is_not_found_and_their_visit_is_untouched(
    app: Salonbot, clean_engine: AsyncEngine
) -> None:
    _, theirs = await _booked(app, clean_engine, _chat(app, "ada"))
    ben = _chat(app, "ben")
    await ben.command("start")
    before = await dump_tables(clean_engine)

    for button in (CONFIRM, RESCHEDULE, CANCEL):
        reply = await ben.send(Chosen(theirs.choices[button].id))
        assert reply.text.startswith("Sorry, I could not find that visit.")

    after = await dump_tables(clean_engine)
    for table in ("bookings", "booking_events"):
        assert after[table] == before[table], table


async def test_the_cancel_button_cancels_only_after_yes(
    app: Salonbot, clean_engine: AsyncEngine
) -> None:
    chat = _chat(app)
    visit, reminder = await _booked(app, clean_engine, chat)

    await chat.send(Chosen(reminder.choices[CANCEL].id))
    assert (await _visit(clean_engine, visit.id)).status is BookingStatus.CONFIRMED
    await chat.tap("Yes, cancel it")

    assert (await _visit(clean_engine, visit.id)).status is BookingStatus.CANCELLED
    assert (await _actions(clean_engine))[-1] == ("cancelled", "customer")


async def test_confirm_attendance_refuses_a_visit_not_confirmed_or_started_and_others_visits(
    app: Salonbot, clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    chat = _chat(app)
    visit, _ = await _booked(app, clean_engine, chat)
    customer = Actor.customer(visit.customer_id or 0)
    with pytest.raises(BookingNotFound):
        await app.bookings.confirm_attendance(visit.id, Actor.customer(999))
    clock.set(visit.start)
    with pytest.raises(InvalidTransition):
        await app.bookings.confirm_attendance(visit.id, customer)
    clock.set(visit.start - timedelta(days=1))
    await app.bookings.cancel(visit.id, Actor.staff("maria"))
    with pytest.raises(InvalidTransition):
        await app.bookings.confirm_attendance(visit.id, customer)

    assert (await _visit(clean_engine, visit.id)).customer_confirmed_at is None
    assert "attendance_confirmed" not in [a for a, _ in await _actions(clean_engine)]


async def test_a_move_clears_the_confirmation_so_the_new_time_is_asked_again(
    app: Salonbot, clean_engine: AsyncEngine, clock: FakeClock, recorder: Recorder
) -> None:
    chat = _chat(app)
    visit, reminder = await _booked(app, clean_engine, chat)
    await chat.send(Chosen(reminder.choices[CONFIRM].id))
    assert (await _visit(clean_engine, visit.id)).customer_confirmed_at is not None

    moved = await app.bookings.reschedule(
        visit.id, visit.start + timedelta(days=7), Actor.customer(visit.customer_id or 0)
    )

    assert moved.customer_confirmed_at is None
    assert await _visit(clean_engine, visit.id) == moved
    again = reminder_reply(CATALOG, "en", moved, ask_to_confirm=True)
    reply = await chat.send(Chosen(again.choices[CONFIRM].id))
    assert reply.text.startswith("Thank you for confirming! See you soon.")


async def test_confirming_attendance_as_shown_before_a_move_is_refused_and_changes_nothing(
    app: Salonbot, clean_engine: AsyncEngine, recorder: Recorder
) -> None:
    chat = _chat(app)
    visit, _ = await _booked(app, clean_engine, chat)
    actor = Actor.customer(visit.customer_id or 0)
    # The salon moves the visit: a new version.
    moved = await app.bookings.reschedule(visit.id, visit.start + timedelta(days=7), STAFF)
    told = len(recorder.changes)

    with pytest.raises(VisitMoved):
        await app.bookings.confirm_attendance(visit.id, actor, version=visit.version)

    assert moved.version == visit.version + 1
    assert await _visit(clean_engine, visit.id) == moved
    assert len(recorder.changes) == told
    confirmed = await app.bookings.confirm_attendance(visit.id, actor, version=moved.version)
    assert confirmed.customer_confirmed_at is not None
