"""Customers by channel identity and versioned conversation state, on real Postgres."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.conversation_repository import ConversationRepository, StaleConversation
from core.db.customer_repository import CustomerRepository
from core.db.unit_of_work import UnitOfWork

AT = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


async def _customer(engine: AsyncEngine, external_id: str, **details: str) -> tuple[int, bool]:
    async with UnitOfWork(engine) as uow:
        found = await CustomerRepository(uow.connection).for_identity(
            "telegram", external_id, AT, **details
        )
        await uow.commit()
    return found


async def test_first_contact_creates_the_customer_once(clean_engine: AsyncEngine) -> None:
    first = await _customer(clean_engine, "42", name="Ada", language="ru", start_payload="ad-7")
    again = await _customer(clean_engine, "42", name="Ada L.", start_payload="other")

    assert first == (first[0], True)
    assert again == (first[0], False)
    async with clean_engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT name, language, start_payload FROM customers WHERE id = :id"),
                {"id": first[0]},
            )
        ).one()
    assert tuple(row) == ("Ada", "ru", "ad-7")  # the first /start payload is kept


async def test_racing_first_messages_create_one_customer(clean_engine: AsyncEngine) -> None:
    results = await asyncio.gather(*(_customer(clean_engine, "77") for _ in range(10)))

    assert len({customer_id for customer_id, _ in results}) == 1
    assert sum(created for _, created in results) == 1


async def test_the_same_external_id_on_another_channel_is_another_customer(
    clean_engine: AsyncEngine,
) -> None:
    telegram, _ = await _customer(clean_engine, "5")
    async with UnitOfWork(clean_engine) as uow:
        whatsapp, _ = await CustomerRepository(uow.connection).for_identity("whatsapp", "5", AT)
        await uow.commit()
    assert telegram != whatsapp


async def test_an_identity_needs_both_channel_and_external_id(clean_engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError, match="ck_customers_identity_complete"):
        async with clean_engine.begin() as connection:
            await connection.execute(text("INSERT INTO customers (channel) VALUES ('telegram')"))


async def test_state_is_saved_with_a_version_and_a_stale_save_is_refused(
    clean_engine: AsyncEngine,
) -> None:
    customer_id, _ = await _customer(clean_engine, "9")
    async with UnitOfWork(clean_engine) as uow:
        store = ConversationRepository(uow.connection)
        assert await store.load("telegram", "9") is None
        assert await store.save("telegram", "9", customer_id, {"step": "menu"}, None, AT) == 1
        await uow.commit()

    async with UnitOfWork(clean_engine) as uow:
        store = ConversationRepository(uow.connection)
        stored = await store.load("telegram", "9")
        assert stored is not None
        assert (stored.state, stored.version) == ({"step": "menu"}, 1)
        assert await store.save("telegram", "9", customer_id, {"step": "service"}, 1, AT) == 2
        with pytest.raises(StaleConversation):
            await store.save("telegram", "9", customer_id, {"step": "lost"}, 1, AT)
    async with UnitOfWork(clean_engine) as uow:
        with pytest.raises(StaleConversation):  # a second "new chat" for the same chat
            await ConversationRepository(uow.connection).save(
                "telegram", "9", customer_id, {"step": "dup"}, None, AT
            )
