"""In-memory ``Accounts``, ``Calendar``, ``FrontDesk`` and ``CustomerBook``: the staff web's
ports, for its own tests.

Faithful to the ports' contracts (``core.calendar.ports``) as ``StaffAccounts`` and
``StaffCalendar`` keep them: the same refusal for an unknown email and a wrong password,
five failures lock the account for 15 minutes, sessions slide (12 h) up to 7 days, a week
is Monday to Sunday, an unknown staff key raises ``UnknownStaff``; the desk and the customer
book as ``StaffFrontDesk`` and ``StaffCustomerBook`` keep ``core.calendar.desk``'s (see
``FakeDesk``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.calendar import entries
from core.calendar.desk import (
    BookingDetail,
    CustomerCard,
    CustomerNotFound,
    CustomerVisits,
    EntryRefused,
    FreeStart,
    HistoryLine,
    NewCustomer,
    TimeOffNotFound,
    TimeOffSpan,
    Visit,
)
from core.calendar.ports import LoginRefused, Role, SignedIn, StaffUser
from core.calendar.roles import require_may_edit
from core.calendar.views import BookingBlock, DayView, Shade, ShadeKind, StaffDay, WeekView
from core.domain.booking import Booking, BookingStatus
from core.domain.errors import (
    Alternative,
    BookingNotFound,
    DomainError,
    InvalidTransition,
    RequestReused,
    SlotNotOffered,
    SlotTaken,
    TimeOffConflict,
    UnknownService,
    UnknownStaff,
)
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
            b
            for b in self.bookings.get(member.key, [])
            if b.start < end and b.end > start and b.status is not BookingStatus.CANCELLED
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


@dataclass(frozen=True, slots=True)
class FakeService:
    """A service every fake staff member performs."""

    key: str
    name: str
    minutes: int = 60


STEP = timedelta(minutes=15)  # the fake salon offers a start every quarter hour
ALTERNATIVES = 3


@dataclass
class FakeCustomers:
    """The customer book over the fake calendar's bookings (``CustomerBook``): cards by id,
    and which customer each booking is for."""

    calendar: FakeCalendar
    cards: dict[int, CustomerCard] = field(default_factory=dict)
    owner_of: dict[int, int] = field(default_factory=dict)  # booking id -> customer id

    def add(
        self, name: str, phone: str = "", channel: str = "", language: str | None = None
    ) -> int:
        customer_id = max(self.cards, default=0) + 1
        self.cards[customer_id] = CustomerCard(customer_id, name, phone, channel, language)
        return customer_id

    def with_phone(self, number: str) -> CustomerCard | None:
        digits = entries.phone_digits(number)
        if not digits:
            return None
        found = [c for c in self.cards.values() if entries.phone_digits(c.phone) == digits]
        return min(found, key=lambda c: c.id, default=None)

    async def find(self, text: str, limit: int = 20) -> list[CustomerCard]:
        wanted = entries.search(text)
        if not wanted or limit < 1:
            return []
        digits = entries.phone_digits(wanted)
        lowered = wanted.casefold()
        found = [
            c
            for c in self.cards.values()
            if lowered in c.name.casefold()
            or (len(digits) >= 3 and digits in entries.phone_digits(c.phone))
        ]
        # A name that starts with the text first, then by name.
        found.sort(key=lambda c: (not c.name.casefold().startswith(lowered), c.name, c.id))
        return found[:limit]

    async def visits(self, customer_id: int) -> CustomerVisits:
        card = self.cards.get(customer_id)
        if card is None:
            raise CustomerNotFound(customer_id)
        names = {m.key: m.name for m in self.calendar.staff}
        visits = sorted(
            (
                Visit(b.id, b.start, b.service_name, names.get(key, key), b.status)
                for key, blocks in self.calendar.bookings.items()
                for b in blocks
                if self.owner_of.get(b.id) == customer_id
            ),
            key=lambda v: (v.start, v.booking_id),
            reverse=True,
        )
        return CustomerVisits(
            card,
            tuple(visits),
            self.calendar.zone,
            completed=sum(v.status is BookingStatus.COMPLETED for v in visits),
            cancelled=sum(v.status is BookingStatus.CANCELLED for v in visits),
            no_shows=sum(v.status is BookingStatus.NO_SHOW for v in visits),
        )


@dataclass
class FakeDesk:
    """The front desk over the fake calendar (``FrontDesk``), as ``StaffFrontDesk`` keeps
    its contract: the role rule of ``core.calendar.roles``, a start every 15 minutes within
    the staff member's hours and not in the past, ``SlotTaken`` with the nearest free
    starts for a taken one, ``TimeOffConflict`` for time off over a booking, the history
    recorded with the user's email, a walk-in's request key making it once. ``told``:
    (booking id, action) of each change a chat customer would hear of; ``made_with``: the
    request keys used, each with its booking's id and the service, staff member and start
    it was made with."""

    clock: Clock
    calendar: FakeCalendar
    customers: FakeCustomers
    services: tuple[FakeService, ...]
    history: dict[int, list[HistoryLine]] = field(default_factory=dict)
    time_offs: dict[int, tuple[TimeOffSpan, Shade]] = field(default_factory=dict)
    told: list[tuple[int, str]] = field(default_factory=list)
    made_with: dict[str, tuple[int, str, str, datetime]] = field(default_factory=dict)

    # Reading.

    async def instant(self, day: date, at: time) -> datetime:
        return entries.instant(day, at, self.calendar.zone)

    async def booking(self, booking_id: int) -> BookingDetail:
        key, block = self._find(booking_id)
        customer_id = self.customers.owner_of.get(booking_id)
        return BookingDetail(
            block=block,
            staff_key=key,
            staff_name=self._member(key).name,
            customer=self.customers.cards.get(customer_id) if customer_id else None,
            history=tuple(self.history.get(booking_id, [])),
            zone=self.calendar.zone,
            now=self.clock.now(),
        )

    async def free_starts(
        self, service_key: str, staff_key: str | None, day: date
    ) -> list[FreeStart]:
        service = self._service(service_key)
        members = [self._member(staff_key)] if staff_key else list(self.calendar.staff)
        found = [
            FreeStart(m.key, start)
            for m in members
            for start in self._starts(m, service, day, ignore=None)
        ]
        return sorted(found, key=lambda f: (f.start, f.staff_key))

    async def time_off(self, staff_key: str, start: datetime, end: datetime) -> list[TimeOffSpan]:
        self._member(staff_key)
        spans = [
            s for s, _ in self.time_offs.values() if s.staff_key == staff_key and s.start < end
        ]
        return sorted((s for s in spans if s.end > start), key=lambda s: (s.start, s.id))

    # Changing.

    async def walk_in(
        self,
        user: StaffUser,
        service_key: str,
        staff_key: str | None,
        start: datetime,
        customer: int | NewCustomer,
        request_key: str | None = None,
    ) -> Booking:
        key = None if request_key is None else entries.request_key(request_key)
        if staff_key is None and user.role is Role.STAFF:
            staff_key = user.staff_key
        if staff_key is not None:
            self._member(staff_key)
            require_may_edit(user, staff_key, "book for a colleague")
        if isinstance(customer, NewCustomer):
            name, number = entries.customer_name(customer.name), entries.phone(customer.phone)
        elif customer not in self.customers.cards:
            raise CustomerNotFound(customer)
        if key in self.made_with:
            return self._made_again(self.made_with[key], service_key, staff_key, start, customer)
        service = self._service(service_key)
        keys = [staff_key] if staff_key else [m.key for m in self.calendar.staff]
        member = next(
            (self._member(k) for k in keys if self._free(k, service, start, ignore=None)), None
        )
        if member is None:
            raise self._refusal(service, keys, start, ignore=None)
        if isinstance(customer, NewCustomer):
            known = self.customers.with_phone(number)
            customer_id = known.id if known else self.customers.add(name, number)
        else:
            customer_id = customer
        card = self.customers.cards[customer_id]
        booking_id = 1 + max(
            (b.id for blocks in self.calendar.bookings.values() for b in blocks), default=0
        )
        end = start + timedelta(minutes=service.minutes)
        block = BookingBlock(
            booking_id, 1, start, end, service.key, service.name, card.name, card.phone,
            card.channel, BookingStatus.CONFIRMED,
        )  # fmt: skip
        self.calendar.book(member.key, block)
        self.customers.owner_of[booking_id] = customer_id
        self._record(user, booking_id, "booked")
        if key is not None:
            self.made_with[key] = (booking_id, service.key, member.key, start)
        return self._booking(member.key, block)

    def _made_again(
        self,
        made: tuple[int, str, str, datetime],
        service_key: str,
        staff_key: str | None,
        start: datetime,
        customer: int | NewCustomer,
    ) -> Booking:
        """The booking a request key made, for the same walk-in; else ``RequestReused``."""
        booking_id, made_service, made_staff, made_start = made
        card = self.customers.cards[self.customers.owner_of[booking_id]]
        if isinstance(customer, NewCustomer):
            number = entries.phone(customer.phone)
            digits = entries.phone_digits(number)
            same_customer = (
                entries.phone_digits(card.phone) == digits
                if digits
                else (card.name, card.phone) == (entries.customer_name(customer.name), number)
            )
        else:
            same_customer = card.id == customer
        if not (
            same_customer
            and (service_key, start) == (made_service, made_start)
            and staff_key in (None, made_staff)
        ):
            raise RequestReused(booking_id)
        return self._booking(*self._find(booking_id))

    async def move(
        self, user: StaffUser, booking_id: int, start: datetime, staff_key: str | None = None
    ) -> Booking:
        key, block = self._find(booking_id)
        require_may_edit(user, key, "move a colleague's booking")
        target = staff_key or key
        self._member(target)
        require_may_edit(user, target, "hand a booking to a colleague")
        if block.status is not BookingStatus.CONFIRMED:
            raise InvalidTransition(booking_id, block.status.value, "reschedule")
        service = self._service(block.service_key)
        if not self._free(target, service, start, ignore=booking_id):
            raise self._refusal(service, [target], start, ignore=booking_id)
        self.calendar.bookings[key].remove(block)
        moved = replace(
            block,
            start=start,
            end=start + (block.end - block.start),
            version=block.version + 1,
            customer_confirmed=False,
        )
        self.calendar.book(target, moved)
        self._record(user, booking_id, "rescheduled")
        self._tell(booking_id, "rescheduled")
        return self._booking(target, moved)

    async def cancel(self, user: StaffUser, booking_id: int, reason: str) -> Booking:
        note = entries.reason(reason)
        key, block = self._find(booking_id)
        require_may_edit(user, key, "cancel a colleague's booking")
        if block.status is BookingStatus.CANCELLED:
            return self._booking(key, block)
        if block.status not in (BookingStatus.HELD, BookingStatus.CONFIRMED):
            raise InvalidTransition(booking_id, block.status.value, "cancel")
        held = block.status is BookingStatus.HELD
        cancelled = self._replace(key, block, status=BookingStatus.CANCELLED)
        self._record(user, booking_id, "released" if held else "cancelled", note)
        if not held:
            self._tell(booking_id, "cancelled")
        return self._booking(key, cancelled)

    async def mark(self, user: StaffUser, booking_id: int, outcome: BookingStatus) -> Booking:
        if outcome not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
            raise ValueError(f"{outcome} is not an outcome")
        key, block = self._find(booking_id)
        require_may_edit(user, key, "mark a colleague's visit")
        if block.status is outcome:
            return self._booking(key, block)
        allowed = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
        if block.status not in allowed:
            raise InvalidTransition(booking_id, block.status.value, f"mark {outcome.value}")
        if self.clock.now() < block.start:
            raise InvalidTransition(booking_id, "not started yet", f"mark {outcome.value}")
        marked = self._replace(key, block, status=outcome)
        self._record(user, booking_id, outcome.value)
        return self._booking(key, marked)

    async def add_time_off(
        self, user: StaffUser, staff_key: str, start: datetime, end: datetime, reason: str
    ) -> int:
        note = entries.reason(reason)
        self._member(staff_key)
        require_may_edit(user, staff_key, "add a colleague's time off")
        if start >= end:
            raise EntryRefused("span", "empty")
        clashes = [
            b.id
            for b in self.calendar.bookings.get(staff_key, [])
            if b.status in (BookingStatus.HELD, BookingStatus.CONFIRMED)
            and b.start < end
            and b.end > start
        ]
        if clashes:
            raise TimeOffConflict(staff_key, clashes)
        time_off_id = max(self.time_offs, default=0) + 1
        shade = Shade(ShadeKind.TIME_OFF, start, end, note)
        self.time_offs[time_off_id] = (TimeOffSpan(time_off_id, staff_key, start, end, note), shade)
        self.calendar.breaks.setdefault(staff_key, []).append(shade)
        return time_off_id

    async def remove_time_off(self, user: StaffUser, time_off_id: int) -> None:
        found = self.time_offs.get(time_off_id)
        if found is None:
            raise TimeOffNotFound(time_off_id)
        span, shade = found
        require_may_edit(user, span.staff_key, "remove a colleague's time off")
        del self.time_offs[time_off_id]
        self.calendar.breaks[span.staff_key].remove(shade)

    # The fake salon's rules.

    def _service(self, key: str) -> FakeService:
        found = next((s for s in self.services if s.key == key), None)
        if found is None:
            raise UnknownService(key)
        return found

    def _member(self, key: str) -> FakeStaff:
        found = next((m for m in self.calendar.staff if m.key == key), None)
        if found is None:
            raise UnknownStaff(key)
        return found

    def _find(self, booking_id: int) -> tuple[str, BookingBlock]:
        for key, blocks in self.calendar.bookings.items():
            for block in blocks:
                if block.id == booking_id:
                    return key, block
        raise BookingNotFound(booking_id)

    def _starts(
        self, member: FakeStaff, service: FakeService, day: date, ignore: int | None
    ) -> list[datetime]:
        if day.weekday() == 6:
            return []
        zone, now = self.calendar.zone, self.clock.now()
        opens = datetime.combine(day, member.opens, tzinfo=zone).astimezone(UTC)
        closes = datetime.combine(day, member.closes, tzinfo=zone).astimezone(UTC)
        length = timedelta(minutes=service.minutes)
        taken = [
            (b.start, b.end)
            for b in self.calendar.bookings.get(member.key, [])
            if b.id != ignore and b.status in (BookingStatus.HELD, BookingStatus.CONFIRMED)
        ] + [(s.start, s.end) for s in self.calendar.breaks.get(member.key, [])]
        starts, at = [], opens
        while at + length <= closes:
            if at >= now and all(not (a < at + length and b > at) for a, b in taken):
                starts.append(at)
            at += STEP
        return starts

    def _free(self, key: str, service: FakeService, start: datetime, ignore: int | None) -> bool:
        day = start.astimezone(self.calendar.zone).date()
        return start in self._starts(self._member(key), service, day, ignore)

    def _refusal(
        self, service: FakeService, keys: list[str], start: datetime, ignore: int | None
    ) -> DomainError:
        if start < self.clock.now():
            return SlotNotOffered(start, "too soon: below the salon's minimum notice")
        day = start.astimezone(self.calendar.zone).date()
        free = [
            (abs(at - start), at, key)
            for key in keys
            for at in self._starts(self._member(key), service, day, ignore)
        ]
        if not free and not any(
            self._within_hours(self._member(k), day, start, service) for k in keys
        ):
            return SlotNotOffered(start, "not a start time the salon offers for this service")
        nearest = sorted(free)[:ALTERNATIVES]
        return SlotTaken(start, [Alternative(key, at) for _, at, key in nearest])

    def _within_hours(
        self, member: FakeStaff, day: date, start: datetime, service: FakeService
    ) -> bool:
        zone = self.calendar.zone
        opens = datetime.combine(day, member.opens, tzinfo=zone).astimezone(UTC)
        closes = datetime.combine(day, member.closes, tzinfo=zone).astimezone(UTC)
        on_step = (start - opens) % STEP == timedelta(0)
        fits = opens <= start and start + timedelta(minutes=service.minutes) <= closes
        return day.weekday() != 6 and on_step and fits

    def _replace(self, key: str, block: BookingBlock, **changes: object) -> BookingBlock:
        blocks = self.calendar.bookings[key]
        new = replace(block, **changes)  # type: ignore[arg-type]
        blocks[blocks.index(block)] = new
        return new

    def _record(self, user: StaffUser, booking_id: int, action: str, note: str = "") -> None:
        line = HistoryLine(self.clock.now(), action, user.email, note)
        self.history.setdefault(booking_id, []).append(line)

    def _tell(self, booking_id: int, action: str) -> None:
        customer_id = self.customers.owner_of.get(booking_id)
        card = self.customers.cards.get(customer_id) if customer_id else None
        if card is not None and card.channel:
            self.told.append((booking_id, action))

    def _booking(self, key: str, block: BookingBlock) -> Booking:
        return Booking(
            block.id,
            self.customers.owner_of.get(block.id),
            block.service_key,
            key,
            block.start,
            block.end,
            block.status,
            version=block.version,
        )
