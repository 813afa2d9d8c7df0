"""Conversation state per (channel, chat), versioned."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import conversations


class StaleConversation(Exception):
    """The state changed since it was read: the step must be retried on the new state."""


@dataclass(frozen=True, slots=True)
class StoredConversation:
    customer_id: int
    state: Mapping[str, Any]
    version: int


class ConversationRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def load(self, channel: str, chat_id: str) -> StoredConversation | None:
        """The chat's state, locked until the transaction ends (one step at a time per chat)."""
        row = (
            await self._db.execute(
                select(conversations.c.customer_id, conversations.c.state, conversations.c.version)
                .where(conversations.c.channel == channel, conversations.c.chat_id == chat_id)
                .with_for_update()
            )
        ).first()
        if row is None:
            return None
        return StoredConversation(row.customer_id, row.state, row.version)

    async def save(
        self,
        channel: str,
        chat_id: str,
        customer_id: int,
        state: Mapping[str, Any],
        expected_version: int | None,
        at: datetime,
    ) -> int:
        """Store the state; ``expected_version`` is what was read (None: a new chat).

        Returns the new version; raises ``StaleConversation`` if someone saved in between.
        """
        if expected_version is None:
            created = await self._db.execute(
                insert(conversations)
                .values(
                    channel=channel,
                    chat_id=chat_id,
                    customer_id=customer_id,
                    state=dict(state),
                    version=1,
                    updated_at=at,
                )
                .on_conflict_do_nothing()
                .returning(conversations.c.version)
            )
            version = created.scalar_one_or_none()
        else:
            updated = await self._db.execute(
                update(conversations)
                .where(
                    conversations.c.channel == channel,
                    conversations.c.chat_id == chat_id,
                    conversations.c.version == expected_version,
                )
                .values(state=dict(state), version=expected_version + 1, updated_at=at)
                .returning(conversations.c.version)
            )
            version = updated.scalar_one_or_none()
        if version is None:
            raise StaleConversation(f"{channel}:{chat_id} changed since it was read")
        return int(version)
