"""The values a catalog file is written in: durations, times of day, breaks, prices, ids,
language codes, weekdays and dates, each read strictly and with an upper bound.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Annotated

from babel import Locale, UnknownLocaleError
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer

from core.catalog.limits import (
    FIRST_EXCEPTION_DATE,
    LAST_EXCEPTION_DATE,
    MAX_BOOKING_HORIZON,
    MAX_CALENDAR_ID_CHARS,
    MAX_ID_CHARS,
    MAX_LANGUAGE_CODE_CHARS,
)
from core.domain.durations import format_duration

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Matched against stripped text, each run of spaces after the unit it follows: with spaces
# free to go to either of two neighbouring groups, a long run took exponential time.
_DURATION = re.compile(r"^(?:(\d+)\s*d\s*)?(?:(\d+)\s*h\s*)?(?:(\d+)\s*m(?:in)?)?$")
_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})$")
_KEY = re.compile(rf"^[a-z0-9][a-z0-9_-]{{0,{MAX_ID_CHARS - 1}}}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def is_key(text: str) -> bool:
    """Whether ``text`` could be a catalog id (a service's, a staff member's): what an id
    from outside (a form, a URL) must be before it reaches a query."""
    return bool(_KEY.match(text)) and text == text.strip()


def _parse_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like 45m, 1h30m, 2h or 30d")
    # A duration too long for timedelta (or int()) is longer than every field's upper
    # bound, so it becomes the extreme value and that bound names the problem.
    if isinstance(value, int):
        try:
            return timedelta(minutes=value)
        except OverflowError:
            return timedelta.max if value > 0 else timedelta.min
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and any(match.groups()):
            try:
                days, hours, minutes = (int(g or 0) for g in match.groups())
                return timedelta(days=days, hours=hours, minutes=minutes)
            except (OverflowError, ValueError):
                return timedelta.max
    raise ValueError("expected a duration like 45m, 1h30m, 2h or 30d")


def _parse_date(value: object) -> object:
    """A ``YYYY-MM-DD`` text naming no calendar day is "not a date"; other input is pydantic's."""
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("not a date") from None
    return value


def _in_this_century(value: date) -> date:
    if not FIRST_EXCEPTION_DATE <= value <= LAST_EXCEPTION_DATE:
        raise ValueError(f"expected a date from {FIRST_EXCEPTION_DATE} to {LAST_EXCEPTION_DATE}")
    return value


