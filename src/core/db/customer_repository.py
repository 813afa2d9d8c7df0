"""Customers: the people bookings are for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.calendar.desk import CustomerCard
from core.db.tables import conversations, customers


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    id: int
    name: str
    language: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class CustomerChat:
    """Where the salon can write to a customer unasked, in their language (None: unknown)."""

    channel: str
    chat_id: str
    language: str | None


class CustomerRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add(
        self, name: str, at: datetime, *, phone: str | None = None, language: str | None = None
    ) -> int:
        result = await self._db.execute(
            customers.insert()
            .values(name=name, phone=phone, language=language, created_at=at)
            .returning(customers.c.id)
        )
        return int(result.scalar_one())

    async def for_identity(
        self,
        channel: str,
        external_id: str,
        at: datetime,
        *,
        name: str = "",
        phone: str | None = None,
        language: str | None = None,
        start_payload: str | None = None,
        former_external_id: str | None = None,
    ) -> tuple[int, bool]:
        """The customer with this channel identity, created on first contact; (id, created).

        Two first messages racing each other create one customer: the unique identity
        decides, and the loser reads the winner's row. A customer stored under
        ``former_external_id`` of the same channel, and none under ``external_id`` yet,
        moves to ``external_id`` (keeping their bookings) instead of a new one being made.
        """
        if former_external_id and former_external_id != external_id:
            moved = await self._db.execute(
                update(customers)
                .where(
                    customers.c.channel == channel,
                    customers.c.external_id == former_external_id,
                    ~select(customers.c.id)
                    .where(customers.c.channel == channel, customers.c.external_id == external_id)
                    .exists(),
                )
                .values(external_id=external_id)
                .returning(customers.c.id)
            )
            moved_id = moved.scalar_one_or_none()
            if moved_id is not None:
                return int(moved_id), False
        inserted = await self._db.execute(
            insert(customers)
            .values(
                channel=channel,
                external_id=external_id,
                name=name,
                phone=phone,
                language=language,
                start_payload=start_payload,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=[customers.c.channel, customers.c.external_id])
            .returning(customers.c.id)
        )
        new_id = inserted.scalar_one_or_none()
        if new_id is not None:
            return int(new_id), True
        existing = await self._db.execute(
            select(customers.c.id).where(
                customers.c.channel == channel, customers.c.external_id == external_id
            )
        )
        return int(existing.scalar_one()), False

    async def get(self, customer_id: int) -> CustomerProfile:
        row = (
            await self._db.execute(
                select(
                    customers.c.id, customers.c.name, customers.c.language, customers.c.phone
                ).where(customers.c.id == customer_id)
            )
        ).one()
        return CustomerProfile(int(row.id), row.name, row.language, row.phone)

    async def set_language(self, customer_id: int, language: str) -> None:
        await self._db.execute(
            update(customers).where(customers.c.id == customer_id).values(language=language)
        )

    async def set_phone(self, customer_id: int, phone: str) -> None:
        await self._db.execute(
            update(customers).where(customers.c.id == customer_id).values(phone=phone)
        )

    async def reachable_again(self, customer_id: int) -> None:
        """They wrote to us: whatever refused our messages before is over."""
        await self._db.execute(
            update(customers)
            .where(customers.c.id == customer_id, customers.c.unreachable_at.is_not(None))
            .values(unreachable_at=None)
        )

    async def chat_of(self, customer_id: int) -> CustomerChat | None:
        """The chat of the customer's channel identity (salonbot talks in private chats,
        where the chat is the person), or None: added by staff, never wrote, or their
        channel refuses our messages for good (``unreachable_at``)."""
        row = (
            await self._db.execute(
                select(conversations.c.channel, conversations.c.chat_id, customers.c.language)
                .select_from(
                    customers.join(
                        conversations,
                        and_(
                            conversations.c.channel == customers.c.channel,
                            conversations.c.chat_id == customers.c.external_id,
                        ),
                    )
                )
                .where(customers.c.id == customer_id, customers.c.unreachable_at.is_(None))
            )
        ).first()
        return None if row is None else CustomerChat(row.channel, row.chat_id, row.language)

    async def card(self, customer_id: int) -> CustomerCard | None:
        row = (await self._db.execute(_cards().where(customers.c.id == customer_id))).first()
        return None if row is None else _card(row)

    async def with_phone_or_new(self, name: str, phone: str, digits: str, at: datetime) -> int:
        """The customer whose phone has ``digits`` (the oldest, should there be several),
        or a new one added by staff (no channel). Walk-ins of one new number at once are
        serialized by a transaction-scoped lock on the digits, so they make one customer.
        Without digits, always a new customer."""
        if digits:
            await self._db.execute(
                select(func.pg_advisory_xact_lock(_PHONE_LOCK, func.hashtext(digits)))
            )
            found = await self._db.execute(
                select(customers.c.id)
                .where(_digits(customers.c.phone) == digits)
                .order_by(customers.c.id)
                .limit(1)
            )
            known = found.scalar_one_or_none()
            if known is not None:
                return int(known)
        return await self.add(name, at, phone=phone or None)

    async def search(self, text: str, digits: str, limit: int) -> list[CustomerCard]:
        """Customers whose name contains ``text`` in any case (wildcards in it taken
        literally), or whose phone's digits contain ``digits`` (when given): names that
        start with it first, then by name."""
        pattern = "%" + _escaped(text) + "%"
        matches: list[ColumnElement[bool]] = [customers.c.name.ilike(pattern, escape=_ESCAPE)]
        if digits:
            matches.append(_digits(customers.c.phone).contains(digits, autoescape=True))
        starts = customers.c.name.ilike(_escaped(text) + "%", escape=_ESCAPE)
        rows = await self._db.execute(
            _cards()
            .where(or_(*matches))
            .order_by(case((starts, 0), else_=1), func.lower(customers.c.name), customers.c.id)
            .limit(limit)
        )
        return [_card(row) for row in rows]


# The first key of the advisory locks that serialize walk-ins by phone number ("PH").
_PHONE_LOCK = 0x5048
_ESCAPE = "\\"


def _escaped(text: str) -> str:
    """``text`` for a LIKE pattern, its own wildcards taken literally."""
    return (
        text.replace(_ESCAPE, _ESCAPE * 2).replace("%", _ESCAPE + "%").replace("_", _ESCAPE + "_")
    )


def _digits(column: ColumnElement[str | None]) -> ColumnElement[str]:
    return func.regexp_replace(func.coalesce(column, ""), "[^0-9]", "", "g")


def _cards() -> Select[Any]:
    return select(
        customers.c.id,
        customers.c.name,
        customers.c.phone,
        customers.c.channel,
        customers.c.language,
    )


def _card(row: Row[Any]) -> CustomerCard:
    return CustomerCard(int(row.id), row.name, row.phone or "", row.channel or "", row.language)
