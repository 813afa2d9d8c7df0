"""What a page says when the desk refuses an action: one ``Refusal`` per domain error,
with the HTTP status its page is answered with.

A refusal changes nothing (the core's transaction rolled back); the page shows the form
again with the message, and for a taken slot the free times nearby to pick instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.staff_web.desk_words import DeskWords
from core.calendar.desk import (
    CustomerNotFound,
    EntryRefused,
    NoSuchLocalTime,
    NotAllowed,
    TimeOffNotFound,
)
from core.domain.errors import (
    Alternative,
    BookingNotFound,
    DomainError,
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


@dataclass(frozen=True, slots=True)
class Refusal:
    """``message`` for the page; ``alternatives`` of a taken slot; ``booking_ids`` that
    stand in the way of a time off."""

    status: int
    message: str
    alternatives: tuple[Alternative, ...] = ()
    booking_ids: tuple[int, ...] = ()


def refusal(error: DomainError, words: DeskWords) -> Refusal | None:
    """The refusal of ``error``, or None for an error no form causes (a catalog not
    loaded yet: the app's own answer)."""
    match error:
        case NotAllowed():
            return Refusal(403, words.not_allowed)
        case SlotTaken():
            return Refusal(409, words.slot_taken, error.alternatives[:6])
        case SlotNotOffered():
            return Refusal(409, words.slot_not_offered)
        case InvalidTransition():
            return Refusal(409, words.invalid_transition(error.status))
        case VisitMoved():
            return Refusal(409, words.changed_meanwhile)
        case RequestReused():
            return Refusal(409, words.request_reused(error.booking_id))
        case TimeOffConflict():
            return Refusal(409, words.time_off_conflict, booking_ids=error.booking_ids[:20])
        case BookingNotFound():
            return Refusal(404, words.booking_not_found)
        case CustomerNotFound():
            return Refusal(404, words.customer_not_found)
        case TimeOffNotFound():
            return Refusal(404, words.time_off_not_found)
        case UnknownStaff():
            return Refusal(422, words.unknown_staff)
        case UnknownService():
            return Refusal(422, words.unknown_service)
        case StaffDoesNotPerform():
            return Refusal(422, words.does_not_perform)
        case NoSuchLocalTime():
            return Refusal(422, words.no_such_time(error.day, error.at))
        case EntryRefused():
            return Refusal(422, words.entry(error.field, error.problem))
    return None


def bad_input(message: str) -> Refusal:
    return Refusal(422, message)
