"""In-memory ``Accounts`` and ``Calendar``: the staff web's ports, for its own tests.

Faithful to the ports' contracts (``core.calendar.ports``) as ``StaffAccounts`` and
``StaffCalendar`` keep them: the same refusal for an unknown email and a wrong password,
five failures lock the account for 15 minutes, sessions slide (12 h) up to 7 days, a week
is Monday to Sunday, an unknown staff key raises ``UnknownStaff``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.calendar.ports import LoginRefused, Role, SignedIn, StaffUser
from core.calendar.views import BookingBlock, DayView, Shade, ShadeKind, StaffDay, WeekView
from core.domain.errors import UnknownStaff
from core.ports import Clock

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
ADDRESS_LIMIT = 20
IDLE = timedelta(hours=12)
LONGEST = timedelta(days=7)


@dataclass
class _Account:
    user: StaffUser
    password: str
    failures: int = 0
    locked_until: datetime | None = None


@dataclass
class _Session:
    signed: SignedIn
    created: datetime
    last_seen: datetime


class FakeAccounts:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._accounts: dict[str, _Account] = {}
        self._sessions: dict[str, _Session] = {}
        self.attempts: list[tuple[str, str]] = []  # (email, address) of every sign-in
        self._failures: list[tuple[str, datetime]] = []  # (address, at) of attempts taken

    def add(
        self,
        email: str,
        password: str,
        role: Role = Role.OWNER,
        staff_key: str | None = None,
        language: str = "en",
    ) -> StaffUser:
        user = StaffUser(len(self._accounts) + 1, email.lower(), role, staff_key, language)
        self._accounts[user.email] = _Account(user, password)
        return user

    @property
    def live_sessions(self) -> int:
        return len(self._sessions)

    async def sign_in(self, email: str, password: str, address: str) -> SignedIn:
        self.attempts.append((email, address))
        now = self.clock.now()
        # As StaffAccounts: an address with too many recent failures is told so; an
        # account's lock is not (a locked account's refusal reads like a wrong password).
        recent = [at for a, at in self._failures if a == address and at > now - LOCK_FOR]
        if len(recent) >= ADDRESS_LIMIT:
            raise LoginRefused(min(recent) + LOCK_FOR)
        self._failures.append((address, now))
        account = self._accounts.get(email.strip().lower())
        if account is None:
            raise LoginRefused()
        if account.locked_until is not None and account.locked_until > now:
            raise LoginRefused()
        if not secrets.compare_digest(account.password.encode(), password.encode()):
            account.failures += 1
            if account.failures >= LOCK_AFTER:
                account.failures, account.locked_until = 0, now + LOCK_FOR
            raise LoginRefused()
        account.failures, account.locked_until = 0, None
        token = secrets.token_urlsafe(32)
        signed = SignedIn(token, secrets.token_urlsafe(32), account.user, now + IDLE)
        self._sessions[self._digest(token)] = _Session(signed, now, now)
        return signed

    async def session(self, token: str) -> SignedIn | None:
        now = self.clock.now()
        key = self._digest(token)
        found = self._sessions.get(key)
        if found is None:
            return None
        if now >= found.last_seen + IDLE or now >= found.created + LONGEST:
            del self._sessions[key]
            return None
        found.last_seen = now
        expires = min(now + IDLE, found.created + LONGEST)
        found.signed = replace(found.signed, expires_at=expires)
        return found.signed

    async def sign_out(self, token: str) -> None:
        self._sessions.pop(self._digest(token), None)

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class FakeStaff:
    """A staff member who works ``opens``..``closes`` local time every day but Sunday."""

    key: str
    name: str
    opens: time = time(9)
    closes: time = time(18)


@dataclass
class FakeCalendar:
    clock: Clock
    zone: ZoneInfo
    staff: tuple[FakeStaff, ...]
    bookings: dict[str, list[BookingBlock]] = field(default_factory=dict)
    breaks: dict[str, list[Shade]] = field(default_factory=dict)
    calls: int = 0

    def book(self, staff_key: str, block: BookingBlock) -> None:
        self.bookings.setdefault(staff_key, []).append(block)

    def _at(self, day: date, hour: time) -> datetime:
        return datetime.combine(day, hour, tzinfo=self.zone).astimezone(UTC)

    def _column(self, member: FakeStaff, day: date, opens: datetime, closes: datetime) -> StaffDay:
        start, end = self._at(day, time()), self._at(day + timedelta(days=1), time())
        bookings = tuple(
            b for b in self.bookings.get(member.key, []) if b.start < end and b.end > start
        )
        shades: tuple[Shade, ...]
        if day.weekday() == 6:  # Sunday: closed all day
            shades = (Shade(ShadeKind.CLOSED, opens, closes),)
        else:
            shades = tuple(
                s
                for s in [
                    Shade(ShadeKind.CLOSED, opens, self._at(day, member.opens)),
                    Shade(ShadeKind.CLOSED, self._at(day, member.closes), closes),
                    *self.breaks.get(member.key, []),
                ]
                if s.start < s.end and s.start < end and s.end > start
            )
        return StaffDay(member.key, member.name, bookings, shades)

    def _view(self, day: date, staff: tuple[FakeStaff, ...]) -> DayView:
        working = staff if day.weekday() != 6 else ()
        opens = self._at(day, min((m.opens for m in working), default=time(9)))
        closes = self._at(day, max((m.closes for m in working), default=time(18)))
        columns = tuple(self._column(m, day, opens, closes) for m in staff)
        return DayView(day, self.zone, opens, closes, self.clock.now(), columns)

    async def day(self, day: date) -> DayView:
        self.calls += 1
        return self._view(day, self.staff)

    async def week(self, staff_key: str, day: date) -> WeekView:
        self.calls += 1
        member = next((m for m in self.staff if m.key == staff_key), None)
        if member is None:
            raise UnknownStaff(staff_key)
        monday = day - timedelta(days=day.weekday())
        days = tuple(self._view(monday + timedelta(days=n), (member,)) for n in range(7))
        return WeekView(member.key, member.name, self.zone, self.clock.now(), days)
