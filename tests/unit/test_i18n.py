"""Message catalogs are complete and in step with the code; formatting follows the locale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from core.i18n.catalogs import available_languages, po_path
from core.i18n.formatting import duration, local_date, local_time, price

ROOT = Path(__file__).resolve().parents[2]
BERLIN = ZoneInfo("Europe/Berlin")


def _code_messages() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(ROOT / "src", method_map=[("**.py", "python")]):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_english_and_russian_are_shipped() -> None:
    assert {"en", "ru"} <= set(available_languages())


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language)
    assert catalog.num_plurals == get_plural(language).num_plurals
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or (message.pluralizable and len(strings) != catalog.num_plurals):
            problems.append(f"untranslated: {message.id!r}")
    assert problems == []


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_catalogs_hold_exactly_the_messages_the_code_uses(language: str) -> None:
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language)
    shipped = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    assert shipped == _code_messages()


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (1, "1 минута"),
        (2, "2 минуты"),
        (5, "5 минут"),
        (11, "11 минут"),
        (21, "21 минута"),
        (24, "24 минуты"),
        (60, "1 час"),
        (90, "1 час 30 минут"),
        (150, "2 часа 30 минут"),
        (300, "5 часов"),
    ],
)
def test_russian_durations_use_the_right_plural_form(minutes: int, text: str) -> None:
    assert duration(timedelta(minutes=minutes), "ru") == text


def test_english_durations() -> None:
    assert duration(timedelta(minutes=1), "en") == "1 minute"
    assert duration(timedelta(minutes=75), "en") == "1 hour 15 minutes"
    assert duration(timedelta(hours=2), "en") == "2 hours"


def test_an_unknown_language_falls_back_to_english() -> None:
    assert duration(timedelta(minutes=5), "xx") == "5 minutes"


def test_dates_and_times_are_local_to_the_salon_and_in_the_customers_language() -> None:
    # 23:30 UTC on 7 December is already Tuesday 00:30 in Berlin.
    moment = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    assert local_date(moment, BERLIN, "en") == "Tuesday, 8 December"
    assert local_date(moment, BERLIN, "ru") == "вторник, 8 декабря"
    assert local_time(moment, BERLIN, "ru") == "00:30"
    assert local_time(moment, BERLIN, "en") == "12:30\u202fAM"


def test_local_time_follows_daylight_saving() -> None:
    # The same UTC hour is 11:00 in winter and 12:00 in summer in Berlin.
    assert local_time(datetime(2027, 3, 27, 10, 0, tzinfo=UTC), BERLIN, "ru") == "11:00"
    assert local_time(datetime(2027, 3, 29, 10, 0, tzinfo=UTC), BERLIN, "ru") == "12:00"


def test_prices_are_written_the_way_each_language_writes_them() -> None:
    assert price(Decimal("55"), "EUR", "en") == "€55.00"
    assert price(Decimal("55"), "EUR", "ru") == "55,00\xa0€"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_time(datetime(2026, 12, 7, 10, 0), BERLIN, "en")  # noqa: DTZ001
