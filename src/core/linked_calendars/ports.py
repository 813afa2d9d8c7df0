"""The port the core writes (and reads back) a staff member's linked calendar through.

``salonbot`` supplies the implementation (``adapters.google_calendar``, google-api-python-
client in threads); the core knows events only as ``EventDraft``s and failures only as
``CalendarRefused``. Every instant is UTC-aware; ``time_zone`` is the salon's IANA zone,
for the calendar to display.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
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


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One event of a calendar as ``changes`` reads it (a recurring event's instances
    each on their own: ``singleEvents``).

    ``cancelled``: deleted (reads return those too, in full when Google still has them);
    ``busy``: it blocks its time (opaque, the default, and not an invitation the staff
    member declined) rather than showing the person free (``transparency:
    transparent``). Timed events have ``start``/``end`` (UTC-aware); all-day events have
    ``first_day``/``end_day`` (``end_day`` exclusive, as Google has it) and no instants:
    the core places them in the salon's zone. A cancelled event may have neither.
    ``booking_id``: the ``salonbotBookingId`` private extended property, when the event
    is salonbot's own (check ``event_id == event_id(booking_id)`` before trusting it: a
    copy made in Google keeps the property under another id). ``updated``: when the
    event last changed, by Google's clock (UTC). ``recurring_event_id``: the recurring
    event this is an instance of (Google's ``recurringEventId``): an instance's id is
    ``{recurring id}_{its original start}``, and it carries the series' properties.
    """

    event_id: str
    cancelled: bool
    busy: bool = True
    start: datetime | None = None
    end: datetime | None = None
    first_day: date | None = None
    end_day: date | None = None
    booking_id: int | None = None
    updated: datetime | None = None
    recurring_event_id: str | None = None


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of ``changes``: ``next_page`` to ask for the next one; the last page has
    ``sync_token`` instead, for the next incremental read."""

    events: Sequence[CalendarEvent]
    next_page: str | None
    sync_token: str | None


@dataclass(frozen=True, slots=True)
class WatchChannel:
    """A push channel ``watch`` opened: Google's ``resourceId`` (needed to stop it) and
    when it expires (UTC)."""

    channel_id: str
    resource_id: str
    expires_at: datetime


class SyncExpired(Exception):
    """The sync token is no longer valid (410 ``fullSyncRequired``): forget what was read
    from the calendar and read it in full."""


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

    async def changes(
        self,
        calendar_id: str,
        *,
        sync_token: str | None,
        page_token: str | None,
        window: tuple[datetime, datetime],
    ) -> EventPage:
        """One page of the calendar's events. ``sync_token`` None: a full read of the
        events (instances of recurring ones) overlapping ``window`` (UTC, ``timeMin`` and
        ``timeMax``); else what changed since that token (``window`` is then not sent: the
        token remembers it). Deleted events are included either way, with their details
        and ``updated`` when Google still has them. ``SyncExpired``, ``CalendarRefused``."""
        ...

    async def watch(
        self, calendar_id: str, *, channel_id: str, address: str, token: str, expires_at: datetime
    ) -> WatchChannel:
        """Open a push channel: Google POSTs a notification (no body) to ``address`` with
        ``X-Goog-Channel-Token: token`` whenever an event of the calendar changes, until the
        channel expires (Google may shorten ``expires_at``: the answer says).
        ``CalendarRefused``."""
        ...

    async def stop_watch(self, channel_id: str, resource_id: str) -> None:
        """Close a push channel (one unknown to Google, or expired, counts as closed).
        ``CalendarRefused``."""
        ...


class OurEventsSeen(Protocol):
    """Who reconciles salonbot's own events that reads of the staff's calendars found, so
    that an edit or a deletion made in Google is followed or put back
    (``core.services.calendar_edits``).

    The calendar import keeps each read's events of ours (``booking_id`` set, the event's
    id or its series' the booking's) in ``calendar_seen_events``, in the transaction that
    keeps the read's busy time and sync token: none is lost once the token moves on. It
    then asks for them to be reconciled, and on every tick asks again for what is left.
    A deleted one that came without ``updated`` (Google guarantees only a deleted event's
    id) has when the read began in its place."""

    async def reconcile(self, staff_key: str | None = None) -> None:
        """Reconcile the kept events of ours that are due (``staff_key``'s; None: every
        staff member's), each in a transaction of its own; one that fails stays kept and
        is tried again later (parked after too many failures). Called outside any
        transaction."""
        ...


class NoOneWatchingOurEvents:
    """``OurEventsSeen`` that reconciles nothing (tests of the import alone): the events of
    ours stay kept."""

    async def reconcile(self, staff_key: str | None = None) -> None:
        return None
