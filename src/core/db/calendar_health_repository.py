"""Each staff member's linked calendar in numbers, for ``salonbot google status``: its
read-back state, its push channel, its pushes waiting, failing and stuck, its open alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.calendar.linked import FAILING_AFTER
from core.db.tables import bookings, calendar_alerts, calendar_pushes, calendar_syncs, staff


@dataclass(frozen=True, slots=True)
class Waiting:
    """How many, and since when the oldest (None: none)."""

    count: int = 0
    oldest: datetime | None = None


@dataclass(frozen=True, slots=True)
class CalendarHealth:
    """One staff member's calendar as stored. ``calendar_id`` is the one read back (None:
    not read back yet); ``open`` counts every push not carried out yet, ``failing`` those
    of them tried ``FAILING_AFTER`` times or more, ``parked`` the pushes given up that no
    later push settled, of visits not over."""

    staff_key: str
    staff_name: str
    calendar_id: str | None = None
    synced_at: datetime | None = None
    sync_failures: int = 0
    sync_error: str = ""
    channel_expires_at: datetime | None = None
    open: Waiting = Waiting()
    failing: Waiting = Waiting()
    parked: Waiting = Waiting()
    alerts: int = 0


class CalendarHealthRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def health(self, now: datetime) -> dict[str, CalendarHealth]:
        """Every staff member that has a calendar read back, a push not done or parked, or
        an open alert, by key."""
        found: dict[int, dict[str, object]] = {}
        names: dict[int, tuple[str, str]] = {
            row.id: (row.key, row.name)
            for row in await self._db.execute(select(staff.c.id, staff.c.key, staff.c.name))
        }
        for row in await self._db.execute(select(calendar_syncs)):
            found.setdefault(row.staff_id, {}).update(
                calendar_id=row.calendar_id,
                synced_at=row.synced_at,
                sync_failures=int(row.failures),
                sync_error=row.last_error or "",
                channel_expires_at=row.channel_expires_at,
            )
        is_open = and_(calendar_pushes.c.done_at.is_(None), calendar_pushes.c.parked_at.is_(None))
        failing = and_(is_open, calendar_pushes.c.attempts >= FAILING_AFTER)
        rows = await self._db.execute(
            select(
                calendar_pushes.c.staff_id,
                func.count(),
                func.min(calendar_pushes.c.created_at),
                func.count().filter(failing),
                func.min(calendar_pushes.c.created_at).filter(failing),
            )
            .where(is_open)
            .group_by(calendar_pushes.c.staff_id)
        )
        for staff_id, count, oldest, failing_count, oldest_failing in rows:
            found.setdefault(staff_id, {}).update(
                open=Waiting(int(count), oldest),
                failing=Waiting(int(failing_count), oldest_failing),
            )
        rows = await self._db.execute(
            select(calendar_pushes.c.staff_id, func.count(), func.min(calendar_pushes.c.parked_at))
            .join(bookings, bookings.c.id == calendar_pushes.c.booking_id)
            .where(
                calendar_pushes.c.parked_at.is_not(None),
                calendar_pushes.c.done_at.is_(None),
                bookings.c.ends_at > now,
            )
            .group_by(calendar_pushes.c.staff_id)
        )
        for staff_id, count, oldest in rows:
            found.setdefault(staff_id, {})["parked"] = Waiting(int(count), oldest)
        rows = await self._db.execute(
            select(calendar_alerts.c.staff_id, func.count())
            .where(calendar_alerts.c.dismissed_at.is_(None))
            .group_by(calendar_alerts.c.staff_id)
        )
        for staff_id, count in rows:
            found.setdefault(staff_id, {})["alerts"] = int(count)
        return {
            names[staff_id][0]: CalendarHealth(*names[staff_id], **fields)  # type: ignore[arg-type]
            for staff_id, fields in found.items()
        }
