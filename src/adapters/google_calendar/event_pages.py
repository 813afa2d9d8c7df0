"""Reading an ``events.list`` answer as the core's ``EventPage``.

Google's JSON is outside input: an item that cannot be read (no id, times without an
offset, a date that does not parse) is skipped with a log line naming only what is wrong,
never the event's title or description; a page that is not a list answer at all is a
transient ``CalendarRefused``. Nothing here trusts a size Google did not promise.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from core.linked_calendars.ports import CalendarEvent, CalendarRefused, EventPage

log = logging.getLogger(__name__)

PAGE_SIZE = 250
"""Items asked for a page (Google's default; it never sends more than asked)."""
_MOST_ITEMS = 2500  # Google's own ceiling for maxResults: more is not a real answer
_MOST_TOKEN = 8192
_MOST_ID = 1024
_BOOKING_ID = re.compile(r"[1-9][0-9]{0,17}")


class UnreadableEvent(ValueError):
    """An item of the list that cannot be read; the message says why, without content."""


def event_page(body: object) -> EventPage:
    """The page in ``body`` (an ``events.list`` answer); ``CalendarRefused`` when it is
    not one."""
    if not isinstance(body, Mapping):
        raise CalendarRefused("Google Calendar answered a list with no list", transient=True)
    items = body.get("items", [])
    next_page = _token(body.get("nextPageToken"))
    sync_token = _token(body.get("nextSyncToken"))
    if not isinstance(items, list) or len(items) > _MOST_ITEMS:
        raise CalendarRefused("Google Calendar answered an unreadable list", transient=True)
    if (next_page is None) == (sync_token is None):
        raise CalendarRefused(
            "Google Calendar answered a list page without its next token", transient=True
        )
    events: list[CalendarEvent] = []
    for item in items:
        try:
            events.append(calendar_event(item))
        except UnreadableEvent as why:
            log.warning("calendar event skipped: %s", why)
    return EventPage(events, next_page, sync_token)


def calendar_event(item: object) -> CalendarEvent:
    """One event of Google's list as a ``CalendarEvent``; ``UnreadableEvent``."""
    if not isinstance(item, Mapping):
        raise UnreadableEvent("not an object")
    event_id = item.get("id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= _MOST_ID:
        raise UnreadableEvent("no id")
    cancelled = item.get("status") == "cancelled"
    busy = item.get("transparency") != "transparent" and not _declined(item.get("attendees"))
    booking_id = _booking_id(item.get("extendedProperties"))
    updated = _instant(item.get("updated"))
    series = _series(item.get("recurringEventId"))
    start, end = item.get("start"), item.get("end")
    if cancelled and start is None and end is None:
        # Deleted: Google keeps only the id for sure.
        return CalendarEvent(
            event_id,
            True,
            busy,
            booking_id=booking_id,
            updated=updated,
            recurring_event_id=series,
        )
    if not isinstance(start, Mapping) or not isinstance(end, Mapping):
        raise UnreadableEvent(f"{event_id[:60]}: no start or end")
    if "dateTime" in start and "dateTime" in end:
        starts, ends = _instant(start["dateTime"]), _instant(end["dateTime"])
        if starts is None or ends is None:
            raise UnreadableEvent(f"{event_id[:60]}: a time without its offset")
        return CalendarEvent(
            event_id,
            cancelled,
            busy,
            start=starts,
            end=ends,
            booking_id=booking_id,
            updated=updated,
            recurring_event_id=series,
        )
    if "date" in start and "date" in end:
        first, after = _day(start["date"]), _day(end["date"])
        if first is None or after is None:
            raise UnreadableEvent(f"{event_id[:60]}: an all-day date that does not parse")
        return CalendarEvent(
            event_id,
            cancelled,
            busy,
            first_day=first,
            end_day=after,
            booking_id=booking_id,
            updated=updated,
            recurring_event_id=series,
        )
    raise UnreadableEvent(f"{event_id[:60]}: neither times nor dates")


def _token(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= _MOST_TOKEN:
        raise CalendarRefused("Google Calendar answered an unreadable page token", transient=True)
    return value


def _declined(attendees: object) -> bool:
    """The calendar's own entry among the attendees (``self``: "represents the calendar on
    which this copy of the event appears") declined the invitation: it shows them free."""
    if not isinstance(attendees, list):
        return False
    return any(
        isinstance(attendee, Mapping)
        and attendee.get("self") is True
        and attendee.get("responseStatus") == "declined"
        for attendee in attendees
    )


def _booking_id(properties: object) -> int | None:
    """``extendedProperties.private.salonbotBookingId`` when it is a plain positive int."""
    private = properties.get("private") if isinstance(properties, Mapping) else None
    value = private.get("salonbotBookingId") if isinstance(private, Mapping) else None
    if isinstance(value, str) and _BOOKING_ID.fullmatch(value):
        return int(value)
    return None


def _series(value: object) -> str | None:
    """``recurringEventId``: the recurring event an instance belongs to."""
    if isinstance(value, str) and 0 < len(value) <= _MOST_ID:
        return value
    return None


def _instant(value: Any) -> datetime | None:
    """An RFC 3339 time with its offset, in UTC; None for anything else."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or moment.utcoffset() is None:
            return None
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
