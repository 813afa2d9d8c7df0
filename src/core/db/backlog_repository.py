"""The backlog as monitoring reads it: queues' depths, the Google sync's state, booking
counts. Read-only, one statement per look, each under the transaction's statement timeout
(``bound``), so a scrape can never load the database for long."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import (
    booking_events,
    calendar_pushes,
    calendar_syncs,
    inbound_events,
    outbound_messages,
    staff,
)


@dataclass(frozen=True, slots=True)
class PendingRows:
    """One channel's pending rows in a queue, and when the oldest of them was made."""

    channel: str
    count: int
    oldest: datetime


@dataclass(frozen=True, slots=True)
class PushRows:
    """The calendar pushes not carried out: open (waiting or being tried) and parked."""

    open: int
    oldest_open: datetime | None
    parked: int


@dataclass(frozen=True, slots=True)
class SyncRow:
    """A linked calendar's read-back: syncs failed in a row, and the last good one."""

    staff_key: str
    failures: int
    synced_at: datetime | None


class BacklogRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def bound(self, milliseconds: int) -> None:
        """Cancel any statement of this transaction that runs longer than this."""
        await self._db.execute(
            select(func.set_config("statement_timeout", str(int(milliseconds)), True))
        )

    async def inbox(self) -> list[PendingRows]:
        """Pending inbound events per channel (the partial index of pending ones)."""
        return await self._pending(inbound_events, inbound_events.c.received_at)

    async def outbox(self) -> list[PendingRows]:
        """Pending outbound messages per channel, retries and rests included."""
        return await self._pending(outbound_messages, outbound_messages.c.created_at)

    async def _pending(self, table: Table, made: ColumnElement[Any]) -> list[PendingRows]:
        rows = await self._db.execute(
            select(table.c.channel, func.count(), func.min(made))
            .where(table.c.status == "pending")
            .group_by(table.c.channel)
            .order_by(table.c.channel)
        )
        return [PendingRows(channel, count, oldest) for channel, count, oldest in rows]

    async def calendar_pushes(self) -> PushRows:
        is_open = and_(calendar_pushes.c.done_at.is_(None), calendar_pushes.c.parked_at.is_(None))
        is_parked = and_(
            calendar_pushes.c.done_at.is_(None), calendar_pushes.c.parked_at.is_not(None)
        )
        opened = select(func.count(), func.min(calendar_pushes.c.created_at)).where(is_open)
        parked = select(func.count()).where(is_parked).scalar_subquery()
        row = (await self._db.execute(opened.add_columns(parked))).one()
        return PushRows(open=row[0], oldest_open=row[1], parked=row[2])

    async def calendar_syncs(self) -> list[SyncRow]:
        rows = await self._db.execute(
            select(staff.c.key, calendar_syncs.c.failures, calendar_syncs.c.synced_at)
            .join(staff, staff.c.id == calendar_syncs.c.staff_id)
            .order_by(staff.c.key)
        )
        return [SyncRow(key, failures, synced_at) for key, failures, synced_at in rows]

    async def booking_actions(self, actions: Iterable[str]) -> dict[str, int]:
        """How many times each of ``actions`` was recorded in the bookings' history."""
        rows = await self._db.execute(
            select(booking_events.c.action, func.count())
            .where(booking_events.c.action.in_(list(actions)))
            .group_by(booking_events.c.action)
        )
        return {action: count for action, count in rows}
