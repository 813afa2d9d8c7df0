"""The salon as its owner describes it: salon, policies, services, staff and their hours.

These are plain immutable values. They are built from the catalog file by
``core.catalog`` and read back from the database the same way, so there is one
definition of a valid catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.domain.errors import UnknownService, UnknownStaff
from core.domain.reminders import FollowUp, ReminderPolicy


@dataclass(frozen=True, slots=True)
class Policies:
    """Booking rules that apply salon-wide."""

    min_notice: timedelta
    booking_horizon: timedelta
    slot_step: timedelta
    hold_ttl: timedelta
    customer_cancel_cutoff: timedelta
    customer_reschedule_cutoff: timedelta

    def __post_init__(self) -> None:
        # The grid advances by the step: a zero or negative one has no next slot.
        if self.slot_step <= timedelta(0):
            raise ValueError(f"slot_step must be positive, got {self.slot_step}")


@dataclass(frozen=True, slots=True)
class Salon:
    name: str
    zone: ZoneInfo
    languages: tuple[str, ...]
    currency: str
    policies: Policies
    address: str = ""
    phone: str = ""

    @property
    def default_language(self) -> str:
        return self.languages[0]


@dataclass(frozen=True, slots=True)
class Category:
    """A heading the owner groups services under (Hair, Nails, ...)."""

    key: str
    names: Mapping[str, str]

    def name(self, language: str) -> str:
        return self.names.get(language) or next(iter(self.names.values()))


@dataclass(frozen=True, slots=True)
class Service:
    """Something the salon sells; ``key`` is the owner's stable identifier."""

    key: str
    names: Mapping[str, str]
    duration: timedelta
    price: Decimal
    category: str | None = None
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)

    def name(self, language: str) -> str:
        return self.names.get(language) or next(iter(self.names.values()))


@dataclass(frozen=True, slots=True)
class WorkPeriod:
    """Local wall-clock working time; ``end`` at or before ``start`` runs past midnight."""

    start: time
    end: time
    breaks: tuple[tuple[time, time], ...] = ()

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class DayException:
    """A dated override of the weekly hours: a day off (no periods) or custom hours."""

    day: date
    periods: tuple[WorkPeriod, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Staff:
    key: str
    name: str
    # service key -> this person's duration for it, or None for the service's own
    services: Mapping[str, timedelta | None]
    # ISO weekday (1 = Monday) -> periods
    weekly: Mapping[int, tuple[WorkPeriod, ...]]
    exceptions: Mapping[date, DayException] = field(default_factory=dict)
    # Their own Google Calendar's id (lowercase), kept in step with their bookings; None:
    # not synced.
    google_calendar: str | None = None

    def performs(self, service_key: str) -> bool:
        return service_key in self.services

    def duration_of(self, service: Service) -> timedelta:
        own = self.services.get(service.key)
        return own if own is not None else service.duration

    def periods_on(self, day: date) -> tuple[WorkPeriod, ...]:
        """Working periods that start on local ``day``: the exception if any, else weekly."""
        exception = self.exceptions.get(day)
        if exception is not None:
            return exception.periods
        return self.weekly.get(day.isoweekday(), ())


@dataclass(frozen=True, slots=True)
class Catalog:
    salon: Salon
    services: Mapping[str, Service]
    staff: Mapping[str, Staff]
    # In the owner's order; services name theirs by key.
    categories: Mapping[str, Category] = field(default_factory=dict)
    # What is sent unasked: reminders before a visit, the follow-up after it (None: none),
    # and each linked staff member's agenda at this local time (None: none).
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    follow_up: FollowUp | None = None
    staff_agenda_at: time | None = None

    def service(self, key: str) -> Service:
        try:
            return self.services[key]
        except KeyError:
            raise UnknownService(key) from None

    def member(self, key: str) -> Staff:
        try:
            return self.staff[key]
        except KeyError:
            raise UnknownStaff(key) from None

    def at_the_desk(self) -> Catalog:
        """The rules the salon's own people book by: no minimum notice (a walk-in sits
        down now, a phone caller wants the next free chair); everything else, hours,
        horizon, grid and buffers, as the customers'."""
        if self.salon.policies.min_notice == timedelta(0):
            return self
        policies = replace(self.salon.policies, min_notice=timedelta(0))
        return replace(self, salon=replace(self.salon, policies=policies))

    def staff_for(self, service_key: str) -> list[Staff]:
        """Everyone who performs the service, in catalog order."""
        return [member for member in self.staff.values() if member.performs(service_key)]
