"""Calendar alerts: what the sync with a staff member's Google Calendar could not settle by
itself, kept for the staff page and told to the staff member.

``conflict``: a booking that an event of the staff member's own calendar now overlaps (a
chat booking made before the event was read back: the window is the poll interval, or a
few seconds with push notifications). Told once per (booking, event).
``reverted``: a move of salonbot's own event in Google that salonbot put back (it
conflicted or broke the rules); ``detail`` says why.

Called inside the caller's transaction (the use case owns it); the alert and the notice
commit or roll back with the change that raised them. The notice goes to each chat linked
to the staff member (``salonbot staff link``), in that chat's language, as bulk in the
outbox, like their booking notices. A ``reverted`` alert's ``detail`` is best one of
``core.linked_calendars.edits.RevertReason``'s: the notice and the staff page say it in
the reader's language (any other text is shown as it is).

The staff page shows the open alerts until someone dismisses them
(``core.services.calendar_desk``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.conversation.messages import Reply
from core.conversation.staff_texts import StaffTexts
from core.db.booking_repository import BookingRepository
from core.db.customer_repository import CustomerRepository
from core.db.outbox_repository import BulkMessage, OutboxRepository
from core.db.staff_chat_repository import StaffChatRepository
from core.db.tables import calendar_alerts, staff
from core.domain.catalog import Catalog
from core.services.staff_notices import NOTICE_FRESH_FOR

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
    if booking_id is not None:
        await _tell_staff(connection, catalog, staff_key, kind, booking_id, detail, at)
    return True


async def _tell_staff(
    connection: AsyncConnection,
    catalog: Catalog,
    staff_key: str,
    kind: AlertKind,
    booking_id: int,
    detail: str,
    at: datetime,
) -> None:
    """Queue the alert's notice to each of the staff member's linked chats."""
    chats = await StaffChatRepository(connection).chats_of_keys([staff_key])
    booking = await BookingRepository(connection).get(booking_id) if chats else None
    if booking is None:
        return
    first_name = ""
    if booking.customer_id is not None:
        names = (await CustomerRepository(connection).get(booking.customer_id)).name.split()
        first_name = names[0] if names else ""
    # Told while it can still be acted on: until the visit starts (and a moment at least).
    expires_at = max(booking.start, at + NOTICE_FRESH_FOR)
    messages = []
    for chat in chats:
        texts = StaffTexts(catalog, chat.language)
        if kind is AlertKind.CONFLICT:
            text = texts.calendar_conflict(booking, first_name)
        else:
            text = texts.calendar_reverted(booking, first_name, detail)
        messages.append(BulkMessage(chat.channel, chat.chat_id, Reply(text), expires_at=expires_at))
    await OutboxRepository(connection).add_bulk(messages, at)
    log.info("calendar alert of booking %d told to %d chat(s)", booking_id, len(chats))
