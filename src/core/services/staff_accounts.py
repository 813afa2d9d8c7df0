"""Staff web accounts: signing in and out, sessions, and the owner's user management.

Signing in does the same password work whether or not the email exists (an unknown email
is checked against a dummy hash), and the refusal never says which part was wrong. Five
wrong passwords in a row lock the account for 15 minutes; twenty failures from one
address within 15 minutes refuse that address for the rest of the window. A session lasts
12 hours from its last use, at most 7 days from sign-in. Only SHA-256 digests of session
tokens are stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from core.calendar.ports import LoginRefused, PasswordHasher, Role, SignedIn, StaffUser
from core.db.staff_user_repository import StaffUserRepository, StoredUser
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.errors import DomainError, UnknownStaff
from core.i18n.catalogs import available_languages
from core.ports import Clock

MIN_PASSWORD = 10
# Hashing is deliberately slow; a bound keeps a megabyte "password" from costing more.
MAX_PASSWORD = 1024
MAX_EMAIL = 254
MAX_ADDRESS = 100
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
ADDRESS_LIMIT = 20
ADDRESS_WINDOW = timedelta(minutes=15)
# Password checks (and hashes) running at once: each takes tens of MB for ~50 ms.
CHECKS_AT_ONCE = 2
SESSION_IDLE = timedelta(hours=12)
SESSION_MAX = timedelta(days=7)
# A session's last use is written at most this often: pages are read far more often.
TOUCH_EVERY = timedelta(minutes=1)
_TOKEN_BYTES = 32
_MAX_TOKEN = 100
_EMAIL = re.compile(r"[!-~]+@[!-~]+")


class AccountError(DomainError):
    """A staff-user command refused; nothing changed."""


class InvalidEmail(AccountError):
    def __init__(self) -> None:
        super().__init__(f"not an email address (NAME@DOMAIN, ASCII, at most {MAX_EMAIL} chars)")


class WeakPassword(AccountError):
    def __init__(self) -> None:
        super().__init__(
            f"a password needs at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD})"
        )


class StaffRoleNeedsStaff(AccountError):
    def __init__(self) -> None:
        super().__init__("a staff user needs --staff STAFF_ID (their id in the catalog)")


class UnsupportedLanguage(AccountError):
    def __init__(self, language: str) -> None:
        super().__init__(
            f"no language {language[:20]!r} (one of: {', '.join(available_languages())})"
        )


class StaffUserExists(AccountError):
    def __init__(self, email: str) -> None:
        super().__init__(f"a staff user {email} already exists")


class UnknownStaffUser(AccountError):
    def __init__(self, email: str) -> None:
        super().__init__(f"no staff user {email[:MAX_EMAIL]!r} (see `salonbot staff-user list`)")


def normal_email(email: str) -> str:
    """The email as stored: trimmed and lowercased."""
    return email.strip().lower()


def _valid_email(email: str) -> str:
    email = normal_email(email)
    if len(email) > MAX_EMAIL or _EMAIL.fullmatch(email) is None:
        raise InvalidEmail
    return email


def _valid_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise WeakPassword
    return password


def address_key(address: str) -> str:
    """Whom the address throttle counts: an IPv6 address by its /64 (one subscriber's
    network: they have 2^64 addresses to try from), anything else as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:MAX_ADDRESS]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class StaffAccounts:
    """``core.calendar.ports.Accounts``, and the owner's add, list, remove and reset.

    Each call is its own transaction(s); password hashing runs in a thread, outside them.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, hasher: PasswordHasher):
        self._uow = uow_factory
        self._clock = clock
        self._hasher = hasher
        self._dummy: str | None = None
        self._checking = asyncio.Semaphore(CHECKS_AT_ONCE)

    async def _hash(self, password: str) -> str:
        async with self._checking:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def _dummy_hash(self) -> str:
        # Made on first use, not at start: building the service stays free.
        if self._dummy is None:
            self._dummy = await self._hash(secrets.token_urlsafe(16))
        return self._dummy

    async def sign_in(self, email: str, password: str, address: str) -> SignedIn:
        """A session, or ``LoginRefused``.

        An attempt is taken (counted as failed, for the account and for the address)
        before its password is checked, in a transaction that serializes the attempts on
        one account and from one address: a burst of attempts at once gets no more
        password checks than attempts one by one. Every attempt not kept out by its
        address does the same password work, and every refusal of it reads the same
        (``LoginRefused()``, no lock time), so an answer never tells whether the email
        has an account, is locked, or was guessed right while locked. Only the address's
        own throttle is told (``locked_until``): it says nothing about accounts.
        """
        email, address, now = normal_email(email), address_key(address), self._clock.now()
        plausible = len(email) <= MAX_EMAIL and len(password) <= MAX_PASSWORD
        async with self._uow() as uow:
            repository = StaffUserRepository(uow.connection)
            stored = await repository.by_email(email, for_update=True) if plausible else None
            await repository.lock_address(address)
            recent = await repository.address_failures_since(
                address, now - ADDRESS_WINDOW, ADDRESS_LIMIT
            )
            if len(recent) >= ADDRESS_LIMIT:
                # Not counted again, and no password work: a guesser kept out adds no
                # rows and costs nothing.
                raise LoginRefused(recent[-1] + ADDRESS_WINDOW)
            locked = stored is not None and _locked(stored, now)
            await repository.add_address_failure(address, now, ADDRESS_WINDOW)
            if stored is not None and not locked:
                await repository.count_failure(stored.user.id, LOCK_AFTER, now + LOCK_FOR)
            await uow.commit()
        known_hash = stored.password_hash if stored is not None else await self._dummy_hash()
        matches = await self._verify(known_hash, password[:MAX_PASSWORD])
        if stored is None or locked or not matches:
            raise LoginRefused()
        rehashed = None
        if self._hasher.needs_rehash(stored.password_hash):
            rehashed = await self._hash(password)
        return await self._open_session(stored, rehashed, address, now)

    async def _verify(self, known_hash: str, password: str) -> bool:
        # At most a few checks at once: each takes tens of MB and a core for ~50 ms.
        async with self._checking:
            return await asyncio.to_thread(self._hasher.verify, known_hash, password)

    async def _open_session(
        self, stored: StoredUser, rehashed: str | None, address: str, now: datetime
    ) -> SignedIn:
        async with self._uow() as uow:
            repository = StaffUserRepository(uow.connection)
            # Read again, locked: the password may have been reset, the user removed or
            # locked by a concurrent failure while the hash was checked.
            current = await repository.by_email(stored.user.email, for_update=True)
            if current is None or current.password_hash != stored.password_hash:
                raise LoginRefused
            # The right password: this attempt's count (and a lock it set) is undone.
            await repository.clear_failures(current.user.id)
            if rehashed is not None:
                await repository.set_password(current.user.id, rehashed)
            await repository.end_expired_sessions(now)
            token = secrets.token_urlsafe(_TOKEN_BYTES)
            csrf = secrets.token_urlsafe(_TOKEN_BYTES)
            expires_at = now + SESSION_IDLE
            await repository.add_session(
                token_digest(token), current.user.id, csrf, now, expires_at
            )
            await uow.commit()
            return SignedIn(token, csrf, current.user, expires_at)

    async def session(self, token: str) -> SignedIn | None:
        if not token or len(token) > _MAX_TOKEN or not token.isascii():
            return None
        digest, now = token_digest(token), self._clock.now()
        async with self._uow() as uow:
            repository = StaffUserRepository(uow.connection)
            found = await repository.session(digest, now)
            if found is None:
                return None
            expires_at = found.expires_at
            if now - found.last_seen_at >= TOUCH_EVERY:
                expires_at = min(now + SESSION_IDLE, found.created_at + SESSION_MAX)
                await repository.touch_session(digest, now, expires_at)
                await uow.commit()
            return SignedIn(token, found.csrf, found.user, expires_at)

    async def sign_out(self, token: str) -> None:
        if not token or len(token) > _MAX_TOKEN or not token.isascii():
            return
        async with self._uow() as uow:
            await StaffUserRepository(uow.connection).end_session(token_digest(token))
            await uow.commit()

    async def add(
        self,
        email: str,
        password: str,
        role: Role,
        staff_key: str | None = None,
        language: str = "en",
    ) -> StaffUser:
        """A new staff user. A staff role needs ``staff_key``, an active catalog staff
        member (an owner may have one too, when they work the chair)."""
        email, password = _valid_email(email), _valid_password(password)
        if role is Role.STAFF and not staff_key:
            raise StaffRoleNeedsStaff
        if language not in available_languages():
            raise UnsupportedLanguage(language)
        password_hash = await self._hash(password)
        async with self._uow() as uow:
            repository = StaffUserRepository(uow.connection)
            staff_id = None
            if staff_key:
                staff_id = await repository.staff_member(staff_key)
                if staff_id is None:
                    raise UnknownStaff(staff_key)
            if await repository.by_email(email) is not None:
                raise StaffUserExists(email)
            try:
                user_id = await repository.add(
                    email, password_hash, role, staff_id, language, self._clock.now()
                )
            except IntegrityError:
                raise StaffUserExists(email) from None  # added meanwhile by another command
            await uow.commit()
        return StaffUser(user_id, email, role, staff_key or None, language)

    async def users(self) -> list[StaffUser]:
        async with self._uow() as uow:
            return await StaffUserRepository(uow.connection).all()

    async def remove(self, email: str) -> StaffUser:
        """Remove the user; their sessions end with them."""
        async with self._uow() as uow:
            repository = StaffUserRepository(uow.connection)
            stored = await repository.by_email(normal_email(email), for_update=True)
            if stored is None:
                raise UnknownStaffUser(email)
            await repository.remove(stored.user.id)
            await uow.commit()
            return stored.user

    async def reset_password(self, email: str, password: str) -> int:
        """A new password; every session of the user ends and any lock is lifted. The
        number of sessions ended."""
        password_hash = await self._hash(_valid_password(password))
        async with self._uow() as uow:
            repository = StaffUserRepository(uow.connection)
            stored = await repository.by_email(normal_email(email), for_update=True)
            if stored is None:
                raise UnknownStaffUser(email)
            await repository.set_password(stored.user.id, password_hash)
            await repository.clear_failures(stored.user.id)
            ended = await repository.end_sessions_of(stored.user.id)
            await uow.commit()
            return ended


def _locked(stored: StoredUser, now: datetime) -> bool:
    return stored.locked_until is not None and stored.locked_until > now
