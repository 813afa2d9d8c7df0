"""Waiting in tests for a state of the database, never for a fixed time.

A negative check ("no second reply was sent", "the load is still waiting") used to sleep
a few tenths of a second and hope that was long enough. These helpers wait until the
condition that makes the check meaningful holds, up to a bounded timeout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.inbox_repository import InboxStatus
from core.db.outbox_repository import OutboxStatus

# Statuses after which a row is never worked on again. Anything else (pending today) is
# work a worker or dispatcher will still do.
INBOUND_FINAL = tuple(status.value for status in InboxStatus if status is not InboxStatus.PENDING)
OUTBOUND_FINAL = tuple(
    status.value for status in OutboxStatus if status is not OutboxStatus.PENDING
)

_UNFINISHED = text(
    """
    SELECT
        (SELECT count(*) FROM inbound_events WHERE status NOT IN :inbound_final),
        (SELECT count(*) FROM outbound_messages WHERE status NOT IN :outbound_final),
        (SELECT count(*) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND backend_type = 'client backend' AND state <> 'idle')
    """
).bindparams(
    bindparam("inbound_final", INBOUND_FINAL, expanding=True),
    bindparam("outbound_final", OUTBOUND_FINAL, expanding=True),
)

_WAITING_FOR_A_LOCK = text(
    """
    SELECT count(*) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
    """
)


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 15.0) -> None:
    """Wait until ``check()`` holds; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting until {what}")
        await asyncio.sleep(0.02)


async def settled(engine: AsyncEngine, within: float = 15.0) -> None:
    """Wait until salonbot has nothing left to do on this database: every inbound event
    and outbound message is in a final status, and no other session has a transaction or
    a query open (no worker or dispatcher holds a row). From then on nothing more is sent
    until something new arrives."""

    async def idle() -> bool:
        async with engine.connect() as connection:
            counts = (await connection.execute(_UNFINISHED)).one()
        return not any(counts)

    await until(idle, "the inbox and the outbox are drained and no worker holds a row", within)


_HANDLED = text(
    """
    SELECT (SELECT count(*) FROM inbound_events WHERE status <> :pending) = :events
       AND NOT EXISTS (SELECT 1 FROM outbound_messages WHERE status <> :sent)
    """
).bindparams(pending=InboxStatus.PENDING.value, sent=OutboxStatus.SENT.value)


async def handled(engine: AsyncEngine, events: int, within: float = 30.0) -> None:
    """Wait until exactly ``events`` inbound events are handled and every reply they wrote
    is sent (the replies are written in the handling's transaction: none can come later)."""

    async def done() -> bool:
        async with engine.connect() as connection:
            return bool((await connection.execute(_HANDLED, {"events": events})).scalar_one())

    await until(done, f"{events} events are handled and their replies sent", within)


async def waiting_for_a_lock(engine: AsyncEngine, within: float = 15.0) -> None:
    """Wait until another session of this database is blocked on a lock."""

    async def blocked() -> bool:
        async with engine.connect() as connection:
            return bool((await connection.execute(_WAITING_FOR_A_LOCK)).scalar_one())

    await until(blocked, "another session waits for a lock", within)
