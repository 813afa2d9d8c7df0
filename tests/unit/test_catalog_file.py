"""The catalog file: the demo parses, and every mistake is one precise ``path: value: reason``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from core.catalog.file import catalog_from_canonical, load_catalog_text, parse_document
from core.catalog.problems import CatalogError
from core.domain.availability import SlotQuery, free_slots
from core.domain.catalog import WorkPeriod
from tests.catalog_cases import (
    BROKEN,
    DEMO_TEXT,
    Broken,
    Edit,
    add_exception,
    edited,
    put,
)


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


def test_the_error_message_of_one_problem_is_one_line() -> None:
    assert str(CatalogError(["a: 1: first"])) == "invalid catalog: a: 1: first"


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
            "staff[0].exceptions[0].date: '2026-12-32': not a date",
        ),
        (
            put("staff", 0, "exceptions", 0, "date", value="24.12.2026"),
            "staff[0].exceptions[0].date: '24.12.2026': expected a date as YYYY-MM-DD",
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

    assert again.catalog == catalog
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
    text = """
salon: {name: Late, timezone: Europe/Berlin, languages: [en], currency: EUR}
services: [{id: cut, name: {en: Cut}, duration: 30m, price: 10}]
staff:
  - {id: ann, name: Ann, services: [cut], hours: {sun: ["22:00-02:00"], mon: ["02:00-05:00"]}}
"""
    _, catalog = load_catalog_text(text)
    assert catalog.staff["ann"].weekly[1][0].start.hour == 2


SMALL_SALON = """
salon: {name: Late, timezone: Europe/Berlin, languages: [en], currency: EUR}
policies: {slot_step: 15m, slot_step: 7m}
services: [{id: cut, name: {en: Cut}, duration: 30m, price: 10}]
staff:
  - {id: ann, name: Ann, services: [cut], hours: {mon: ["09:00-17:00"]}}
"""


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            SMALL_SALON,
            "(file): line 3, column 28: not valid YAML: duplicate key 'slot_step', "
            "first given on line 3",
        ),
        (
            DEMO_TEXT.replace('      sat: ["10:00-16:00"]\n', '      tue: ["10:00-16:00"]\n', 1),
            "(file): line 81, column 7: not valid YAML: duplicate key 'tue', "
            "first given on line 77",
        ),
    ],
    ids=["in a flow mapping", "in a block mapping"],
)
def test_a_key_given_twice_in_one_mapping_is_refused_naming_it_and_its_line(
    text: str, problem: str
) -> None:
    assert _problems(text) == (problem,)


def test_a_key_merged_in_and_then_overridden_is_not_a_duplicate() -> None:
    text = """
salon: {name: Two, timezone: Europe/Berlin, languages: [en], currency: EUR}
services: [{id: cut, name: {en: Cut}, duration: 30m, price: 10}]
staff:
  - {id: ann, name: Ann, services: [cut], hours: &week {mon: ["09:00-17:00"], tue: ["09:00-17:00"]}}
  - {id: bob, name: Bob, services: [cut], hours: {<<: *week, mon: ["10:00-18:00"]}}
