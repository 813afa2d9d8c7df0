"""The catalog file: the demo parses, and every mistake is one precise ``path: value: reason``."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from core.catalog_file import (
    CatalogError,
    catalog_from_canonical,
    load_catalog_text,
    parse_document,
)
from core.domain.catalog import WorkPeriod
from tests.catalog_cases import BROKEN, DEMO_TEXT, Broken, Edit, edited, put


def _problems(text: str) -> tuple[str, ...]:
    with pytest.raises(CatalogError) as error:
        load_catalog_text(text)
    return error.value.problems


def test_the_demo_catalog_parses_into_the_salon_it_describes() -> None:
    _, catalog = load_catalog_text(DEMO_TEXT)

    salon = catalog.salon
    assert (salon.name, salon.zone.key, salon.languages, salon.currency) == (
        "Studio Lumen",
        "Europe/Berlin",
        ("en", "ru"),
        "EUR",
    )
    assert salon.policies.min_notice == timedelta(hours=2)
    assert salon.policies.booking_horizon == timedelta(days=60)
    assert list(catalog.services) == [
        "womens-haircut",
        "mens-haircut",
        "colouring",
        "manicure",
        "pedicure",
        "brow-shaping",
        "lash-lift",
    ]
    colouring = catalog.service("colouring")
    assert (colouring.duration, colouring.price, colouring.category) == (
        timedelta(hours=2),
        Decimal(120),
        "hair",
    )
    assert (colouring.buffer_before, colouring.buffer_after) == (
        timedelta(minutes=10),
        timedelta(minutes=15),
    )
    assert catalog.service("manicure").name("ru") == "Маникюр"
    assert list(catalog.staff) == ["anna", "maria", "olga"]
    anna = catalog.member("anna")
    assert anna.duration_of(colouring) == timedelta(hours=2, minutes=30)
    assert anna.weekly[6] == (WorkPeriod(time(10), time(16)),)
    assert anna.periods_on(date(2026, 12, 31)) == (WorkPeriod(time(10), time(14)),)
    assert anna.periods_on(date(2026, 12, 24)) == ()
    maria = catalog.member("maria")
    assert maria.weekly[2] == (WorkPeriod(time(9), time(18), ((time(13), time(13, 30)),)),)
    assert 4 not in maria.weekly  # no Thursdays


@pytest.mark.parametrize("case", BROKEN, ids=[case.name for case in BROKEN])
def test_a_broken_catalog_gives_exactly_its_one_precise_problem(case: Broken) -> None:
    assert _problems(case.text) == (case.problem,)


def test_every_problem_is_reported_at_once() -> None:
    fields = _problems(
        edited(
            put("salon", "timezone", value="Berlin"),
            put("staff", 1, "hours", "mon", 0, "to", value="25:00"),
        )
    )
    across = _problems(
        edited(
            put("services", 5, "category", value="eyes"),
            put("staff", 1, "hours", "sat", value=["10:00-15:00", "14:00-18:00"]),
        )
    )

    assert fields == (
        "salon.timezone: 'Berlin': not an IANA time zone (for example Europe/Berlin)",
        "staff[1].hours.mon[0].to: '25:00': not a time of day (00:00 to 24:00)",
    )
    assert across == (
        "services[5].category: 'eyes': no such category in 'categories'",
        "staff[1].hours.sat[1]: '14:00-18:00': overlaps '10:00-15:00'",
    )


def test_the_error_message_lists_every_problem_on_its_own_line() -> None:
    error = CatalogError(["a: 1: first", "b: 2: second"])

    assert str(error) == "invalid catalog:\n  a: 1: first\n  b: 2: second"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "(top level): empty file: expected a mapping with salon, services and staff"),
        ("42\n", "(top level): 42: expected a mapping with salon, services and staff"),
        (
            "salon: [\n",
            "(file): line 2, column 1: not valid YAML: while parsing a flow node, "
            "expected the node content, but found '<stream end>'",
        ),
    ],
)
def test_a_file_that_is_not_a_catalog_mapping_says_so(text: str, problem: str) -> None:
    assert _problems(text) == (problem,)


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            put("services", 3, "duration", value="0m"),
            "services[3].duration: '0m': must be longer than zero",
        ),
        (
            put("staff", 0, "services", 2, value={"id": "colouring", "duratoin": "2h"}),
            "staff[0].services[2].duratoin: '2h': unknown key; expected one of id, duration",
        ),
        (
            put("staff", 0, "exceptions", 0, "day_off", value=False),
            "staff[0].exceptions[0]: '2026-12-24': give either 'day_off: true' or 'hours'",
        ),
        (
            put("staff", 0, "exceptions", 0, "date", value="2026-12-32"),
            "staff[0].exceptions[0].date: '2026-12-32': expected a date as YYYY-MM-DD",
        ),
        (
            put("salon", "languages", value=["en", "ru", "xx-yy-zz"]),
            "salon.languages[2]: 'xx-yy-zz': not a known language code (for example en, ru, de)",
        ),
        (
            put("salon", "languages", value=["en", "ru", "en"]),
            "salon.languages: ['en', 'ru', 'en']: 'en' listed twice",
        ),
        (
            put("salon", "languages", value=["en", False]),
            "salon.languages[1]: False: expected text "
            "(YAML reads unquoted yes, no, on and off as true or false: quote it)",
        ),
        (
            put("staff", 1, "hours", "sat", value=["10:00"]),
            "staff[1].hours.sat[0]: '10:00': "
            "expected a period as 'HH:MM-HH:MM' or {from: 'HH:MM', to: 'HH:MM'}",
        ),
        (
            put("staff", 1, "hours", "mon", 0, "breaks", value=["13:00"]),
            "staff[1].hours.mon[0].breaks[0]: '13:00': expected a break as 'HH:MM-HH:MM'",
        ),
        (
            put("staff", 1, "hours", "sat", value=["24:00-06:00"]),
            "staff[1].hours.sat[0].from: '24:00': a period cannot start at 24:00",
        ),
        (
            put("services", 0, "name", value="Haircut"),
            "services[0].name: 'Haircut': expected a mapping (key: value)",
        ),
        (put("salon", value=None), "salon: None: expected a mapping (key: value)"),
        (put("staff", value=[]), "staff: []: must not be empty"),
    ],
)
def test_more_mistakes_are_named_precisely(edit: Edit, problem: str) -> None:
    assert _problems(edited(edit)) == (problem,)


def test_a_period_may_end_at_24_00() -> None:
    _, catalog = load_catalog_text(edited(put("staff", 1, "hours", "mon", value=["18:00-24:00"])))

    (period,) = catalog.member("maria").weekly[1]
    assert period == WorkPeriod(time(18), time(0))
    assert period.crosses_midnight


def test_a_period_may_run_past_midnight_with_a_break_after_midnight() -> None:
    overnight = {"from": "22:00", "to": "02:00", "breaks": ["01:00-01:30"]}
    _, catalog = load_catalog_text(edited(put("staff", 1, "hours", "sun", value=[overnight])))

    assert catalog.member("maria").weekly[7] == (
        WorkPeriod(time(22), time(2), ((time(1), time(1, 30)),)),
    )


def test_a_break_after_an_overnight_period_ends_is_outside_it() -> None:
    overnight = {"from": "22:00", "to": "02:00", "breaks": ["02:30-03:00"]}

    assert _problems(edited(put("staff", 1, "hours", "sun", value=[overnight]))) == (
        "staff[1].hours.sun[0].breaks[0]: '02:30-03:00': outside the working hours 22:00-02:00",
    )


def test_the_canonical_form_is_stable() -> None:
    document, catalog = load_catalog_text(DEMO_TEXT)
    canonical = document.canonical()

    # The database keeps it as JSON, so it must survive a JSON round trip too.
    stored = json.loads(json.dumps(canonical))
    again = parse_document(stored)

    assert again.to_catalog() == catalog
    assert again.canonical() == canonical
    assert catalog_from_canonical(stored) == catalog


def _respell(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def test_the_same_catalog_spelt_differently_has_the_same_canonical_form() -> None:
    document, _ = load_catalog_text(DEMO_TEXT)
    respelt = DEMO_TEXT
    for old, new in [
        ("price: 55\n", "price: 55.00\n"),
        ("duration: 1h\n", "duration: 60\n"),
        ('sat: ["10:00-16:00"]', 'sat: [{from: "10:00", to: "16:00"}]'),
        ('{from: "09:00", to: "18:00"', '{from: "9:00", to: "18:00"'),
        ('breaks: ["14:00-14:45"]', 'breaks: ["14:00 - 14:45"]'),
        ("services: [manicure,", "services: [{id: manicure},"),
    ]:
        respelt = _respell(respelt, old, new)

    other, _ = load_catalog_text(respelt)

    assert other.canonical() == document.canonical()


def test_an_overnight_period_running_into_the_next_days_hours_is_refused() -> None:
    from core.catalog_file import CatalogError, load_catalog_text

    text = """
salon: {name: Late, timezone: Europe/Berlin, languages: [en], currency: EUR}
services: [{id: cut, name: {en: Cut}, duration: 30m, price: 10}]
staff:
  - {id: ann, name: Ann, services: [cut], hours: {mon: ["22:00-02:00"], tue: ["01:00-05:00"]}}
"""
    with pytest.raises(CatalogError) as error:
        load_catalog_text(text)
    assert error.value.problems == (
        "staff[0].hours.mon[0]: '22:00-02:00': runs into tue's '01:00-05:00'",
    )


def test_an_overnight_period_ending_when_the_next_day_starts_is_fine() -> None:
    from core.catalog_file import load_catalog_text

    text = """
salon: {name: Late, timezone: Europe/Berlin, languages: [en], currency: EUR}
services: [{id: cut, name: {en: Cut}, duration: 30m, price: 10}]
staff:
  - {id: ann, name: Ann, services: [cut], hours: {sun: ["22:00-02:00"], mon: ["02:00-05:00"]}}
"""
    _, catalog = load_catalog_text(text)
    assert catalog.staff["ann"].weekly[1][0].start.hour == 2
