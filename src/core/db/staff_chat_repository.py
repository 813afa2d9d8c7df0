"""Staff chats: the chats linked to a staff member, and the one-time codes that link them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import conversations, customers, staff, staff_chats, staff_link_codes


@dataclass(frozen=True, slots=True)
class StaffChat:
    """A chat where a staff member gets their notices and agenda."""

    channel: str
    chat_id: str
    staff_id: int
    language: str
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A staff row as stored: ``active`` is False once the catalog dropped them."""

    id: int
    key: str
    name: str
    active: bool


def _chat(row: Row[Any]) -> StaffChat:
    m = row._mapping
    return StaffChat(m["channel"], m["chat_id"], int(m["staff_id"]), m["language"], m["linked_at"])


class StaffChatRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def member(
        self, key: str | None = None, *, staff_id: int | None = None
    ) -> StaffMember | None:
        """The staff member stored under ``key`` or ``staff_id`` (active or not), or None."""
        found = staff.c.key == key if staff_id is None else staff.c.id == staff_id
        row = (
            await self._db.execute(
                select(staff.c.id, staff.c.key, staff.c.name, staff.c.active).where(found)
            )
        ).first()
        return None if row is None else StaffMember(int(row.id), row.key, row.name, row.active)

    async def members(self) -> list[StaffMember]:
        """Every stored staff member, active first, then by key."""
        rows = await self._db.execute(
            select(staff.c.id, staff.c.key, staff.c.name, staff.c.active).order_by(
                staff.c.active.desc(), staff.c.key
            )
        )
        return [StaffMember(int(r.id), r.key, r.name, r.active) for r in rows]

    async def replace_code(
        self, staff_id: int, code_digest: str, expires_at: datetime, at: datetime
    ) -> None:
        """Keep ``code_digest`` as the staff member's only code; expired codes of anyone
        are dropped on the way (nothing else ever removes them).

        Two replacements for one staff member run one after the other (the second waits
        for the first's transaction to end): each would otherwise delete the codes it
        sees, not the other's uncommitted one, and both codes would work."""
        # An advisory lock (transaction-scoped), not the staff row's: bookings lock that
        # row, and issuing a code need not wait for them nor hold them up.
        key = func.hashtextextended(f"staff-link:{staff_id}", 0)
        await self._db.execute(select(func.pg_advisory_xact_lock(key)))
        await self._db.execute(
            delete(staff_link_codes).where(
                (staff_link_codes.c.staff_id == staff_id) | (staff_link_codes.c.expires_at <= at)
            )
        )
        await self._db.execute(
            staff_link_codes.insert().values(
                code_digest=code_digest, staff_id=staff_id, expires_at=expires_at, created_at=at
            )
        )

    async def spend_code(self, code_digest: str, now: datetime) -> int | None:
        """Use up a code that has not expired; the staff id it links to, or None (no such
        code, used already, or expired: then nothing is changed). Two chats sending the same
        code at once: one wins, the other waits on the row and finds it gone."""
        spent = await self._db.execute(
            delete(staff_link_codes)
            .where(
                staff_link_codes.c.code_digest == code_digest, staff_link_codes.c.expires_at > now
            )
            .returning(staff_link_codes.c.staff_id)
        )
        staff_id = spent.scalar_one_or_none()
        return None if staff_id is None else int(staff_id)

    async def link(
        self, channel: str, chat_id: str, staff_id: int, language: str, at: datetime
    ) -> None:
        """Link the chat to the staff member (a chat linked to someone else moves over)."""
        statement = insert(staff_chats).values(
            channel=channel, chat_id=chat_id, staff_id=staff_id, language=language, linked_at=at
        )
        await self._db.execute(
            statement.on_conflict_do_update(
                index_elements=[staff_chats.c.channel, staff_chats.c.chat_id],
                set_={"staff_id": staff_id, "language": language, "linked_at": at},
            )
        )

    async def chat(self, channel: str, chat_id: str) -> StaffChat | None:
        row = (
            await self._db.execute(
                select(staff_chats).where(
                    staff_chats.c.channel == channel, staff_chats.c.chat_id == chat_id
                )
            )
        ).first()
        return None if row is None else _chat(row)

    async def unlink_chat(self, channel: str, chat_id: str) -> StaffChat | None:
        """Unlink one chat; what it was, or None when it was not linked."""
        row = (
            await self._db.execute(
                delete(staff_chats)
                .where(staff_chats.c.channel == channel, staff_chats.c.chat_id == chat_id)
                .returning(*staff_chats.c)
            )
        ).first()
        return None if row is None else _chat(row)

    async def unlink_staff(self, staff_id: int) -> int:
        """Unlink every chat of the staff member, and drop their unused code; how many chats."""
        await self._db.execute(
            delete(staff_link_codes).where(staff_link_codes.c.staff_id == staff_id)
        )
        removed = await self._db.execute(
            delete(staff_chats)
            .where(staff_chats.c.staff_id == staff_id)
            .returning(staff_chats.c.chat_id)
        )
        return len(removed.all())

    async def chats_of_keys(self, staff_keys: Iterable[str]) -> list[StaffChat]:
        """The linked chats of the staff members stored under these keys, in the order
        they were linked."""
        wanted = select(staff.c.id).where(staff.c.key.in_(sorted(set(staff_keys))))
        rows = await self._db.execute(
            select(staff_chats)
            .where(staff_chats.c.staff_id.in_(wanted))
            .order_by(staff_chats.c.linked_at, staff_chats.c.channel, staff_chats.c.chat_id)
        )
        return [_chat(row) for row in rows]

    async def all_chats(self) -> list[StaffChat]:
        rows = await self._db.execute(
            select(staff_chats).order_by(
                staff_chats.c.staff_id, staff_chats.c.linked_at, staff_chats.c.chat_id
            )
        )
        return [_chat(row) for row in rows]

    async def customer_language(self, channel: str, chat_id: str) -> str | None:
        """The language of the customer who talks in this chat, if they chose or got one."""
        found = await self._db.execute(
            select(customers.c.language)
            .select_from(
                conversations.join(customers, conversations.c.customer_id == customers.c.id)
            )
            .where(conversations.c.channel == channel, conversations.c.chat_id == chat_id)
        )
        language = found.scalar_one_or_none()
        return None if language is None else str(language)