"""
    _, catalog = load_catalog_text(text)

    assert catalog.member("bob").weekly == {
        1: (WorkPeriod(time(10), time(18)),),
        2: (WorkPeriod(time(9), time(17)),),
    }


def test_a_date_and_time_that_does_not_exist_is_named_at_its_path() -> None:
    text = DEMO_TEXT.replace("- date: 2026-12-24", "- date: 2026-12-24 25:00:00", 1)

    assert _problems(text) == (
        "staff[0].exceptions[0].date: '2026-12-24 25:00:00': expected a date as YYYY-MM-DD",
    )


def test_a_number_too_long_to_read_is_one_problem_with_its_line() -> None:
    text = DEMO_TEXT.replace("    duration: 45m\n", f"    duration: {'9' * 5000}\n", 1)

    (problem,) = _problems(text)
    assert problem.startswith(
        "(file): line 38, column 15: not valid YAML: a value that cannot be read: "
    )


@pytest.mark.parametrize(
    ("path", "limit", "beyond", "problem"),
    [
        (("services", 3, "duration"), "24h", "24h1m", "'24h1m': must be at most 24h"),
        (("services", 3, "buffer_before"), "24h", "1d1m", "'1d1m': must be at most 24h"),
        (("services", 3, "buffer_after"), 1440, 1441, "1441: must be at most 24h"),
        (("staff", 0, "services", 2, "duration"), "24h", "25h", "'25h': must be at most 24h"),
        (("policies", "slot_step"), "1d", "2d", "'2d': must be at most 24h"),
        (("policies", "hold_ttl"), "24h", "24h1m", "'24h1m': must be at most 24h"),
        (("policies", "min_notice"), "365d", "366d", "'366d': must be at most 365d"),
        (
            ("policies", "customer_cancel_cutoff"),
            "365d",
            "365d1m",
            "'365d1m': must be at most 365d",
        ),
        (
            ("policies", "customer_reschedule_cutoff"),
            "8760h",
            "8761h",
            "'8761h': must be at most 365d",
        ),
        (
            ("policies", "booking_horizon"),
            "1096d",
            "1097d",
            "'1097d': must be at most 1096d (3 years)",
        ),
    ],
)
def test_every_duration_may_reach_its_upper_bound_but_not_pass_it(
    path: tuple[str | int, ...], limit: object, beyond: object, problem: str
) -> None:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)

    load_catalog_text(edited(put(*path, value=limit)))
    assert _problems(edited(put(*path, value=beyond))) == (f"{where[1:]}: {problem}",)


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            put("services", 3, "duration", value=99999999999),
            "services[3].duration: 99999999999: must be at most 24h",
        ),
        (
            put("services", 3, "duration", value=10**30),
            f"services[3].duration: {10**30}: must be at most 24h",
        ),
        (
            put("services", 3, "buffer_after", value=-(10**30)),
            f"services[3].buffer_after: {-(10**30)}: must not be negative",
        ),
        (
            put("policies", "booking_horizon", value="99999999999999999999h"),
            "policies.booking_horizon: '99999999999999999999h': must be at most 1096d (3 years)",
        ),
        (
            put("services", 3, "duration", value="9" * 5000 + "m"),
            "services[3].duration: '" + "9" * 56 + "...: must be at most 24h",
        ),
    ],
    ids=["minutes", "minutes beyond timedelta", "negative beyond timedelta", "hours", "digits"],
)
def test_a_duration_too_long_to_compute_is_named_by_its_bound(edit: Edit, problem: str) -> None:
    assert _problems(edited(edit)) == (problem,)


def test_durations_at_their_bounds_leave_availability_computable() -> None:
    _, catalog = load_catalog_text(
        edited(
            put("policies", "min_notice", value="365d"),
            put("policies", "booking_horizon", value="1096d"),
            put("policies", "slot_step", value="24h"),
            put("services", 3, "duration", value="24h"),
            put("services", 3, "buffer_before", value="24h"),
            put("services", 3, "buffer_after", value="24h"),
        )
    )
    now = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    last = now.date() + timedelta(days=1100)
    query = SlotQuery("manicure", last - timedelta(days=30), last)

    assert free_slots(catalog, query, now, {}) == []  # no 24 h visit fits a working day


@pytest.mark.parametrize(
    ("edits", "problem"),
    [
        (
            [
                add_exception(1, "2026-12-11", ["21:00-02:00"]),
                add_exception(1, "2026-12-12", ["01:00-06:00"]),
            ],
            "staff[1].exceptions[1].hours[0]: '21:00-02:00': runs into the 2026-12-12 "
            "exception's '01:00-06:00'",
        ),
        (
            # Saturday's exception runs into Maria's Sunday, free every week but this one.
            [
                add_exception(1, "2026-12-12", ["22:00-03:00"]),
                add_exception(1, "2026-12-13", ["00:00-04:00"]),
            ],
            "staff[1].exceptions[1].hours[0]: '22:00-03:00': runs into the 2026-12-13 "
            "exception's '00:00-04:00'",
        ),
    ],
    ids=["into the next exception", "into an exception on a day off every week"],
)
def test_an_exception_running_into_the_next_exception_is_refused(
    edits: list[Edit], problem: str
) -> None:
    assert _problems(edited(*edits)) == (problem,)


@pytest.mark.parametrize(
    "edits",
    [
        # Friday night runs to 10:30, but that Saturday is a day off, not 10:00-15:00.
        [
            add_exception(1, "2026-12-11", ["21:00-10:30"]),
            add_exception(1, "2026-12-12"),
        ],
        # Ends just as Saturday's weekly hours start.
        [add_exception(1, "2026-12-11", ["21:00-10:00"])],
        # Olga's Sunday night would run into Monday's 01:00, but that Sunday is a day off.
        [
            put("staff", 2, "hours", "sun", value=["20:00-02:00"]),
            add_exception(2, "2026-12-13"),
            add_exception(2, "2026-12-14", ["01:00-09:00"]),
        ],
        # Weekly Sunday night ends as Monday's exception starts.
        [
            put("staff", 2, "hours", "sun", value=["20:00-02:00"]),
            add_exception(2, "2026-12-14", ["02:00-09:00"]),
        ],
    ],
    ids=[
        "exception into a day off",
        "exception ending as the next day starts",
        "weekly night replaced by a day off",
        "weekly night ending as the exception starts",
    ],
)
def test_nights_that_end_before_the_next_dates_hours_are_accepted(edits: list[Edit]) -> None:
    _, catalog = load_catalog_text(edited(*edits))

    assert catalog.member("maria").periods_on(date(2026, 12, 11))


def test_a_staff_members_google_calendar_is_read_canonically() -> None:
    text = edited(put("staff", 1, "google_calendar", value="  Maria.K@Group.Calendar.Google.com "))
    document, catalog = load_catalog_text(text)

    assert catalog.member("maria").google_calendar == "maria.k@group.calendar.google.com"
    assert catalog.member("olga").google_calendar is None
    canonical = document.canonical()
    assert canonical["staff"][1]["google_calendar"] == "maria.k@group.calendar.google.com"
    assert "google_calendar" not in canonical["staff"][2]
    assert catalog_from_canonical(json.loads(json.dumps(canonical))) == catalog


def test_without_google_calendars_the_canonical_form_is_as_before() -> None:
    document, _ = load_catalog_text(DEMO_TEXT)

    assert all("google_calendar" not in member for member in document.canonical()["staff"])


@pytest.mark.parametrize(
    "value", ["maria", "maria@calendar", "a b@example.com", "x/y@example.com", "a" * 250 + "@x.io"]
)
def test_a_google_calendar_that_is_no_calendar_id_is_refused(value: str) -> None:
    (problem,) = _problems(edited(put("staff", 1, "google_calendar", value=value)))

    assert problem.startswith("staff[1].google_calendar: ")
    assert "expected a Google Calendar id" in problem
