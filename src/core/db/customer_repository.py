"""Customers: the people bookings are for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import customers


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
