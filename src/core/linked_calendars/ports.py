"""The port the core writes a staff member's linked calendar through.

``salonbot`` supplies the implementation (``adapters.google_calendar``, google-api-python-
client in threads); the core knows events only as ``EventDraft``s and failures only as
``CalendarRefused``. Every instant is UTC-aware; ``time_zone`` is the salon's IANA zone,
for the calendar to display.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

EVENT_ID_PREFIX = "sb"


def event_id(booking_id: int) -> str:
    """The calendar event id of a booking: base32hex (``a-v``, ``0-9``), derived from the
    id alone, so a retry after a timeout names the same event and never makes a second."""
    raw = f"salonbot-booking-{booking_id}".encode()
    return EVENT_ID_PREFIX + base64.b32hexencode(raw).decode().lower().rstrip("=")


@dataclass(frozen=True, slots=True)
class EventDraft:
    """A booking as an event on its staff member's calendar."""

    event_id: str
    booking_id: int
    summary: str
    description: str
    start: datetime
    end: datetime
    time_zone: str


class CalendarRefused(Exception):
    """A call the calendar did not carry out. ``transient``: worth trying again (5xx,
    429, 403 rate limits, a timeout, no connection), after ``retry_after`` seconds when
    the calendar said; otherwise it will not work until someone fixes something (the
    calendar unshared, not found, a bad key): ``reason`` says what, for the staff page."""

    def __init__(self, reason: str, *, transient: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


class LinkedCalendars(Protocol):
    async def put(self, calendar_id: str, event: EventDraft) -> None:
        """The event is on the calendar as drafted: inserted with its own id, or, when an
        event of that id is already there (a 409: an earlier try that timed out after
        Google applied it), patched. ``CalendarRefused``."""
        ...

    async def remove(self, calendar_id: str, event_id: str) -> None:
        """The event is gone from the calendar (a 404 or 410: it already was).
        ``CalendarRefused``."""
        ...

    async def check(self, calendar_id: str) -> str | None:
        """Whether salonbot can read and write ``calendar_id``: None if so, else why not
        (one line, no secret in it)."""
        ...
