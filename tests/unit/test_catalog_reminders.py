"""The catalog's settings for what is sent unasked: reminders, the follow-up and the staff
agenda time, read strictly, built into the domain catalog and stored canonically."""

from __future__ import annotations

import json
from datetime import time, timedelta
from typing import Any

import pytest

from core.catalog.document import CatalogDocument
from core.catalog.file import catalog_from_canonical, load_catalog_text, parse_document
from core.catalog.limits import MAX_REMINDER_RULES, MAX_URL_CHARS
from core.catalog.problems import CatalogError
from core.domain.catalog import Catalog
from core.domain.reminders import (
    BeforeVisit,
    DayBeforeAt,
    FollowUp,
    QuietHours,
    ReminderPolicy,
)
from tests.catalog_cases import DEMO_TEXT, Edit, drop, edited, put

UNASKED = ("reminders", "follow_up", "staff_agenda_at")
WITHOUT_THEM = [drop(key) for key in UNASKED]


def _load(*edits: Edit) -> tuple[CatalogDocument, Catalog]:
    return load_catalog_text(edited(*edits))


def _problems(*edits: Edit) -> tuple[str, ...]:
    with pytest.raises(CatalogError) as error:
        load_catalog_text(edited(*edits))
    return error.value.problems


def _stored(document: CatalogDocument) -> dict[str, Any]:
    """The canonical form as the database gives it back (JSON)."""
    stored = json.loads(json.dumps(document.canonical()))
    assert isinstance(stored, dict)
    return stored


def test_the_demo_salon_reminds_follows_up_and_sends_the_staff_their_day() -> None:
    _, catalog = load_catalog_text(DEMO_TEXT)

    assert catalog.reminders == ReminderPolicy(
        rules=(
            BeforeVisit(timedelta(hours=24)),
            DayBeforeAt(time(18, 0)),
            BeforeVisit(timedelta(hours=2)),
        ),
        quiet_hours=QuietHours(time(21, 0), time(9, 0)),
        ask_to_confirm=True,
    )
    assert catalog.follow_up == FollowUp(timedelta(hours=2), "https://example.com/review")
    assert catalog.staff_agenda_at == time(8, 0)


def test_a_catalog_without_them_sends_nothing_unasked() -> None:
    _, catalog = _load(*WITHOUT_THEM)

    assert catalog.reminders == ReminderPolicy()
    assert catalog.reminders.rules == ()
    assert catalog.follow_up is None
    assert catalog.staff_agenda_at is None


def test_a_catalog_without_them_is_stored_without_their_keys() -> None:
    # So a catalog stored before these settings existed keeps its form (and its digest).
    document, _ = _load(*WITHOUT_THEM)

    assert not set(UNASKED) & set(document.canonical())


def test_empty_reminders_remind_of_nothing() -> None:
    _, catalog = _load(put("reminders", value={}))

    assert catalog.reminders == ReminderPolicy()


def test_the_stored_settings_read_back_as_the_same_catalog() -> None:
    document, catalog = load_catalog_text(DEMO_TEXT)
    stored = _stored(document)

    assert stored["reminders"] == {
        "rules": [{"before": "24h"}, {"day_before_at": "18:00"}, {"before": "2h"}],
        "quiet_hours": "21:00-09:00",
        "ask_to_confirm": True,
    }
    assert stored["follow_up"] == {"after": "2h", "review_url": "https://example.com/review"}
    assert stored["staff_agenda_at"] == "08:00"
    assert catalog_from_canonical(stored) == catalog
    assert parse_document(stored).canonical() == document.canonical()


def test_the_same_settings_spelt_differently_are_stored_alike() -> None:
    document, _ = load_catalog_text(DEMO_TEXT)

    other, _ = _load(
        put(
            "reminders",
            "rules",
            value=[{"before": "1d"}, {"day_before_at": " 18:00 "}, {"before": 120}],
        ),
        put("reminders", "quiet_hours", value="21:00 - 9:00"),
        put("follow_up", "after", value="120m"),
        put("staff_agenda_at", value="8:00"),
    )

    assert other.canonical() == document.canonical()


def test_durations_are_stored_in_hours_and_minutes_and_read_back_alike() -> None:
    document, catalog = _load(put("policies", "booking_horizon", value="60d"))

    stored = _stored(document)

    assert stored["policies"]["booking_horizon"] == "1440h"
    assert stored["policies"]["min_notice"] == "2h"
    assert catalog_from_canonical(stored).salon.policies == catalog.salon.policies


def test_quiet_hours_may_end_at_midnight() -> None:
    _, catalog = _load(put("reminders", "quiet_hours", value="21:00-24:00"))

    assert catalog.reminders.quiet_hours == QuietHours(time(21, 0), time(0, 0))


def test_quiet_hours_may_lie_within_a_day() -> None:
    _, catalog = _load(put("reminders", "quiet_hours", value="12:00-14:00"))

    assert catalog.reminders.quiet_hours == QuietHours(time(12, 0), time(14, 0))


def test_a_follow_up_needs_no_review_link() -> None:
    _, catalog = _load(drop("follow_up", "review_url"))

    assert catalog.follow_up == FollowUp(timedelta(hours=2), "")


def test_a_follow_up_may_go_as_the_visit_ends() -> None:
    _, catalog = _load(put("follow_up", "after", value="0m"))

    assert catalog.follow_up == FollowUp(timedelta(0), "https://example.com/review")


def test_asking_to_confirm_is_off_unless_asked_for() -> None:
    _, catalog = _load(drop("reminders", "ask_to_confirm"))

    assert catalog.reminders.ask_to_confirm is False


