"""Bookings: statuses, who acts on them, and the rules that depend on who acts."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.errors import CutoffPassed, InvalidTransition
from core.domain.timeline import to_utc


class BookingStatus(enum.StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def is_active(self) -> bool:
        """Active bookings occupy their time; the exclusion constraint covers exactly these."""
        return self in ACTIVE_STATUSES


ACTIVE_STATUSES = frozenset({BookingStatus.HELD, BookingStatus.CONFIRMED})


class ActorKind(enum.StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change; recorded with every change and deciding which cutoffs apply."""

    kind: ActorKind
    ref: str = ""

    @classmethod
    def customer(cls, customer_id: int) -> Actor:
        return cls(ActorKind.CUSTOMER, str(customer_id))

    @classmethod
    def staff(cls, staff_key: str) -> Actor:
        return cls(ActorKind.STAFF, staff_key)

    @classmethod
    def system(cls, what: str = "") -> Actor:
        return cls(ActorKind.SYSTEM, what)


@dataclass(frozen=True, slots=True)
class Booking:
    id: int
    customer_id: int | None
    service_key: str
    staff_key: str
    start: datetime
    end: datetime
    status: BookingStatus
    hold_expires_at: datetime | None = None
    # When the customer said they are coming (a reminder's Confirm); None: not yet.
    customer_confirmed_at: datetime | None = None
    # Bumped by every move (a new time or staff member): what a button that outlives a
    # conversation names, so a tap on an older message is known for what it is.
    version: int = 1

    def hold_expired(self, now: datetime) -> bool:
        return (
            self.status is BookingStatus.HELD
            and self.hold_expires_at is not None
            and self.hold_expires_at <= to_utc(now)
        )


def check_customer_cutoff(
    booking: Booking, actor: Actor, now: datetime, cutoff: timedelta, action: str
) -> None:
    """Customers may not change a visit closer to its start than ``cutoff``; staff may."""
    if actor.kind is not ActorKind.CUSTOMER:
        return
    if booking.start - to_utc(now) < cutoff:
        raise CutoffPassed(booking.id, action, cutoff.total_seconds() / 3600)


def require_status(booking: Booking, action: str, *allowed: BookingStatus) -> None:
    if booking.status not in allowed:
        raise InvalidTransition(booking.id, booking.status.value, action)
