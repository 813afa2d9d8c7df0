"""The Telegram channel at run time: bot session, inbox worker, outbox dispatcher, polling.

``salonbot serve`` runs one of these next to the HTTP server; tests run it in-process
against a fake Bot API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from fastapi import APIRouter

from adapters.telegram.polling import TelegramPolling
from adapters.telegram.sender import TelegramSender
from adapters.telegram.updates import CHANNEL, TelegramInbound
from adapters.telegram.webhook import WEBHOOK_PATH, telegram_webhook
from core.services.dispatch import OutboxDispatcher
from core.services.inbox import InboxWorker, StoreInbound, Wakeup
from core.services.pacing import Pacing
from salonbot.bootstrap import Salonbot

log = logging.getLogger("salonbot")
__all__ = ["WEBHOOK_PATH", "TelegramRuntime", "build_telegram", "make_bot"]


def make_bot(token: str, api_base: str) -> Bot:
    """One bot, one HTTP session for the whole process (closed by ``TelegramRuntime.stop``)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token=token, session=session)


@dataclass
class TelegramRuntime:
    app: Salonbot
    bot: Bot
    store: StoreInbound
    workers: list[InboxWorker]
    dispatcher: OutboxDispatcher
    polling: TelegramPolling | None
    routers: list[APIRouter]
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        loops = [w.run() for w in self.workers] + [self.dispatcher.run()]
        if self.polling is not None:
            loops.append(self.polling.run())
        self._tasks = [asyncio.create_task(loop) for loop in loops]

    def running(self) -> bool:
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def stop(self, grace: float = 10.0) -> None:
        """Take nothing new, let what is in hand finish (or roll back), close the session."""
        if self.polling is not None:
            self.polling.stop()
            # A long poll may wait 25 s more; cutting it loses nothing (unconfirmed updates
            # are delivered again).
            if self._tasks:
                self._tasks[-1].cancel()
        for worker in self.workers:
            worker.stop()
        self.dispatcher.stop()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            for task in late:
                task.cancel()  # its transaction rolls back: the event stays pending
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*late, return_exceptions=True)
        await self.bot.session.close()


def build_telegram(
    app: Salonbot,
    bot: Bot,
    *,
    webhook_secret: str | None,
    workers: int = 2,
    pacing: Pacing | None = None,
    poll_interval: float = 1.0,
) -> TelegramRuntime:
    """Webhook mode when ``webhook_secret`` is given, long polling otherwise."""
    inbox, outbox = Wakeup(), Wakeup()
    store = StoreInbound(app.uow, app.clock, inbox)
    channels = {CHANNEL: TelegramInbound(bot)}
    inbox_workers = [
        InboxWorker(
            app.uow,
            app.clock,
            app.catalogs,
            app.find_slots,
            channels,
            inbox,
            poll_interval=poll_interval,
            replies_waiting=outbox,
        )
        for _ in range(workers)
    ]
    dispatcher = OutboxDispatcher(
        app.uow, app.clock, TelegramSender(bot), outbox, pacing=pacing, poll_interval=poll_interval
    )
    if webhook_secret is not None:
        return TelegramRuntime(
            app,
            bot,
            store,
            inbox_workers,
            dispatcher,
            None,
            [telegram_webhook(store, webhook_secret)],
        )
    return TelegramRuntime(
        app, bot, store, inbox_workers, dispatcher, TelegramPolling(bot, store), []
    )
