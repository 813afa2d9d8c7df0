"""Erasure: a customer's personal data found and deleted or blanked on request.

Used by ``core.services.forget_customer`` only; every statement is one part of its one
transaction. The customer row itself stays (bookings name it) with its personal columns
blanked.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    delete,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from core.conversation.messages import Reply
from core.db.outbox_repository import OutboxStatus, reply_body
from core.db.tables import (
    bookings,
    calendar_pushes,
    conversations,
    customers,
    inbound_events,
    outbound_messages,
    staff,
)

Chat = tuple[str, str]
"""(channel, chat id)."""

ERASED = "[erased: this message named a customer who asked to be forgotten]"
"""What a message sent to a staff chat says, in the database, once its customer is
forgotten (the chat keeps what it was sent; only our copy is blanked)."""


@dataclass(frozen=True, slots=True)
class CustomerIdentity:
    """What a customer row holds that names them; ``erased`` lists what was not empty."""

    id: int
    channel: str | None
    external_id: str | None
    erased: tuple[str, ...]
    forgotten_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventOnCalendar:
    """A booking whose event salonbot last put on ``calendar_id`` (no remove after it)."""

    booking_id: int
    staff_key: str
    calendar_id: str


def _digits(column: ColumnElement[Any]) -> ColumnElement[str]:
    return func.regexp_replace(func.coalesce(column, ""), "[^0-9]", "", "g")


class ErasureRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def by_id(self, customer_id: int) -> list[int]:
        found = await self._db.execute(select(customers.c.id).where(customers.c.id == customer_id))
        return [int(i) for i in found.scalars()]

    async def by_chat(self, channel: str, chat_id: str) -> list[int]:
        """The customer whose channel identity, or whose conversation, is this chat."""
        found = await self._db.execute(
            select(customers.c.id)
            .where(customers.c.channel == channel, customers.c.external_id == chat_id)
            .union(
                select(conversations.c.customer_id).where(
                    conversations.c.channel == channel, conversations.c.chat_id == chat_id
                )
            )
        )
        return sorted(int(i) for i in found.scalars())

    async def by_phone(self, digits: str) -> list[int]:
        """Customers whose phone has exactly these digits, or whose WhatsApp identity is
        this number (WhatsApp's id of a person is their number's digits)."""
        found = await self._db.execute(
            select(customers.c.id)
            .where(
                or_(
                    _digits(customers.c.phone) == digits,
                    and_(customers.c.channel == "whatsapp", customers.c.external_id == digits),
                )
            )
            .order_by(customers.c.id)
        )
        return [int(i) for i in found.scalars()]

    async def chats_of(self, customer_id: int) -> set[Chat]:
        """Every chat of the customer: their conversations' and their channel identity's."""
        chats: set[Chat] = set()
        rows = await self._db.execute(
            select(conversations.c.channel, conversations.c.chat_id).where(
                conversations.c.customer_id == customer_id
            )
        )
        chats |= {(row.channel, row.chat_id) for row in rows}
        identity = (
            await self._db.execute(
                select(customers.c.channel, customers.c.external_id).where(
                    customers.c.id == customer_id, customers.c.channel.is_not(None)
                )
            )
        ).first()
        if identity is not None:
            chats.add((identity.channel, identity.external_id))
        return chats

    async def drop_inbound(self, chats: Collection[Chat]) -> int:
        """Delete the chats' raw inbound events (whatever their status); how many. One a
        worker is handling is waited for."""
        result = await self._db.execute(
            delete(inbound_events).where(
                _in_chats(inbound_events.c.channel, inbound_events.c.chat_key, chats)
            )
        )
        return int(result.rowcount)

    async def drop_outbound(self, chats: Collection[Chat]) -> int:
        """Delete the chats' outbound messages (pending ones too: nothing more is sent to
        a forgotten customer); how many. One a dispatcher is sending is waited for."""
        result = await self._db.execute(
            delete(outbound_messages).where(
                _in_chats(outbound_messages.c.channel, outbound_messages.c.chat_id, chats)
            )
        )
        return int(result.rowcount)

    async def erase_from_staff_messages(self, customer_id: int) -> tuple[int, int]:
        """Messages to staff chats that name the customer (``customer_ids``): the pending
        ones deleted (a notice not sent yet is not sent), the others' text blanked (kept
        for their delivery record; a day's agenda loses its other visits too); (deleted,
        blanked). One a dispatcher is sending is waited for, then blanked once sent."""
        deleted = await self._db.execute(
            delete(outbound_messages).where(
                _names_customer(customer_id), outbound_messages.c.status == OutboxStatus.PENDING
            )
        )
        blanked = await self._db.execute(
            update(outbound_messages)
            .where(_names_customer(customer_id))
            .values(
                body=reply_body(Reply(ERASED)),
                customer_ids=func.nullif(
                    func.array_remove(outbound_messages.c.customer_ids, customer_id),
                    literal([], ARRAY(BigInteger)),
                ),
            )
        )
        return int(deleted.rowcount), int(blanked.rowcount)

    async def drop_conversations(self, customer_id: int, chats: Collection[Chat]) -> int:
        """Delete the customer's conversations (their state: where they were, what they
        chose); how many."""
        result = await self._db.execute(
            delete(conversations).where(
                or_(
                    conversations.c.customer_id == customer_id,
                    _in_chats(conversations.c.channel, conversations.c.chat_id, chats),
                )
            )
        )
        return int(result.rowcount)

    async def blank(self, customer_id: int, at: datetime) -> CustomerIdentity:
        """Lock the customer row and blank its personal columns; what it held (the names
        of the columns that were not empty), as it was."""
        row = (
            await self._db.execute(
                select(
                    customers.c.id,
                    customers.c.name,
                    customers.c.phone,
                    customers.c.channel,
                    customers.c.external_id,
                    customers.c.start_payload,
                    customers.c.language,
                    customers.c.forgotten_at,
                )
                .where(customers.c.id == customer_id)
                .with_for_update()
            )
        ).one()
        held = {
            "name": row.name,
            "phone": row.phone,
            "chat identity": row.external_id,
            "first-contact payload": row.start_payload,
            "language": row.language,
        }
        await self._db.execute(
            update(customers)
            .where(customers.c.id == customer_id)
            .values(
                name="",
                phone=None,
                channel=None,
                external_id=None,
                start_payload=None,
                language=None,
                unreachable_at=None,
                forgotten_at=func.coalesce(customers.c.forgotten_at, at),
            )
        )
        return CustomerIdentity(
            int(row.id),
            row.channel,
            row.external_id,
            tuple(name for name, value in held.items() if value),
            row.forgotten_at,
        )

    async def events_on_calendars(self, customer_id: int) -> list[EventOnCalendar]:
        """The customer's bookings whose latest push to a calendar is a put: their event is
        (or is about to be) on that calendar, with whatever the put carried."""
        latest = (
            select(
                calendar_pushes.c.booking_id,
                calendar_pushes.c.calendar_id,
                func.max(calendar_pushes.c.id).label("id"),
            )
            .join(bookings, bookings.c.id == calendar_pushes.c.booking_id)
            .where(bookings.c.customer_id == customer_id)
            .group_by(calendar_pushes.c.booking_id, calendar_pushes.c.calendar_id)
            .subquery()
        )
        rows = await self._db.execute(
            select(calendar_pushes.c.booking_id, staff.c.key, calendar_pushes.c.calendar_id)
            .join(latest, latest.c.id == calendar_pushes.c.id)
            .join(staff, staff.c.id == calendar_pushes.c.staff_id)
            .where(calendar_pushes.c.action == "put")
            .order_by(calendar_pushes.c.booking_id, calendar_pushes.c.calendar_id)
        )
        return [EventOnCalendar(int(r.booking_id), r.key, r.calendar_id) for r in rows]

    async def bookings_with_puts(self, customer_id: int) -> list[int]:
        """The customer's bookings that were ever pushed to a calendar (a put)."""
        found = await self._db.execute(
            select(bookings.c.id)
            .where(
                bookings.c.customer_id == customer_id,
                select(calendar_pushes.c.id)
                .where(
                    calendar_pushes.c.booking_id == bookings.c.id,
                    calendar_pushes.c.event.is_not(None),
                )
                .exists(),
            )
            .order_by(bookings.c.id)
        )
        return [int(i) for i in found.scalars()]

    async def bookings_of(self, customer_id: int) -> list[int]:
        found = await self._db.execute(
            select(bookings.c.id)
            .where(bookings.c.customer_id == customer_id)
            .order_by(bookings.c.id)
        )
        return [int(i) for i in found.scalars()]

    async def scrub_pushed_events(self, booking_id: int, summary: str, description: str) -> int:
        """Replace the title and description of every stored put of the booking (their
        history too: a done push keeps the event it put) with ``summary`` and
        ``description``; how many rows changed."""
        patch = func.jsonb_build_object("summary", summary, "description", description)
        result = await self._db.execute(
            update(calendar_pushes)
            .where(
                calendar_pushes.c.booking_id == booking_id,
                calendar_pushes.c.event.is_not(None),
                or_(
                    calendar_pushes.c.event["summary"].astext.is_distinct_from(summary),
                    calendar_pushes.c.event["description"].astext.is_distinct_from(description),
                ),
            )
            .values(event=calendar_pushes.c.event.op("||")(patch))
        )
        return int(result.rowcount)


def _names_customer(customer_id: int) -> ColumnElement[bool]:
    # ``@>`` rather than ``= ANY``: the GIN index ``ix_outbound_messages_customer_ids``
    # serves containment.
    return outbound_messages.c.customer_ids.contains([customer_id])


def _in_chats(
    channel: ColumnElement[Any], chat: ColumnElement[Any], chats: Collection[Chat]
) -> ColumnElement[bool]:
    if not chats:
        return false()
    return tuple_(channel, chat).in_(sorted(chats))
