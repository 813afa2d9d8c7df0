"""``salonbot serve``: the HTTP server, the inbox worker and the outbox dispatcher in one
process, until SIGTERM or Ctrl-C; then a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator

import uvicorn
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

from salonbot.bootstrap import Salonbot
from salonbot.config import Settings
from salonbot.database import DatabaseLocation, make_engine
from salonbot.demo import load_demo_if_empty
from salonbot.logs import configure
from salonbot.telegram_runtime import WEBHOOK_PATH, build_telegram, make_bot
from salonbot.web import create_web_app

log = logging.getLogger("salonbot")


class _Server(uvicorn.Server):
    """uvicorn's server, minus its signal handling: after a graceful stop uvicorn raises
    the signal again, which would kill the process before the workers are stopped and the
    Telegram session is closed. ``serve`` handles SIGTERM and SIGINT itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ServeError(Exception):
    """Configuration or a platform refused to start: one line, exit status 1."""


def check_settings(settings: Settings) -> None:
    if settings.telegram_bot_token is None:
        raise ServeError("TELEGRAM_BOT_TOKEN: required (the token @BotFather gave your bot)")
    if settings.public_base_url is not None and settings.telegram_webhook_secret is None:
        raise ServeError(
            "TELEGRAM_WEBHOOK_SECRET: required when PUBLIC_BASE_URL is set (webhook mode)"
        )


async def serve(settings: Settings, location: DatabaseLocation) -> None:
    check_settings(settings)
    assert settings.telegram_bot_token is not None
    configure()
    app = Salonbot(make_engine(location.url, pool_size=10))
    bot = make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api)
    try:
        if location.server is not None and await load_demo_if_empty(app):
            log.info("no salon was loaded yet: loaded the demo salon")
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            raise ServeError("TELEGRAM_BOT_TOKEN: Telegram does not accept this token") from None
        except (TelegramAPIError, OSError, TimeoutError) as error:
            raise ServeError(f"cannot reach Telegram ({type(error).__name__})") from None
        secret = settings.telegram_webhook_secret
        webhook = settings.public_base_url is not None and secret is not None
        runtime = build_telegram(
            app, bot, webhook_secret=secret.get_secret_value() if webhook and secret else None
        )
        if webhook and secret is not None:
            try:
                await bot.set_webhook(
                    url=f"{settings.public_base_url}{WEBHOOK_PATH}",
                    secret_token=secret.get_secret_value(),
                    allowed_updates=["message", "callback_query"],
                )
            except TelegramAPIError as error:
                raise ServeError(
                    f"PUBLIC_BASE_URL: Telegram refused the webhook: {error.message}"
                ) from None
        web = create_web_app(app, runtime.routers, runtime.running)
        await runtime.start()
        log.info(
            "serving",
            extra={
                "bot": me.username,
                "mode": "webhook" if webhook else "polling",
                "host": settings.host,
                "port": settings.port,
            },
        )
        server = _Server(
            uvicorn.Config(
                web, host=settings.host, port=settings.port, log_config=None, access_log=False
            )
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _stopper(server, signum))
        try:
            await server.serve()
        finally:
            log.info("stopping")
            await runtime.stop()
    finally:
        await bot.session.close()
        await app.close()


def _stopper(server: uvicorn.Server, signum: int) -> Callable[[], None]:
    def stop() -> None:
        log.info("signal received: stopping", extra={"signal": signal.Signals(signum).name})
        server.should_exit = True

    return stop
