"""What a reminder and a follow-up say, in each language, and that they fit every channel."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.catalog.file import load_catalog_text
from core.catalog.limits import MAX_NAME_CHARS
from core.conversation.contract import Anywhere
from core.conversation.messages import MAX_CHOICE_ID_BYTES, Form, Reply
from core.conversation.reminders import follow_up_reply, reminder_reply
from core.conversation.state import Picked, decode
from core.domain.booking import Booking, BookingStatus
from core.domain.catalog import Catalog
from tests.catalog_cases import DEMO_TEXT, catalog_at_limits, to_yaml

CATALOG = load_catalog_text(DEMO_TEXT)[1]
START = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)  # Wednesday 10:00 in Berlin
VISIT = Booking(
    7, 1, "manicure", "maria", START, START + timedelta(hours=1), BookingStatus.CONFIRMED
)
REVIEW = "https://example.com/review"
# WhatsApp's reply buttons: the smallest room any channel gives a message with choices.
BUTTONS, TITLE, BODY = 3, 20, 1024


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _fits_every_channel(reply: Reply) -> None:
    assert 1 <= len(reply.choices) <= BUTTONS
    assert all(1 <= len(c.label) <= TITLE for c in reply.choices)
    assert all(len(c.id.encode()) <= MAX_CHOICE_ID_BYTES for c in reply.choices)
    assert 0 < len(reply.text) <= BODY


def _fits_a_template(form: Form) -> None:
    assert len(form.params) == 3
    assert len(form.payloads) == 3
    for param in form.params:
        assert param.strip() == param != ""
        assert not re.search(r"[\n\t]| {5,}", param), param  # the Cloud API refuses these


def test_a_reminder_names_the_service_specialist_local_time_and_address_and_asks_to_confirm() -> (
    None
):
    reply = reminder_reply(CATALOG, "en", VISIT, ask_to_confirm=True)

    assert _plain(reply.text).splitlines() == [
        "A reminder of your visit to Studio Lumen:",
        "Manicure: 1 hour, €40.00",
        "Specialist: Maria",
        "When: Wednesday, 9 December at 10:00 AM",
        "Times are in the salon's time zone (Berlin).",
        "",
        "Address: Kastanienallee 12, 10435 Berlin",
        "Phone: +49 30 1234567",
        "",
        "Please confirm that you are coming, or change your visit below.",
    ]
    assert [c.label for c in reply.choices] == ["✅ Confirm", "Reschedule", "✖ Cancel visit"]
    _fits_every_channel(reply)


def test_a_reminders_buttons_name_the_visit_and_its_version_and_work_from_any_state() -> None:
    reply = reminder_reply(CATALOG, "en", VISIT, ask_to_confirm=True)

    assert [decode(c.id) for c in reply.choices] == [
        Picked(Anywhere.CONFIRM_VISIT, "7.1"),
        Picked(Anywhere.RESCHEDULE_VISIT, "7.1"),
        Picked(Anywhere.CANCEL_VISIT, "7.1"),
    ]


def test_a_reminder_carries_itself_as_the_approved_form_with_all_three_buttons() -> None:
    reply = reminder_reply(CATALOG, "en", VISIT, ask_to_confirm=True)

    assert reply.form == Form(
        "reminder",
        "en",
        params=("Manicure", "Wednesday, 9 December at 10:00 AM", "Maria"),
        payloads=tuple(c.id for c in reply.choices),
    )
    _fits_a_template(reply.form)


def test_a_reminder_not_asking_offers_reschedule_and_cancel_and_its_form_all_three() -> None:
    reply = reminder_reply(CATALOG, "en", VISIT, ask_to_confirm=False)

    assert [c.label for c in reply.choices] == ["Reschedule", "✖ Cancel visit"]
    assert reply.text.endswith(
        "If your plans have changed, you can move or cancel your visit below."
    )
    assert reply.form is not None
    assert [decode(p) for p in reply.form.payloads] == [
        Picked(Anywhere.CONFIRM_VISIT, "7.1"),
        Picked(Anywhere.RESCHEDULE_VISIT, "7.1"),
        Picked(Anywhere.CANCEL_VISIT, "7.1"),
    ]


def test_a_reminder_in_russian() -> None:
    reply = reminder_reply(CATALOG, "ru", VISIT, ask_to_confirm=True)

    lines = _plain(reply.text).splitlines()
    assert lines[0] == "Напоминаем о вашем визите в Studio Lumen:"
    assert "Когда: среда, 9 декабря, 10:00" in lines
    assert "Адрес: Kastanienallee 12, 10435 Berlin" in lines
    assert [c.label for c in reply.choices] == ["✅ Подтвердить", "Перенести", "✖ Отменить визит"]
    assert reply.form is not None
    assert reply.form.language == "ru"
    assert reply.form.params == ("Маникюр", "среда, 9 декабря, 10:00", "Maria")


def _longest_names() -> Catalog:
    data = catalog_at_limits(services=1, staff=2, categories=1, exceptions=0, languages=2)
    return load_catalog_text(to_yaml(data))[1]


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("ask", [True, False])
def test_a_reminder_fits_every_channel_and_the_template_even_with_the_longest_names(
    language: str, ask: bool
) -> None:
    catalog = _longest_names()
    service = next(iter(catalog.services))
    visit = Booking(
        2**62, 1, service, "staff-000", START, START + timedelta(minutes=30), VISIT.status
    )

    reply = reminder_reply(catalog, language, visit, ask_to_confirm=ask)

    _fits_every_channel(reply)
    usual = reminder_reply(CATALOG, language, VISIT, ask_to_confirm=ask)
    assert reply.text.splitlines()[-1] == usual.text.splitlines()[-1]  # the question stays
    assert reply.form is not None
    _fits_a_template(reply.form)
    assert all(len(p) < MAX_NAME_CHARS for p in reply.form.params)  # shortened, one line


def test_a_follow_up_thanks_links_the_review_and_offers_to_book_again() -> None:
    reply = follow_up_reply(CATALOG, "en", VISIT, REVIEW)

    assert reply.text.splitlines() == [
        "Thank you for visiting Studio Lumen!",
        "We hope you enjoyed your Manicure with Maria.",
        "",
        "We would be glad to read your review:",
        REVIEW,
    ]
    assert [(decode(c.id), c.label) for c in reply.choices] == [
        (Picked(Anywhere.BOOK), "Book again")
    ]
    assert reply.form is None
    _fits_every_channel(reply)


def test_a_follow_up_without_a_review_link_only_thanks() -> None:
    reply = follow_up_reply(CATALOG, "ru", VISIT, "")

    assert reply.text.splitlines() == [
        "Спасибо, что посетили Studio Lumen!",
        "Надеемся, вам понравилась услуга «Маникюр» у мастера Maria.",
    ]
    assert [c.label for c in reply.choices] == ["Записаться снова"]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_follow_up_keeps_the_whole_review_link_even_with_the_longest_names(
    language: str,
) -> None:
    catalog = _longest_names()
    service = next(iter(catalog.services))
    visit = Booking(1, 1, service, "staff-000", START, START + timedelta(minutes=30), VISIT.status)
    link = "https://example.com/" + "r" * 480

    reply = follow_up_reply(catalog, language, visit, link)

    assert reply.text.endswith("\n" + link)
    _fits_every_channel(reply)


def test_a_reminder_of_a_service_the_catalog_no_longer_offers_still_says_what_and_when() -> None:
    visit = replace(VISIT, service_key="gel-nails")

    reply = reminder_reply(CATALOG, "en", visit, ask_to_confirm=True)

    lines = _plain(reply.text).splitlines()
    assert lines[1:4] == [
        "gel-nails",
        "Specialist: Maria",
        "When: Wednesday, 9 December at 10:00 AM",
    ]
    assert reply.form is not None
    assert reply.form.params[0] == "gel-nails"
