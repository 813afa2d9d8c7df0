"""What a catalog may be: each bound may be reached but not passed, and a file beyond one
(hostile or mistaken) is refused with one short problem, before it is expanded or built.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from core.catalog.file import load_catalog_text, read_catalog_file
from core.catalog.limits import (
    MAX_BREAKS_PER_PERIOD,
    MAX_CATEGORIES,
    MAX_DEPTH,
    MAX_EXCEPTIONS_PER_STAFF,
    MAX_FILE_BYTES,
    MAX_ID_CHARS,
    MAX_LANGUAGE_CODE_CHARS,
    MAX_LANGUAGES,
    MAX_NAME_CHARS,
    MAX_PERIODS_PER_DAY,
    MAX_PHONE_CHARS,
    MAX_PROBLEMS_SHOWN,
    MAX_REMINDER_RULES,
    MAX_SERVICES,
    MAX_STAFF,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    MAX_VALUES,
)
from core.catalog.problems import CatalogError, show
from tests.catalog_cases import BILLION_LAUGHS, DEMO_TEXT, catalog_at_limits, edited, put, to_yaml

TOO_LARGE = (
    f"(file): more than {MAX_FILE_BYTES} bytes: too large; "
    f"a catalog file may have at most {MAX_FILE_BYTES} bytes"
)
TOO_DEEP = f"lists and mappings nested more than {MAX_DEPTH} levels deep; a catalog needs 8"
REPEATS = " (an alias counts as all it repeats)"

# Every count small but one, to keep each test quick.
SMALL = {
    "services": 1,
    "staff": 2,
    "categories": 1,
    "exceptions": 1,
    "periods": 1,
    "breaks": 1,
    "languages": 1,
}


def _problems(text: str) -> tuple[str, ...]:
    with pytest.raises(CatalogError) as error:
        load_catalog_text(text)
    return error.value.problems


def test_a_catalog_at_every_limit_loads() -> None:
    _, catalog = load_catalog_text(to_yaml(catalog_at_limits()))

    assert len(catalog.services) == MAX_SERVICES
    assert len(catalog.staff) == MAX_STAFF
    assert len(catalog.categories) == MAX_CATEGORIES
    assert len(catalog.salon.languages) == MAX_LANGUAGES
    first, second = list(catalog.staff.values())[:2]
    assert len(first.exceptions) == MAX_EXCEPTIONS_PER_STAFF
    assert len(first.services) == MAX_SERVICES
    monday = second.weekly[1]
    assert len(monday) == MAX_PERIODS_PER_DAY
    assert len(monday[0].breaks) == MAX_BREAKS_PER_PERIOD
    assert len(first.name) == MAX_NAME_CHARS
    assert len(catalog.reminders.rules) == MAX_REMINDER_RULES
    assert catalog.follow_up is not None
    assert len(catalog.follow_up.review_url) == MAX_URL_CHARS


def test_a_file_of_exactly_the_largest_size_loads() -> None:
    padding = MAX_FILE_BYTES - len(DEMO_TEXT.encode()) - 1
    text = DEMO_TEXT + "#" + "é" * (padding // 2) + " " * (padding % 2)  # é is two bytes
    assert len(text.encode()) == MAX_FILE_BYTES

    _, catalog = load_catalog_text(text)

    assert len(catalog.services) == 7


def test_a_file_one_byte_larger_is_refused_as_too_large() -> None:
    text = DEMO_TEXT + "#" + "x" * (MAX_FILE_BYTES - len(DEMO_TEXT.encode()))
    assert len(text.encode()) == MAX_FILE_BYTES + 1

    assert _problems(text) == (TOO_LARGE,)


def test_a_huge_file_is_refused_without_being_read_in_full(tmp_path: Path) -> None:
    huge = tmp_path / "salon.yaml"
    with huge.open("wb") as file:  # sparse: 8 GB the test never writes nor reads
        file.truncate(8 * 1024**3)

    with pytest.raises(CatalogError) as error:
        read_catalog_file(huge)

    assert error.value.problems == (TOO_LARGE,)


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    text = DEMO_TEXT + "#" + "x" * (MAX_FILE_BYTES - len(DEMO_TEXT.encode()) - 1)
    path = tmp_path / "salon.yaml"
    path.write_text(text, encoding="utf-8")

    assert read_catalog_file(path) == text


def test_billion_laughs_are_refused_before_they_are_expanded() -> None:
    assert len(BILLION_LAUGHS) < 4096

    assert _problems(BILLION_LAUGHS) == (
        f"(file): line 6, column 8: more than {MAX_VALUES} values; "
        f"too large for a catalog{REPEATS}",
    )


def test_aliases_within_the_limit_are_fine() -> None:
    # A merge key and an alias, the usual reasons to use them: Olga works Anna's weekdays.
    text = DEMO_TEXT.replace(
        '    hours:\n      tue: [{from: "10:00"', '    hours: &anna\n      tue: [{from: "10:00"', 1
    ).replace(
        '    hours:\n      mon: [{from: "11:00"',
        '    hours:\n      <<: *anna\n      mon: [{from: "11:00"',
        1,
    )
    assert "*anna" in text

    _, catalog = load_catalog_text(text)

    assert catalog.member("olga").weekly[2] == catalog.member("anna").weekly[2]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("salon: " + "[" * 500 + "]" * 500 + "\n", f"(file): line 1, column 27: {TOO_DEEP}"),
        ("salon: " + "[" * 1000 + "]" * 1000 + "\n", f"(file): line 1, column 27: {TOO_DEEP}"),
        ("salon: " + "[" * 100_000 + "\n", f"(file): line 1, column 27: {TOO_DEEP}"),
        (
            "salon:\n" + "".join("  " * depth + "-\n" for depth in range(1, 60)),
            f"(file): line 21, column 41: {TOO_DEEP}",
        ),
        (
            # 15 levels, repeated 15 levels down: only the alias passes the limit.
            "a: &deep " + "[" * 15 + "]" * 15 + "\nb: " + "[" * 10 + "*deep" + "]" * 10 + "\n",
            f"(file): line 2, column 14: {TOO_DEEP}{REPEATS}",
        ),
    ],
    ids=[
        "flow",
        "flow at libyaml's own limit",
        "flow, past libyaml's own limit",
        "block",
        "through an alias",
    ],
)
def test_deep_nesting_is_refused_in_one_line(text: str, problem: str) -> None:
    assert _problems(text) == (problem,)


def test_nesting_up_to_the_limit_is_only_refused_for_what_it_says() -> None:
    lists = MAX_DEPTH - 2  # inside the top-level mapping and the salon's
    deepest = "[" * lists + "]" * lists
    text = DEMO_TEXT.replace('  phone: "+49 30 1234567"', f"  phone: {deepest}", 1)

    assert _problems(text) == (f"salon.phone: {deepest}: expected text",)
    assert _problems(text.replace(deepest, f"[{deepest}]")) == (
        f"(file): line 10, column {10 + lists}: {TOO_DEEP}",
    )


def test_a_value_that_contains_itself_is_refused() -> None:
    assert _problems("salon: &me {name: x, again: *me}\n") == (
        "(file): line 1, column 29: *me: a value that contains itself",
    )


@pytest.mark.parametrize(
    ("over", "problem"),
    [
        (
            {"services": MAX_SERVICES + 1},
            f"services: {MAX_SERVICES + 1} entries: too many; at most {MAX_SERVICES}",
        ),
        (
            {"staff": MAX_STAFF + 1},
            f"staff: {MAX_STAFF + 1} entries: too many; at most {MAX_STAFF}",
        ),
        (
            {"categories": MAX_CATEGORIES + 1},
            f"categories: {MAX_CATEGORIES + 1} entries: too many; at most {MAX_CATEGORIES}",
        ),
        (
            {"exceptions": MAX_EXCEPTIONS_PER_STAFF + 1},
            f"staff[0].exceptions: {MAX_EXCEPTIONS_PER_STAFF + 1} entries: too many; "
            f"at most {MAX_EXCEPTIONS_PER_STAFF}",
        ),
        (
            {"periods": MAX_PERIODS_PER_DAY + 1},
            f"staff[1].hours.mon: {MAX_PERIODS_PER_DAY + 1} entries: too many; "
            f"at most {MAX_PERIODS_PER_DAY}",
        ),
        (
            {"breaks": MAX_BREAKS_PER_PERIOD + 1},
            f"staff[1].hours.mon[0].breaks: {MAX_BREAKS_PER_PERIOD + 1} entries: too many; "
            f"at most {MAX_BREAKS_PER_PERIOD}",
        ),
        (
            {"languages": MAX_LANGUAGES + 1},
            f"salon.languages: {MAX_LANGUAGES + 1} entries: too many; at most {MAX_LANGUAGES}",
        ),
        (
            {"reminder_rules": MAX_REMINDER_RULES + 1},
            f"reminders.rules: {MAX_REMINDER_RULES + 1} entries: too many; "
            f"at most {MAX_REMINDER_RULES}",
        ),
    ],
    ids=lambda value: next(iter(value)) if isinstance(value, dict) else "",
)
def test_one_more_than_a_count_allows_is_one_problem(over: dict[str, int], problem: str) -> None:
    assert _problems(to_yaml(catalog_at_limits(**(SMALL | over)))) == (problem,)


@pytest.mark.parametrize(
    ("path", "longest", "problem"),
    [
        (("salon", "name"), MAX_NAME_CHARS, f"too long; at most {MAX_NAME_CHARS} characters"),
        (
            ("services", 3, "name", "en"),
            MAX_NAME_CHARS,
            f"too long; at most {MAX_NAME_CHARS} characters",
        ),
        (
            ("categories", 0, "name", "ru"),
            MAX_NAME_CHARS,
            f"too long; at most {MAX_NAME_CHARS} characters",
        ),
        (("staff", 1, "name"), MAX_NAME_CHARS, f"too long; at most {MAX_NAME_CHARS} characters"),
        (("salon", "address"), MAX_TEXT_CHARS, f"too long; at most {MAX_TEXT_CHARS} characters"),
        (
            ("staff", 0, "exceptions", 0, "note"),
            MAX_TEXT_CHARS,
            f"too long; at most {MAX_TEXT_CHARS} characters",
        ),
        (("salon", "phone"), MAX_PHONE_CHARS, f"too long; at most {MAX_PHONE_CHARS} characters"),
    ],
)
def test_text_may_reach_its_length_limit_but_not_pass_it(
    path: tuple[str | int, ...], longest: int, problem: str
) -> None:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)[1:]

    load_catalog_text(edited(put(*path, value="x" * longest)))
    assert _problems(edited(put(*path, value="x" * (longest + 1)))) == (
        f"{where}: {show('x' * (longest + 1))}: {problem}",
    )


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (
            ("services", 3, "id"),
            "m" * (MAX_ID_CHARS + 1),
            f"expected an id of lowercase letters, digits, '-' or '_' (max {MAX_ID_CHARS})",
        ),
        (
            ("staff", 1, "services", 0),
            "m" * (MAX_ID_CHARS + 1),
            f"too long; at most {MAX_ID_CHARS} characters",
        ),
        (
            ("services", 3, "category"),
            "m" * (MAX_ID_CHARS + 1),
            f"too long; at most {MAX_ID_CHARS} characters",
        ),
        (
            ("salon", "languages", 1),
            "r" * (MAX_LANGUAGE_CODE_CHARS + 1),
            f"too long; at most {MAX_LANGUAGE_CODE_CHARS} characters",
        ),
    ],
    ids=["service id", "offered service id", "category", "language code"],
)
def test_ids_and_codes_are_bounded(path: tuple[str | int, ...], value: str, problem: str) -> None:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)[1:]
    if path[:3] == ("staff", 1, "services"):
        where += ".id"

    assert _problems(edited(put(*path, value=value))) == (f"{where}: {show(value)}: {problem}",)


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("9999-12-31", "'9999-12-31'"),
        ("0001-01-01", "'0001-01-01'"),
        ("'9999-12-31'", "'9999-12-31'"),
        ("1999-12-31", "'1999-12-31'"),
        ("2100-01-01", "'2100-01-01'"),
    ],
)
def test_an_exception_date_outside_this_century_is_refused(written: str, shown: str) -> None:
    text = DEMO_TEXT.replace("- date: 2026-12-24", f"- date: {written}", 1)

    assert _problems(text) == (
        f"staff[0].exceptions[0].date: {shown}: expected a date from 2000-01-01 to 2099-12-31",
    )


def test_exception_dates_on_the_first_and_last_day_allowed_load() -> None:
    text = DEMO_TEXT.replace("- date: 2026-12-24", "- date: 2000-01-01", 1).replace(
        "- date: 2026-12-31", "- date: 2099-12-31", 1
    )

    _, catalog = load_catalog_text(text)

    assert set(catalog.member("anna").exceptions) == {date(2000, 1, 1), date(2099, 12, 31)}


def test_a_value_is_quoted_short_however_large_it_is() -> None:
    lol: list[Any] = ["lol"] * 9
    for _ in range(12):  # 9**13 values, all the same few lists
        lol = [lol] * 9
    itself: list[Any] = [1]
    itself.append(itself)

    assert show(lol) == "[[[[[[[[[[[[['lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'l..."
    assert show("x" * 10**7) == "'" + "x" * 56 + "..."
    assert show(itself) == "[1, [...]]"
    assert show({"a": {1, 2}, "b": b"\\x00"}) == repr({"a": {1, 2}, "b": b"\\x00"})
    assert show(date(2026, 12, 24)) == "'2026-12-24'"
    for short in [(), ("a",), ("a", [1]), frozenset(), frozenset({2}), set(), [], {}]:
        assert show(short) == repr(short)
    assert show([("key", "x" * 10**7)]) == "[('key', '" + "x" * 47 + "..."


def test_a_yaml_problem_quotes_little_of_what_it_names() -> None:
    (problem,) = _problems("salon: *" + "a" * 100_000 + "\n")

    assert problem.startswith(
        "(file): line 1, column 8: not valid YAML: found undefined alias 'aaa"
    )
    assert len(problem) < 300


def test_an_error_message_lists_the_first_problems_and_counts_the_rest() -> None:
    many = [f"services[{i}].price: -1: must not be negative" for i in range(MAX_PROBLEMS_SHOWN + 7)]

    message = str(CatalogError(many)).splitlines()

    assert message[1:-1] == [f"  {line}" for line in many[:MAX_PROBLEMS_SHOWN]]
    assert message[-1] == "  ... and 7 more problems"
    assert len(CatalogError(many).problems) == MAX_PROBLEMS_SHOWN + 7


def test_a_thousand_problems_are_a_bounded_message() -> None:
    data = catalog_at_limits(**(SMALL | {"services": MAX_SERVICES}))
    for service in data["services"]:
        service["price"] = -1

    with pytest.raises(CatalogError) as error:
        load_catalog_text(to_yaml(data))

    assert len(error.value.problems) == MAX_SERVICES
    assert len(str(error.value).splitlines()) == MAX_PROBLEMS_SHOWN + 2


@pytest.mark.parametrize(
    "duration",
    [" " * 100_000 + "x", "1d" + " " * 100_000 + "x", "1h" + " " * 100_000 + "1h"],
    ids=["spaces", "spaces after a unit", "spaces between units"],
)
def test_a_long_run_of_spaces_in_a_duration_is_refused_at_once(duration: str) -> None:
    # Two neighbouring optional groups once shared such a run: exponential backtracking.
    assert _problems(edited(put("services", 3, "duration", value=duration))) == (
        f"services[3].duration: {show(duration)}: expected a duration like 45m, 1h30m, 2h or 30d",
    )


def test_a_huge_key_is_quoted_short_in_the_path() -> None:
    key = "k" * 500_000
    unknown = _problems(edited(put("policies", key, value="1h")))
    foreign = _problems(edited(put("services", 3, "name", key, value="Manicure")))

    assert unknown == (
        f"policies.{'k' * 37}...: '1h': unknown key; expected one of min_notice, "
        "booking_horizon, slot_step, hold_ttl, customer_cancel_cutoff, "
        "customer_reschedule_cutoff",
    )
    assert foreign == (
        f"services[3].name.{'k' * 37}...: 'Manicure': {show(key)} is not one of the salon's "
        "languages (en, ru)",
    )
