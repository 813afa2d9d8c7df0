"""Linking a staff member's chat: one-time codes, and the owner's link, unlink and list.

The owner runs ``salonbot staff link STAFF_ID``: a random code is made, only its SHA-256
is stored, and it is printed once. The staff member sends ``/link CODE`` to the bot from
the chat that should get their notices (``core.services.staff_desk``); the code is spent.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.db.staff_chat_repository import StaffChat, StaffChatRepository, StaffMember
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.errors import DomainError
from core.ports import Clock

# No 0/O, 1/I/L: a code read aloud or copied by hand is not misread. 31**8 codes: guessing
# one of the few live ones through a rate-limited chat is hopeless.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_LIFETIME = timedelta(hours=24)
# Telegram's deep link (t.me/<bot>?start=link-CODE) carries the code after this prefix.
DEEP_LINK_PREFIX = "link-"


class StaffNotFound(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no staff member {key!r} in the catalog (see `salonbot staff list`)")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed: str) -> str | None:
    """The code as issued from what a person typed (any case, spaces or dashes inside), or
    None when it cannot be one (wrong length or letters): such text never reaches the
    database."""
    code = "".join(ch for ch in typed.upper() if ch not in " -_\t")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def code_digest(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedCode:
    member: StaffMember
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LinkedStaff:
    member: StaffMember
    chats: tuple[StaffChat, ...]


class StaffLinks:
    """The owner's side of linking: each call is one transaction."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def issue_code(self, staff_key: str) -> IssuedCode:
        """A new one-time code for an active staff member; their older code stops working."""
        async with self._uow() as uow:
            repository = StaffChatRepository(uow.connection)
            member = await repository.member(staff_key)
            if member is None or not member.active:
                raise StaffNotFound(staff_key)
            now = self._clock.now()
            code = new_code()
            expires_at = now + CODE_LIFETIME
            await repository.replace_code(member.id, code_digest(code), expires_at, now)
            await uow.commit()
        return IssuedCode(member, code, expires_at)

    async def unlink(self, staff_key: str) -> tuple[StaffMember, int]:
        """Unlink every chat of the staff member (also one the catalog dropped); how many."""
        async with self._uow() as uow:
            repository = StaffChatRepository(uow.connection)
            member = await repository.member(staff_key)
            if member is None:
                raise StaffNotFound(staff_key)
            removed = await repository.unlink_staff(member.id)
            await uow.commit()
        return member, removed

    async def linked(self) -> list[LinkedStaff]:
        """Every staff member with their linked chats (none for those not linked)."""
        async with self._uow() as uow:
            repository = StaffChatRepository(uow.connection)
            members = await repository.members()
            chats = await repository.all_chats()
        return [
            LinkedStaff(member, tuple(c for c in chats if c.staff_id == member.id))
            for member in members
            if member.active or any(c.staff_id == member.id for c in chats)
        ]
