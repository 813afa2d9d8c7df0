"""The inbox: every inbound event, stored before it is acknowledged, handled once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.tables import heads_of_queues, inbound_events


class InboxStatus(StrEnum):
    """Where an inbound event stands; the values are what ``inbound_events.status`` holds."""

    PENDING = "pending"  # stored, waiting to be handled (or to be retried)
    DONE = "done"  # handled: the conversation answered it
    IGNORED = "ignored"  # a kind of event salonbot does not handle
    FAILED = "failed"  # parked after its last attempt failed


@dataclass(frozen=True, slots=True)
class NewEvent:
    channel: str
    platform_id: str
    chat_key: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InboundEvent:
    id: int
    channel: str
    platform_id: str
    chat_key: str
    payload: dict[str, Any]
    attempts: int


class InboxRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def store_many(self, events: list[NewEvent], at: datetime) -> set[tuple[str, str]]:
        """Keep the events; the (channel, platform id) of those not stored before."""
        if not events:
            return set()
        # One statement compiled once; SQLAlchemy sends the rows as multi-row VALUES.
        inserted = await self._db.execute(
            insert(inbound_events)
            .on_conflict_do_nothing(
                index_elements=[inbound_events.c.channel, inbound_events.c.platform_id]
            )
            .returning(
                inbound_events.c.channel, inbound_events.c.platform_id, sort_by_parameter_order=True
            ),
            [
                {
                    "channel": e.channel,
                    "platform_id": e.platform_id,
                    "chat_key": e.chat_key,
                    "payload": e.payload,
                    "available_at": at,
                    "received_at": at,
                }
                for e in events
            ],
        )
        return {(row.channel, row.platform_id) for row in inserted}

    async def claim_next(self, now: datetime) -> InboundEvent | None:
        """Lock the oldest due event that heads its chat's queue, skipping locked ones.

        An event whose chat has an older pending event waits for it, so one chat's events
        are handled one at a time and in order, however many workers claim.
        """
        row = (
            await self._db.execute(
                select(
                    inbound_events.c.id,
                    inbound_events.c.channel,
                    inbound_events.c.platform_id,
                    inbound_events.c.chat_key,
                    inbound_events.c.payload,
                    inbound_events.c.attempts,
                )
                .where(
                    inbound_events.c.status == InboxStatus.PENDING,
                    inbound_events.c.available_at <= now,
                    heads_of_queues(inbound_events, "chat_key"),
                )
                .order_by(inbound_events.c.id)
                .limit(1)
                .with_for_update(skip_locked=True, of=inbound_events)
            )
        ).first()
        if row is None:
            return None
        return InboundEvent(
            row.id, row.channel, row.platform_id, row.chat_key, row.payload, row.attempts
        )

    async def waiting_behind(self, event: InboundEvent) -> int:
        """How many events of the same chat wait behind this one."""
        count = await self._db.scalar(
            select(func.count())
            .select_from(inbound_events)
            .where(
                inbound_events.c.channel == event.channel,
                inbound_events.c.chat_key == event.chat_key,
                inbound_events.c.status == InboxStatus.PENDING,
                inbound_events.c.id > event.id,
            )
        )
        return int(count or 0)

    async def finish(
        self, event_id: int, status: InboxStatus, at: datetime, *, reason: str | None = None
    ) -> None:
        """Mark the event ``done`` or ``ignored``; ``reason``: why it was ignored."""
        values: dict[str, Any] = {
            "status": status,
            "handled_at": at,
            "attempts": inbound_events.c.attempts + 1,
        }
        if reason is not None:
            values["last_error"] = reason[:2000]
        await self._db.execute(
            update(inbound_events).where(inbound_events.c.id == event_id).values(**values)
        )

    async def failed_attempt(
        self, event_id: int, error: str, retry_at: datetime | None, at: datetime
    ) -> None:
        """Count a failed attempt: retry at ``retry_at``, or park the event (None)."""
        values: dict[str, Any] = {
            "attempts": inbound_events.c.attempts + 1,
            "last_error": error[:2000],
        }
        if retry_at is None:
            values.update(status=InboxStatus.FAILED, handled_at=at)
        else:
            values.update(available_at=retry_at)
        await self._db.execute(
            update(inbound_events)
            .where(inbound_events.c.id == event_id, inbound_events.c.status == InboxStatus.PENDING)
            .values(**values)
        )
