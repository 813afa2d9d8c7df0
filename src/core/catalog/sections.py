"""The sections of a catalog file (salon, policies, categories, services, staff), field by
field, with the bounds of ``core.catalog.limits`` on every list and text.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.numbers import list_currencies
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from core.catalog.limits import (
    MAX_BREAKS_PER_PERIOD,
    MAX_EXCEPTIONS_PER_STAFF,
    MAX_ID_CHARS,
    MAX_LANGUAGES,
    MAX_NAME_CHARS,
    MAX_PERIODS_PER_DAY,
    MAX_PHONE_CHARS,
    MAX_SERVICES,
    MAX_TEXT_CHARS,
)
from core.catalog.values import (
    WEEKDAYS,
    Break,
    Buffer,
    ExceptionDate,
    GoogleCalendarId,
    Horizon,
    Key,
    Language,
    Notice,
    Price,
    TimeOfDay,
    VisitDuration,
    Weekday,
)

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
Names = Annotated[
    dict[str, Annotated[str, Field(max_length=MAX_NAME_CHARS)]], Field(max_length=MAX_LANGUAGES)
]
"""A name per language."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SalonDoc(StrictModel):
    name: Name
    timezone: str = Field(max_length=100)
    languages: list[Language] = Field(min_length=1, max_length=MAX_LANGUAGES)
    currency: str = Field(max_length=10)
    address: str = Field("", max_length=MAX_TEXT_CHARS)
    phone: str = Field("", max_length=MAX_PHONE_CHARS)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError("not an IANA time zone (for example Europe/Berlin)")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone (for example Europe/Berlin)") from None
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        twice = sorted({code for code in value if value.count(code) > 1})
        if twice:
            raise ValueError(f"{', '.join(map(repr, twice))} listed twice")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in list_currencies():
            raise ValueError("not an ISO 4217 currency code (for example EUR)")
        return value


class PoliciesDoc(StrictModel):
    min_notice: Notice = timedelta(hours=1)
    booking_horizon: Horizon = timedelta(days=60)
    slot_step: VisitDuration = timedelta(minutes=15)
    hold_ttl: VisitDuration = timedelta(minutes=10)
    customer_cancel_cutoff: Notice = timedelta(hours=12)
    customer_reschedule_cutoff: Notice = timedelta(hours=12)


class CategoryDoc(StrictModel):
    id: Key
    name: Names


class ServiceDoc(StrictModel):
    id: Key
    name: Names
    category: str | None = Field(None, max_length=MAX_ID_CHARS)
    duration: VisitDuration
    price: Price
    # A negative buffer would make the blocked span shorter than the visit itself.
    buffer_before: Buffer = timedelta(0)
    buffer_after: Buffer = timedelta(0)


class PeriodDoc(StrictModel):
    start: TimeOfDay = Field(alias="from")
    end: TimeOfDay = Field(alias="to")
    breaks: list[Break] = Field([], max_length=MAX_BREAKS_PER_PERIOD)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def text(self) -> str:
        return f"{self.start}-{self.end}"


def _parse_period(value: object) -> object:
    if isinstance(value, str) and value.count("-") == 1:
        start, _, end = value.partition("-")
        return {"from": start.strip(), "to": end.strip()}
    if isinstance(value, dict | PeriodDoc):
        return value
    raise ValueError("expected a period as 'HH:MM-HH:MM' or {from: 'HH:MM', to: 'HH:MM'}")


Period = Annotated[PeriodDoc, BeforeValidator(_parse_period)]
Periods = Annotated[list[Period], Field(max_length=MAX_PERIODS_PER_DAY)]


class StaffServiceDoc(StrictModel):
    id: str = Field(max_length=MAX_ID_CHARS)
    duration: VisitDuration | None = None


def _parse_staff_service(value: object) -> object:
    return {"id": value} if isinstance(value, str) else value


class ExceptionDoc(StrictModel):
    date: ExceptionDate
    day_off: bool = False
    hours: Periods = []
    note: str = Field("", max_length=MAX_TEXT_CHARS)


class StaffDoc(StrictModel):
    id: Key
    name: Name
    services: Annotated[
        list[Annotated[StaffServiceDoc, BeforeValidator(_parse_staff_service)]],
        Field(max_length=MAX_SERVICES),
    ]
    hours: Annotated[dict[Weekday, Periods], Field(max_length=len(WEEKDAYS))]
    exceptions: list[ExceptionDoc] = Field([], max_length=MAX_EXCEPTIONS_PER_STAFF)
    # Their own Google Calendar, shared with the salon's service account; unset: not synced.
    google_calendar: GoogleCalendarId | None = None
