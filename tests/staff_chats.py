"""Staff chats in tests: a staff member's chat linked the real way, and what it was sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import ChatContact, Command, Inbound, Reply
from core.db.customer_repository import CustomerRepository
from core.db.tables import outbound_messages
from salonbot.bootstrap import Salonbot

CAPACITY = ChannelCapacity(choices_per_message=10, label_length=24)


def contact(chat_id: str, language: str = "en", channel: str = "telegram") -> ChatContact:
    return ChatContact(channel, chat_id, chat_id, name=f"person {chat_id}", language_code=language)


async def say(app: Salonbot, chat_id: str, inbound: Inbound, language: str = "en") -> Reply:
    """Send ``inbound`` from the chat through ``converse``; its one reply."""
    replies = await app.converse(contact(chat_id, language), inbound, CAPACITY)
    assert len(replies) == 1, replies
    return replies[0]


async def link(app: Salonbot, staff_key: str, chat_id: str, language: str = "en") -> Reply:
    """The owner issues a code for ``staff_key``; the chat sends ``/link CODE``."""
    issued = await app.staff_links.issue_code(staff_key)
    return await say(app, chat_id, Command("link", issued.code), language)


async def add_customer(app: Salonbot, name: str, phone: str | None = None) -> int:
    async with app.uow() as uow:
        customer_id = await CustomerRepository(uow.connection).add(
            name, app.clock.now(), phone=phone
        )
        await uow.commit()
    return customer_id


@dataclass(frozen=True, slots=True)
class Sent:
    """One queued outbound message of a chat."""

    text: str
    priority: int
    expires_at: datetime | None
    booking_id: int | None


async def queued(engine: AsyncEngine, chat_id: str, channel: str = "telegram") -> list[Sent]:
    """The chat's outbox rows, oldest first."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(
                outbound_messages.c.body,
                outbound_messages.c.priority,
                outbound_messages.c.expires_at,
                outbound_messages.c.booking_id,
            )
            .where(outbound_messages.c.channel == channel, outbound_messages.c.chat_id == chat_id)
            .order_by(outbound_messages.c.id)
        )
        return [Sent(r.body["text"], r.priority, r.expires_at, r.booking_id) for r in rows]
