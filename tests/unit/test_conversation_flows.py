"""The booking conversation, step by step, against an in-memory desk: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.catalog.file import load_catalog_text
from core.conversation.capacity import ChannelCapacity
from core.conversation.contract import Screen
from core.conversation.desk_port import pick_language
from core.conversation.dialogue import Conversation
from core.conversation.messages import Chosen, Inbound, Reply, SharedContact, Unsupported
from core.conversation.state import State, from_stamp
from core.domain.booking import Booking, BookingStatus
from core.domain.errors import SlotTaken
from tests.catalog_cases import DEMO_TEXT
from tests.conversation_driver import Driver
from tests.fakes.clock import FakeClock
from tests.fakes.desk import ME, FakeDesk

CATALOG = load_catalog_text(DEMO_TEXT)[1]
WIDE = ChannelCapacity(choices_per_message=10, label_length=48)


class Chat(Driver):
    """A chat whose state goes through JSON between steps, as it does in the database."""

    def __init__(self, language: str = "en", capacity: ChannelCapacity = WIDE) -> None:
        super().__init__(self._step)
        self.clock = FakeClock(datetime(2026, 12, 7, 6, 0, tzinfo=UTC))  # Monday 07:00 Berlin
        self.desk = FakeDesk(CATALOG, self.clock)
        self.stored: dict[str, object] | None = None
        self.language = language
        self.capacity = capacity

    async def _step(self, inbound: Inbound) -> list[Reply]:
        state = State.from_json(dict(self.stored)) if self.stored is not None else State()
        conversation = Conversation(
            self.desk,
            CATALOG,
            self.capacity,
            state,
            self.desk.language or self.language,
            name="Ada",
            first_contact=self.stored is None,
        )
        replies = await conversation.handle(inbound)
        self.stored = conversation.state.to_json()
        return replies

    @property
    def screen(self) -> str:
        assert self.stored is not None
        return str(self.stored["screen"])

    def mine(self, status: BookingStatus) -> list[Booking]:
        return [b for b in self.desk.bookings if b.customer_id == ME and b.status is status]


def _plain(text: str) -> str:
    """Babel writes ``9:00\u202fAM`` and ``50,00\xa0€``: compare with plain spaces."""
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split(" "))


async def _to_summary(chat: Chat, staff: str = "Maria", day: int = 2) -> Reply:
    """Hold the first free time of the ``day``-th open day (the third is days ahead)."""
    await chat.command("start")
    await chat.tap("Book a visit")
    await chat.tap("Nails")
    await chat.tap("Manicure")
    await chat.tap(staff)
    await chat.tap_first(skip=day)
    return await chat.tap_first()


async def _at_my_visit(chat: Chat) -> Booking:
    """Book a manicure days ahead and open it from My bookings."""
    await _to_summary(chat)
    await chat.tap("Confirm")
    await chat.tap("My bookings")
    await chat.tap("Manicure")
    [visit] = chat.mine(BookingStatus.CONFIRMED)
    return visit


async def test_first_contact_greets_by_name_and_shows_the_menu_with_the_salons_contacts() -> None:
    chat = Chat()
    reply = await chat.command("start")
    assert reply.text.startswith("Hello, Ada! Welcome to Studio Lumen.")
    assert "Kastanienallee 12" in reply.text
    assert "+49 30 1234567" in reply.text
    assert chat.labels() == ["Book a visit", "My bookings", "Language", "Help"]


async def test_a_booking_goes_category_service_staff_day_time_summary_confirm() -> None:
    chat = Chat()
    await chat.command("start")
    reply = await chat.tap("Book a visit")
    assert chat.labels()[:3] == ["Hair", "Nails", "Brows & lashes"]
    reply = await chat.tap("Nails")
    assert "Manicure: 1 hour, €40.00" in reply.text
    reply = await chat.tap("Manicure")
    assert chat.labels()[:3] == ["Any specialist", "Maria", "Olga"]
    reply = await chat.tap("Maria")
    assert reply.text.splitlines()[:2] == ["Manicure: 1 hour, €40.00", "Specialist: Maria"]
    day_choice = chat.reply.choices[0]
    await chat.send(Chosen(day_choice.id))
    time_choice = chat.reply.choices[0]
    reply = await chat.send(Chosen(time_choice.id))

    assert chat.screen == "summary"
    [hold] = chat.mine(BookingStatus.HELD)
    assert "Please check your booking:" in reply.text
    assert f"at {time_choice.label}" in _plain(reply.text)
    assert "Times are in the salon's time zone (Berlin)." in reply.text
    assert "for 10 minutes" in reply.text
    assert [c.label for c in reply.choices] == ["✅ Confirm", "↩ Other time", "✖ Cancel"]

    reply = await chat.tap("Confirm")
    assert reply.text.startswith("Booked! See you soon.")
    assert "Specialist: Maria" in reply.text
    assert chat.mine(BookingStatus.CONFIRMED) == [(await chat.desk.booking(hold.id))]
    assert chat.screen == "menu"


async def test_times_are_shown_in_the_salons_zone_not_utc() -> None:
    chat = Chat()
    await _to_summary(chat)
    [hold] = chat.mine(BookingStatus.HELD)
    local = hold.start.astimezone(CATALOG.salon.zone)
    assert local.strftime("%-I:%M %p") in _plain(chat.reply.text)
    assert hold.start.utcoffset() == timedelta(0)


async def test_back_from_the_summary_releases_the_hold() -> None:
    chat = Chat()
    await _to_summary(chat)
    reply = await chat.tap("Other time")
    assert chat.screen == "time"
    assert "Free times on" in reply.text
    assert chat.mine(BookingStatus.HELD) == []
    assert len(chat.mine(BookingStatus.CANCELLED)) == 1


async def test_cancel_on_the_summary_releases_the_hold_and_books_nothing() -> None:
    chat = Chat()
    await _to_summary(chat)
    reply = await chat.tap("Cancel")
    assert reply.text.startswith("Nothing was booked.")
    assert chat.mine(BookingStatus.HELD) == []
    assert chat.mine(BookingStatus.CONFIRMED) == []


async def test_any_command_that_leaves_the_summary_releases_the_hold() -> None:
    chat = Chat()
    await _to_summary(chat)
    await chat.command("my")
    assert chat.mine(BookingStatus.HELD) == []


async def test_a_slot_taken_meanwhile_answers_just_taken_with_the_nearest_alternatives() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Book a visit")
    await chat.tap("Nails")
    await chat.tap("Manicure")
    await chat.tap("Maria")
    await chat.tap_first()
    wanted = chat.reply.choices[0]
    start = from_stamp(wanted.id.split(".")[2])
    assert start is not None
    chat.desk.take_elsewhere("manicure", start, "maria")

    reply = await chat.send(Chosen(wanted.id))

    assert reply.text.startswith("Sorry, that time was just taken.")
    assert "The nearest free times:" in reply.text
    alternatives = [c for c in reply.choices if not c.label.startswith("↩")]
    assert 1 <= len(alternatives) <= 3
    reply = await chat.send(Chosen(alternatives[0].id))
    assert chat.screen == "summary"
    assert len(chat.mine(BookingStatus.HELD)) == 1


async def test_a_button_from_an_earlier_message_gets_the_current_screen_not_an_error() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Book a visit")
    old_nails = chat.choice("Nails")
    await chat.tap("Nails")
    current = chat.reply

    reply = await chat.send(Chosen(old_nails.id))

    assert reply.text.startswith("That button is from an earlier message.")
    assert reply.text.endswith(current.text)
    assert chat.labels() == [c.label for c in current.choices]
    assert chat.screen == "service"


async def test_confirming_again_from_a_finished_flow_books_nothing_more() -> None:
    chat = Chat()
    await _to_summary(chat)
    confirm = chat.choice("Confirm")
    await chat.send(Chosen(confirm.id))

    reply = await chat.send(Chosen(confirm.id))

    assert reply.text.startswith("That button is from an earlier message.")
    assert len(chat.mine(BookingStatus.CONFIRMED)) == 1
    assert chat.screen == "menu"


@pytest.mark.parametrize(
    "choice_id",
    [
        "",
        "junk",
        "9999.s.manicure",
        "x.y.z",
        "1.s",
        "menu.x",
        "².x",  # str.isdigit() says yes, int() says no
        "1.p.²",
        "1" * 5000 + ".p",
        "1.v.99999999999999999999",
        "1.S.MANICURE",
        "1.s.manicure\n",
    ],
)
async def test_choice_ids_that_are_not_ours_are_answered_as_stale(choice_id: str) -> None:
    chat = Chat()
    await chat.command("start")
    reply = await chat.send(Chosen(choice_id))
    assert reply.text.startswith("That button is from an earlier message.")
    assert chat.screen == "menu"


async def test_a_current_button_with_an_argument_that_is_gone_is_stale() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Book a visit")
    generation = chat.reply.choices[0].id.split(".")[0]
    reply = await chat.send(Chosen(f"{generation}.c.no-such-category"))
    assert reply.text.startswith("That button is from an earlier message.")
    assert chat.screen == "category"


async def test_unknown_text_gets_a_nudge_and_the_current_choices() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Book a visit")
    reply = await chat.say("can I come tomorrow?")
    assert reply.text.startswith("Sorry, I did not understand that.")
    assert "/help" in reply.text
    assert chat.labels()[:2] == ["Hair", "Nails"]


async def test_typing_a_label_or_its_number_picks_that_choice() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.say("book a visit")
    assert chat.screen == "category"
    await chat.say("2")
    assert chat.screen == "service"
    assert "Manicure" in chat.reply.text


async def test_a_greeting_brings_the_menu() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Book a visit")
    await chat.say("Hello!")
    assert chat.screen == "menu"


async def test_my_bookings_lists_upcoming_visits_with_reschedule_and_cancel() -> None:
    chat = Chat()
    await _to_summary(chat)
    await chat.tap("Confirm")
    reply = await chat.tap("My bookings")
    assert reply.text.startswith("Your upcoming visits:")
    await chat.tap("Manicure")
    assert chat.labels() == ["✅ Confirm", "Reschedule", "Cancel visit", "↩ My bookings"]


async def test_no_upcoming_visits_offers_to_book() -> None:
    chat = Chat()
    await chat.command("start")
    reply = await chat.tap("My bookings")
    assert reply.text == "You have no upcoming visits."
    assert chat.labels() == ["Book a visit", "↩ Menu"]


async def test_cancel_asks_first_then_cancels() -> None:
    chat = Chat()
    await _at_my_visit(chat)
    reply = await chat.tap("Cancel visit")
    assert reply.text.startswith("Cancel this visit?")
    assert chat.mine(BookingStatus.CONFIRMED) != []

    reply = await chat.tap("Yes, cancel it")

    assert "is cancelled" in reply.text
    assert chat.mine(BookingStatus.CONFIRMED) == []
    assert "You have no upcoming visits." in reply.text


async def test_no_keep_it_keeps_the_visit() -> None:
    chat = Chat()
    await _at_my_visit(chat)
    await chat.tap("Cancel visit")
    await chat.tap("No, keep it")
    assert chat.screen == "visit"
    assert len(chat.mine(BookingStatus.CONFIRMED)) == 1


async def test_cancel_past_the_cutoff_is_refused_kindly_with_the_salons_contact() -> None:
    chat = Chat()
    visit = await _at_my_visit(chat)
    chat.clock.set(visit.start - timedelta(hours=3))

    reply = await chat.tap("Cancel visit")

    assert reply.text.startswith(
        "Sorry, a visit can be cancelled here only up to 24 hours before it starts.\n"
        "Please contact the salon, we will help:\n"
        "Address: Kastanienallee 12, 10435 Berlin\n"
    )
    assert "+49 30 1234567" in reply.text
    assert len(chat.mine(BookingStatus.CONFIRMED)) == 1


async def test_reschedule_picks_a_new_slot_and_moves_the_visit() -> None:
    chat = Chat()
    await _to_summary(chat)
    await chat.tap("Confirm")
    [before] = chat.mine(BookingStatus.CONFIRMED)
    await chat.tap("My bookings")
    await chat.tap("Manicure")
    await chat.tap("Reschedule")
    assert chat.screen == "day"
    await chat.tap_first(skip=1)  # the second open day
    await chat.tap_first(skip=2)
    reply = chat.reply
    assert reply.text.startswith("Move your visit?")
    assert chat.mine(BookingStatus.HELD) == []  # a move holds nothing: it is atomic on confirm

    reply = await chat.tap("Yes, move it")

    assert reply.text.startswith("Done! Your visit is moved.")
    [after] = chat.mine(BookingStatus.CONFIRMED)
    assert after.id == before.id
    assert after.start != before.start
    assert after.staff_key == before.staff_key


async def test_the_language_switch_changes_every_reply_and_is_remembered() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Language")
    reply = await chat.tap("Русский")
    assert reply.text.startswith("Готово! Теперь я говорю по-русски.")
    assert chat.desk.language == "ru"
    assert chat.labels() == ["Записаться", "Мои записи", "Язык", "Помощь"]
    reply = await chat.tap("Записаться")
    assert chat.labels()[:2] == ["Волосы", "Ногти"]


async def test_russian_summary_uses_russian_dates_prices_and_plurals() -> None:
    chat = Chat(language="ru")
    await chat.command("start")
    await chat.tap("Записаться")
    await chat.tap("Ногти")
    reply = await chat.tap("Педикюр")
    assert "Педикюр: 1 час 15 минут, 50,00 €" in _plain(reply.text)
    assert chat.screen == "day"  # only Maria does pedicures: no one to choose from
    await chat.tap_first()
    reply = await chat.tap_first()
    assert "Мы держим это время для вас 10 минут." in reply.text
    assert "Время указано по часовому поясу салона (Берлин)." in reply.text
    assert any(month in reply.text for month in ("декабря", "января"))


async def test_help_lists_the_commands_and_the_contacts() -> None:
    chat = Chat()
    reply = await chat.command("help")
    for command in ("/book", "/my", "/cancel", "/language", "/help"):
        assert command in reply.text
    assert "+49 30 1234567" in reply.text


async def test_an_unknown_command_says_so_and_shows_help() -> None:
    chat = Chat()
    await chat.command("start")
    reply = await chat.command("frobnicate")
    assert reply.text.startswith("I don't know that command.")
    assert chat.screen == "help"


async def test_slash_cancel_stops_a_flow_and_otherwise_opens_the_bookings() -> None:
    chat = Chat()
    await _to_summary(chat)
    reply = await chat.command("cancel")
    assert reply.text.startswith("Stopped. Nothing was changed.")
    assert chat.mine(BookingStatus.HELD) == []
    await chat.command("cancel")
    assert chat.screen == "bookings"


async def test_slash_book_and_my_jump_straight_in() -> None:
    chat = Chat()
    await chat.command("book")
    assert chat.screen == "category"
    assert chat.reply.text.startswith("Hello, Ada!")  # first contact is greeted anyway
    await chat.command("my")
    assert chat.screen == "bookings"


async def test_a_shared_phone_number_is_saved() -> None:
    chat = Chat()
    await chat.command("start")
    reply = await chat.send(SharedContact("+49 (151) 234-5678"))
    assert reply.text.startswith("Thank you! We saved your phone number.")
    assert chat.desk.phone == "+491512345678"
    reply = await chat.send(SharedContact("call me"))
    assert reply.text.startswith("That does not look like a phone number.")


async def test_a_hold_that_lapsed_and_was_taken_is_explained_and_times_shown_again() -> None:
    chat = Chat()
    await _to_summary(chat)
    [hold] = chat.mine(BookingStatus.HELD)
    chat.clock.advance(timedelta(minutes=11))
    chat.desk.take_elsewhere("manicure", hold.start, "maria")

    reply = await chat.tap("Confirm")

    assert reply.text.startswith("Sorry, that time could not be kept for you any longer.")
    assert chat.screen == "time"
    assert chat.mine(BookingStatus.CONFIRMED) == []


async def test_long_lists_are_paged_within_a_small_channel() -> None:
    chat = Chat(capacity=ChannelCapacity(choices_per_message=3, label_length=20))
    await chat.command("start")
    assert len(chat.reply.choices) == 3
    assert chat.labels()[-1] == "More ›"
    await chat.tap("More")
    assert chat.labels()[0] == "‹ Back"
    assert "Help" in chat.labels()


def test_a_corrupt_stored_state_starts_over_at_the_menu() -> None:
    assert State.from_json({"screen": "time", "page": "x"}) == State()
    assert State.from_json({"screen": "time", "hold": "7"}) == State()
    assert State.from_json({"screen": None}) == State()
    assert State.from_json({"alternatives": [["x", 1]]}) == State()
    assert State.from_json({"unknown": 1}) == State()
    kept = State(
        screen=Screen.TIME,
        page=2,
        service="manicure",
        day="2026-12-08",
        alternatives=[["202612081000", "anna"]],
    )
    assert State.from_json(kept.to_json()) == kept


@pytest.mark.parametrize(
    ("code", "language"),
    [
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("ru_RU.UTF-8", "ru"),
        ("en-GB", "en"),
        ("de", "en"),
        (None, "en"),
        ("", "en"),
        ("C", "en"),
    ],
)
def test_the_language_comes_from_the_platform_code_else_the_salon_default(
    code: str | None, language: str
) -> None:
    assert pick_language(code, ["en", "ru"]) == language


@pytest.mark.parametrize(
    "stored",
    [
        {"screen": "time", "day": None, "service": "manicure"},
        {"screen": "time", "day": "not-a-date", "service": "manicure"},
        {"screen": "summary", "hold": None},
        {"screen": "visit", "booking": 999},
        {"screen": "day", "service": "gone-from-the-catalog"},
        {"screen": "no-such-screen"},
    ],
)
async def test_a_state_that_no_longer_adds_up_falls_back_to_the_menu(
    stored: dict[str, object],
) -> None:
    chat = Chat()
    await chat.command("start")
    chat.stored = {**State().to_json(), **stored}
    reply = await chat.say("hmm")
    assert chat.screen == "menu"
    assert chat.labels() == ["Book a visit", "My bookings", "Language", "Help"]
    assert reply.text.strip()


async def test_forged_visit_ids_with_the_current_generation_are_answered() -> None:
    chat = Chat()
    await _to_summary(chat)
    await chat.tap("Confirm")
    await chat.tap("My bookings")
    for forged in ("99999999999999999999", "2", "0"):
        generation = chat.reply.choices[0].id.split(".")[0]  # the visit's own button
        reply = await chat.send(Chosen(f"{generation}.v.{forged}"))
        assert reply.text.startswith(("That visit is no longer active.", "That button is"))
        assert chat.screen == "bookings"
    assert len(chat.mine(BookingStatus.CONFIRMED)) == 1


async def test_back_leads_one_step_back_from_every_screen() -> None:
    chat = Chat()
    await _to_summary(chat)
    path = []
    for label in ("Other time", "Other day", "Specialists", "Services", "Categories", "Menu"):
        await chat.tap(label)
        path.append(chat.screen)
    assert path == ["time", "day", "staff", "service", "category", "menu"]


async def test_back_from_the_days_of_a_one_person_service_goes_to_the_services() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Book a visit")
    await chat.tap("Nails")
    await chat.tap("Pedicure")
    assert chat.screen == "day"
    await chat.tap("↩ Services")
    assert chat.screen == "service"


async def test_back_in_my_bookings_and_language() -> None:
    chat = Chat()
    await _at_my_visit(chat)
    await chat.tap("Cancel visit")
    await chat.tap("No, keep it")
    assert chat.screen == "visit"
    await chat.tap("My bookings")
    assert chat.screen == "bookings"
    await chat.tap("Menu")
    await chat.tap("Language")
    await chat.tap("Menu")
    assert chat.screen == "menu"


async def test_reschedule_past_its_cutoff_is_refused_with_the_salons_contact() -> None:
    chat = Chat()
    visit = await _at_my_visit(chat)
    chat.clock.set(visit.start - timedelta(hours=5))
    reply = await chat.tap("Reschedule")
    assert reply.text.startswith(
        "Sorry, a visit can be moved here only up to 12 hours before it starts."
    )
    assert "+49 30 1234567" in reply.text
    assert chat.screen == "visit"


async def test_a_move_to_a_time_taken_meanwhile_offers_alternatives_and_keeps_the_visit() -> None:
    chat = Chat()
    await _to_summary(chat)
    await chat.tap("Confirm")
    [before] = chat.mine(BookingStatus.CONFIRMED)
    await chat.tap("My bookings")
    await chat.tap("Manicure")
    await chat.tap("Reschedule")
    await chat.tap_first(skip=3)
    await chat.tap_first()
    assert chat.screen == "summary"
    assert chat.stored is not None
    wanted = from_stamp(str(chat.stored["start"]))
    assert wanted is not None
    chat.desk.take_elsewhere("manicure", wanted, "maria")

    reply = await chat.tap("Yes, move it")

    assert reply.text.startswith("Sorry, that time was just taken.")
    assert chat.mine(BookingStatus.CONFIRMED) == [before]


async def test_any_specialist_and_an_alternative_keeps_the_specialist_it_names() -> None:
    chat = Chat()
    await chat.command("start")
    await chat.tap("Book a visit")
    await chat.tap("Nails")
    await chat.tap("Manicure")
    await chat.tap("Any specialist")
    await chat.tap_first(skip=2)
    wanted = chat.reply.choices[0]
    start = from_stamp(wanted.id.split(".")[2])
    assert start is not None
    while True:  # everyone who does manicures is taken at that time
        try:
            chat.desk.take_elsewhere("manicure", start, None)
        except SlotTaken:  # nobody is left
            break

    reply = await chat.send(Chosen(wanted.id))

    assert reply.text.startswith("Sorry, that time was just taken.")
    offered = [c for c in reply.choices if not c.label.startswith("↩")]
    named = offered[-1]
    staff_key = named.id.split(".")[-1]
    assert CATALOG.staff[staff_key].name in named.label
    await chat.send(Chosen(named.id))
    [hold] = chat.mine(BookingStatus.HELD)
    assert hold.staff_key == staff_key


async def test_a_lapsed_hold_whose_time_is_still_free_is_confirmed() -> None:
    chat = Chat()
    await _to_summary(chat)
    chat.clock.advance(timedelta(minutes=30))
    reply = await chat.tap("Confirm")
    assert reply.text.startswith("Booked! See you soon.")
    assert len(chat.mine(BookingStatus.CONFIRMED)) == 1


async def test_a_photo_or_voice_note_gets_a_polite_answer_and_the_current_choices() -> None:
    chat = Chat(language="ru")
    await chat.command("start")
    await chat.tap("Записаться")
    reply = await chat.send(Unsupported("image"))
    assert reply.text.startswith("Извините, я понимаю только текст и кнопки ниже.")
    assert chat.labels()[:2] == ["Волосы", "Ногти"]
    assert reply.button == "Выбрать"
    assert chat.screen == "category"
