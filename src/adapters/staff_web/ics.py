"""A staff feed as iCalendar (RFC 5545): one VEVENT per visit, times in UTC, text
escaped, lines folded at 75 octets and ended by CRLF.

Nothing here is translated: every word comes from the catalog (names of the salon, the
staff member, the services) or is the customer's own first name.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from core.calendar.feeds import FeedVisit, StaffFeed
from core.domain.booking import BookingStatus

LINE_OCTETS = 75
PRODID = "-//salonbot//staff feed//EN"


def escaped(text: str) -> str:
    """TEXT as RFC 5545 section 3.3.11 writes it (other control characters dropped)."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(c for c in text if c >= " " or c == "\t")


def folded(line: str) -> str:
    """``line`` in pieces of at most 75 octets (never splitting a UTF-8 character), each
    continuation starting with a space."""
    pieces: list[str] = []
    current, size = "", 0
    for char in line:
        octets = len(char.encode())
        limit = LINE_OCTETS if not pieces else LINE_OCTETS - 1  # the leading space counts
        if size + octets > limit:
            pieces.append(current)
            current, size = "", 0
        current += char
        size += octets
    pieces.append(current)
    return "\r\n ".join(pieces)


def utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_text(feed: StaffFeed) -> str:
    # UIDs must be unique across everything a phone subscribes to: the salon's name tells
    # two salonbots apart (a renamed salon's events are replaced, not duplicated).
    salon = hashlib.sha256(feed.salon_name.encode()).hexdigest()[:12]
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escaped(f'{feed.salon_name}: {feed.staff_name}')}",
    ]
    for visit in feed.visits:
        lines += _event(visit, salon)
    lines.append("END:VCALENDAR")
    return "".join(folded(line) + "\r\n" for line in lines)


def _event(visit: FeedVisit, salon: str) -> list[str]:
    summary = visit.service_name
    if visit.customer:
        summary = f"{summary}, {visit.customer}"
    return [
        "BEGIN:VEVENT",
        f"UID:booking-{visit.booking_id}-{salon}@salonbot",
        f"SEQUENCE:{max(visit.version - 1, 0)}",
        # No METHOD: DTSTAMP is the event's last revision (RFC 5545, 3.8.7.2).
        f"DTSTAMP:{utc_stamp(visit.changed_at)}",
        f"DTSTART:{utc_stamp(visit.start)}",
        f"DTEND:{utc_stamp(visit.end)}",
        f"SUMMARY:{escaped(summary)}",
        f"STATUS:{'TENTATIVE' if visit.status is BookingStatus.HELD else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]
