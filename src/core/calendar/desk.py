"""The staff side's actions and lookups, as ports: the front desk (bookings and time off),
the customer book, and the live feed of calendar changes.

``salonbot`` supplies the implementations (``core.services.front_desk``,
``core.services.customer_book``, ``salonbot.live``); the web adapter and the JSON API know
only these protocols and values. Every instant is UTC-aware; ``zone`` is for display.

Who may do what (``core.calendar.roles``): the owner sees and edits everything; a staff
member sees the whole salon and edits only their own bookings and time off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from core.calendar.ports import StaffUser
from core.calendar.views import BookingBlock
from core.domain.booking import Booking, BookingStatus
from core.domain.errors import DomainError


class NotAllowed(DomainError):
    """The signed-in user's role does not let them do this (a staff member acting on
    another's booking or time off)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"not allowed: {what}")
        self.what = what


class NoSuchLocalTime(DomainError):
    """A local date and time that does not exist in the salon's zone (skipped by a DST
    change)."""

    def __init__(self, day: date, at: time) -> None:
        super().__init__(f"{day.isoformat()} {at.isoformat('minutes')} does not exist here")
        self.day = day
        self.at = at


# The longest entries the desk takes (a form's ``maxlength``); longer is ``EntryRefused``.
MAX_NAME = 100
MAX_PHONE = 32
MAX_REASON = 500
MAX_SEARCH = 100
# A request key (``FrontDesk.walk_in``): long enough to be picked at random, no longer.
MIN_REQUEST_KEY = 16
MAX_REQUEST_KEY = 64


class EntryRefused(DomainError):
    """Typed input the desk will not take: ``field`` ("name", "phone", "reason", "search",
    "span": a time off that does not end after it starts, "request_key") is ``problem``
    ("empty", "too_long", "no_digits", "bad_character"; a request key "malformed")."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class NewCustomer:
    """A walk-in or phone customer the salon does not know yet."""

    name: str
    phone: str = ""


@dataclass(frozen=True, slots=True)
class CustomerCard:
    """A customer as the staff see them. ``channel``: where they chat ("telegram",
    "whatsapp", "terminal"), or "" for one added by staff."""

    id: int
    name: str
    phone: str
    channel: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One recorded change of a booking: ``action`` is ``BookingAction``'s value; ``actor``
    who did it as recorded (a staff user's email, "customer", "system")."""

    at: datetime
    action: str
    actor: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class BookingDetail:
    """One booking with everything its page shows."""

    block: BookingBlock
    staff_key: str
    staff_name: str
    customer: CustomerCard | None
    history: tuple[HistoryLine, ...]
    zone: ZoneInfo
    now: datetime


@dataclass(frozen=True, slots=True)
class FreeStart:
    """A start time a service can be booked at, and with whom."""

    staff_key: str
    start: datetime


@dataclass(frozen=True, slots=True)
class TimeOffSpan:
    id: int
    staff_key: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Visit:
    """One of a customer's bookings, for their history."""

    booking_id: int
    start: datetime
    service_name: str
    staff_name: str
    status: BookingStatus


@dataclass(frozen=True, slots=True)
class CustomerVisits:
    """A customer and their visits (bookings that were made: not a hold let go), the
    newest first (at most the newest 100), with the counts over all of them that the staff
    ask about."""

    customer: CustomerCard
    visits: tuple[Visit, ...]
    zone: ZoneInfo
    completed: int
    cancelled: int
    no_shows: int


