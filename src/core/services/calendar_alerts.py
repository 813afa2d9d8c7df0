"""Calendar alerts: what the sync with a staff member's Google Calendar could not settle by
itself, kept for the staff page and told to the staff member.

``conflict``: a booking that an event of the staff member's own calendar now overlaps (a
chat booking made before the event was read back: the window is the poll interval, or a
few seconds with push notifications). Told once per (booking, event).
``reverted``: a move of salonbot's own event in Google that salonbot put back (it
conflicted or broke the rules); ``detail`` says why.

Called inside the caller's transaction (the use case owns it); the alert and the notice
commit or roll back with the change that raised them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import calendar_alerts, staff
from core.domain.catalog import Catalog

log = logging.getLogger(__name__)


class AlertKind(StrEnum):
    CONFLICT = "conflict"
    REVERTED = "reverted"


async def raise_alert(
    connection: AsyncConnection,
    catalog: Catalog,
    *,
    staff_key: str,
    kind: AlertKind,
    booking_id: int | None,
    event_id: str,
    detail: str,
    at: datetime,
) -> bool:
    """Record the alert for the staff page and log it; False when this conflict was
    recorded before (nothing is done then)."""
    staff_id = await connection.scalar(select(staff.c.id).where(staff.c.key == staff_key))
    if staff_id is None:
        log.warning("calendar alert for a staff member not stored: %s", staff_key)
        return False
    inserted = await connection.scalar(
        insert(calendar_alerts)
        .values(
            staff_id=staff_id,
            kind=kind.value,
            booking_id=booking_id,
            event_id=event_id,
            detail=detail,
            created_at=at,
        )
        .on_conflict_do_nothing(
            index_elements=["kind", "booking_id", "event_id"],
            # A literal, not a bound parameter: once Postgres plans the prepared statement
            # generically (its sixth run on a connection) a parameter no longer proves the
            # partial index's predicate, and the insert fails to find its arbiter.
            index_where=text("kind = 'conflict'"),
        )
        .returning(calendar_alerts.c.id)
    )
    if inserted is None:
        return False
    log.warning(
        "calendar alert: %s",
        kind.value,
        extra={"staff": staff_key, "booking": booking_id, "detail": detail},
    )
    return True
