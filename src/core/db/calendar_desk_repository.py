"""The staff's linked calendars as the staff page sees them: open alerts, stuck pushes and
each calendar's sync state, read in one statement; and an alert dismissed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    Select,
    cast,
    false,
    literal,
    null,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from core.calendar.linked import (
    FAILING_AFTER,
    MOST_SHOWN,
    CalendarAlertLine,
    CalendarSyncLine,
    LinkedCalendarNotices,
    StuckPush,
)
from core.db.tables import bookings, calendar_alerts, calendar_pushes, calendar_syncs, staff

_INSTANT = DateTime(timezone=True)
# Who and which visit, in every part: the staff member's key and name, the booking's start.
_WHO = (staff.c.key.label("staff_key"), staff.c.name.label("staff_name"), bookings.c.starts_at)


class CalendarDeskRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def notices(self, now: datetime, staff_key: str | None) -> LinkedCalendarNotices:
        """Everyone's (``staff_key`` None) or one staff member's: open alerts and stuck
        pushes (``MOST_SHOWN`` of each kind at most, oldest first; parked ones only of
        visits not over at ``now``), and the sync state of each linked calendar. Each
        part walks its own partial index; one round trip for all."""
        mine = true() if staff_key is None else staff.c.key == staff_key
        alerts = _limited(
            select(
                literal("alert").label("part"),
                calendar_alerts.c.id,
                calendar_alerts.c.kind.label("what"),
                calendar_alerts.c.booking_id,
                calendar_alerts.c.detail.label("detail"),
                calendar_alerts.c.created_at.label("at"),
                cast(literal(0), Integer).label("count"),
                cast(null(), _INSTANT).label("next_at"),
                cast(false(), Boolean).label("parked"),
                *_WHO,
            )
            .join(staff, staff.c.id == calendar_alerts.c.staff_id)
            .outerjoin(bookings, bookings.c.id == calendar_alerts.c.booking_id)
            .where(calendar_alerts.c.dismissed_at.is_(None), mine)
            .order_by(calendar_alerts.c.created_at, calendar_alerts.c.id)
        )
        parked = _push_part(
            (
                calendar_pushes.c.parked_at.is_not(None),
                calendar_pushes.c.done_at.is_(None),
                bookings.c.ends_at > now,
                mine,
            )
        )
        failing = _push_part(
            (
                calendar_pushes.c.done_at.is_(None),
                calendar_pushes.c.parked_at.is_(None),
                calendar_pushes.c.attempts >= FAILING_AFTER,
                mine,
            )
        )
        syncs = (
            select(
                literal("sync").label("part"),
                staff.c.id,
                literal("").label("what"),
                cast(null(), Integer).label("booking_id"),
                calendar_syncs.c.last_error.label("detail"),
                calendar_syncs.c.synced_at.label("at"),
                calendar_syncs.c.failures.label("count"),
                calendar_syncs.c.next_attempt_at.label("next_at"),
                cast(false(), Boolean).label("parked"),
                staff.c.key.label("staff_key"),
                staff.c.name.label("staff_name"),
                cast(null(), _INSTANT).label("starts_at"),
            )
            .join(staff, staff.c.id == calendar_syncs.c.staff_id)
            .where(mine)
        )
        rows = (await self._db.execute(union_all(alerts, parked, failing, syncs))).all()
        return LinkedCalendarNotices(
            alerts=tuple(_alert(r._mapping) for r in rows if r.part == "alert"),
            pushes=tuple(_push(r._mapping) for r in rows if r.part == "push"),
            syncs=tuple(
                sorted((_sync(r._mapping) for r in rows if r.part == "sync"), key=_by_name)
            ),
        )

    async def open_alert_staff(self, alert_id: int) -> str | None:
        """The staff key of the open alert ``alert_id`` (locked until the transaction
        ends), or None."""
        found = await self._db.scalar(
            select(staff.c.key)
            .join(calendar_alerts, calendar_alerts.c.staff_id == staff.c.id)
            .where(calendar_alerts.c.id == alert_id, calendar_alerts.c.dismissed_at.is_(None))
            .with_for_update(of=calendar_alerts)
        )
        return None if found is None else str(found)

    async def dismiss(self, alert_id: int, at: datetime) -> None:
        await self._db.execute(
            update(calendar_alerts)
            .where(calendar_alerts.c.id == alert_id, calendar_alerts.c.dismissed_at.is_(None))
            .values(dismissed_at=at)
        )


def _push_part(conditions: tuple[Any, ...]) -> Select[Any]:
    return _limited(
        select(
            literal("push").label("part"),
            calendar_pushes.c.id,
            calendar_pushes.c.action.label("what"),
            calendar_pushes.c.booking_id,
            calendar_pushes.c.last_error.label("detail"),
            calendar_pushes.c.created_at.label("at"),
            calendar_pushes.c.attempts.label("count"),
            calendar_pushes.c.next_attempt_at.label("next_at"),
            calendar_pushes.c.parked_at.is_not(None).label("parked"),
            *_WHO,
        )
        .join(staff, staff.c.id == calendar_pushes.c.staff_id)
        .join(bookings, bookings.c.id == calendar_pushes.c.booking_id)
        .where(*conditions)
        .order_by(calendar_pushes.c.id)
    )


def _limited(query: Select[Any]) -> Select[Any]:
    """``query``'s first ``MOST_SHOWN`` rows, wrapped so that its own order and limit hold
    inside the union."""
    return select(query.limit(MOST_SHOWN).subquery())


def _alert(row: Any) -> CalendarAlertLine:
    return CalendarAlertLine(
        id=int(row["id"]),
        staff_key=row["staff_key"],
        staff_name=row["staff_name"],
        kind=row["what"],
        booking_id=row["booking_id"],
        booking_start=row["starts_at"],
        detail=row["detail"] or "",
        raised_at=row["at"],
    )


def _push(row: Any) -> StuckPush:
    return StuckPush(
        id=int(row["id"]),
        staff_key=row["staff_key"],
        staff_name=row["staff_name"],
        booking_id=int(row["booking_id"]),
        booking_start=row["starts_at"],
        action=row["what"],
        attempts=int(row["count"]),
        last_error=row["detail"] or "",
        parked=bool(row["parked"]),
        next_attempt_at=None if row["parked"] else row["next_at"],
        queued_at=row["at"],
    )


def _sync(row: Any) -> CalendarSyncLine:
    return CalendarSyncLine(
        staff_key=row["staff_key"],
        staff_name=row["staff_name"],
        synced_at=row["at"],
        failures=int(row["count"]),
        last_error=row["detail"] or "",
    )


def _by_name(line: CalendarSyncLine) -> str:
    return line.staff_name
