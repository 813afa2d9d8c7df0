"""salonbot's own events as reads of the staff's calendars found them
(``calendar_seen_events``), waiting to be reconciled with their bookings.

The calendar import keeps them (``keep``) in the transaction that keeps the read's busy
time and sync token; ``core.services.calendar_edits`` claims the due ones (``FOR UPDATE
SKIP LOCKED``, then ``claimed_until``), reconciles each in a transaction of its own that
ends with ``done``, and records a failure (``failed``) with a backoff, or parked after too
many. A read that finds the event again while it is claimed bumps its ``version``: the
claim's ``done`` then leaves the newer event to be reconciled in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.db.tables import calendar_seen_events, staff
from core.linked_calendars.ports import CalendarEvent

MAX_ERROR_LENGTH = 2000
_INSERT_CHUNK = 1000  # rows per INSERT: well under Postgres's 32,767 parameters


@dataclass(frozen=True, slots=True)
class SeenEvent:
    """A claimed event of ours: the read's staff member and calendar, the event, and the
    version claimed."""

    staff_id: int
    staff_key: str
    calendar_id: str
    event: CalendarEvent
    version: int
    attempts: int


class SeenEventRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def keep(
        self, staff_id: int, calendar_id: str, events: Sequence[CalendarEvent], now: datetime
    ) -> None:
        """Keep these events of ours (``booking_id`` set, one per booking) to be
        reconciled; each replaces what was kept of its booking, and a changed one starts
        again with no failures."""
        if not events:
            return
        rows = [
            {
                "staff_id": staff_id,
                "booking_id": event.booking_id,
                "calendar_id": calendar_id,
                "event": _event_json(event),
                "seen_at": now,
            }
            for event in events
        ]
        for first in range(0, len(rows), _INSERT_CHUNK):
            await self._upsert(rows[first : first + _INSERT_CHUNK])

    async def _upsert(self, rows: list[dict[str, Any]]) -> None:
        statement = insert(calendar_seen_events).values(rows)
        new = statement.excluded
        kept = calendar_seen_events.c
        await self._db.execute(
            statement.on_conflict_do_update(
                index_elements=[kept.staff_id, kept.booking_id],
                set_={
                    "calendar_id": new.calendar_id,
                    "event": new.event,
                    "seen_at": new.seen_at,
                    "version": kept.version + 1,
                    "attempts": 0,
                    "next_attempt_at": None,
                    "last_error": None,
                    "parked_at": None,
                },
                # The same event read again (a full read replays them all) changes nothing:
                # not its backoff, not a parked one.
                where=tuple_(kept.calendar_id, kept.event).is_distinct_from(
                    tuple_(new.calendar_id, new.event)
                ),
            )
        )

    async def claim(
        self, *, now: datetime, until: datetime, limit: int, staff_key: str | None = None
    ) -> list[SeenEvent]:
        """Claim up to ``limit`` events due (not parked, not claimed, not waiting for a
        retry), oldest first (``staff_key``'s only, when given); others' claims skipped."""
        kept = calendar_seen_events.c
        due = [
            kept.parked_at.is_(None),
            or_(kept.claimed_until.is_(None), kept.claimed_until <= now),
            or_(kept.next_attempt_at.is_(None), kept.next_attempt_at <= now),
        ]
        if staff_key is not None:
            whose = select(staff.c.id).where(staff.c.key == staff_key).scalar_subquery()
            due.append(kept.staff_id == whose)
        chosen = (
            select(kept.staff_id, kept.booking_id)
            .where(*due)
            .order_by(kept.seen_at, kept.staff_id, kept.booking_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("chosen")
        )
        claimed = (
            update(calendar_seen_events)
            .where(
                tuple_(kept.staff_id, kept.booking_id).in_(
                    select(chosen.c.staff_id, chosen.c.booking_id)
                )
            )
            .values(claimed_until=until)
            .returning(*calendar_seen_events.c)
            .cte("claimed")
        )
        rows = await self._db.execute(
            select(claimed, staff.c.key)
            .join(staff, staff.c.id == claimed.c.staff_id)
            .order_by(claimed.c.seen_at, claimed.c.staff_id, claimed.c.booking_id)
        )
        return [
            SeenEvent(
                staff_id=int(row.staff_id),
                staff_key=str(row.key),
                calendar_id=str(row.calendar_id),
                event=_event(row.event, int(row.booking_id)),
                version=int(row.version),
                attempts=int(row.attempts),
            )
            for row in rows
        ]

    async def done(self, seen: SeenEvent) -> None:
        """The claimed version is reconciled: gone; a newer one read meanwhile stays, due."""
        deleted = await self._db.execute(delete(calendar_seen_events).where(*_is(seen, True)))
        if deleted.rowcount == 0:
            await self._release(seen)

    async def failed(
        self, seen: SeenEvent, error: str, *, retry_at: datetime, parked_at: datetime | None
    ) -> None:
        """Reconciling the claimed version failed: tried again at ``retry_at``, or given up
        (``parked_at``); a newer version read meanwhile is simply due."""
        changed = await self._db.execute(
            update(calendar_seen_events)
            .where(*_is(seen, True))
            .values(
                claimed_until=None,
                attempts=calendar_seen_events.c.attempts + 1,
                next_attempt_at=retry_at,
                last_error=error[:MAX_ERROR_LENGTH],
                parked_at=parked_at,
            )
        )
        if changed.rowcount == 0:
            await self._release(seen)

    async def _release(self, seen: SeenEvent) -> None:
        await self._db.execute(
            update(calendar_seen_events).where(*_is(seen, False)).values(claimed_until=None)
        )


def _is(seen: SeenEvent, same_version: bool) -> list[ColumnElement[bool]]:
    """The claimed row (and its version, when ``same_version``)."""
    kept = calendar_seen_events.c
    where = [kept.staff_id == seen.staff_id, kept.booking_id == seen.event.booking_id]
    if same_version:
        where.append(kept.version == seen.version)
    return where


def _event_json(event: CalendarEvent) -> dict[str, Any]:
    """What is kept of the event: when and whether, never a title."""
    return {
        "event_id": event.event_id,
        "cancelled": event.cancelled,
        "busy": event.busy,
        "start": _text(event.start),
        "end": _text(event.end),
        "first_day": _text(event.first_day),
        "end_day": _text(event.end_day),
        "updated": _text(event.updated),
        "recurring_event_id": event.recurring_event_id,
    }


def _event(kept: dict[str, Any], booking_id: int) -> CalendarEvent:
    return CalendarEvent(
        event_id=kept["event_id"],
        cancelled=kept["cancelled"],
        busy=kept["busy"],
        start=_instant(kept["start"]),
        end=_instant(kept["end"]),
        first_day=_day(kept["first_day"]),
        end_day=_day(kept["end_day"]),
        booking_id=booking_id,
        updated=_instant(kept["updated"]),
        recurring_event_id=kept["recurring_event_id"],
    )


def _text(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)
