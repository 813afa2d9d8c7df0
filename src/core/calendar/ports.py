"""The ports the staff web reaches the core by: its users' accounts and the calendar.

``salonbot`` supplies the implementations (``core.services.staff_accounts``,
``core.services.staff_calendar``); the web adapter knows only these protocols.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from core.calendar.views import DayView, WeekView


class Role(enum.StrEnum):
    """What a staff user may do. The owner sees and edits everything; a staff member sees
    the whole salon and edits only their own bookings and time off."""

    OWNER = "owner"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class StaffUser:
    """A person who logs in to the staff web. ``staff_key``: the catalog's staff member they
    are (None for an owner who does not work the chair)."""

    id: int
    email: str
    role: Role
    staff_key: str | None
    language: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session: ``token`` goes in the cookie (only its digest is stored), ``csrf`` in every
    form that changes something."""

    token: str = field(repr=False)
    csrf: str = field(repr=False)
    user: StaffUser
    expires_at: datetime


class LoginRefused(Exception):
    """Wrong email or password (never which), or too many failures: ``locked_until``."""

    def __init__(self, locked_until: datetime | None = None) -> None:
        super().__init__("login refused")
        self.locked_until = locked_until


class Accounts(Protocol):
    async def sign_in(self, email: str, password: str, address: str) -> SignedIn:
        """A new session, or ``LoginRefused`` (failures counted per account and address)."""
        ...

    async def session(self, token: str) -> SignedIn | None:
        """The live session of ``token`` (its expiry extended), or None."""
        ...

    async def sign_out(self, token: str) -> None: ...


class Calendar(Protocol):
    async def day(self, day: date) -> DayView:
        """The salon's local ``day``."""
        ...

    async def week(self, staff_key: str, day: date) -> WeekView:
        """``staff_key``'s local week containing ``day``; raises ``UnknownStaff``."""
        ...


class PasswordHasher(Protocol):
    """One-way password hashing (argon2 in ``salonbot.passwords``; the core never sees the
    algorithm). Each call is deliberately slow: callers run it off the event loop."""

    def hash(self, password: str) -> str:
        """A new hash of ``password``, salted, with the algorithm's parameters in it."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` is the one ``password_hash`` was made from (False for a
        hash that cannot be read, never an exception)."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether ``password_hash`` was made with weaker parameters than today's."""
        ...
