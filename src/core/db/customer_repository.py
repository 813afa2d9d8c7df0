"""Customers: the people bookings are for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import customers


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    id: int
    name: str
    language: str | None
    phone: str | None


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
