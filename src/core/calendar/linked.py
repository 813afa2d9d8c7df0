"""What the staff page shows of the staff's own Google Calendars: what the sync could not
settle by itself, and what is stuck on the way there.

``salonbot`` supplies the implementation (``core.services.calendar_desk``); the web
adapter knows only this protocol and these values. Every instant is UTC-aware.

Who sees what (``core.calendar.roles``): the owner, everyone's; a staff member, their own.
The same decides who may dismiss an alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.calendar.ports import StaffUser
from core.domain.errors import DomainError

FAILING_AFTER = 3
"""Failed tries after which a push still being retried counts as failing."""
MOST_SHOWN = 20
"""Alerts, and stuck pushes, shown at most (the oldest first)."""


@dataclass(frozen=True, slots=True)
class CalendarAlertLine:
    """An open alert (``core.services.calendar_alerts``): ``kind`` ``conflict`` (an event
    of the calendar overlaps the booking) or ``reverted`` (a move in Google put back,
    ``detail`` says why, in English: the page translates it when it can)."""

    id: int
    staff_key: str
    staff_name: str
    kind: str
    booking_id: int | None
    booking_start: datetime | None
    detail: str
    raised_at: datetime


@dataclass(frozen=True, slots=True)
class StuckPush:
    """A booking's change not on the calendar: ``parked`` (given up, ``last_error`` says
    why; until a later push of the booking settles it), or still being tried after
    ``FAILING_AFTER`` failures, next at ``next_attempt_at``. ``action``: "put" (the event
    should be there) or "remove"."""

    id: int
    staff_key: str
    staff_name: str
    booking_id: int
    booking_start: datetime | None
    action: str
    attempts: int
    last_error: str
    parked: bool
    next_attempt_at: datetime | None
    queued_at: datetime


@dataclass(frozen=True, slots=True)
class CalendarSyncLine:
    """How reading a staff member's calendar back goes: last read at ``synced_at`` (None:
    never yet); ``failures`` in a row since, the last one's ``last_error``."""

    staff_key: str
    staff_name: str
    synced_at: datetime | None
    failures: int
    last_error: str


@dataclass(frozen=True, slots=True)
class LinkedCalendarNotices:
    alerts: tuple[CalendarAlertLine, ...] = ()
    pushes: tuple[StuckPush, ...] = ()
    syncs: tuple[CalendarSyncLine, ...] = ()

    @property
    def troubled(self) -> bool:
        """Something needs a person: an alert, a stuck push, a sync failing."""
        return bool(self.alerts or self.pushes or any(s.failures for s in self.syncs))

    @property
    def linked(self) -> bool:
        """There is anything to show at all (a linked calendar, or trouble)."""
        return bool(self.syncs) or self.troubled


class AlertNotFound(DomainError):
    """No open alert with that id (dismissed already, or never there)."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"no open calendar alert {alert_id}")
        self.alert_id = alert_id


class LinkedCalendarDesk(Protocol):
    async def notices(self, user: StaffUser) -> LinkedCalendarNotices:
        """What ``user`` may see (the owner: everyone's; a staff member: their own): open
        alerts, stuck pushes (of visits not over yet, for the parked ones) and each
        linked calendar's sync state. One database query."""
        ...

    async def dismiss(self, user: StaffUser, alert_id: int) -> None:
        """The alert is shown no more. ``NotAllowed`` (another staff member's),
        ``AlertNotFound``."""
        ...
