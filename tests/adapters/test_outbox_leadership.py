"""The outbox dispatcher of a process that leads its channel only now and then (several
``salonbot serve`` on one database): it sends nothing while it may not, leaving the
message as it was, sends again once it may, after a stop too, and records a send the
database missed before the next leader could send it again."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.telegram.sender import TelegramSender
from core.conversation.messages import Reply
from core.db.outbox_repository import OutboxRepository
from core.services.dispatch import OutboxDispatcher
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from salonbot.elected import ElectedChannel
from salonbot.leadership import Leadership
from salonbot.live import connector
from salonbot.runtime import Runtime
from salonbot.telegram_runtime import add_telegram, make_bot
from tests.adapters.telegram_harness import demo_app, eventually
from tests.db_state import rows
from tests.fakes.tcp_proxy import CuttableLink, link_target, through
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.waiting import until

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


async def test_a_send_the_database_missed_is_recorded_before_the_next_leader_sends(
    clean_engine: AsyncEngine, database_url: str, fake: FakeTelegram
) -> None:
    """The database goes away (a restart, as both processes see it) between a send and
    its record, ending the lead too. The old leader records the send as soon as the
    database is back; the new leader does not send it again meanwhile."""
    app = await demo_app(clean_engine)
    async with CuttableLink(*link_target(database_url)) as link:
        one = _elected(Salonbot(make_engine(through(database_url, link), pool_size=4)), fake)
        two = _elected(Salonbot(make_engine(through(database_url, link), pool_size=4)), fake)
        try:
            await one.start()
            await until(lambda: _leads(one), "the first process leads")
            await two.start()
            await until(lambda: _follows(two), "the second follows")
            async with app.uow() as uow:
                await OutboxRepository(uow.connection).add(
                    "telegram", str(ADA), [Reply("Your visit is confirmed.")], one.app.clock.now()
                )
                await uow.commit()
            fake.slow(0.5)
            one.replies_waiting.notify()
            await eventually(lambda: fake.requests["sendMessage"] == 1, within=5)
            await link.cut()  # Telegram has the message; the database goes away
            fake.slow(0)
            await eventually(lambda: one.dispatchers[0].unrecorded == 1, within=5)
            await link.restore()
            await eventually(lambda: one.dispatchers[0].unrecorded == 0, within=10)
            await until(lambda: _leads(one, two), "a process leads again", within=10)
        finally:
            for runtime in (one, two):
                await runtime.stop(grace=2)
                await runtime.app.close()
    assert await rows(app.engine, "SELECT status, attempts FROM outbound_messages") == [("sent", 1)]
    assert [m.text for m in fake.messages_to(ADA)] == ["Your visit is confirmed."]


async def test_a_send_in_flight_when_the_database_blips_is_not_sent_again_by_a_new_leader(
    clean_engine: AsyncEngine, database_url: str, fake: FakeTelegram
) -> None:
    """The database restarts while Telegram is still answering a slow send: the claim is
    rolled back and the lead lost, and another process comes to lead within seconds. It
    leaves the message to the old leader's outcome (marked as being sent before the
    send), which is recorded once Telegram answers: the message goes once."""
    app = await demo_app(clean_engine)
    async with CuttableLink(*link_target(database_url)) as link:
        one = _elected(Salonbot(make_engine(through(database_url, link), pool_size=4)), fake)
        two = _elected(Salonbot(make_engine(through(database_url, link), pool_size=4)), fake)
        try:
            await one.start()
            await until(lambda: _leads(one), "the first process leads")
            await two.start()
            await until(lambda: _follows(two), "the second follows")
            async with app.uow() as uow:
                await OutboxRepository(uow.connection).add(
                    "telegram", str(ADA), [Reply("Your visit is confirmed.")], one.app.clock.now()
                )
                await uow.commit()
            fake.slow(4.0)
            one.replies_waiting.notify()
            await eventually(lambda: fake.requests["sendMessage"] == 1, within=5)
            await link.cut()  # Telegram is still answering; the database restarts
            fake.slow(0)
            await asyncio.sleep(0.3)
            await link.restore()
            await until(lambda: _leads(one, two), "a process leads again", within=10)
            await eventually(lambda: one.dispatchers[0].unrecorded == 0, within=15)
            await eventually(lambda: _recorded(app.engine), within=10)
            # Longer than a new leader's try, settle and claim: it had its chance.
            await asyncio.sleep(1.5)
        finally:
            for runtime in (one, two):
                await runtime.stop(grace=2)
                await runtime.app.close()
    assert await _status(app.engine) == [("sent", 1)]
    assert [m.text for m in fake.messages_to(ADA)] == ["Your visit is confirmed."]


async def _status(engine: AsyncEngine) -> list[tuple[object, ...]]:
    return await rows(engine, "SELECT status, attempts FROM outbound_messages")


async def _recorded(engine: AsyncEngine) -> bool:
    return await _status(engine) != [("pending", 0)]


def _elected(app: Salonbot, fake: FakeTelegram) -> Runtime:
    runtime = Runtime(app, poll_interval=0.2, elect=True)
    add_telegram(runtime, make_bot(DEFAULT_TOKEN, fake.base_url), webhook_secret="secret")
    return runtime


async def _leads(*runtimes: Runtime) -> bool:
    return any(r.channels[0].leadership.holds() for r in runtimes)


async def _follows(runtime: Runtime) -> bool:
    return runtime.channels[0].leadership.following


class _FailingPoller:
    """A poller whose first run fails at once (a bug); later ones poll until stopped."""

    runs = 0

    def __init__(self) -> None:
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        _FailingPoller.runs += 1
        if _FailingPoller.runs == 1:
            raise RuntimeError("the poller broke")
        await self._stopping.wait()

    def stop(self) -> None:
        self._stopping.set()


async def test_a_poller_that_dies_while_leading_ends_the_term(
    clean_engine: AsyncEngine, fake: FakeTelegram
) -> None:
    """The lock is let go and the channel led again, with a new poller."""
    app = await demo_app(clean_engine)
    bot = make_bot(DEFAULT_TOKEN, fake.base_url)
    wakeup = Wakeup()
    leadership = Leadership(
        connector(app.engine),
        "channel:test",
        check_every=0.05,
        beat_every=0.5,
        idle_limit=3.0,
        settle=0.1,
    )
    dispatcher = OutboxDispatcher(
        app.uow, app.clock, TelegramSender(bot), wakeup, may_send=leadership.holds
    )
    _FailingPoller.runs = 0
    channel = ElectedChannel(leadership, dispatcher, _FailingPoller)
    running = asyncio.create_task(channel.run())
    try:
        # The second term has begun, and its new poller runs (its task starts a moment
        # after the term does): the broken one ended the first term, nothing else.
        await eventually(
            lambda: leadership.terms == 2 and leadership.holds() and _FailingPoller.runs == 2,
            within=10,
        )
        assert leadership.terms == 2
    finally:
        channel.stop()
        await asyncio.wait_for(running, 10)
        await bot.session.close()
