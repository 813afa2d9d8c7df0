"""The API's one error shape, ``{"error": code, "message": ...}``, and which status each
refusal of the core gets.

A refusal changes nothing (the core's use cases own their transactions); the message is
English for the developer, the ``error`` code is what a client branches on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.calendar.desk import (
    CustomerNotFound,
    EntryRefused,
    NoSuchLocalTime,
    NotAllowed,
    TimeOffNotFound,
)
from core.domain.errors import (
    BookingNotFound,
    CutoffPassed,
    DomainError,
    HoldExpired,
    InvalidTransition,
    RequestReused,
    SlotNotOffered,
    SlotTaken,
    StaffDoesNotPerform,
    TimeOffConflict,
    UnknownService,
    UnknownStaff,
    VisitMoved,
)


class AlternativeOut(BaseModel):
    """A free start offered instead of a taken one."""

    model_config = ConfigDict(extra="forbid")

    staff: str
    start: datetime


class Problem(BaseModel):
    """Every error the API answers. ``alternatives``: with ``slot_taken``, the nearest
    free starts, nearest first; ``problems``: with ``bad_input``, what was wrong where
    (never the value that was sent)."""

    model_config = ConfigDict(extra="forbid")

    error: str
    message: str
    alternatives: list[AlternativeOut] | None = None
    problems: list[str] | None = Field(default=None, max_length=20)


class ApiProblem(Exception):
    """An answer other than success, raised anywhere in a route."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        alternatives: list[AlternativeOut] | None = None,
        problems: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = Problem(
            error=error, message=message, alternatives=alternatives, problems=problems
        )
        self.headers = headers or {}


NOT_SIGNED_IN = "not_signed_in"
BAD_INPUT = "bad_input"

# Refusal -> (status, code). Order matters: the first class the error is an instance of.
_REFUSALS: tuple[tuple[type[DomainError], int, str], ...] = (
    (NotAllowed, 403, "not_allowed"),
    (BookingNotFound, 404, "booking_not_found"),
    (CustomerNotFound, 404, "customer_not_found"),
    (TimeOffNotFound, 404, "time_off_not_found"),
    (SlotTaken, 409, "slot_taken"),
    (SlotNotOffered, 409, "slot_not_offered"),
    (InvalidTransition, 409, "invalid_transition"),
    (VisitMoved, 409, "booking_moved"),
    (RequestReused, 409, "request_key_reused"),
    (HoldExpired, 409, "hold_expired"),
    (CutoffPassed, 409, "cutoff_passed"),
    (TimeOffConflict, 409, "time_off_conflict"),
    (UnknownService, 422, "unknown_service"),
    (UnknownStaff, 422, "unknown_staff"),
    (StaffDoesNotPerform, 422, "staff_does_not_perform"),
    (NoSuchLocalTime, 422, "no_such_local_time"),
    (EntryRefused, 422, BAD_INPUT),
)


def refusal(error: DomainError) -> ApiProblem:
    """The answer to a refusal of the core. One the table does not name (no catalog
    loaded yet, say) is a 409 ``refused`` with the core's own words."""
    for kind, status, code in _REFUSALS:
        if isinstance(error, kind):
            alternatives = None
            if isinstance(error, SlotTaken):
                alternatives = [
                    AlternativeOut(staff=a.staff_key, start=a.start) for a in error.alternatives
                ]
            return ApiProblem(status, code, str(error), alternatives=alternatives)
    return ApiProblem(409, "refused", str(error))


_DESCRIPTIONS = {
    401: "No live session: the bearer token is missing, unknown or expired (`not_signed_in`).",
    403: "The signed-in user's role does not allow this (`not_allowed`).",
    404: "The booking, customer or route is not there (`booking_not_found`, "
    "`customer_not_found`, `not_found`).",
    409: "The calendar refuses: `slot_taken` (with `alternatives`), `slot_not_offered`, "
    "`invalid_transition`, `booking_moved`, `hold_expired`, `time_off_conflict`, "
    "`request_key_reused` (an `Idempotency-Key` that made a different booking), "
    "or `refused` (no catalog loaded yet, say).",
    413: "The body is larger than 16 KiB (`too_large`).",
    422: "The input is not what this operation takes (`bad_input`, with `problems`), or "
    "names a service or staff member the salon does not have (`unknown_service`, "
    "`unknown_staff`, `staff_does_not_perform`).",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entry of a route for these error statuses, each a ``Problem``."""
    return {status: {"model": Problem, "description": _DESCRIPTIONS[status]} for status in statuses}


# What any route behind the bearer token may answer besides its own errors.
SIGNED_IN = (401, 422)
