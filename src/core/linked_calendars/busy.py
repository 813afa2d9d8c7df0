"""What an event read from a staff member's calendar means for the salon: salonbot's own
event (by its id), or busy time, placed on the UTC timeline.

Pure functions: the import (``core.services.calendar_import``) applies them to what
``LinkedCalendars.changes`` read.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.domain.timeline import Interval, boundary_to_utc
from core.linked_calendars.ports import EVENT_ID_PREFIX, CalendarEvent, event_id

_OUR_TEXT = "salonbot-booking-"


def booking_of(event: CalendarEvent) -> int | None:
    """The booking whose event this is when it is salonbot's own, else None.

    Its id must be the booking's (``event_id(booking_id)``): a copy made in Google keeps
    the ``salonbotBookingId`` property under another id and is the staff member's own
    event. An instance of salonbot's event that the staff member made recurring in Google
    is salonbot's too (``instance_of_ours``): never busy time over its own booking. A
    deleted event comes back with its id alone: the id says whose it was.
    """
    if event.booking_id is not None and (
        event_id(event.booking_id) == event.event_id or instance_of_ours(event)
    ):
        return event.booking_id
    if event.booking_id is None and event.cancelled:
        return _booking_in_id(event.event_id)
    return None


def instance_of_ours(event: CalendarEvent) -> bool:
    """An instance of salonbot's own event made recurring in Google: the series it belongs
    to has the booking's event id (an instance has an id of its own and keeps the
    series' ``salonbotBookingId``)."""
    return (
        event.booking_id is not None
        and event.recurring_event_id is not None
        and event.recurring_event_id == event_id(event.booking_id)
    )


def _booking_in_id(identifier: str) -> int | None:
    if not identifier.startswith(EVENT_ID_PREFIX) or len(identifier) > 64:
        return None
    encoded = identifier[len(EVENT_ID_PREFIX) :].upper()
    try:
        text = base64.b32hexdecode(encoded + "=" * (-len(encoded) % 8)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    number = text.removeprefix(_OUR_TEXT)
    if not text.startswith(_OUR_TEXT) or not number.isdigit() or len(number) > 18:
        return None
    booking_id = int(number)
    return booking_id if booking_id > 0 and event_id(booking_id) == identifier else None


def busy_time(event: CalendarEvent, zone: ZoneInfo, window: Interval) -> Interval | None:
    """The time the event blocks within reach of ``window``, or None: deleted, shown as
    free (transparent), salonbot's own, without time, or wholly outside ``window``.

    An all-day event blocks its local days in the salon's ``zone``, midnight to midnight
    (a DST day is 23 or 25 hours long); its days are first cut to those around
    ``window``, so a date at the ends of the calendar never overflows.
    """
    if event.cancelled or not event.busy or booking_of(event) is not None:
        return None
    if event.start is not None and event.end is not None:
        start, end = event.start, event.end
    elif event.first_day is not None and event.end_day is not None:
        first = max(event.first_day, _local_day(window.start, zone) - timedelta(days=1))
        after = min(event.end_day, _local_day(window.end, zone) + timedelta(days=1))
        if first >= after:
            return None
        start = boundary_to_utc(datetime.combine(first, time(0)), zone)
        end = boundary_to_utc(datetime.combine(after, time(0)), zone)
    else:
        return None
    if start >= end or end <= window.start or start >= window.end:
        return None
    return Interval(start, end)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