def test_the_largest_settings_are_accepted() -> None:
    rules = [{"before": f"{h}h"} for h in range(1, MAX_REMINDER_RULES)] + [{"before": "14d"}]
    url = "https://example.com/" + "r" * (MAX_URL_CHARS - len("https://example.com/"))

    _, catalog = _load(
        put("reminders", "rules", value=rules),
        put("follow_up", value={"after": "7d", "review_url": url}),
        put("staff_agenda_at", value="23:59"),
    )

    assert len(catalog.reminders.rules) == MAX_REMINDER_RULES
    assert catalog.reminders.rules[-1] == BeforeVisit(timedelta(days=14))
    assert catalog.follow_up == FollowUp(timedelta(days=7), url)
    assert catalog.staff_agenda_at == time(23, 59)


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            put("reminders", "rules", value=[{"before": f"{h}h"} for h in range(1, 8)]),
            f"reminders.rules: 7 entries: too many; at most {MAX_REMINDER_RULES}",
        ),
        (
            put("reminders", "rules", value=[{}]),
            "reminders.rules[0]: {}: give exactly one of before (like 24h) or day_before_at "
            "(like '18:00')",
        ),
        (
            put("reminders", "rules", value=["24h"]),
            "reminders.rules[0]: '24h': expected a mapping (key: value)",
        ),
        (
            put("reminders", "rules", 0, value={"after": "2h"}),
            "reminders.rules[0].after: '2h': unknown key; expected one of before, day_before_at",
        ),
        (
            put("reminders", "rules", 0, "before", value="14d1m"),
            "reminders.rules[0].before: '14d1m': must be at most 14d",
        ),
        (
            put("reminders", "rules", 0, "before", value="0m"),
            "reminders.rules[0].before: '0m': must be longer than zero",
        ),
        (
            put("reminders", "rules", 0, "before", value="soon"),
            "reminders.rules[0].before: 'soon': expected a duration like 45m, 1h30m, 2h or 30d",
        ),
        (
            put("reminders", "rules", 1, "day_before_at", value="18.00"),
            "reminders.rules[1].day_before_at: '18.00': expected a time of day as 'HH:MM'",
        ),
        (
            put("reminders", "rules", 1, "day_before_at", value=1080),
            "reminders.rules[1].day_before_at: 1080: write the time in quotes ('18:00'); "
            "unquoted, YAML reads it as a number",
        ),
        (
            put(
                "reminders",
                "rules",
                value=[{"day_before_at": "18:00"}, {"day_before_at": " 18:00"}],
            ),
            "reminders.rules[1]: 'day_before_at:18:00': the same reminder as rules[0]",
        ),
        (
            put("reminders", "quiet_hours", value="21:00"),
            "reminders.quiet_hours: '21:00': expected quiet hours as 'HH:MM-HH:MM', "
            "for example '21:00-09:00'",
        ),
        (
            put("reminders", "quiet_hours", value="21:00-21:00"),
            "reminders.quiet_hours: '21:00-21:00': quiet hours must start and end at "
            "different times",
        ),
        (
            put("reminders", "quiet_hours", value="24:00-09:00"),
            "reminders.quiet_hours: '24:00-09:00': not a time of day (00:00 to 23:59)",
        ),
        (
            put("reminders", "quiet_hours", value="21:00-25:00"),
            "reminders.quiet_hours: '21:00-25:00': not a time of day (00:00 to 24:00)",
        ),
        (
            put("reminders", "ask_to_confirm", value="perhaps"),
            "reminders.ask_to_confirm: 'perhaps': expected true or false",
        ),
        (
            put("reminders", value=["before: 24h"]),
            "reminders: ['before: 24h']: expected a mapping (key: value)",
        ),
        (
            put("follow_up", value={"review_url": "https://example.com/review"}),
            "follow_up.after: missing: required",
        ),
        (
            put("follow_up", "after", value="7d1m"),
            "follow_up.after: '7d1m': must be at most 7d",
        ),
        (
            put("follow_up", "review_url", value="example.com/review"),
            "follow_up.review_url: 'example.com/review': expected an http:// or https:// "
            "address, for example https://example.com/review",
        ),
        (
            put("follow_up", "review_url", value="https://example.com/a review"),
            "follow_up.review_url: 'https://example.com/a review': expected an http:// or "
            "https:// address, for example https://example.com/review",
        ),
        (
            put("follow_up", "review_url", value="https://example.com/\u0000"),
            "follow_up.review_url: 'https://example.com/\\x00': expected an http:// or "
            "https:// address, for example https://example.com/review",
        ),
        (
            put("follow_up", "review_url", value="https://example.com:99999/review"),
            "follow_up.review_url: 'https://example.com:99999/review': expected an http:// or "
            "https:// address, for example https://example.com/review",
        ),
        (
            put("follow_up", "review_url", value="https:///review"),
            "follow_up.review_url: 'https:///review': expected an http:// or https:// "
            "address, for example https://example.com/review",
        ),
        (
            put("follow_up", "review_url", value="https://e.com/" + "r" * MAX_URL_CHARS),
            "follow_up.review_url: 'https://e.com/" + "r" * 42 + "...: "
            f"too long; at most {MAX_URL_CHARS} characters",
        ),
        (
            put("staff_agenda_at", value="8 am"),
            "staff_agenda_at: '8 am': expected a time of day as 'HH:MM'",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_key(edit: Edit, problem: str) -> None:
    assert _problems(edit) == (problem,)


def test_every_bad_setting_is_reported_at_once() -> None:
    problems = _problems(
        put("reminders", "rules", 0, "before", value="15d"),
        put("follow_up", "after", value="8d"),
        put("staff_agenda_at", value="25:00"),
    )

    assert problems == (
        "reminders.rules[0].before: '15d': must be at most 14d",
        "follow_up.after: '8d': must be at most 7d",
        "staff_agenda_at: '25:00': not a time of day (00:00 to 23:59)",
    )
