"""When the messages salonbot sends unasked are due: reminders, follow-ups, staff agendas.

Pure rules over instants. Every instant in and out is UTC-aware; the salon's zone is used
only to read local wall-clock settings (``day_before_at: "18:00"``, quiet hours), with the
rules of ``core.domain.timeline`` for DST gaps and folds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.domain.durations import format_duration
from core.domain.timeline import boundary_to_utc, to_utc

# Why a planned reminder is skipped (stored as the notice's note).
SKIPPED_BEFORE_BOOKING = "due before the booking was made"
SKIPPED_AT_VISIT = "due at or after the visit starts"
SKIPPED_QUIET = "quiet hours leave no time before the visit"
SKIPPED_QUIET_BEFORE_BOOKING = "quiet hours leave no time between the booking and the visit"

BEFORE_QUIET = timedelta(minutes=10)
"""How long before the quiet hours begin a reminder moved ahead of them is due: the
scheduler ticks every 15 to 30 seconds, so a reminder due exactly at their start would be
found inside them."""


@dataclass(frozen=True, slots=True)
class BeforeVisit:
    """A reminder ``lead`` of real time before the visit starts."""

    lead: timedelta

    @property
    def key(self) -> str:
        """The rule's stable name (stored with each planned reminder): ``before:24h``.

        Written by ``core.domain.durations.format_duration``, the catalog's own spelling,
        so ``1d`` and ``24h`` are one rule, ``before:24h``."""
        return f"before:{format_duration(self.lead)}"


@dataclass(frozen=True, slots=True)
class DayBeforeAt:
    """A reminder at local wall-clock ``at`` on the local day before the visit's day."""

    at: time

    @property
    def key(self) -> str:
        """``day_before_at:18:00``."""
        return f"day_before_at:{self.at.hour:02d}:{self.at.minute:02d}"


ReminderRule = BeforeVisit | DayBeforeAt


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours in which no customer is messaged, ``start`` included, ``end`` not; an
    ``end`` before ``start`` runs past midnight (``21:00-09:00``). Never empty: ``start``
    and ``end`` differ."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError(f"quiet hours start and end at the same time ({self.start})")

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """The owner's reminder settings (catalog ``reminders``); no rules: no reminders."""

    rules: tuple[ReminderRule, ...] = ()
    quiet_hours: QuietHours | None = None
    # The first reminder (the earliest due) asks the customer to confirm they are coming.
    ask_to_confirm: bool = False


@dataclass(frozen=True, slots=True)
class FollowUp:
    """The thank-you after a visit (catalog ``follow_up``), ``after`` its end."""

    after: timedelta
    review_url: str = ""


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    """One rule's reminder for one visit: due at ``due`` (UTC), or ``skipped`` with why."""

    rule: str
    due: datetime
    skipped: str = ""


def in_quiet_hours(moment: datetime, quiet: QuietHours | None, zone: ZoneInfo) -> bool:
    """Whether ``moment`` falls in the quiet hours, read on the salon's local wall clock:
    from ``start`` (included) to ``end`` (excluded), so their end is the first moment a
    customer may be messaged again."""
    if quiet is None:
        return False
    wall = to_utc(moment).astimezone(zone).time()
    if quiet.crosses_midnight:
        return wall >= quiet.start or wall < quiet.end
    return quiet.start <= wall < quiet.end


def out_of_quiet_hours(
    due: datetime, deadline: datetime, quiet: QuietHours | None, zone: ZoneInfo
) -> datetime | None:
    """``due`` moved out of the quiet hours; ``due`` itself when it is not in them.

    Moved to their end when that is before ``deadline`` (the visit's start); else ahead of
    them, to ``BEFORE_QUIET`` before their start (never into the quiet hours of the day
    before), which lies before ``due``; None when that too is not before ``deadline``.
    Asked at sending time (``due`` = now), a result before now means the chance has passed.
    """
    due = to_utc(due)
    if quiet is None or not in_quiet_hours(due, quiet, zone):
        return due
    start, end, previous_end = _quiet_period(due, quiet, zone)
    if end < deadline:
        return end
    ahead = max(start - BEFORE_QUIET, previous_end)
    if ahead >= start:
        ahead = start - BEFORE_QUIET
    return ahead if ahead < deadline else None


def next_quiet_start(moment: datetime, quiet: QuietHours | None, zone: ZoneInfo) -> datetime | None:
    """The first instant after ``moment`` at which the quiet hours begin (as
    ``in_quiet_hours`` reads them); None without quiet hours. From a moment inside them,
    the start of the next ones after these end (callers ask from outside them: from inside
    quiet hours that start in a repeated hour, the answer may skip the repeat).

    On DST days, read on the local wall clock: a start the clock skips begins them at the
    gap's end; a start the clock repeats begins them at its first occurrence, and again at
    its second when they were over by then (a moment between the two gets the second); a
    clock turned back into them begins them when it turns.
    """
    if quiet is None:
        return None
    moment = to_utc(moment)
    if in_quiet_hours(moment, quiet, zone):
        moment = _quiet_period(moment, quiet, zone)[1]
    today = moment.astimezone(zone).date()
    starts: list[datetime] = []
    for days in range(-1, 3):
        wall = datetime.combine(today + timedelta(days=days), quiet.start)
        first = boundary_to_utc(wall, zone)  # a skipped start: the gap's end
        second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
        starts += [first, second] if second > first else [first]
    starts += _clock_changes(moment, moment + timedelta(days=3), zone)
    return min(s for s in starts if s > moment and in_quiet_hours(s, quiet, zone))


