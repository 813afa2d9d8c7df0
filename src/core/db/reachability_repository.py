"""Whether a customer can still be messaged on their channel.

A channel that refuses a message for good because of the customer (they blocked the bot,
their chat is gone) makes them unreachable; writing to us again makes them reachable
(``CustomerRepository.reachable_again``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import conversations, customers


class ReachabilityRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

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
