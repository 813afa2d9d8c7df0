"""Customer notices: a customer hears in their chat of a change the salon made to their
visit.

A ``BookingFollower``: in the change's own transaction it queues one message to the
customer's chat, in their language, as bulk in the outbox, when someone other than the
customer (a staff user, the system) cancelled or moved their visit. A customer's own
changes are answered by their conversation, and a customer without a chat (added by
staff) or unreachable on it is simply not told.

The message is about the visit (``booking_id``): the reminders' planner, which runs
before this follower, withdraws the visit's waiting messages when it changes, so a
"moved" notice of a visit moved again is taken back and the newest one goes. It has no
channel form (no WhatsApp template is approved for it): a WhatsApp customer whose
24-hour window has closed is not told (``OutboxRepository.stand_in_for_refused`` queues
nothing for a bulk message without a form), and the staff phone them. A moved visit's
reminders still come as templates at their time.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.conversation.desk_port import pick_language
from core.conversation.visit_changes import cancelled_reply, moved_reply
from core.conversation.words import offered_languages
from core.db.customer_repository import CustomerRepository
from core.db.outbox_repository import OutboxRepository, Priority
from core.domain.booking import ActorKind
from core.domain.catalog import Catalog
from core.services.booking_changes import BookingAction, BookingChange

log = logging.getLogger(__name__)

# A visit the salon books for a chat customer is not told: they are at the desk or on the
# phone as it is made, and its reminders reach their chat all the same. What they did not
# witness, a move or a cancel, is.
_TOLD = frozenset({BookingAction.CANCELLED, BookingAction.RESCHEDULED})

NOTICE_FRESH_FOR = timedelta(minutes=15)
"""How long after the change a notice still goes, however soon the visit was to start."""


class CustomerNotices:
    """The ``BookingFollower`` that tells customers of the salon's changes. Give it after
    ``ReminderPlanner`` in the followers (its withdrawal must not take this notice back)."""

    async def booking_changed(
        self, connection: AsyncConnection, catalog: Catalog, change: BookingChange
    ) -> None:
        after, before = change.after, change.before
        if after.customer_id is None or change.actor.kind is ActorKind.CUSTOMER:
            return
        if change.action not in _TOLD:
            return
        chat = await CustomerRepository(connection).chat_of(after.customer_id)
        if chat is None:
            return
        offered = offered_languages(catalog)
        language = chat.language if chat.language in offered else None
        language = language or pick_language(chat.language, offered)
        if change.action is BookingAction.RESCHEDULED and before is not None:
            reply = moved_reply(catalog, language, before, after)
        else:
            reply = cancelled_reply(catalog, language, after, change.note)
        starts = [after.start] + ([before.start] if before is not None else [])
        await OutboxRepository(connection).add(
            chat.channel,
            chat.chat_id,
            [reply],
            change.at,
            priority=Priority.BULK,
            booking_id=after.id,
            expires_at=max([*starts, change.at + NOTICE_FRESH_FOR]),
        )
        log.info("customer notice of booking %d (%s) queued", after.id, change.action.value)
