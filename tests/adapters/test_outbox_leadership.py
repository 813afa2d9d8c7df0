"""The outbox dispatcher of a process that leads its channel only now and then (several
``salonbot serve`` on one database): it sends nothing while it may not, leaving the
message as it was, and sends again once it may, after a stop too."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.telegram.sender import TelegramSender
from core.conversation.messages import Reply
from core.db.outbox_repository import OutboxRepository
from core.services.dispatch import OutboxDispatcher
from core.services.wakeup import Wakeup
from salonbot.telegram_runtime import make_bot
from tests.adapters.telegram_harness import demo_app, eventually
from tests.db_state import rows
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram

ADA = 1001


async def test_a_dispatcher_that_may_not_send_leaves_the_message_as_it_was(
    clean_engine: AsyncEngine, fake: FakeTelegram
) -> None:
    app = await demo_app(clean_engine)
    async with app.uow() as uow:
        await OutboxRepository(uow.connection).add(
            "telegram", str(ADA), [Reply("Your visit is confirmed.")], app.clock.now()
        )
        await uow.commit()
    leading = False
    bot = make_bot(DEFAULT_TOKEN, fake.base_url)
    dispatcher = OutboxDispatcher(
        app.uow, app.clock, TelegramSender(bot), Wakeup(), may_send=lambda: leading
    )
    try:
        assert not await dispatcher.send_one()  # another process leads now
        assert fake.requests["sendMessage"] == 0
        assert await rows(
            app.engine, "SELECT status, attempts, last_error FROM outbound_messages"
        ) == [("pending", 0, None)]
        leading = True
        assert await dispatcher.send_one()
    finally:
        await bot.session.close()
    assert [m.text for m in fake.messages_to(ADA)] == ["Your visit is confirmed."]
    assert await rows(app.engine, "SELECT status, attempts FROM outbound_messages") == [("sent", 1)]


async def test_a_stopped_dispatcher_resumed_sends_again(
    clean_engine: AsyncEngine, fake: FakeTelegram
) -> None:
    app = await demo_app(clean_engine)
    bot = make_bot(DEFAULT_TOKEN, fake.base_url)
    wakeup = Wakeup()
    dispatcher = OutboxDispatcher(app.uow, app.clock, TelegramSender(bot), wakeup)
    try:
        dispatcher.stop()
        await asyncio.wait_for(dispatcher.run(), 5)  # stopped before it began: returns
        dispatcher.resume()
        running = asyncio.create_task(dispatcher.run())
        async with app.uow() as uow:
            await OutboxRepository(uow.connection).add(
                "telegram", str(ADA), [Reply("Welcome back.")], app.clock.now()
            )
            await uow.commit()
        wakeup.notify()
        await eventually(lambda: fake.messages_to(ADA), within=5)
        dispatcher.stop()
        await asyncio.wait_for(running, 5)
    finally:
        await bot.session.close()
    assert [m.text for m in fake.messages_to(ADA)] == ["Welcome back."]
