"""Staff notices: a linked staff member hears of each change to their bookings.

A ``BookingFollower``: in the change's own transaction it queues one message per linked
chat of the staff member, in that chat's language, as bulk in the outbox (a chatting
customer's reply goes first). A booking made (a hold confirmed, or booked in one step),
a visit cancelled (a hold let go is no visit), moved (both staff members hear of it when
it changes hands) and the customer's confirmation that they are coming.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.conversation.messages import Reply
from core.conversation.staff_texts import StaffTexts, Visitor
from core.db.customer_repository import CustomerRepository
from core.db.outbox_repository import OutboxRepository, Priority
from core.db.staff_chat_repository import StaffChatRepository
from core.domain.catalog import Catalog
from core.services.booking_changes import BookingAction, BookingChange

log = logging.getLogger(__name__)

NOTICE_FRESH_FOR = timedelta(minutes=15)
"""How long after the change a notice still goes, however soon the visit starts: a walk-in
booked to start now is still told."""

_TOLD = frozenset(
    {
        BookingAction.BOOKED,
        BookingAction.CONFIRMED,
        BookingAction.CANCELLED,
        BookingAction.RESCHEDULED,
        BookingAction.ATTENDANCE_CONFIRMED,
    }
)


class StaffNotices:
    """The ``BookingFollower`` that queues staff notices."""

    async def booking_changed(
        self, connection: AsyncConnection, catalog: Catalog, change: BookingChange
    ) -> None:
        if change.action not in _TOLD:
            return
        after, before = change.after, change.before
        staff_keys = {after.staff_key}
        if change.action is BookingAction.RESCHEDULED and before is not None:
            staff_keys.add(before.staff_key)
        chats = await StaffChatRepository(connection).chats_of_keys(staff_keys)
        if not chats:
            return
        visitor = await _visitor(connection, after.customer_id)
        # Not the visit's own booking_id: a notice must not be withdrawn with the
        # reminders when the visit moves or ends; it only goes stale once the visit began,
        # and not before it had a moment to go.
        starts = [after.start] + ([before.start] if before is not None else [])
        expires_at = max([*starts, change.at + NOTICE_FRESH_FOR])
        outbox = OutboxRepository(connection)
        for chat in chats:
            texts = StaffTexts(catalog, chat.language)
            if change.action is BookingAction.RESCHEDULED and before is not None:
                text = texts.moved(before, after, visitor)
            elif change.action is BookingAction.CANCELLED:
                text = texts.cancelled(after, visitor)
            elif change.action is BookingAction.ATTENDANCE_CONFIRMED:
                text = texts.attendance_confirmed(after, visitor)
            else:
                text = texts.booked(after, visitor)
            await outbox.add(
                chat.channel,
                chat.chat_id,
                [Reply(text)],
                change.at,
                priority=Priority.BULK,
                expires_at=expires_at,
                customer_ids=[] if after.customer_id is None else [after.customer_id],
            )
        log.info(
            "staff notice of booking %d (%s) queued to %d chat(s)",
            after.id,
            change.action.value,
            len(chats),
        )


async def _visitor(connection: AsyncConnection, customer_id: int | None) -> Visitor:
    if customer_id is None:
        return Visitor()
    profile = await CustomerRepository(connection).get(customer_id)
    return Visitor(profile.name, profile.phone or "")
