"""What the staff calendar shows, as plain values: a day of the salon, a week of one staff
member. Built by ``core.services`` (``StaffCalendar``), drawn by ``adapters.staff_web``.

Every instant is UTC-aware; the salon's zone (``zone``) is for display only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.domain.booking import BookingStatus


class ShadeKind(enum.StrEnum):
    """Time a staff member cannot be booked, and why."""

    CLOSED = "closed"  # outside their working hours that day
    BREAK = "break"
    TIME_OFF = "time_off"


@dataclass(frozen=True, slots=True)
class Shade:
    kind: ShadeKind
    start: datetime
    end: datetime
    note: str = ""


@dataclass(frozen=True, slots=True)
class BookingBlock:
    """One booking on the grid (held or confirmed, and past visits' outcomes)."""

    id: int
    version: int
    start: datetime
    end: datetime
    service_key: str
    service_name: str
    customer_name: str
    customer_phone: str
    channel: str  # "telegram", "whatsapp", "terminal", or "" for a walk-in added by staff
    status: BookingStatus
    customer_confirmed: bool = False


@dataclass(frozen=True, slots=True)
class StaffDay:
    """One staff member's column for one local day."""

    staff_key: str
    staff_name: str
    bookings: tuple[BookingBlock, ...] = ()
    shades: tuple[Shade, ...] = ()


@dataclass(frozen=True, slots=True)
class DayView:
    """The salon's local ``day``: one column per staff member, the grid from the earliest
    opening to the latest closing of anyone that day (``opens``/``closes``; a day nobody
    works shows the salon's usual hours), ``now`` for the "now" line."""

    day: date
    zone: ZoneInfo
    opens: datetime
    closes: datetime
    now: datetime
    columns: tuple[StaffDay, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class WeekView:
    """One staff member's local week (Monday to Sunday) containing the asked-for date."""

    staff_key: str
    staff_name: str
    zone: ZoneInfo
    now: datetime
    days: tuple[DayView, ...] = ()