def plan_reminders(
    policy: ReminderPolicy, visit_start: datetime, made_at: datetime, zone: ZoneInfo
) -> list[PlannedReminder]:
    """The visit's reminders, one per rule in the policy's order, quiet hours applied.

    ``before`` counts real time back from ``visit_start``; ``day_before_at`` is that local
    time on the local day before the visit's local day (a time in a DST gap moves to the
    gap's end, a folded one takes its first occurrence). A reminder due at or before
    ``made_at`` (the booking was made, or moved, after it) is skipped, never sent late; so
    is one due at or after ``visit_start``, and one the quiet hours push to either. A
    skipped reminder keeps the due time it would have had, for the record.
    """
    visit_start = to_utc(visit_start)
    made_at = to_utc(made_at)
    planned: list[PlannedReminder] = []
    for rule in policy.rules:
        due = _due(rule, visit_start, zone)
        if due >= visit_start:
            planned.append(PlannedReminder(rule.key, due, SKIPPED_AT_VISIT))
            continue
        if due <= made_at:
            planned.append(PlannedReminder(rule.key, due, SKIPPED_BEFORE_BOOKING))
            continue
        moved = out_of_quiet_hours(due, visit_start, policy.quiet_hours, zone)
        if moved is None:
            planned.append(PlannedReminder(rule.key, due, SKIPPED_QUIET))
        elif moved <= made_at:
            planned.append(PlannedReminder(rule.key, due, SKIPPED_QUIET_BEFORE_BOOKING))
        else:
            planned.append(PlannedReminder(rule.key, moved))
    return planned


def first_reminder(planned: list[PlannedReminder]) -> str | None:
    """The rule of the earliest reminder not skipped (the one that asks to confirm); of two
    due at once, the one listed first. None when every one is skipped."""
    going = [p for p in planned if not p.skipped]
    if not going:
        return None
    return min(going, key=lambda p: p.due).rule


def follow_up_due(
    follow_up: FollowUp, visit_end: datetime, quiet: QuietHours | None, zone: ZoneInfo
) -> datetime:
    """When the follow-up goes: ``after`` the visit's end, moved to the end of the quiet
    hours when it falls in them (a follow-up has no deadline, so never earlier)."""
    due = to_utc(visit_end) + follow_up.after
    if quiet is None or not in_quiet_hours(due, quiet, zone):
        return due
    return _quiet_period(due, quiet, zone)[1]


def agenda_due(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant of local ``at`` on local ``day`` (a time in a DST gap moves to the
    gap's end; a folded time takes its first occurrence)."""
    return boundary_to_utc(datetime.combine(day, at), zone)


def _due(rule: ReminderRule, visit_start: datetime, zone: ZoneInfo) -> datetime:
    if isinstance(rule, BeforeVisit):
        return visit_start - rule.lead
    day_before = visit_start.astimezone(zone).date() - timedelta(days=1)
    return agenda_due(day_before, rule.at, zone)


def _quiet_period(
    moment: datetime, quiet: QuietHours, zone: ZoneInfo
) -> tuple[datetime, datetime, datetime]:
    """The start and end (UTC) of the quiet hours ``moment`` is in, and the end of the
    quiet hours before them (the earliest a reminder moved ahead of them may be due)."""
    local = moment.astimezone(zone)
    day = local.date()
    one_day = timedelta(days=1)
    if quiet.crosses_midnight and local.time().replace(tzinfo=None) < quiet.end:
        day -= one_day  # the night began the evening before
    end_day = day + one_day if quiet.crosses_midnight else day
    previous_end_day = day if quiet.crosses_midnight else day - one_day
    start = boundary_to_utc(datetime.combine(day, quiet.start), zone)
    end = _first_after(datetime.combine(end_day, quiet.end), moment, zone)
    previous_end = boundary_to_utc(datetime.combine(previous_end_day, quiet.end), zone)
    return start, end, previous_end


def _first_after(wall: datetime, moment: datetime, zone: ZoneInfo) -> datetime:
    """The instant of local ``wall`` after ``moment``: its second occurrence when the clock
    turned back and ``moment`` lies in the repeated hour past the first one."""
    first = boundary_to_utc(wall, zone)
    if first > moment:
        return first
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return max(first, second)


def _clock_changes(after: datetime, until: datetime, zone: ZoneInfo) -> list[datetime]:
    """The instants in ``(after, until]`` at which the zone's UTC offset changes (DST),
    to the second: each is the first instant on the new offset."""
    step = timedelta(hours=6)  # shorter than the time between two changes anywhere
    changes: list[datetime] = []
    low = after.replace(microsecond=0)
    while low < until:
        high = low + step
        if low.astimezone(zone).utcoffset() != high.astimezone(zone).utcoffset():
            before = low.astimezone(zone).utcoffset()
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
                if middle.astimezone(zone).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            if after < high <= until:
                changes.append(high)
        low = high
    return changes
