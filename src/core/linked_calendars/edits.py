"""What a read of a staff member's calendar found of salonbot's own event means for its
booking: the rules of ``core.services.calendar_edits`` (its docstring says why), as a
pure function of the event, the booking and what salonbot last wrote to that calendar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.domain.booking import Booking, BookingStatus
from core.linked_calendars.busy import instance_of_ours
from core.linked_calendars.ports import CalendarEvent, event_id


def N_(text: str) -> str:  # noqa: N802 - gettext's name for "extract, translate later"
    """``text`` as it is; ``pybabel extract`` finds it (a default keyword), and whoever
    shows it translates it then."""
    return text


class RevertReason:
    """Why salonbot put back a staff member's change of its event in Google: a
    ``reverted`` alert's ``detail``, finishing "salonbot put it back: ...". Kept in English;
    the staff notice and the staff page say it in their reader's language."""

    RECURRING = N_("a booking cannot become a recurring event")
    ALL_DAY = N_("a booking cannot become an all-day event")
    LENGTH = N_("a booking keeps its service's length: move the event without stretching it")
    TAKEN = N_("that time is not free (a booking, time off or an event of your own)")
    PAST = N_("that time has already passed")
    NOT_OFFERED = N_(
        "that time is not a start time the salon offers for this service (outside your"
        " hours, or off its grid of start times)"
    )
    TOO_FAR = N_("that time is further ahead than the salon takes bookings")


@dataclass(frozen=True, slots=True)
class LastWrite:
    """What salonbot last carried out on a calendar for a booking: a put of ``start`` to
    ``end`` (``put``), or a remove; ``done_at``: when the pusher saw it done (salonbot's
    clock, after Google answered)."""

    put: bool
    done_at: datetime
    start: datetime | None = None
    end: datetime | None = None


class EditAction(StrEnum):
    IGNORE = "ignore"
    CANCEL = "cancel"
    MOVE = "move"
    REVERT = "revert"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with the booking; ``why`` for the log (and, for a revert, the staff);
    ``start``: where a move goes."""

    action: EditAction
    why: str
    start: datetime | None = None


def _ignore(why: str) -> Verdict:
    return Verdict(EditAction.IGNORE, why)


def is_ours(event: CalendarEvent) -> bool:
    """The event is salonbot's own: its booking id names its id (a copy made in Google
    keeps the booking id under another event id), or the series it is an instance of
    (salonbot's event made recurring in Google)."""
    if event.booking_id is None:
        return False
    return event.event_id == event_id(event.booking_id) or instance_of_ours(event)


def one_per_booking(events: Iterable[CalendarEvent]) -> list[CalendarEvent]:
    """What a read found of each booking's event (``booking_id`` set), one per booking: an
    event that exists rather than one deleted (Google lists the deleted instances of a
    series beside the event put back as a single one), the booking's own event rather
    than an instance of it, else the last listed."""
    best: dict[int, CalendarEvent] = {}
    for event in events:
        assert event.booking_id is not None
        kept = best.get(event.booking_id)
        if kept is None or _says_more(event) >= _says_more(kept):
            best[event.booking_id] = event
    return list(best.values())


def _says_more(event: CalendarEvent) -> tuple[bool, bool]:
    return (not event.cancelled, not instance_of_ours(event))


def judge(
    staff_key: str,
    event: CalendarEvent,
    booking: Booking | None,
    *,
    open_push: bool,
    last: LastWrite | None,
    now: datetime,
) -> Verdict:
    """The verdict on ``event`` as read from ``staff_key``'s calendar; ``open_push``: a
    push of the booking is waiting or under way (not done, not parked); ``last``: the
    last push done on this calendar for the booking."""
    if not is_ours(event):
        return _ignore("not salonbot's event (a copy under another id)")
    if booking is None:
        return _ignore("no such booking")
    if booking.status is not BookingStatus.CONFIRMED:
        return _ignore(f"the booking is {booking.status.value}")
    if booking.staff_key != staff_key:
        return _ignore("the booking is another staff member's now")
    if open_push:
        return _ignore("salonbot's newer state of the booking is on its way")
    if last is None or not last.put:
        return _ignore("salonbot did not put the event on this calendar")
    if instance_of_ours(event):
        # Made recurring in Google: salonbot puts it back as the single event it was.
        # Instances removed, or read before that put landed, are its echo.
        if event.cancelled or event.updated is None or event.updated <= last.done_at:
            return _ignore("an instance of the event, removed or read before salonbot's write")
        return Verdict(EditAction.REVERT, RevertReason.RECURRING)
    # A deleted event Google gave by its id alone comes with the read's start as its
    # ``updated`` (``CalendarRead``): the only place that knows when the read began.
    if event.updated is None or event.updated <= last.done_at:
        return _ignore("read before salonbot's last write landed")
    if event.cancelled:
        return _deleted(booking, now)
    if event.start is None or event.end is None:
        return Verdict(EditAction.REVERT, RevertReason.ALL_DAY)
    if (event.start, event.end) == (last.start, last.end):
        return _ignore("as salonbot last put it")
    if (event.start, event.end) == (booking.start, booking.end):
        return _ignore("as the booking is")
    if event.end - event.start != booking.end - booking.start:
        return Verdict(EditAction.REVERT, RevertReason.LENGTH)
    return Verdict(EditAction.MOVE, "moved in Google Calendar", event.start)


def _deleted(booking: Booking, now: datetime) -> Verdict:
    if booking.start <= now:
        return _ignore("the visit has begun: the desk marks how it went")
    return Verdict(EditAction.CANCEL, "deleted in Google Calendar")
