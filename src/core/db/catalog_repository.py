"""The stored catalog: the validated document, and identity rows for services and staff."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.blocking import is_active
from core.db.tables import bookings, salon_catalog, services, staff


class CatalogRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def stored(self) -> tuple[str, Mapping[str, Any]] | None:
        """The stored (digest, canonical document), or None before the first load."""
        row = (
            await self._db.execute(select(salon_catalog.c.digest, salon_catalog.c.document))
        ).first()
        return None if row is None else (row.digest, row.document)

    async def digest(self) -> str | None:
        return (await self._db.execute(select(salon_catalog.c.digest))).scalar_one_or_none()

    async def lock(self) -> None:
        """Serialize catalog loads (a transaction-scoped advisory lock)."""
        await self._db.execute(select(func.pg_advisory_xact_lock(0x5A107)))

    async def lock_all_staff(self) -> None:
        """Lock every staff row in id order, as bookings do for theirs.

        Every booking holds its staff rows' locks while it writes, so once a load holds all
        of them, no booking is half-written and none starts until the load commits.
        """
        await self._db.execute(select(staff.c.id).order_by(staff.c.id).with_for_update())

    async def save(self, document: Mapping[str, Any], digest: str, at: datetime) -> None:
        values = {"id": 1, "document": document, "digest": digest, "loaded_at": at}
        statement = insert(salon_catalog).values(values)
        await self._db.execute(
            statement.on_conflict_do_update(
                index_elements=[salon_catalog.c.id],
                set_={k: statement.excluded[k] for k in ("document", "digest", "loaded_at")},
            )
        )

    async def active_service_keys(self) -> set[str]:
        rows = await self._db.execute(select(services.c.key).where(services.c.active))
        return set(rows.scalars())

    async def active_staff(self) -> dict[str, str]:
        rows = await self._db.execute(select(staff.c.key, staff.c.name).where(staff.c.active))
        return {row.key: row.name for row in rows}

    async def upsert_services(self, keys: Iterable[str]) -> None:
        for key in keys:
            statement = insert(services).values(key=key, active=True)
            await self._db.execute(
                statement.on_conflict_do_update(
                    index_elements=[services.c.key], set_={"active": True}
                )
            )

    async def upsert_staff(self, names: Mapping[str, str]) -> None:
        for key, name in names.items():
            statement = insert(staff).values(key=key, name=name, active=True)
            await self._db.execute(
                statement.on_conflict_do_update(
                    index_elements=[staff.c.key], set_={"name": name, "active": True}
                )
            )

    async def deactivate_services(self, keys: Iterable[str]) -> None:
        await self._db.execute(
            update(services).where(services.c.key.in_(list(keys))).values(active=False)
        )

    async def deactivate_staff(self, keys: Iterable[str]) -> None:
        await self._db.execute(
            update(staff).where(staff.c.key.in_(list(keys))).values(active=False)
        )

    async def future_bookings_of_services(
        self, keys: Iterable[str], now: datetime
    ) -> dict[str, int]:
        return await self._future_bookings(services, bookings.c.service_id, keys, now)

    async def future_bookings_of_staff(self, keys: Iterable[str], now: datetime) -> dict[str, int]:
        return await self._future_bookings(staff, bookings.c.staff_id, keys, now)

    async def _future_bookings(
        self, table: Any, column: Any, keys: Iterable[str], now: datetime
    ) -> dict[str, int]:
        query = (
            select(table.c.key, func.count())
            .select_from(bookings.join(table, column == table.c.id))
            .where(
                table.c.key.in_(list(keys)),
                bookings.c.ends_at > now,
                is_active(),
            )
            .group_by(table.c.key)
        )
        return {row[0]: row[1] for row in await self._db.execute(query)}
