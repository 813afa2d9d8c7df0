"""The waiting helpers wait for what they name, so the negative checks built on them can fail."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.waiting import settled, waiting_for_a_lock

PENDING_EVENT = text(
    "INSERT INTO inbound_events (channel, platform_id, chat_key, payload, available_at,"
    " received_at) VALUES ('telegram', '1', '1', '{}', now(), now())"
)


async def test_settled_waits_while_an_inbound_event_is_pending(clean_engine: AsyncEngine) -> None:
    async with clean_engine.begin() as connection:
        await connection.execute(PENDING_EVENT)

    with pytest.raises(AssertionError, match="drained"):
        await settled(clean_engine, within=0.2)

    async with clean_engine.begin() as connection:
        await connection.execute(text("UPDATE inbound_events SET status = 'done'"))
    await settled(clean_engine, within=5)


async def test_settled_waits_while_another_session_holds_a_transaction(
    clean_engine: AsyncEngine,
) -> None:
    async with clean_engine.connect() as worker:
        await worker.execute(text("SELECT 1"))  # the transaction is open until it ends
        with pytest.raises(AssertionError, match="no worker holds a row"):
            await settled(clean_engine, within=0.2)
        await worker.rollback()
        await settled(clean_engine, within=5)


async def test_waiting_for_a_lock_returns_once_a_session_is_blocked(
    clean_engine: AsyncEngine,
) -> None:
    with pytest.raises(AssertionError, match="waits for a lock"):
        await waiting_for_a_lock(clean_engine, within=0.2)

    async with clean_engine.begin() as holder:
        await holder.execute(PENDING_EVENT)

        async def while_in_flight() -> None:  # conflicts with the insert's lock
            async with clean_engine.begin() as waiter:
                await waiter.execute(text("LOCK TABLE inbound_events IN EXCLUSIVE MODE"))

        task = asyncio.create_task(while_in_flight())
        await waiting_for_a_lock(clean_engine, within=10)
        assert not task.done()
    await asyncio.wait_for(task, 10)
