"""The outbox: replies waiting for their channel's sender, in order per chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.conversation.messages import Choice, Reply
from core.db.tables import (
    conversations,
    customers,
    early_delivery_reports,
    heads_of_queues,
    outbound_messages,
)
from core.ports import DeliveryReport


def reply_body(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "choices": [{"id": c.id, "label": c.label} for c in reply.choices],
        "button": reply.button,
    }


def reply_from_body(body: dict[str, Any]) -> Reply:
    choices = tuple(Choice(c["id"], c["label"]) for c in body["choices"])
    return Reply(body["text"], choices, body.get("button", ""))


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    id: int
    channel: str
    chat_id: str
    reply: Reply
    attempts: int = 0


DELIVERY_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 4}


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A row locked for sending; ``body`` is read by the caller (it may be damaged)."""

    id: int
    chat_id: str
    body: dict[str, Any]
    attempts: int


class OutboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def add(
        self, channel: str, chat_id: str, replies: Sequence[Reply], at: datetime
    ) -> list[int]:
        """Queue the replies for the chat, in order; their ids."""
        if not replies:
            return []
        rows = await self._db.execute(
            outbound_messages.insert()
            .values(
                [
                    {
                        "channel": channel,
                        "chat_id": chat_id,
                        "body": reply_body(reply),
                        "available_at": at,
                        "created_at": at,
                    }
                    for reply in replies
                ]
            )
            .returning(outbound_messages.c.id)
        )
        return sorted(int(i) for i in rows.scalars())

    async def take_pending(self, channel: str, chat_id: str, at: datetime) -> list[OutboundMessage]:
        """Mark the chat's pending messages sent and return them, oldest first.

        For a channel that delivers in-process (the terminal): taking is delivering.
        Rows another taker holds are skipped, never sent twice.
        """
        pending = (
            select(outbound_messages.c.id)
            .where(
                outbound_messages.c.channel == channel,
                outbound_messages.c.chat_id == chat_id,
                outbound_messages.c.status == "pending",
            )
            .with_for_update(skip_locked=True)
        )
        rows = await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id.in_(pending.scalar_subquery()))
            .values(status="sent", sent_at=at, attempts=outbound_messages.c.attempts + 1)
            .returning(outbound_messages.c.id, outbound_messages.c.body)
        )
        taken = sorted(rows, key=lambda row: int(row.id))
        return [
            OutboundMessage(int(row.id), channel, chat_id, reply_from_body(row.body))
            for row in taken
        ]

    async def claim_next(
        self, channel: str, now: datetime, skip_chats: Sequence[str] = ()
    ) -> ClaimedMessage | None:
        """Lock the oldest due message heading its chat's queue (chats in ``skip_chats``
        are resting), skipping rows another dispatcher holds."""
        query = (
            select(
                outbound_messages.c.id,
                outbound_messages.c.chat_id,
                outbound_messages.c.body,
                outbound_messages.c.attempts,
            )
            .where(
                outbound_messages.c.channel == channel,
                outbound_messages.c.status == "pending",
                outbound_messages.c.available_at <= now,
                heads_of_queues(outbound_messages, "chat_id"),
            )
            .order_by(outbound_messages.c.id)
            .limit(1)
            .with_for_update(skip_locked=True, of=outbound_messages)
        )
        if skip_chats:
            query = query.where(outbound_messages.c.chat_id.not_in(list(skip_chats)))
        row = (await self._db.execute(query)).first()
        if row is None:
            return None
        return ClaimedMessage(int(row.id), row.chat_id, row.body, int(row.attempts))

    async def mark_sent(
        self, message_id: int, channel: str, platform_message_id: str, at: datetime
    ) -> None:
        """Record the send, then apply what the platform reported of it before (a report
        can beat our commit: we send, then record)."""
        await self._lock_report_slot(channel, platform_message_id)
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == message_id)
            .values(
                status="sent",
                sent_at=at,
                platform_message_id=platform_message_id,
                attempts=outbound_messages.c.attempts + 1,
            )
        )
        await self._apply_early_reports(channel, platform_message_id)

    async def retry_at(
        self, message_id: int, at: datetime, error: str, *, count_attempt: bool = True
    ) -> None:
        attempts = outbound_messages.c.attempts + (1 if count_attempt else 0)
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == message_id)
            .values(available_at=at, last_error=error[:2000], attempts=attempts)
        )

    async def mark_failed(self, message_id: int, error: str) -> None:
        await self._db.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == message_id)
            .values(
                status="failed",
                last_error=error[:2000],
                attempts=outbound_messages.c.attempts + 1,
            )
        )

    async def mark_unreachable(self, channel: str, chat_id: str, at: datetime) -> None:
        """The customer behind the chat cannot be messaged any more on this channel."""
        customer = (
            select(conversations.c.customer_id)
            .where(conversations.c.channel == channel, conversations.c.chat_id == chat_id)
            .scalar_subquery()
        )
        await self._db.execute(
            update(customers).where(customers.c.id == customer).values(unreachable_at=at)
        )

    async def _lock_report_slot(self, channel: str, platform_message_id: str) -> None:
        """Serialize a report with the recording of its message's send (transaction-scoped).

        Without it a report could find no message (the send not yet committed) and be kept
        as early just after the send's transaction looked for early reports: lost.
        """
        key = func.hashtextextended(func.concat(channel, ":", platform_message_id), 0)
        await self._db.execute(select(func.pg_advisory_xact_lock(key)))

    async def record_delivery(self, report: DeliveryReport) -> bool:
        """Keep what the platform says of a sent message; False if it is older news.

        Reports can arrive out of order: one is applied only if it is later than the last
        kept (by the platform's timestamp; at the same second, by how far it got). A report
        on a message whose send is not recorded yet is kept and applied when it is.
        """
        await self._lock_report_slot(report.channel, report.platform_message_id)
        rank = case(DELIVERY_RANK, value=outbound_messages.c.delivery_status, else_=0)
        newer = or_(
            outbound_messages.c.delivery_at.is_(None),
            outbound_messages.c.delivery_at < report.at,
            and_(
                outbound_messages.c.delivery_at == report.at,
                rank < DELIVERY_RANK.get(report.status, 0),
            ),
        )
        values: dict[str, Any] = {"delivery_status": report.status, "delivery_at": report.at}
        if report.status == "failed":
            values.update(status="failed", last_error=report.error[:2000])
        updated = await self._db.execute(
            update(outbound_messages)
            .where(
                outbound_messages.c.channel == report.channel,
                outbound_messages.c.platform_message_id == report.platform_message_id,
                newer,
            )
            .values(**values)
            .returning(outbound_messages.c.id)
        )
        if updated.first() is not None:
            return True
        known = await self._db.scalar(
            select(outbound_messages.c.id).where(
                outbound_messages.c.channel == report.channel,
                outbound_messages.c.platform_message_id == report.platform_message_id,
            )
        )
        if known is None:
            # The platform reported before we recorded the send (we send, then commit):
            # keep it for ``mark_sent``.
            await self._db.execute(
                early_delivery_reports.insert().values(
                    channel=report.channel,
                    platform_message_id=report.platform_message_id,
                    status=report.status,
                    at=report.at,
                    error=report.error[:2000],
                )
            )
        return False

    async def _apply_early_reports(self, channel: str, platform_message_id: str) -> None:
        """Apply the reports that came before the send was recorded, then forget them."""
        early = (
            await self._db.execute(
                delete(early_delivery_reports)
                .where(
                    early_delivery_reports.c.channel == channel,
                    early_delivery_reports.c.platform_message_id == platform_message_id,
                )
                .returning(
                    early_delivery_reports.c.status,
                    early_delivery_reports.c.at,
                    early_delivery_reports.c.error,
                )
            )
        ).all()
        for row in sorted(early, key=lambda r: (r.at, DELIVERY_RANK.get(r.status, 0))):
            await self.record_delivery(
                DeliveryReport(channel, platform_message_id, row.status, row.at, row.error)
            )
