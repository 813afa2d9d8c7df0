"""The outbox: replies waiting for their channel's sender, in order per chat."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.conversation.messages import Choice, Reply
from core.db.tables import outbound_messages


def reply_body(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "choices": [{"id": c.id, "label": c.label} for c in reply.choices],
    }


def reply_from_body(body: dict[str, Any]) -> Reply:
    return Reply(body["text"], tuple(Choice(c["id"], c["label"]) for c in body["choices"]))


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    id: int
    channel: str
    chat_id: str
    reply: Reply


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
