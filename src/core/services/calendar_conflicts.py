"""Conflicts: a confirmed booking and an event of its staff member's own calendar (busy time
read back, ``calendar_busy``) overlap. Whichever of the two comes second notices:

* the calendar import, as a read writes busy time (``core.services.calendar_read``): an
  incremental read checks the events it found new or moved, a full read every event, so a
  resync reconciles whatever was missed;
* ``CalendarConflicts``, a ``BookingFollower``, as a booking becomes confirmed: above all a
  hold confirmed in time, whose slot is not checked again (an event read over the hold
  meanwhile is no conflict while it is a hold); a booking made or moved is checked
  against busy time under its lock already, and this is the same check made sure of.

Both run under the staff member's row lock (the import takes it before it writes busy
time, the booking use cases hold it while they write), so whichever commits second sees
what the other committed. Each conflict is recorded once per (booking, event)
(``raise_alert``, for the staff page); salonbot moves or cancels nothing by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.calendar_conflict_repository import CalendarConflictRepository, Overlap
from core.domain.booking import BookingStatus
from core.domain.catalog import Catalog
from core.services.booking_changes import BookingAction, BookingChange
from core.services.calendar_alerts import AlertKind, raise_alert

_TAKES_TIME = frozenset({BookingAction.BOOKED, BookingAction.CONFIRMED, BookingAction.RESCHEDULED})


async def alert_conflicts(
    connection: AsyncConnection,
    catalog: Catalog,
    staff_key: str,
    overlaps: Sequence[Overlap],
    at: datetime,
) -> None:
    """A conflict alert for each overlap (those recorded before are not told again)."""
    zone = catalog.salon.zone
    for overlap in overlaps:
        start = overlap.booking.start.astimezone(zone)
        end = overlap.booking.end.astimezone(zone)
        await raise_alert(
            connection,
            catalog,
            staff_key=staff_key,
            kind=AlertKind.CONFLICT,
            booking_id=overlap.booking_id,
            event_id=overlap.event_id,
            detail=(
                f"booking #{overlap.booking_id} ({start:%Y-%m-%d %H:%M}-{end:%H:%M}) "
                "overlaps an event of their Google Calendar"
            ),
            at=at,
        )


class CalendarConflicts:
    """The ``BookingFollower`` that checks a booking, as it becomes confirmed at its time,
    against its staff member's busy time read back from their calendar."""

    async def booking_changed(
        self, connection: AsyncConnection, catalog: Catalog, change: BookingChange
    ) -> None:
        after = change.after
        if change.action not in _TAKES_TIME or after.status is not BookingStatus.CONFIRMED:
            return
        overlaps = await CalendarConflictRepository(connection).of_booking(after.id, change.at)
        await alert_conflicts(connection, catalog, after.staff_key, overlaps, change.at)
