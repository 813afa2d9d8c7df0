"""Recurring events of the fake Calendar API: a recurring event's instances, as Google's
``events.list`` with ``singleEvents=true`` returns them.

The RRULE subset salonbot's tests use (RFC 5545): ``FREQ=DAILY|WEEKLY``, ``INTERVAL``,
``COUNT``, ``UNTIL`` (a date, or a UTC date-time ``...Z``) and, weekly, ``BYDAY`` (``MO``
... ``SU``; default the first instance's weekday; weeks start on Monday). Other lines of
``recurrence`` (``EXDATE``, ``RDATE``) and other rule parts answer 400, so a test never
silently gets a rule the fake does not understand.

A timed event recurs at the same wall-clock time in its ``start.timeZone`` (Google
requires one on a recurring event): across a DST change the instant moves, the local time
stays; a local time the change skips is taken after the gap. An all-day event recurs on
dates. Each instance is the recurring event's body without ``recurrence``, with its own
times, ``id`` ``{id}_{YYYYMMDDTHHMMSSZ}`` (the original start in UTC; all-day
``{id}_{YYYYMMDD}``), ``recurringEventId`` and ``originalStartTime``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_INSTANCES = 2000
"""No recurring event expands to more instances than this (the fake's own bound)."""

_WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


class RecurrenceError(ValueError):
    """The event's recurrence cannot be read: the API answers 400 with this message."""


@dataclass(frozen=True, slots=True)
class _Rule:
    freq: str
    interval: int
    count: int | None
    until: datetime | date | None
    by_day: tuple[int, ...]


def is_recurring(event: dict[str, Any]) -> bool:
    return bool(event.get("recurrence"))


def check(event: dict[str, Any]) -> None:
    """Raise ``RecurrenceError`` when a recurring event could not be expanded."""
    if not is_recurring(event):
        return
    _rule(event)
    start = event.get("start") or {}
    if "dateTime" in start:
        _zone(start)


def instances(event: dict[str, Any], until: datetime) -> list[dict[str, Any]]:
    """The instances of a recurring event starting before ``until`` (UTC), in order."""
    rule = _rule(event)
    start, end = event["start"], event["end"]
    found: list[dict[str, Any]] = []
    if "date" in start:
        first = date.fromisoformat(start["date"])
        length = date.fromisoformat(end["date"]) - first
        for day in _days(rule, first):
            midnight = datetime.combine(day, time(0), UTC)
            if midnight >= until or _past(rule.until, day, midnight) or len(found) >= MAX_INSTANCES:
                break
            found.append(
                _instance(
                    event,
                    f"{event['id']}_{day:%Y%m%d}",
                    {"date": day.isoformat()},
                    {"date": (day + length).isoformat()},
                    {"date": day.isoformat()},
                )
            )
        return found
    zone = _zone(start)
    first_at = datetime.fromisoformat(start["dateTime"]).astimezone(zone)
    last_at = datetime.fromisoformat(end["dateTime"]).astimezone(zone)
    wall_start = first_at.replace(tzinfo=None)
    wall_length = last_at.replace(tzinfo=None) - wall_start
    for day in _days(rule, first_at.date()):
        wall = datetime.combine(day, wall_start.time())
        at = _instant(wall, zone)
        if at >= until or _past(rule.until, day, at) or len(found) >= MAX_INSTANCES:
            break
        ends = _instant(wall + wall_length, zone)
        tz = start["timeZone"]
        found.append(
            _instance(
                event,
                f"{event['id']}_{at:%Y%m%dT%H%M%SZ}",
                {"dateTime": at.astimezone(zone).isoformat(), "timeZone": tz},
                {"dateTime": ends.astimezone(zone).isoformat(), "timeZone": tz},
                {"dateTime": at.astimezone(zone).isoformat(), "timeZone": tz},
            )
        )
    return found


def _instance(
    event: dict[str, Any],
    instance_id: str,
    start: dict[str, str],
    end: dict[str, str],
    original: dict[str, str],
) -> dict[str, Any]:
    body = {key: value for key, value in event.items() if key != "recurrence"}
    body.update(
        id=instance_id,
        start=start,
        end=end,
        recurringEventId=event["id"],
        originalStartTime=original,
    )
    return body


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    # fold=0 puts a skipped wall time after the gap and a repeated one at its first
    # occurrence (RFC 5545 3.3.5).
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _zone(start: dict[str, Any]) -> ZoneInfo:
    name = start.get("timeZone")
    if not isinstance(name, str) or not name:
        raise RecurrenceError("Missing time zone definition for start time.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecurrenceError(f"Invalid time zone definition for start time: {name}") from None


def _days(rule: _Rule, first: date) -> Iterator[date]:
    """The dates of the instances, from the first, as the rule's frequency and count
    allow (``UNTIL`` is the caller's: it compares instants)."""
    made = 0
    step = 0
    while made < MAX_INSTANCES:
        if rule.freq == "DAILY":
            candidates = [first + timedelta(days=step * rule.interval)]
        else:
            monday = first - timedelta(days=first.weekday()) + timedelta(weeks=step * rule.interval)
            candidates = [monday + timedelta(days=day) for day in rule.by_day or (first.weekday(),)]
        step += 1
        for day in candidates:
            if day < first:
                continue
            if rule.count is not None and made >= rule.count:
                return
            made += 1
            yield day


def _past(until: datetime | date | None, day: date, at: datetime) -> bool:
    """The instance of ``day`` starting ``at`` comes after the rule's ``UNTIL``."""
    if until is None:
        return False
    if isinstance(until, datetime):
        return at > until
    return day > until


def _rule(event: dict[str, Any]) -> _Rule:
    lines = event.get("recurrence")
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise RecurrenceError("Invalid recurrence rule.")
    rules = [line.removeprefix("RRULE:") for line in lines if line.startswith("RRULE:")]
    if len(rules) != 1 or len(lines) != 1:
        raise RecurrenceError("Invalid recurrence rule.")
    parts: dict[str, str] = {}
    for part in rules[0].split(";"):
        name, _, value = part.partition("=")
        parts[name] = value
    freq = parts.pop("FREQ", "")
    if freq not in ("DAILY", "WEEKLY"):
        raise RecurrenceError("Invalid recurrence rule.")
    try:
        interval = int(parts.pop("INTERVAL", "1"))
        count = int(parts["COUNT"]) if "COUNT" in parts else None
        parts.pop("COUNT", None)
        until = _until(parts.pop("UNTIL")) if "UNTIL" in parts else None
        days = parts.pop("BYDAY", "")
        by_day = tuple(sorted({_WEEKDAYS[day] for day in days.split(",")})) if days else ()
    except (KeyError, ValueError):
        raise RecurrenceError("Invalid recurrence rule.") from None
    both = count is not None and until is not None  # RFC 5545: one or the other
    if parts or both or interval < 1 or (count is not None and count < 1):
        raise RecurrenceError("Invalid recurrence rule.")
    if by_day and freq != "WEEKLY":
        raise RecurrenceError("Invalid recurrence rule.")
    start = event.get("start") or {}
    if "date" not in start and "dateTime" not in start:
        raise RecurrenceError("Missing start time.")
    return _Rule(freq, interval, count, until, by_day)


def _until(text: str) -> datetime | date:
    if len(text) == 8:
        return datetime.strptime(text, "%Y%m%d").date()  # noqa: DTZ007 - a date only
    if text.endswith("Z"):
        return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    raise ValueError(text)
