"""The demo catalog and broken copies of it, each with the one problem it must be reported as.

Shared by the catalog file's unit tests, the loading tests on Postgres and the CLI tests,
so each layer is held to the same precise ``path: value: reason`` line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from core.catalog.limits import (
    MAX_BREAKS_PER_PERIOD,
    MAX_CATEGORIES,
    MAX_EXCEPTIONS_PER_STAFF,
    MAX_ID_CHARS,
    MAX_LANGUAGES,
    MAX_NAME_CHARS,
    MAX_PERIODS_PER_DAY,
    MAX_PHONE_CHARS,
    MAX_REMINDER_RULES,
    MAX_SERVICES,
    MAX_STAFF,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
)

EXAMPLE_CATALOG = Path(__file__).resolve().parents[1] / "examples" / "salon.yaml"
DEMO_TEXT = EXAMPLE_CATALOG.read_text(encoding="utf-8")

Edit = Callable[[dict[str, Any]], None]

# Nine lists of nine, each repeating the one before: 9**9 (387 million) "lol"s in 400 bytes.
BILLION_LAUGHS = (
    "salon: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]\n"
        for before, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "services: *i\n"
)


def demo_data() -> dict[str, Any]:
    """A fresh decoded copy of the demo catalog, free to change."""
    data = yaml.safe_load(DEMO_TEXT)
    assert isinstance(data, dict)
    return data


def to_yaml(data: object) -> str:
    # libyaml's emitter: the largest catalogs take a second to write with PyYAML's own.
    return yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


def edited(*edits: Edit) -> str:
    """The demo catalog as YAML text after ``edits``."""
    data = demo_data()
    for edit in edits:
        edit(data)
    return to_yaml(data)


def put(*path: str | int, value: object) -> Edit:
    """An edit setting the value at ``path`` (keys and list indexes) of the document."""

    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return edit


def drop(*path: str | int) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return edit


def without_service(key: str) -> Edit:
    """Remove a service and every staff member's offer of it."""

    def edit(data: dict[str, Any]) -> None:
        data["services"] = [s for s in data["services"] if s["id"] != key]
        for member in data["staff"]:
            member["services"] = [
                s for s in member["services"] if (s if isinstance(s, str) else s["id"]) != key
            ]

    return edit


def without_staff(key: str) -> Edit:
    def edit(data: dict[str, Any]) -> None:
        data["staff"] = [m for m in data["staff"] if m["id"] != key]

    return edit


def _duplicate_first_service(data: dict[str, Any]) -> None:
    data["services"].append(dict(data["services"][0]))


def _rename_sunday(data: dict[str, Any]) -> None:
    hours = data["staff"][2]["hours"]
    hours["sunday"] = hours.pop("sun")


def add_exception(staff: int, day: str, hours: list[str] | None = None) -> Edit:
    """An edit giving ``data["staff"][staff]`` one more dated exception: ``hours``, or a day off."""
    exception: dict[str, Any] = {"date": day}
    exception.update({"hours": hours} if hours is not None else {"day_off": True})

    def edit(data: dict[str, Any]) -> None:
        data["staff"][staff].setdefault("exceptions", []).append(dict(exception))

    return edit


@dataclass(frozen=True, slots=True)
class Broken:
    """A broken copy of the demo catalog and the single problem line it must produce."""

    name: str
    text: str
    problem: str


