"""When the messages salonbot sends unasked are due: reminders, follow-ups, staff agendas.

Pure rules over instants. Every instant in and out is UTC-aware; the salon's zone is used
only to read local wall-clock settings (``day_before_at: "18:00"``, quiet hours), with the
rules of ``core.domain.timeline`` for DST gaps and folds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class BeforeVisit:
    """A reminder ``lead`` of real time before the visit starts."""

    lead: timedelta

    @property
    def key(self) -> str:
        """The rule's stable name (stored with each planned reminder): ``before:24h``."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class DayBeforeAt:
    """A reminder at local wall-clock ``at`` on the local day before the visit's day."""

    at: time

    @property
    def key(self) -> str:
        """``day_before_at:18:00``."""
        raise NotImplementedError


ReminderRule = BeforeVisit | DayBeforeAt


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours in which no customer is messaged; ``end`` at or before ``start`` runs
    past midnight (``21:00-09:00``)."""

    start: time
    end: time


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
    """Whether ``moment`` falls in the quiet hours, read in the salon's local time."""
    raise NotImplementedError


def out_of_quiet_hours(
    due: datetime, deadline: datetime, quiet: QuietHours | None, zone: ZoneInfo
) -> datetime | None:
    """``due`` moved out of the quiet hours: to their end when that is before ``deadline``
    (the visit's start), else to their start (the last moment before them, which may lie
    before ``due``); ``due`` itself when it is not in them. None when neither fits (their
    start is already past ``due``'s own evening and their end is too late)."""
    raise NotImplementedError


def plan_reminders(
    policy: ReminderPolicy, visit_start: datetime, made_at: datetime, zone: ZoneInfo
) -> list[PlannedReminder]:
    """The visit's reminders, one per rule in the policy's order, quiet hours applied.

    A reminder due at or before ``made_at`` (the booking was made, or moved, after it) is
    skipped, never sent late; one due at or after ``visit_start`` is skipped too.
    """
    raise NotImplementedError


def first_reminder(planned: list[PlannedReminder]) -> str | None:
    """The rule of the earliest reminder not skipped (the one that asks to confirm)."""
    raise NotImplementedError


def follow_up_due(
    follow_up: FollowUp, visit_end: datetime, quiet: QuietHours | None, zone: ZoneInfo
) -> datetime:
    """When the follow-up goes: ``after`` the visit's end, moved to the end of the quiet
    hours when it falls in them (a follow-up has no deadline, so never earlier)."""
    raise NotImplementedError


def agenda_due(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant of local ``at`` on local ``day`` (a time in a DST gap moves to the
    gap's end)."""
    raise NotImplementedError
