"""The outbox through a real client library against the fake platforms, under faults:
the database going away between a send and its record, the platform down for hours."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.telegram.sender import TelegramSender
from core.conversation.messages import Reply
from core.db.outbox_repository import OutboxRepository
from core.services.dispatch import SHELF_LIFE, OutboxDispatcher
from core.services.pacing import Pacing
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.telegram_runtime import make_bot
from tests.adapters.telegram_harness import demo_app, eventually, serving
from tests.db_state import cut_sessions_in_a_transaction, rows
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram

ADA = 1001


async def test_a_reply_sent_while_the_database_went_away_is_recorded_and_sent_once(
    clean_engine: AsyncEngine, fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    app = await demo_app(clean_engine)
    caplog.set_level(logging.INFO, logger="salonbot.outbox")
    async with serving(app, fake) as salon:
        fake.slow(0.5)  # Telegram answers slowly: the dispatcher waits inside its transaction
        assert (await salon.post(fake.text_update(ADA, "/start"))).status_code == 200
        await eventually(lambda: fake.requests["sendMessage"] == 1)
        # The platform has the message; the dispatcher's connection dies before it records it.
        assert await cut_sessions_in_a_transaction(app.engine) >= 1
        fake.slow(0)
        await eventually(lambda: salon.rows("SELECT 1 FROM outbound_messages WHERE status='sent'"))
        assert await salon.rows("SELECT status, attempts FROM outbound_messages") == [("sent", 1)]
        [(message_id,)] = await salon.rows("SELECT platform_message_id FROM outbound_messages")
        # The dispatcher has nothing left to record, and Telegram got the greeting once.
        await eventually(lambda: all(d.unrecorded == 0 for d in salon.runtime.dispatchers))
        assert fake.requests["sendMessage"] == 1
        [greeting] = fake.messages_to(ADA)
        assert str(greeting.message_id) == message_id
    # The cut did hit the send's transaction: its outcome was kept, then recorded late.
    said = [r.getMessage() for r in caplog.records if r.name == "salonbot.outbox"]
    assert said.count("outbound outcome not recorded: kept until the database answers") == 1
    assert said.count("outbound recorded late") == 1


async def test_a_stop_during_a_slow_send_lets_it_finish_and_records_it(
    clean_engine: AsyncEngine, fake: FakeTelegram
) -> None:
    app = await demo_app(clean_engine)
    async with serving(app, fake) as salon:
        fake.slow(1.0)  # Telegram takes the message, and answers a second later
        assert (await salon.post(fake.text_update(ADA, "/start"))).status_code == 200
        await eventually(lambda: fake.requests["sendMessage"] == 1)
        # SIGTERM now: the inbox stops at once, the send in flight is waited for.
        await salon.runtime.stop(grace=0.01)
        outbox = await rows(app.engine, "SELECT status, attempts FROM outbound_messages")
        assert outbox == [("sent", 1)]  # recorded: a restart does not send it again
        assert len(fake.messages_to(ADA)) == 1


async def _one_reply_waiting(engine: AsyncEngine) -> tuple[Salonbot, FakeClock]:
    """The demo salon on a clock the test moves (from the demo's Monday morning), with one
    reply to Ada waiting in the outbox."""
    clock = FakeClock((await demo_app(engine)).clock.now())
    app = Salonbot(engine, clock)
    async with app.uow() as uow:
        await OutboxRepository(uow.connection).add(
            "telegram", str(ADA), [Reply("Your visit is confirmed.")], clock.now()
        )
        await uow.commit()
    return app, clock


async def test_a_retry_after_beyond_reason_waits_a_day_at_most(
    clean_engine: AsyncEngine, fake: FakeTelegram
) -> None:
    app, clock = await _one_reply_waiting(clean_engine)
    bot = make_bot(DEFAULT_TOKEN, fake.base_url)
    dispatcher = OutboxDispatcher(app.uow, clock, TelegramSender(bot), Wakeup())
    fake.storm_429(1, retry_after=10**400)  # more seconds than a float holds
    try:
        assert await dispatcher.send_one()
    finally:
        await bot.session.close()
    assert dispatcher.unrecorded == 0
    [(due, attempts)] = await rows(
        app.engine, "SELECT available_at, attempts FROM outbound_messages"
    )
    assert (due - clock.now(), attempts) == (SHELF_LIFE, 0)  # a rate limit, not a failure


async def test_a_reply_waits_out_hours_of_telegram_outage_and_goes_once(
    clean_engine: AsyncEngine, fake: FakeTelegram
) -> None:
    app, clock = await _one_reply_waiting(clean_engine)
    bot = make_bot(DEFAULT_TOKEN, fake.base_url)
    # Telegram's own pacing would space 31 sends to one chat by real seconds: not here.
    unpaced = Pacing(per_chat_rate=1000, per_chat_burst=1000, overall_rate=1000)
    dispatcher = OutboxDispatcher(app.uow, clock, TelegramSender(bot), Wakeup(), pacing=unpaced)
    fake.fail_next(30, status=502)  # Telegram's servers answer Bad Gateway for a long while
    outage = timedelta()
    try:
        while fake.requests["sendMessage"] < 30:
            assert await dispatcher.send_one()
            [(due,)] = await rows(app.engine, "SELECT available_at FROM outbound_messages")
            assert isinstance(due, datetime)
            assert not await dispatcher.send_one()  # not before its backoff
            outage += due - clock.now()
            clock.set(due)
        assert outage > timedelta(hours=1)
        assert await rows(app.engine, "SELECT status FROM outbound_messages") == [("pending",)]
        assert await dispatcher.send_one()  # Telegram is back
    finally:
        await bot.session.close()
    assert [m.text for m in fake.messages_to(ADA)] == ["Your visit is confirmed."]
    outbox = await rows(app.engine, "SELECT status, attempts FROM outbound_messages")
    assert outbox == [("sent", 31)]
