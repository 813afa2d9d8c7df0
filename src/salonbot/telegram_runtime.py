"""The Telegram channel at run time: bot session, inbox worker, outbox dispatcher, polling.

``salonbot serve`` runs one of these next to the HTTP server; tests run it in-process
against a fake Bot API.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from adapters.telegram.polling import TelegramPolling
from adapters.telegram.sender import TelegramSender
from adapters.telegram.updates import TelegramInbound
from adapters.telegram.webhook import WEBHOOK_PATH, telegram_webhook
from core.services.pacing import Pacing
from salonbot.bootstrap import Salonbot
from salonbot.runtime import Runtime

log = logging.getLogger("salonbot")
__all__ = ["WEBHOOK_PATH", "add_telegram", "build_telegram", "make_bot"]


def make_bot(token: str, api_base: str) -> Bot:
    """One bot, one HTTP session for the whole process (closed by ``Runtime.stop``)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token=token, session=session)


def add_telegram(
    runtime: Runtime, bot: Bot, *, webhook_secret: str | None, pacing: Pacing | None = None
) -> None:
    """Webhook mode when ``webhook_secret`` is given, long polling otherwise."""
    store = runtime.store
    runtime.add_channel(
        TelegramInbound(bot),
        TelegramSender(bot),
        pacing=pacing or Pacing(),
        routers=[telegram_webhook(store, webhook_secret)] if webhook_secret is not None else [],
        poller=None if webhook_secret is not None else lambda: TelegramPolling(bot, store),
        close=bot.session.close,
    )


def build_telegram(
    app: Salonbot,
    bot: Bot,
    *,
    webhook_secret: str | None,
    workers: int = 2,
    pacing: Pacing | None = None,
    poll_interval: float = 1.0,
) -> Runtime:
    """A runtime with only the Telegram channel."""
    runtime = Runtime(app, workers=workers, poll_interval=poll_interval)
    add_telegram(runtime, bot, webhook_secret=webhook_secret, pacing=pacing)
    return runtime