class FrontDesk(Protocol):
    """Bookings and time off changed by a signed-in staff user. Each call is one
    transaction through the same core use cases as the chat (``Bookings``, ``AddTimeOff``):
    the staff locks, the exclusion constraint, the salon's rules. Each change is recorded
    in the booking's history with ``user`` as the actor. Refusals are ``DomainError``s:
    ``NotAllowed``, ``SlotTaken`` (with alternatives), ``SlotNotOffered``,
    ``InvalidTransition``, ``TimeOffConflict``, ``BookingNotFound``, ``UnknownStaff``,
    ``UnknownService``, ``StaffDoesNotPerform``, ``NoSuchLocalTime``, ``EntryRefused``,
    ``CustomerNotFound``, ``TimeOffNotFound``."""

    async def instant(self, day: date, at: time) -> datetime:
        """The UTC instant of the salon's local ``day`` and ``at`` (the earlier one when
        the clocks go back; ``NoSuchLocalTime`` in a gap when they go forward)."""
        ...

    async def booking(self, booking_id: int) -> BookingDetail:
        """A booking with its customer and history; ``BookingNotFound``."""
        ...

    async def free_starts(
        self, service_key: str, staff_key: str | None, day: date
    ) -> list[FreeStart]:
        """The start times ``service_key`` can be booked at on the local ``day`` (with
        ``staff_key``, or anyone who performs it), earliest first."""
        ...

    async def walk_in(
        self,
        user: StaffUser,
        service_key: str,
        staff_key: str | None,
        start: datetime,
        customer: int | NewCustomer,
        request_key: str | None = None,
    ) -> Booking:
        """Book ``service_key`` at ``start`` for a known customer (their id) or a new one,
        confirmed at once. ``staff_key`` None: anyone free (a staff user: themselves).

        ``request_key`` (``MIN_REQUEST_KEY``..``MAX_REQUEST_KEY`` characters of
        ``[A-Za-z0-9_-]``, else ``EntryRefused``) makes the walk-in single-use: sent again
        with the same key, the same walk-in answers the booking it made (as it is now) and
        books nothing, even when both arrive at once; the key with a different walk-in is
        ``RequestReused``."""
        ...

    async def move(
        self, user: StaffUser, booking_id: int, start: datetime, staff_key: str | None = None
    ) -> Booking:
        """Move a confirmed booking to ``start`` (and ``staff_key``, when given); the
        customer is told in their chat."""
        ...

    async def cancel(self, user: StaffUser, booking_id: int, reason: str) -> Booking:
        """Cancel a booking; the customer is told in their chat, in their language, with
        the reason."""
        ...

    async def mark(self, user: StaffUser, booking_id: int, outcome: BookingStatus) -> Booking:
        """Mark a visit that has started ``COMPLETED`` or ``NO_SHOW``."""
        ...

    async def time_off(self, staff_key: str, start: datetime, end: datetime) -> list[TimeOffSpan]:
        """``staff_key``'s time off overlapping ``start``..``end``."""
        ...

    async def add_time_off(
        self, user: StaffUser, staff_key: str, start: datetime, end: datetime, reason: str
    ) -> int:
        """Block ``staff_key``'s time; refused (``TimeOffConflict``) while bookings sit in
        it."""
        ...

    async def remove_time_off(self, user: StaffUser, time_off_id: int) -> None:
        """Free the time again; an id that is not there is ``TimeOffNotFound``."""
        ...


class TimeOffNotFound(DomainError):
    def __init__(self, time_off_id: int) -> None:
        super().__init__(f"time off {time_off_id} not found")
        self.time_off_id = time_off_id


class CustomerBook(Protocol):
    async def find(self, text: str, limit: int = 20) -> list[CustomerCard]:
        """Customers whose name contains ``text`` (any case) or whose phone contains its
        digits; the best matches first, at most ``limit``."""
        ...

    async def visits(self, customer_id: int) -> CustomerVisits:
        """A customer's bookings; ``CustomerNotFound``."""
        ...


class CustomerNotFound(DomainError):
    def __init__(self, customer_id: int) -> None:
        super().__init__(f"customer {customer_id} not found")
        self.customer_id = customer_id


@dataclass(frozen=True, slots=True)
class CalendarChange:
    """Something on the calendar changed: a booking or time off of ``staff_key`` on the
    salon's local ``days`` (a move names the days it left and reached; a visit crossing
    midnight both its days; a visit early in the morning also the day before, when a shift
    of that day runs past midnight and its grid shows the visit).

    ``EVERYTHING`` (both None): changes may have been missed (the feed was away from the
    database for a while); whoever shows the calendar reloads all of it."""

    staff_key: str | None
    days: tuple[date, ...] | None

    @property
    def is_everything(self) -> bool:
        return self.staff_key is None


EVERYTHING = CalendarChange(None, None)


class LiveChanges(Protocol):
    def listen(self) -> AbstractAsyncContextManager[AsyncIterator[CalendarChange]]:
        """A subscription to every committed change, whoever made it (the chat, the staff
        pages, another process): ``async with live.listen() as changes: async for c in
        changes``. Leaving the block ends the subscription.

        The iteration also ends on its own: when the subscriber falls too far behind (it
        is dropped rather than hold up the others) and when the process stops. A
        subscriber that comes back (a browser reconnecting) starts from ``EVERYTHING``."""
        ...

    def heard(self) -> int | None:
        """How many changes this process has heard (and told its subscribers) so far, or
        None while it is not listening. A page drawn when this was ``n`` whose
        subscription, once open, reads ``m != n`` (or None at either end) may have missed
        a change in between: it reloads."""
        ...
