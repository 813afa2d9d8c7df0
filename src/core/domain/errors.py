"""Domain errors: each is an answer the user can be given, never a crash."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


class DomainError(Exception):
    """Base of every rule violation the core reports to its callers."""


class UnknownService(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no service {key!r} in the catalog")
        self.key = key


class UnknownStaff(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no staff member {key!r} in the catalog")
        self.key = key


class StaffDoesNotPerform(DomainError):
    def __init__(self, staff_key: str, service_key: str) -> None:
        super().__init__(f"{staff_key!r} does not perform {service_key!r}")
        self.staff_key = staff_key
        self.service_key = service_key


@dataclass(frozen=True, slots=True)
class Alternative:
    """A free slot offered instead of one that was taken."""

    staff_key: str
    start: datetime


class SlotTaken(DomainError):
    """The slot is no longer free; ``alternatives`` are the nearest free ones, nearest first."""

    def __init__(self, start: datetime, alternatives: Sequence[Alternative] = ()) -> None:
        super().__init__(f"the slot at {start.isoformat()} is not available")
        self.start = start
        self.alternatives = tuple(alternatives)


class SlotNotOffered(DomainError):
    """The requested start breaks a policy or lies outside working time."""

    def __init__(self, start: datetime, reason: str) -> None:
        super().__init__(f"no bookable slot at {start.isoformat()}: {reason}")
        self.start = start
        self.reason = reason


class BookingNotFound(DomainError):
    def __init__(self, booking_id: int) -> None:
        super().__init__(f"no booking #{booking_id}")
        self.booking_id = booking_id


class InvalidTransition(DomainError):
    def __init__(self, booking_id: int, status: str, action: str) -> None:
        super().__init__(f"booking #{booking_id} is {status}; cannot {action}")
        self.booking_id = booking_id
        self.status = status
        self.action = action


class VisitMoved(DomainError):
    """The visit has moved (a new time or staff member) since the version the caller
    acted on: what it meant to do is not done to the visit as it is now."""

    def __init__(self, booking_id: int, version: int) -> None:
        super().__init__(f"booking #{booking_id} has moved since version {version}")
        self.booking_id = booking_id
        self.version = version


class RequestReused(DomainError):
    """A request key that already made a booking came with a different request (another
    service, time, staff member or customer): nothing is booked. The same request again
    would have been answered with ``booking_id``."""

    def __init__(self, booking_id: int) -> None:
        super().__init__(
            f"this request key already made booking #{booking_id}, for a different request"
        )
        self.booking_id = booking_id


class HoldExpired(DomainError):
    def __init__(self, booking_id: int) -> None:
        super().__init__(f"the hold #{booking_id} expired before it was confirmed")
        self.booking_id = booking_id


class CutoffPassed(DomainError):
    """A customer tried to change a booking closer to its start than the policy allows."""

    def __init__(self, booking_id: int, action: str, cutoff_hours: float) -> None:
        super().__init__(
            f"booking #{booking_id} can no longer be {action} by the customer "
            f"(less than {cutoff_hours:g} h before the visit)"
        )
        self.booking_id = booking_id
        self.action = action
        self.cutoff_hours = cutoff_hours


class TimeOffConflict(DomainError):
    def __init__(self, staff_key: str, booking_ids: Sequence[int]) -> None:
        ids = ", ".join(f"#{i}" for i in booking_ids)
        super().__init__(f"{staff_key!r} has active bookings in that time: {ids}")
        self.staff_key = staff_key
        self.booking_ids = tuple(booking_ids)


class CatalogRemovalRefused(DomainError):
    """Loading a catalog would drop services or staff that still have future bookings."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)
