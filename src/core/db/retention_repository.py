"""Retention: old traffic of the inbox and the outbox, deleted a bounded batch at a time.

Only what nothing needs any more goes: an inbound event once handled (``done`` or
``ignored``; a pending one and one waiting to be retried stay), and an outbound message
once finished (``sent``, or ``expired``: withdrawn or too old, never to be sent; a pending
one stays). One parked as ``failed`` (either kind) goes too, but after a longer time of
its own: it is what someone looks at to find out what went wrong. A message about a visit
stays until that visit is over as long as the others: the scheduler reads a visit's
earlier reminders (``NoticeRepository.claim_due``) and withdrawn ones
(``unsent_withdrawn``) while it is ahead.

The predicates are written out as SQL text, each implying the partial indexes' own
(``ix_inbound_events_handled_at``, ``ix_outbound_messages_finished_created_at``), so the
planner can use those indexes whatever the plan (a bound parameter would hide the match).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import bookings, inbound_events, outbound_messages

HANDLED = text("inbound_events.status IN ('done', 'ignored')")
FINISHED = text("outbound_messages.status IN ('sent', 'expired')")
EVENT_FAILED = text("inbound_events.status = 'failed'")
MESSAGE_FAILED = text("outbound_messages.status = 'failed'")


class RetentionRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def drop_handled_events(
        self, before: datetime, limit: int, *, failed: bool = False
    ) -> int:
        """Delete up to ``limit`` inbound events handled before ``before``, oldest first;
        how many. ``failed``: those parked as failed instead. Rows another session holds
        are skipped."""
        doomed = (
            select(inbound_events.c.id)
            .where(EVENT_FAILED if failed else HANDLED, inbound_events.c.handled_at < before)
            .order_by(inbound_events.c.handled_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        result = await self._db.execute(
            delete(inbound_events).where(inbound_events.c.id.in_(doomed))
        )
        return int(result.rowcount)

    async def drop_finished_messages(
        self, before: datetime, limit: int, *, failed: bool = False
    ) -> int:
        """Delete up to ``limit`` outbound messages finished and written (and sent) before
        ``before``, oldest first, but any about a visit that ends at ``before`` or later;
        how many. ``failed``: those that failed instead. Rows another session holds are
        skipped."""
        visit_not_long_over = exists().where(
            bookings.c.id == outbound_messages.c.booking_id, bookings.c.ends_at >= before
        )
        doomed = (
            select(outbound_messages.c.id)
            .where(
                MESSAGE_FAILED if failed else FINISHED,
                outbound_messages.c.created_at < before,
                or_(outbound_messages.c.sent_at.is_(None), outbound_messages.c.sent_at < before),
                or_(
                    outbound_messages.c.booking_id.is_(None),
                    ~visit_not_long_over,
                ),
            )
            .order_by(outbound_messages.c.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=outbound_messages)
            .scalar_subquery()
        )
        result = await self._db.execute(
            delete(outbound_messages).where(outbound_messages.c.id.in_(doomed))
        )
        return int(result.rowcount)