# In the demo: services[0] womens-haircut, [1] mens-haircut, [3] manicure, [5] brow-shaping;
# staff[0] Anna (exceptions[0] 2026-12-24 off), [1] Maria (Mon 09:00-18:00, break
# 13:00-13:30; Sat 10:00-15:00; exceptions[0] 2026-12-24 off), [2] Olga (works Sundays,
# Mondays from 11:00; exceptions[0] 2026-12-07 off). 2026-12-11 is a Friday.
BROKEN = [
    Broken(
        "a reminder given twice, once in days and once in hours",
        edited(lambda d: d["reminders"]["rules"].append({"before": "1d"})),
        "reminders.rules[3]: 'before:24h': the same reminder as rules[0]",
    ),
    Broken(
        "a reminder rule with both before and day_before_at",
        edited(put("reminders", "rules", 1, "before", value="3h")),
        "reminders.rules[1]: {'day_before_at': '18:00', 'before': '3h'}: "
        "give exactly one of before (like 24h) or day_before_at (like '18:00')",
    ),
    Broken(
        "a reminder a month before the visit",
        edited(put("reminders", "rules", 0, "before", value="30d")),
        "reminders.rules[0].before: '30d': must be at most 14d",
    ),
    Broken(
        "quiet hours that end when they start",
        edited(put("reminders", "quiet_hours", value="00:00-24:00")),
        "reminders.quiet_hours: '00:00-24:00': quiet hours must start and end at different times",
    ),
    Broken(
        "a misspelt reminder setting",
        edited(put("reminders", "quiet_hour", value="22:00-08:00")),
        "reminders.quiet_hour: '22:00-08:00': unknown key; "
        "expected one of rules, quiet_hours, ask_to_confirm",
    ),
    Broken(
        "a follow-up more than a week after the visit",
        edited(put("follow_up", "after", value="8d")),
        "follow_up.after: '8d': must be at most 7d",
    ),
    Broken(
        "a review link that is no web address",
        edited(put("follow_up", "review_url", value="javascript:alert(1)")),
        "follow_up.review_url: 'javascript:alert(1)': expected an http:// or https:// address, "
        "for example https://example.com/review",
    ),
    Broken(
        "a staff agenda at 24:00",
        edited(put("staff_agenda_at", value="24:00")),
        "staff_agenda_at: '24:00': not a time of day (00:00 to 23:59)",
    ),
    Broken(
        "a staff member offers an unknown service",
        edited(lambda d: d["staff"][0]["services"].append("nail-art")),
        "staff[0].services[3]: 'nail-art': no such service in 'services'",
    ),
    Broken(
        "a time zone that does not exist",
        edited(put("salon", "timezone", value="Europe/Berlinn")),
        "salon.timezone: 'Europe/Berlinn': not an IANA time zone (for example Europe/Berlin)",
    ),
    Broken(
        "hours until 25:00",
        edited(put("staff", 1, "hours", "mon", 0, "to", value="25:00")),
        "staff[1].hours.mon[0].to: '25:00': not a time of day (00:00 to 24:00)",
    ),
    Broken(
        "a break outside working hours",
        edited(put("staff", 1, "hours", "mon", 0, "breaks", value=["18:30-19:00"])),
        "staff[1].hours.mon[0].breaks[0]: '18:30-19:00': outside the working hours 09:00-18:00",
    ),
    Broken(
        "a duration that is not one",
        edited(put("services", 3, "duration", value="an hour")),
        "services[3].duration: 'an hour': expected a duration like 45m, 1h30m, 2h or 30d",
    ),
    Broken(
        "a service name missing one of the salon's languages",
        edited(drop("services", 3, "name", "ru")),
        "services[3].name.ru: missing: needed for each of the salon's languages (en, ru)",
    ),
    Broken(
        "a name in a language the salon does not speak",
        edited(put("categories", 0, "name", "de", value="Haare")),
        "categories[0].name.de: 'Haare': 'de' is not one of the salon's languages (en, ru)",
    ),
    Broken(
        "two services with one id",
        edited(_duplicate_first_service),
        "services[7].id: 'womens-haircut': used more than once",
    ),
    Broken(
        "a service in an unknown category",
        edited(put("services", 5, "category", value="eyes")),
        "services[5].category: 'eyes': no such category in 'categories'",
    ),
    Broken(
        "a weekday key that is not a weekday",
        edited(_rename_sunday),
        "staff[2].hours.sunday: 'sunday': not a weekday; use mon, tue, wed, thu, fri, sat, sun",
    ),
    Broken(
        "overlapping periods on one day",
        edited(put("staff", 1, "hours", "sat", value=["10:00-15:00", "14:00-18:00"])),
        "staff[1].hours.sat[1]: '14:00-18:00': overlaps '10:00-15:00'",
    ),
    Broken(
        "an exception with both day_off and hours",
        edited(put("staff", 0, "exceptions", 0, "hours", value=["10:00-12:00"])),
        "staff[0].exceptions[0].hours: ['10:00-12:00']: a day off has no hours; "
        "give either 'day_off: true' or 'hours', not both",
    ),
    Broken(
        "a negative price",
        edited(put("services", 1, "price", value=-35)),
        "services[1].price: -35: must not be negative",
    ),
    Broken(
        "an unknown top-level key",
        edited(put("opening_hours", value="09:00-18:00")),
        "opening_hours: '09:00-18:00': unknown key; "
        "expected one of salon, policies, categories, services, staff, reminders, follow_up, "
        "staff_agenda_at",
    ),
    Broken(
        "text that is not YAML",
        DEMO_TEXT.replace("  currency: EUR\n", "  currency: EUR: euro\n", 1),
        "(file): line 8, column 16: not valid YAML: mapping values are not allowed here",
    ),
    Broken(
        "a file that is a list, not a mapping",
        "- salon\n- services\n- staff\n",
        "(top level): ['salon', 'services', 'staff']: "
        "expected a mapping with salon, services and staff",
    ),
    Broken(
        "an unquoted time, which YAML reads as a number",
        DEMO_TEXT.replace('{from: "09:00", to: "18:00"', '{from: "09:00", to: 18:00', 1),
        "staff[1].hours.mon[0].to: 1080: write the time in quotes ('18:00'); "
        "unquoted, YAML reads it as a number",
    ),
    Broken(
        "a negative buffer",
        edited(put("services", 0, "buffer_after", value=-10)),
        "services[0].buffer_after: -10: must not be negative",
    ),
    Broken(
        "a misspelt policy",
        edited(put("policies", "min_notise", value="1h")),
        "policies.min_notise: '1h': unknown key; expected one of min_notice, booking_horizon, "
        "slot_step, hold_ttl, customer_cancel_cutoff, customer_reschedule_cutoff",
    ),
    Broken(
        "a price with more cents than the database keeps",
        edited(put("services", 3, "price", value=40.125)),
        "services[3].price: 40.125: at most 2 decimal places",
    ),
    Broken(
        "an exception on a day the calendar does not have",
        # Unquoted, so YAML itself tries (and fails) to read it as a date.
        DEMO_TEXT.replace("- date: 2026-12-24", "- date: 2026-02-30", 1),
        "staff[0].exceptions[0].date: '2026-02-30': not a date",
    ),
    Broken(
        "a duration too long for any timedelta",
        edited(put("services", 3, "duration", value="99999999999d")),
        "services[3].duration: '99999999999d': must be at most 24h",
    ),
    Broken(
        "a booking horizon beyond three years",
        edited(put("policies", "booking_horizon", value="3000000d")),
        "policies.booking_horizon: '3000000d': must be at most 1096d (3 years)",
    ),
    Broken(
        "a policy given twice",
        DEMO_TEXT.replace("  slot_step: 15m ", "  slot_step: 15m\n  slot_step: 7m ", 1),
        "(file): line 16, column 3: not valid YAML: duplicate key 'slot_step', "
        "first given on line 15",
    ),
    Broken(
        "an exception running past midnight into the next day's weekly hours",
        edited(add_exception(1, "2026-12-11", ["21:00-10:30"])),
        "staff[1].exceptions[1].hours[0]: '21:00-10:30': runs into sat's '10:00-15:00' "
        "on 2026-12-12",
    ),
    Broken(
        "weekly hours running past midnight into an exception's hours",
        edited(
            put("staff", 2, "hours", "sun", value=["20:00-02:00"]),
            add_exception(2, "2026-12-14", ["01:00-09:00"]),
        ),
        "staff[2].hours.sun[0]: '20:00-02:00': runs into the 2026-12-14 exception's '01:00-09:00'",
    ),
]


