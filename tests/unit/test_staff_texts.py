"""What staff read: notices, the day's agenda and the answers about linking, in their language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.catalog.file import load_catalog_text
from core.conversation.staff_texts import AgendaEntry, StaffTexts, Visitor
from core.domain.booking import Booking, BookingStatus
from core.domain.catalog import Catalog
from tests.catalog_cases import DEMO_TEXT

# 09:00 UTC is 10:00 in Berlin (the demo salon) in December; English writes "10:00 AM"
# with a narrow no-break space, as Babel's CLDR data does.
START = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
ADA = Visitor("Ada", "+4930111222")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog_text(DEMO_TEXT)[0].catalog


def _visit(start: datetime = START, staff_key: str = "maria") -> Booking:
    return Booking(
        7, 3, "manicure", staff_key, start, start + timedelta(hours=1), BookingStatus.CONFIRMED
    )


def test_a_new_booking_names_the_service_the_customer_their_phone_and_the_local_time(
    catalog: Catalog,
) -> None:
    text = StaffTexts(catalog, "en").booked(_visit(), ADA)

    assert text == "New booking\nManicure: Ada, +4930111222\nTuesday, 8 December at 10:00\u202fAM"


def test_a_notice_in_russian_uses_russian_words_and_dates(catalog: Catalog) -> None:
    text = StaffTexts(catalog, "ru").cancelled(_visit(), ADA)

    assert text == "Запись отменена\nМаникюр: Ada, +4930111222\nвторник, 8 декабря, 10:00"


def test_a_customer_without_name_or_phone_is_still_named_somehow(catalog: Catalog) -> None:
    text = StaffTexts(catalog, "en").attendance_confirmed(_visit(), Visitor())

    assert text.splitlines()[:2] == [
        "The customer confirmed they are coming",
        "Manicure: a customer without a name",
    ]


def test_a_move_shows_both_times_and_both_staff_members_when_the_visit_changed_hands(
    catalog: Catalog,
) -> None:
    before = _visit(staff_key="olga")
    after = _visit(START + timedelta(days=1), staff_key="maria")

    text = StaffTexts(catalog, "en").moved(before, after, ADA)

    assert text.splitlines() == [
        "Booking moved",
        "Manicure: Ada, +4930111222",
        "Was: Tuesday, 8 December at 10:00\u202fAM (Olga)",
        "Now: Wednesday, 9 December at 10:00\u202fAM (Maria)",
    ]


def test_a_move_with_the_same_staff_member_names_nobody(catalog: Catalog) -> None:
    text = StaffTexts(catalog, "en").moved(_visit(), _visit(START + timedelta(hours=2)), ADA)

    assert "(Maria)" not in text
    assert text.splitlines()[2:] == [
        "Was: Tuesday, 8 December at 10:00\u202fAM",
        "Now: Tuesday, 8 December at 12:00\u202fPM",
    ]


def test_the_agenda_lists_the_day_in_time_order_with_each_visits_status(
    catalog: Catalog,
) -> None:
    entries = [
        AgendaEntry(START + timedelta(hours=3), "pedicure", Visitor("Bo"), BookingStatus.CONFIRMED),
        AgendaEntry(START, "manicure", ADA, BookingStatus.COMPLETED),
        AgendaEntry(
            START + timedelta(hours=1),
            "brow-shaping",
            Visitor("Cy"),
            BookingStatus.CONFIRMED,
            customer_confirmed=True,
        ),
        AgendaEntry(START + timedelta(hours=5), "manicure", Visitor("Di"), BookingStatus.NO_SHOW),
    ]

    text = StaffTexts(catalog, "en").agenda(date(2026, 12, 8), entries)

    assert text.splitlines() == [
        "Tuesday, 8 December, your bookings:",
        "10:00\u202fAM Manicure: Ada, +4930111222 (done)",
        "11:00\u202fAM Brow shaping: Cy (confirmed by the customer)",
        "1:00\u202fPM Pedicure: Bo (booked)",
        "3:00\u202fPM Manicure: Di (did not come)",
    ]


def test_an_empty_day_is_one_short_line(catalog: Catalog) -> None:
    assert StaffTexts(catalog, "ru").agenda(date(2026, 12, 8), []) == (
        "вторник, 8 декабря: записей нет."
    )


def _utf16_units(text: str) -> int:
    """How Telegram counts a message's length."""
    return len(text.encode("utf-16-le")) // 2


def test_a_busy_day_of_short_lines_is_shown_whole(catalog: Catalog) -> None:
    entries = [
        AgendaEntry(START + timedelta(minutes=10 * i), "manicure", ADA, BookingStatus.CONFIRMED)
        for i in range(50)
    ]

    lines = StaffTexts(catalog, "en").agenda(date(2026, 12, 8), entries).splitlines()

    assert len(lines) == 1 + 50
    assert lines[-1].startswith("6:10\u202fPM Manicure: Ada")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_day_too_long_for_one_message_is_cut_by_whole_lines_and_says_how_many_more(
    language: str,
) -> None:
    # The longest names a catalog and a customer may have, with characters Telegram
    # counts twice (it counts UTF-16 code units).
    service_name = ("Manicure deluxe 🌸 " * 12)[:200]
    long_catalog = load_catalog_text(
        DEMO_TEXT.replace("{en: Manicure, ru: Маникюр}", f'{{en: "{service_name}", ru: Маникюр}}')
    )[0].catalog
    visitor = Visitor(("Alexandra 🌷 " * 20)[:200], "+4930111222")
    entries = [
        AgendaEntry(START + timedelta(minutes=10 * i), "manicure", visitor, BookingStatus.CONFIRMED)
        for i in range(40)
    ]

    text = StaffTexts(long_catalog, language).agenda(date(2026, 12, 8), entries)

    lines = text.splitlines()
    assert _utf16_units(text) <= 4096
    shown = lines[1:-1]
    assert all(visitor.name in line for line in shown)  # whole lines only
    more = lines[-1]
    assert more == ("…and %d more." if language == "en" else "…и ещё %d.") % (40 - len(shown))
    assert len(shown) >= 5


def test_the_agenda_names_the_salons_local_day_even_across_a_dst_change(
    catalog: Catalog,
) -> None:
    # 2027-03-28: Berlin springs forward at 02:00; the day is 23 hours long.
    text = StaffTexts(catalog, "en").agenda(date(2027, 3, 28), [])

    assert text == "Sunday, 28 March: nothing booked."


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_answer_about_linking_is_translated(catalog: Catalog, language: str) -> None:
    texts = StaffTexts(catalog, language)
    answers = [
        texts.linked("Maria").text,
        texts.bad_code().text,
        texts.code_missing().text,
        texts.unlinked().text,
        texts.staff_only().text,
    ]

    assert all(answer.strip() for answer in answers)
    assert "Maria" in answers[0]
    english = [a.text for a in (StaffTexts(catalog, "en").staff_only(),)]
    assert (answers[4] == english[0]) is (language == "en")