def _parse_time_of_day(value: object) -> str:
    """Validate ``HH:MM`` (``24:00`` allowed as an end); kept as text, resolved later."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 100 * 60:
        # YAML 1.1 reads an unquoted 10:00 as the sexagesimal number 600.
        written = f"{value // 60}:{value % 60:02d}"
        raise ValueError(
            f"write the time in quotes ('{written}'); unquoted, YAML reads it as a number"
        )
    if not isinstance(value, str):
        raise ValueError("expected a time of day as 'HH:MM' in quotes")
    match = _TIME_OF_DAY.match(value.strip())
    if not match:
        raise ValueError("expected a time of day as 'HH:MM'")
    hour, minute = int(match.group(1)), int(match.group(2))
    if minute > 59 or hour > 24 or (hour == 24 and minute != 0):
        raise ValueError("not a time of day (00:00 to 24:00)")
    return f"{hour:02d}:{minute:02d}"


def _parse_break(value: object) -> str:
    """Validate ``HH:MM-HH:MM``; kept as normalized text."""
    if not isinstance(value, str) or value.count("-") != 1:
        raise ValueError("expected a break as 'HH:MM-HH:MM'")
    start, _, end = value.partition("-")
    return f"{_parse_time_of_day(start.strip())}-{_parse_time_of_day(end.strip())}"


def _format_price(value: Decimal) -> str:
    # 55, 55.0 and 55.00 are one price, so they must give one canonical document.
    return format(value.normalize(), "f")


def _non_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("must not be negative")
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


def _at_most(limit: timedelta, written: str) -> AfterValidator:
    def check(value: timedelta) -> timedelta:
        if value > limit:
            raise ValueError(f"must be at most {written}")
        return value

    return AfterValidator(check)


def _check_key(value: object) -> str:
    if not isinstance(value, str) or not _KEY.match(value.strip()):
        raise ValueError(
            f"expected an id of lowercase letters, digits, '-' or '_' (max {MAX_ID_CHARS})"
        )
    return value.strip()


def _check_language(value: object) -> object:
    if isinstance(value, str):
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise ValueError("not a known language code (for example en, ru, de)") from None
    return value


def _check_weekday(value: object) -> object:
    if value not in WEEKDAYS:
        raise ValueError(f"not a weekday; use {', '.join(WEEKDAYS)}")
    return value


Duration = Annotated[
    timedelta, BeforeValidator(_parse_duration), PlainSerializer(format_duration, return_type=str)
]
NonNegativeDuration = Annotated[Duration, AfterValidator(_non_negative)]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
# Every duration field has an upper bound: availability does date arithmetic with them, and
# an absurd value would overflow there instead of being named here.
_DAY = _at_most(timedelta(hours=24), "24h")
_YEAR = _at_most(timedelta(days=365), "365d")
_HORIZON = _at_most(MAX_BOOKING_HORIZON, f"{MAX_BOOKING_HORIZON.days}d (3 years)")
VisitDuration = Annotated[PositiveDuration, _DAY]  # a visit, the slot step, a hold
Buffer = Annotated[NonNegativeDuration, _DAY]
Notice = Annotated[NonNegativeDuration, _YEAR]  # the notice and cutoffs before a visit
Horizon = Annotated[PositiveDuration, _HORIZON]
TimeOfDay = Annotated[str, BeforeValidator(_parse_time_of_day)]
"""A wall-clock time of day in the salon's zone, ``HH:MM`` (``24:00`` as an end)."""
Break = Annotated[str, BeforeValidator(_parse_break)]
# bookings.price is NUMERIC(12, 2)
Price = Annotated[
    Decimal,
    Field(ge=0, max_digits=12, decimal_places=2),
    PlainSerializer(_format_price, return_type=str),
]
Key = Annotated[str, BeforeValidator(_check_key)]
Language = Annotated[
    str, Field(max_length=MAX_LANGUAGE_CODE_CHARS), AfterValidator(_check_language)
]
Weekday = Annotated[str, BeforeValidator(_check_weekday)]
ExceptionDate = Annotated[date, BeforeValidator(_parse_date), AfterValidator(_in_this_century)]


def time_of(text: str) -> time:
    """The ``time`` of a validated ``TimeOfDay``; ``24:00`` is midnight."""
    hour, minute = (int(part) for part in text.split(":"))
    return time(0, 0) if hour == 24 else time(hour, minute)


def minutes_of(text: str) -> int:
    """Minutes from midnight of a validated ``TimeOfDay``; ``24:00`` is 1440."""
    hour, minute = (int(part) for part in text.split(":"))
    return hour * 60 + minute


_ID_CHAR = r"[^\s@/?#%\x00-\x1f\x7f]"
_CALENDAR_ID = re.compile(rf"{_ID_CHAR}+@{_ID_CHAR}+\.{_ID_CHAR}+")


def _parse_calendar_id(value: object) -> object:
    if not isinstance(value, str):
        return value
    canonical = value.strip().lower()
    if len(canonical) > MAX_CALENDAR_ID_CHARS or not _CALENDAR_ID.fullmatch(canonical):
        raise ValueError(
            "expected a Google Calendar id (its settings, 'Integrate calendar'), "
            "for example maria@example.com or abc123@group.calendar.google.com"
        )
    return canonical


GoogleCalendarId = Annotated[str, BeforeValidator(_parse_calendar_id)]
"""A staff member's Google Calendar id, lowercased and trimmed."""
