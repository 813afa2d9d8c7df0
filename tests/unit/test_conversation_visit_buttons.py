"""A reminder's Confirm, Reschedule and Cancel, tapped from any screen, days later too, on an
in-memory desk: they act on the visit they name only while it is still as it was."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.conversation.messages import Chosen, Reply
from core.conversation.reminders import reminder_reply
from core.conversation.words import Words
from core.domain.availability import SlotQuery, local_day
from core.domain.booking import Booking, BookingStatus
from tests.unit.test_conversation_flows import CATALOG, Chat

STALE = "That button is from an earlier message. Here is where we are now:"
CONFIRM, RESCHEDULE, CANCEL = 0, 1, 2
BUTTONS = {"confirm": CONFIRM, "reschedule": RESCHEDULE, "cancel": CANCEL}


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


LABELS = {
    "en": ("Book a visit", "Nails", "Manicure", "Confirm"),
    "ru": ("Записаться", "Ногти", "Маникюр", "Подтвердить"),
}


async def _booked(chat: Chat) -> tuple[Booking, Reply]:
    """A manicure with Maria days ahead, booked in the chat, and its reminder."""
    book, nails, manicure, confirm = LABELS[chat.language]
    await chat.command("start")
    await chat.tap(book)
    await chat.tap(nails)
    await chat.tap(manicure)
    await chat.tap("Maria")
    await chat.tap_first(skip=2)
    await chat.tap_first()
    await chat.tap(confirm)
    [visit] = chat.mine(BookingStatus.CONFIRMED)
    return visit, reminder_reply(CATALOG, chat.language, visit, ask_to_confirm=True)


async def _tap(chat: Chat, reminder: Reply, button: int) -> Reply:
    return await chat.send(Chosen(reminder.choices[button].id))


async def _somewhere_else(chat: Chat) -> None:
    """Wander into the middle of booking another visit."""
    await chat.command("book")
    await chat.tap("Hair")
    assert chat.screen == "service"


def _now_visit(chat: Chat, visit: Booking) -> Booking:
    return chat.desk.bookings[visit.id - 1]


# -- confirm --------------------------------------------------------------------------------


async def test_confirm_tapped_days_later_from_another_flow_notes_the_customer_is_coming() -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    chat.clock.advance(timedelta(days=1))
    await chat.tap("Book a visit")
    await chat.tap("Hair")

    reply = await _tap(chat, reminder, CONFIRM)

    assert reply.text.startswith("Thank you for confirming! See you soon.\nManicure: 1 hour")
    assert "Specialist: Maria" in reply.text
    assert _now_visit(chat, visit).customer_confirmed_at == chat.clock.now()
    assert _now_visit(chat, visit).status is BookingStatus.CONFIRMED
    assert chat.desk.attendance_confirmations == 1
    assert chat.screen == "menu"


async def test_a_second_confirm_is_answered_kindly_and_records_nothing_more() -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    await _tap(chat, reminder, CONFIRM)
    first = _now_visit(chat, visit).customer_confirmed_at
    chat.clock.advance(timedelta(hours=3))

    reply = await _tap(chat, reminder, CONFIRM)

    assert reply.text.startswith("You have already confirmed this visit. See you soon!")
    assert _now_visit(chat, visit).customer_confirmed_at == first
    assert chat.desk.attendance_confirmations == 1


async def test_the_forms_quick_reply_confirms_even_when_the_message_did_not_ask() -> None:
    chat = Chat()
    visit, _ = await _booked(chat)
    reminder = reminder_reply(CATALOG, "en", visit, ask_to_confirm=False)
    assert reminder.form is not None

    reply = await chat.send(Chosen(reminder.form.payloads[CONFIRM]))

    assert reply.text.startswith("Thank you for confirming!")
    assert chat.desk.attendance_confirmations == 1


async def test_confirm_while_holding_another_time_lets_the_hold_go_as_leaving_a_summary_does() -> (
    None
):
    chat = Chat()
    _, reminder = await _booked(chat)
    await chat.tap("Book a visit")
    await chat.tap("Nails")
    await chat.tap("Manicure")
    await chat.tap("Olga")
    await chat.tap_first(skip=2)
    await chat.tap_first()
    assert chat.screen == "summary"

    await _tap(chat, reminder, CONFIRM)

    assert chat.mine(BookingStatus.HELD) == []
    assert len(chat.mine(BookingStatus.CONFIRMED)) == 1


async def test_confirm_in_russian() -> None:
    chat = Chat(language="ru")
    _, reminder = await _booked(chat)

    reply = await _tap(chat, reminder, CONFIRM)

    assert reply.text.startswith("Спасибо за подтверждение! До встречи.\nМаникюр")


# -- reschedule -----------------------------------------------------------------------------


async def test_reschedule_from_a_reminder_opens_the_move_flow_of_that_visit_from_any_screen() -> (
    None
):
    chat = Chat()
    visit, reminder = await _booked(chat)
    chat.clock.advance(timedelta(days=1))
    await chat.command("help")

    reply = await _tap(chat, reminder, RESCHEDULE)

    assert chat.screen == "day"
    assert chat.stored is not None
    assert (chat.stored["mode"], chat.stored["booking"]) == ("move", visit.id)
    assert "Choose a day:" in reply.text
    await chat.tap_first(skip=3)
    await chat.tap_first(skip=1)
    reply = await chat.tap("Yes, move it")
    assert reply.text.startswith("Done! Your visit is moved.")
    moved = _now_visit(chat, visit)
    assert (moved.status, moved.staff_key) == (BookingStatus.CONFIRMED, "maria")
    assert moved.start != visit.start


async def test_reschedule_after_the_cutoff_is_refused_politely_with_the_salons_phone() -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    chat.clock.set(visit.start - timedelta(hours=6))  # the reschedule cutoff is 12 hours

    reply = await _tap(chat, reminder, RESCHEDULE)

    assert reply.text.startswith(
        "Sorry, a visit can be moved here only up to 12 hours before it starts.\n"
        "Please contact the salon, we will help:\n"
        "Address: Kastanienallee 12, 10435 Berlin\n"
        "Phone: +49 30 1234567"
    )
    assert chat.screen == "visit"
    assert _now_visit(chat, visit) == visit


# -- cancel ---------------------------------------------------------------------------------


async def test_cancel_from_a_reminder_asks_once_more_and_cancels_only_on_yes() -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    await _somewhere_else(chat)

    reply = await _tap(chat, reminder, CANCEL)

    assert reply.text.startswith("Cancel this visit?\nManicure: 1 hour")
    assert chat.screen == "cancel"
    assert _now_visit(chat, visit).status is BookingStatus.CONFIRMED
    reply = await chat.tap("Yes, cancel it")
    assert "is cancelled" in reply.text
    assert _now_visit(chat, visit).status is BookingStatus.CANCELLED


async def test_cancel_after_the_cutoff_is_refused_politely_and_nothing_is_cancelled() -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    chat.clock.set(visit.start - timedelta(hours=20))  # the cancel cutoff is 24 hours

    reply = await _tap(chat, reminder, CANCEL)

    assert reply.text.startswith(
        "Sorry, a visit can be cancelled here only up to 24 hours before it starts."
    )
    assert "Phone: +49 30 1234567" in reply.text
    assert chat.screen == "visit"
    assert _now_visit(chat, visit).status is BookingStatus.CONFIRMED


# -- stale and forged -----------------------------------------------------------------------


async def _another_free_start(chat: Chat, visit: Booking) -> datetime:
    day = local_day(visit.start, CATALOG)
    slots = await chat.desk.slots(SlotQuery("manicure", day, day, "maria"))
    return next(s.start for s in slots if s.start >= visit.end)


@pytest.mark.parametrize("button", BUTTONS)
async def test_a_reminder_of_a_visit_that_has_moved_says_so_with_the_new_time_and_acts_on_nothing(
    button: str,
) -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    moved = await chat.desk.reschedule(visit.id, await _another_free_start(chat, visit))

    reply = await _tap(chat, reminder, BUTTONS[button])

    words = Words(CATALOG, "en")
    day, time = words.day(moved.start), words.time(moved.start)
    assert reply.text.startswith(f"Your visit has moved: it is now on {day} at {time}.")
    assert chat.screen == "visit"
    assert _now_visit(chat, visit) == moved
    assert chat.desk.attendance_confirmations == 0


@pytest.mark.parametrize("button", ["confirm", "reschedule", "cancel"])
async def test_a_reminder_of_a_visit_given_to_another_specialist_at_the_same_time_says_it_moved(
    button: str,
) -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    # The salon hands the visit to someone else, same time: the reminder named Maria.
    moved = chat.desk._set(replace(visit, staff_key="olga", version=visit.version + 1))

    reply = await _tap(chat, reminder, BUTTONS[button])

    assert reply.text.startswith("Your visit has moved: it is now on")
    assert chat.screen == "visit"
    assert _now_visit(chat, visit) == moved
    assert chat.desk.attendance_confirmations == 0


@pytest.mark.parametrize("then", ["moved", "cancelled"])
async def test_a_confirm_that_meets_a_change_made_while_it_was_handled_tells_what_happened(
    then: str,
) -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    desk = chat.desk
    looked_up = desk.booking

    async def booking_then_changed(booking_id: int) -> Booking:
        # The salon moves the visit (and maybe then cancels it) between the button's check
        # and the confirmation.
        seen = await looked_up(booking_id)
        desk.booking = looked_up  # type: ignore[method-assign]
        status = BookingStatus.CANCELLED if then == "cancelled" else seen.status
        desk._set(replace(seen, staff_key="olga", version=seen.version + 1, status=status))
        return seen

    desk.booking = booking_then_changed  # type: ignore[method-assign]

    reply = await _tap(chat, reminder, CONFIRM)

    expected = "Your visit has moved: it is now on" if then == "moved" else "Your visit on"
    assert reply.text.startswith(expected)
    assert ("is cancelled" in reply.text.split("\n")[0]) is (then == "cancelled")
    assert _now_visit(chat, visit).customer_confirmed_at is None
    assert desk.attendance_confirmations == 0


async def test_a_visit_given_to_another_specialist_can_be_confirmed_as_it_is_now() -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    moved = chat.desk._set(replace(visit, staff_key="olga", version=visit.version + 1))
    await _tap(chat, reminder, CONFIRM)  # "moved", and the visit opened as it is now
    assert chat.screen == "visit"
    assert chat.labels()[0] == "✅ Confirm"

    reply = await chat.tap("✅ Confirm")

    assert reply.text.startswith("Thank you for confirming! See you soon.")
    assert "Olga" in reply.text
    assert _now_visit(chat, visit) == replace(moved, customer_confirmed_at=chat.clock.now())


@pytest.mark.parametrize("button", BUTTONS)
async def test_a_reminder_of_a_cancelled_visit_says_so_and_changes_nothing(button: str) -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    cancelled = await chat.desk.cancel(visit.id)
    await _somewhere_else(chat)

    reply = await _tap(chat, reminder, BUTTONS[button])

    assert _plain(reply.text).startswith("Your visit on ")
    assert reply.text.splitlines()[0].endswith(" is cancelled.")
    assert chat.screen == "service"
    assert _now_visit(chat, visit) == cancelled
    assert chat.desk.attendance_confirmations == 0


@pytest.mark.parametrize("button", BUTTONS)
async def test_a_reminder_tapped_once_the_visit_started_changes_nothing(button: str) -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    chat.clock.set(visit.start + timedelta(minutes=1))

    reply = await _tap(chat, reminder, BUTTONS[button])

    assert reply.text.startswith("That visit has already started.")
    assert _now_visit(chat, visit) == visit


@pytest.mark.parametrize("outcome", [BookingStatus.COMPLETED, BookingStatus.NO_SHOW])
@pytest.mark.parametrize("button", BUTTONS)
async def test_a_reminder_of_a_visit_already_over_changes_nothing(
    button: str, outcome: BookingStatus
) -> None:
    chat = Chat()
    visit, reminder = await _booked(chat)
    chat.clock.set(visit.end + timedelta(days=2))
    over = replace(visit, status=outcome)
    chat.desk.bookings[visit.id - 1] = over

    reply = await _tap(chat, reminder, BUTTONS[button])

    assert reply.text.startswith("That visit is no longer active.")
    assert _now_visit(chat, visit) == over


@pytest.mark.parametrize("button", BUTTONS)
async def test_a_reminder_of_someone_elses_visit_is_not_found_and_changes_nothing(
    button: str,
) -> None:
    chat = Chat()
    mine, _ = await _booked(chat)
    theirs = chat.desk.take_elsewhere("manicure", await _another_free_start(chat, mine), "maria")
    reminder = reminder_reply(CATALOG, "en", theirs, ask_to_confirm=True)

    reply = await _tap(chat, reminder, BUTTONS[button])

    assert reply.text.startswith("Sorry, I could not find that visit.")
    assert chat.desk.bookings[theirs.id - 1] == theirs
    assert chat.screen == "menu"


@pytest.mark.parametrize("op", ["cv", "rv", "cx"])
@pytest.mark.parametrize(
    "arg",
    [
        "",
        ".1",
        ".x.1",
        ".1.x",
        ".1.1.1",
        ".1.-1",
        ".01x.1",
        ".01.1",
        ".1.01",
        ".99999999999999999999.1",
        ".1.99999999999999999999",
        ".1.",
        "..1",
    ],
)
async def test_a_forged_visit_button_is_answered_as_stale_and_changes_nothing(
    op: str, arg: str
) -> None:
    chat = Chat()
    visit, _ = await _booked(chat)
    await _somewhere_else(chat)
    before = chat.reply

    reply = await chat.send(Chosen(op + arg))

    assert reply.text == STALE + "\n\n" + before.text
    assert chat.screen == "service"
    assert _now_visit(chat, visit) == visit


@pytest.mark.parametrize("op", ["cv", "rv", "cx"])
async def test_a_well_formed_button_naming_no_visit_is_not_found(op: str) -> None:
    chat = Chat()
    await chat.command("start")

    reply = await chat.send(Chosen(f"{op}.999.1"))

    assert reply.text.startswith("Sorry, I could not find that visit.")
    assert chat.desk.bookings == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    op=st.sampled_from(["cv", "rv", "cx"]),
    booking=st.one_of(st.just("1"), st.text("0123456789x-.", max_size=22)),
    version=st.one_of(st.just("VISIT"), st.text("0123456789.", max_size=14)),
)
def test_whatever_a_visit_button_carries_it_is_answered_and_only_the_named_visit_is_touched(
    op: str, booking: str, version: str
) -> None:
    async def run() -> None:
        chat = Chat()
        visit, reminder = await _booked(chat)
        shown = reminder.choices[CONFIRM].id.rsplit(".", 1)[1]
        choice_id = f"{op}.{booking}.{version.replace('VISIT', shown)}"
        if len(choice_id) > 64:
            return
        reply = await chat.send(Chosen(choice_id))
        assert reply.text
        after = _now_visit(chat, visit)
        exact = choice_id == reminder.choices[CONFIRM].id
        # Only a confirm naming the visit exactly changes it, and only its attendance.
        assert after == (replace(visit, customer_confirmed_at=chat.clock.now()) if exact else visit)

    asyncio.run(run())
