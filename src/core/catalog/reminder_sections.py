"""The catalog's settings for what salonbot sends unasked: ``reminders`` before a visit,
the ``follow_up`` after it and the staff's agenda time (``staff_agenda_at``). All are
optional: a catalog without them sends nothing unasked.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from core.catalog.limits import MAX_REMINDER_RULES, MAX_URL_CHARS
from core.catalog.problems import show
from core.catalog.sections import StrictModel
from core.catalog.values import (
    NonNegativeDuration,
    PositiveDuration,
    _at_most,
    _parse_time_of_day,
    time_of,
)
from core.domain.reminders import (
    BeforeVisit,
    DayBeforeAt,
    FollowUp,
    QuietHours,
    ReminderPolicy,
    ReminderRule,
)

# No spaces or control characters: the link is sent as it is, inside a message.
_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f/?#]+[^\s\x00-\x1f\x7f]*$", re.IGNORECASE)


def _parse_clock_time(value: object) -> str:
    """A moment of the day, ``HH:MM`` from 00:00 to 23:59 (``24:00`` ends a span only)."""
    try:
        text = _parse_time_of_day(value)
    except ValueError as error:
        if not str(error).startswith("not a time of day"):
            raise
        text = "24:00"
    if text == "24:00":
        raise ValueError("not a time of day (00:00 to 23:59)")
    return text


def _parse_quiet_hours(value: object) -> str:
    """``HH:MM-HH:MM``, kept as normalized text; it may run past midnight, never be empty."""
    if not isinstance(value, str) or value.count("-") != 1:
        raise ValueError("expected quiet hours as 'HH:MM-HH:MM', for example '21:00-09:00'")
    start, _, end = value.partition("-")
    start, end = _parse_clock_time(start.strip()), _parse_time_of_day(end.strip())
    if time_of(start) == time_of(end):
        raise ValueError("quiet hours must start and end at different times")
    return f"{start}-{end}"


def _check_url(value: str) -> str:
    if value and not _a_web_address(value):
        raise ValueError(
            "expected an http:// or https:// address, for example https://example.com/review"
        )
    return value


def _a_web_address(value: str) -> bool:
    if not _URL.match(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return bool(parts.hostname)


ClockTime = Annotated[str, BeforeValidator(_parse_clock_time)]
"""A moment of the salon's local day, ``HH:MM`` (00:00 to 23:59)."""
ReminderLead = Annotated[PositiveDuration, _at_most(timedelta(days=14), "14d")]
FollowUpDelay = Annotated[NonNegativeDuration, _at_most(timedelta(days=7), "7d")]
QuietHoursText = Annotated[str, BeforeValidator(_parse_quiet_hours)]
Url = Annotated[str, Field(max_length=MAX_URL_CHARS), AfterValidator(_check_url)]


class ReminderRuleDoc(StrictModel):
    """One reminder: ``before: 24h`` (real time before the visit) or ``day_before_at:
    "18:00"`` (local time on the day before), exactly one of them."""

    before: ReminderLead | None = None
    day_before_at: ClockTime | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReminderRuleDoc:
        if (self.before is None) == (self.day_before_at is None):
            raise ValueError(
                "give exactly one of before (like 24h) or day_before_at (like '18:00')"
            )
        return self

    @model_serializer(mode="wrap")
    def _only_the_one_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}

    def rule(self) -> ReminderRule:
        if self.before is not None:
            return BeforeVisit(self.before)
        assert self.day_before_at is not None
        return DayBeforeAt(time_of(self.day_before_at))


class RemindersDoc(StrictModel):
    rules: list[ReminderRuleDoc] = Field([], max_length=MAX_REMINDER_RULES)
    quiet_hours: QuietHoursText | None = None
    ask_to_confirm: bool = False

    def policy(self) -> ReminderPolicy:
        quiet = None
        if self.quiet_hours is not None:
            start, _, end = self.quiet_hours.partition("-")
            quiet = QuietHours(time_of(start), time_of(end))
        return ReminderPolicy(
            rules=tuple(doc.rule() for doc in self.rules),
            quiet_hours=quiet,
            ask_to_confirm=self.ask_to_confirm,
        )


def check_reminders(reminders: RemindersDoc | None) -> list[str]:
    """The problems of reminders whose every field is valid: a rule given twice (``1d`` and
    ``24h`` are one rule), named at its second mention."""
    if reminders is None:
        return []
    problems: list[str] = []
    first: dict[str, int] = {}
    for i, doc in enumerate(reminders.rules):
        key = doc.rule().key
        if first.setdefault(key, i) != i:
            problems.append(
                f"reminders.rules[{i}]: {show(key)}: the same reminder as rules[{first[key]}]"
            )
    return problems


class FollowUpDoc(StrictModel):
    after: FollowUpDelay
    review_url: Url = ""

    def follow_up(self) -> FollowUp:
        return FollowUp(after=self.after, review_url=self.review_url)
