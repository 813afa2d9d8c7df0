"""``salonbot serve``: the HTTP server, the inbox worker and the outbox dispatcher in one
process, until SIGTERM or Ctrl-C; then a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from datetime import timedelta

import uvicorn
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from core.linked_calendars.ports import LinkedCalendars
from core.services.backlog import ReadBacklog
from salonbot.bootstrap import Salonbot
from salonbot.config import Settings
from salonbot.database import SERVING_LIMITS, DatabaseLocation, make_engine
from salonbot.demo import load_demo_if_empty
from salonbot.logs import configure
from salonbot.metrics import Metrics
from salonbot.metrics_listener import MetricsPortTaken, metrics_server_config, metrics_socket
from salonbot.metrics_web import metrics_app
from salonbot.runtime import Runtime
from salonbot.telegram_runtime import WEBHOOK_PATH, add_telegram, make_bot
from salonbot.web import create_web_app
from salonbot.whatsapp_runtime import add_whatsapp

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
    if missing := settings.whatsapp_missing():
        raise ServeError(f"{missing[0]}: required to run WhatsApp (set all WHATSAPP_* or none)")
    telegram_webhook = settings.public_base_url is not None and settings.telegram_bot_token
    if telegram_webhook and settings.telegram_webhook_secret is None:
        raise ServeError(
            "TELEGRAM_WEBHOOK_SECRET: required when PUBLIC_BASE_URL is set (webhook mode)"
        )
    if settings.metrics_port == settings.port:
        raise ServeError(
            "METRICS_PORT: must differ from PORT (the metrics have a port of their own)"
        )


async def _add_telegram(settings: Settings, runtime: Runtime) -> str:
    """Add Telegram if configured; how it runs (for the log)."""
    if settings.telegram_bot_token is None:
        return "off"
    bot = make_bot(settings.telegram_bot_token.get_secret_value(), settings.telegram_api)
    try:
        await bot.get_me()
    except TelegramUnauthorizedError:
        await bot.session.close()
        raise ServeError("TELEGRAM_BOT_TOKEN: Telegram does not accept this token") from None
    except (TelegramAPIError, OSError, TimeoutError) as error:
        await bot.session.close()
        raise ServeError(f"cannot reach Telegram ({type(error).__name__})") from None
    secret = settings.telegram_webhook_secret
    if settings.public_base_url is None or secret is None:
        add_telegram(runtime, bot, webhook_secret=None)
        return "polling"
    add_telegram(runtime, bot, webhook_secret=secret.get_secret_value())
    try:
        await bot.set_webhook(
            url=f"{settings.public_base_url}{WEBHOOK_PATH}",
            secret_token=secret.get_secret_value(),
            allowed_updates=["message", "callback_query"],
        )
    except TelegramAPIError as error:
        refusal = f"PUBLIC_BASE_URL: Telegram refused the webhook: {error.message}"
        raise ServeError(refusal) from None
    return "webhook"


def _add_whatsapp(settings: Settings, runtime: Runtime) -> str:
    if not settings.whatsapp_on:
        return "off"
    assert settings.whatsapp_token is not None
    assert settings.whatsapp_app_secret is not None
    assert settings.whatsapp_verify_token is not None
    assert settings.whatsapp_phone_number_id is not None
    add_whatsapp(
        runtime,
        api_base=settings.whatsapp_api,
        phone_number_id=settings.whatsapp_phone_number_id,
        token=settings.whatsapp_token.get_secret_value(),
        app_secret=settings.whatsapp_app_secret.get_secret_value(),
        verify_token=settings.whatsapp_verify_token.get_secret_value(),
        template=settings.whatsapp_template,
        template_language=settings.whatsapp_template_language,
        reminder_template=settings.whatsapp_reminder_template,
    )
    return "webhook"


def linked_calendars(settings: Settings) -> LinkedCalendars | None:
    """The staff's Google Calendars when ``GOOGLE_SERVICE_ACCOUNT_FILE`` is set (the key is
    read now, so a bad one stops serve with its reason), else None: nothing is pushed."""
    if settings.google_service_account_file is None:
        return None
    from adapters.google_calendar.client import GoogleCalendars, KeyFileError

    try:
        return GoogleCalendars.from_key_file(
            settings.google_service_account_file, api_base=settings.google_calendar_api_base
        )
    except KeyFileError as error:
        raise ServeError(f"GOOGLE_SERVICE_ACCOUNT_FILE: {error}") from None


def calendar_webhook_url(settings: Settings) -> str | None:
    """Where Google posts the staff calendars' push notifications: the route under
    ``PUBLIC_BASE_URL`` (always https: the settings check it), else None (polling only)."""
    if settings.public_base_url is None:
        return None
    from adapters.google_calendar.webhook import WEBHOOK_PATH

    return f"{settings.public_base_url}{WEBHOOK_PATH}"


def serving_engine(url: str, settings: Settings) -> AsyncEngine:
    """``serve``'s engine: ``DATABASE_POOL_SIZE`` pooled connections (as many again in a
    burst), every call bounded."""
    return make_engine(url, pool_size=settings.database_pool_size, limits=SERVING_LIMITS)


async def serve(settings: Settings, location: DatabaseLocation) -> None:
    check_settings(settings)
    configure()
    app = Salonbot(
        serving_engine(location.url, settings),
        linked_calendars=linked_calendars(settings),
        calendar_poll_every=timedelta(seconds=settings.google_calendar_poll_seconds),
        calendar_webhook_url=calendar_webhook_url(settings),
        retention=timedelta(days=settings.retention_days),
    )
    if app.linked_calendars is not None:
        log.info(
            "staff members' Google Calendars: their bookings are pushed there, their "
            "events read back every %d s",
            settings.google_calendar_poll_seconds,
        )
        if app.calendar_webhook_url is not None:
            log.info("staff members' Google Calendars: push notifications to PUBLIC_BASE_URL")
    metrics = Metrics(ReadBacklog(app.uow, app.clock))
    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    runtime = Runtime(app, schedule=True, tally=metrics, elect=True)
    metrics_listener = None
    try:
        try:  # first: a port in use stops serve before it registers any webhook
            metrics_listener = metrics_socket(settings)
        except MetricsPortTaken as error:
            raise ServeError(str(error)) from None
        if location.server is not None and await load_demo_if_empty(app):
            log.info("no salon was loaded yet: loaded the demo salon")
        telegram = await _add_telegram(settings, runtime)
        whatsapp = _add_whatsapp(settings, runtime)
        metrics.channels(
            name for name, on in (("telegram", telegram), ("whatsapp", whatsapp)) if on != "off"
        )
        web = create_web_app(
            app,
            runtime.routers,
            runtime.running,
            store_answering=runtime.store_answering,
            https=(settings.public_base_url or "").startswith("https://"),
            public_base_url=settings.public_base_url,
            metrics=metrics,
            metrics_token=metrics_token,
        )
        await runtime.start()
        if telegram == whatsapp == "off":
            log.info(
                "no chat channel is configured: serving the staff pages only (/staff/); "
                "set TELEGRAM_BOT_TOKEN or WHATSAPP_* to take bookings in chat"
            )
        log.info(
            "serving",
            extra={
                "telegram": telegram,
                "whatsapp": whatsapp,
                "host": settings.host,
                "port": settings.port,
                "metrics_port": settings.metrics_port,
            },
        )
        server = _Server(server_config(web, settings))
        serving = [server.serve()]
        servers = [server]
        if metrics_listener is not None:
            metrics_server = _Server(metrics_server_config(metrics_app(metrics, metrics_token)))
            serving.append(metrics_server.serve(sockets=[metrics_listener]))
            servers.append(metrics_server)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _stopper(servers, signum, app.live.stop))
        try:
            await asyncio.gather(*serving)
        finally:
            log.info("stopping")
    finally:
        await runtime.stop()
        await metrics.close()
        if metrics_listener is not None:
            metrics_listener.close()
        await app.close()


def server_config(web: FastAPI, settings: Settings) -> uvicorn.Config:
    """uvicorn's settings: where to listen, and whose forwarded headers to believe (a
    reverse proxy's ``X-Forwarded-For`` and ``-Proto``; from ``Settings``, so ``.env`` counts,
    where uvicorn alone would read only the process environment)."""
    return uvicorn.Config(
        web,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


def _stopper(
    servers: list[_Server], signum: int, end_streams: Callable[[], None]
) -> Callable[[], None]:
    def stop() -> None:
        log.info("signal received: stopping", extra={"signal": signal.Signals(signum).name})
        for server in servers:
            server.should_exit = True
        # uvicorn's graceful stop waits for every response to end: the staff pages' live
        # streams end now rather than never.
        end_streams()

    return stop