def catalog_at_limits(
    *,
    services: int = MAX_SERVICES,
    staff: int = MAX_STAFF,
    categories: int = MAX_CATEGORIES,
    exceptions: int = MAX_EXCEPTIONS_PER_STAFF,
    periods: int = MAX_PERIODS_PER_DAY,
    breaks: int = MAX_BREAKS_PER_PERIOD,
    languages: int = MAX_LANGUAGES,
    name_chars: int = MAX_NAME_CHARS,
    reminder_rules: int = MAX_REMINDER_RULES,
    url_chars: int = MAX_URL_CHARS,
) -> dict[str, Any]:
    """A valid catalog at every count and length limit (or past one, where given).

    Every service is in one category and offered by the first staff member; the first
    staff member also has ``exceptions`` dated exceptions, one a day; the second works
    ``periods`` periods on Mondays, the first of them with ``breaks`` breaks. Every name
    is given in each of the salon's ``languages``; the first of each kind is the longest
    a name may be, the others are short (all of them that long would be far over the
    file size limit). It sends ``reminder_rules`` reminders, the longest a day before, and a
    follow-up with a review link of ``url_chars`` characters.
    """
    codes = ["en", "ru", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sk", "uk", "tr", "el"]
    codes += ["sv", "da", "fi", "hu", "ro", "bg", "hr", "sl", "lt", "lv", "et"]
    spoken = codes[:languages]
    long_name = "N" * name_chars
    # Names in more languages than a salon may speak would each be refused too.
    longest = {code: long_name for code in spoken[:MAX_LANGUAGES]}
    short = {code: "S" for code in spoken[:MAX_LANGUAGES]}
    service_ids = [f"service-{i:04d}-" + "x" * (MAX_ID_CHARS - 13) for i in range(services)]
    day = date(2030, 1, 1)
    # Periods of 10 minutes each, 12 an hour apart; breaks of a minute in the first one.
    first_period = {
        "from": "06:00",
        "to": "06:59",
        "breaks": [f"06:{2 * b + 1:02d}-06:{2 * b + 2:02d}" for b in range(breaks)],
    }
    monday = [first_period] + [f"{7 + k:02d}:00-{7 + k:02d}:10" for k in range(periods - 1)]
    return {
        "salon": {
            "name": long_name,
            "timezone": "Europe/Berlin",
            "languages": spoken,
            "currency": "EUR",
            "address": "A" * MAX_TEXT_CHARS,
            "phone": "9" * MAX_PHONE_CHARS,
        },
        "categories": [
            {"id": f"category-{i:03d}", "name": longest if i == 0 else short}
            for i in range(categories)
        ],
        "services": [
            {
                "id": key,
                "name": longest if i == 0 else short,
                "category": "category-000",
                "duration": "30m",
                "price": 10,
            }
            for i, key in enumerate(service_ids)
        ],
        "staff": [
            {
                "id": f"staff-{m:03d}",
                "name": long_name if m == 0 else "M",
                "services": service_ids[:MAX_SERVICES] if m == 0 else [service_ids[0]],
                "hours": {"mon": monday} if m == 1 else {"tue": ["09:00-17:00"]},
                "exceptions": [
                    {
                        "date": str(day + timedelta(days=e)),
                        "day_off": True,
                        "note": "O" * MAX_TEXT_CHARS if e == 0 else "",
                    }
                    for e in range(exceptions if m == 0 else 0)
                ],
            }
            for m in range(staff)
        ],
        "reminders": {
            "rules": [{"before": f"{14 * 24 - r}h"} for r in range(reminder_rules)],
            "quiet_hours": "21:00-09:00",
            "ask_to_confirm": True,
        },
        "follow_up": {
            "after": "7d",
            "review_url": "https://e.com/" + "r" * (url_chars - len("https://e.com/")),
        },
        "staff_agenda_at": "23:59",
    }
