"""Customers: the people bookings are for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
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
