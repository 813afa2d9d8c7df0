"""The calendar feed as iCalendar: a real parser (``icalendar``) reads back every visit,
with its times in UTC, its text escaped and its lines folded at 75 octets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from adapters.staff_web.ics import calendar_text, escaped, folded
from core.calendar.feeds import FeedVisit, StaffFeed
from core.domain.booking import BookingStatus

START = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def visit(booking_id: int, **changes: object) -> FeedVisit:
    values: dict[str, object] = {
        "booking_id": booking_id,
        "version": 1,
        "start": START,
        "end": START + timedelta(hours=1),
        "service_name": "Classic manicure",
        "customer": "Olga",
        "status": BookingStatus.CONFIRMED,
        "changed_at": START - timedelta(days=1),
    }
    values.update(changes)
    return FeedVisit(**values)  # type: ignore[arg-type]


def parsed(feed: StaffFeed) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(calendar_text(feed))


def test_every_visit_is_an_event_in_utc_with_a_stable_uid_and_its_sequence() -> None:
    feed = StaffFeed(
        "Studio Lumen",
        "anna",
        "Anna",
        (
            visit(1),
            visit(2, version=3, status=BookingStatus.HELD, customer=""),
        ),
    )

    calendar = parsed(feed)
    events = calendar.walk("VEVENT")

    assert str(calendar["PRODID"]).startswith("-//salonbot//")
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "Studio Lumen: Anna"
    assert [str(e["SUMMARY"]) for e in events] == ["Classic manicure, Olga", "Classic manicure"]
    assert [e.decoded("DTSTART") for e in events] == [START, START]
    assert events[0].decoded("DTEND") == START + timedelta(hours=1)
    assert events[0].decoded("DTSTART").tzinfo is not None
    assert [e.decoded("SEQUENCE") for e in events] == [0, 2]
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED", "TENTATIVE"]
    assert events[0].decoded("DTSTAMP") == START - timedelta(days=1)
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == 2
    assert uids == [str(e["UID"]) for e in parsed(feed).walk("VEVENT")]
    assert "DTSTART:20261208T090000Z\r\n" in calendar_text(feed)


def test_text_is_escaped_and_long_lines_are_folded_within_75_octets() -> None:
    tricky = "Маникюр; гель, дизайн\\ и\nуход " * 4
    feed = StaffFeed("Salon, the; best", "olga", "Ольга " * 20, (visit(7, service_name=tricky),))

    text = calendar_text(feed)
    event = parsed(feed).walk("VEVENT")[0]

    assert str(event["SUMMARY"]) == f"{tricky}, Olga"
    # An X- property is not unescaped by the parser: it reads back as written.
    assert str(parsed(feed)["X-WR-CALNAME"]) == f"Salon\\, the\\; best: {'Ольга ' * 20}"
    assert text.endswith("END:VCALENDAR\r\n")
    lines = text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # something was folded
    assert "\n" not in text.replace("\r\n", "")


def test_escaping_and_folding_by_the_rules() -> None:
    assert escaped("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    assert escaped("bell\x07") == "bell"
    assert folded("x" * 75) == "x" * 75
    assert folded("x" * 76) == "x" * 75 + "\r\n x"
    # A two-octet letter is never split: the first piece stops at 74 octets.
    assert folded("x" * 74 + "ж") == "x" * 74 + "\r\n ж"
