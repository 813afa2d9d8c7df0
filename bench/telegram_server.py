"""A server for ``bench.telegram`` and ``bench.whatsapp``, in its own process.

    python -m bench.telegram_server MODE DATABASE_URL PORT API_BASE

MODE ``ingest``: salonbot's webhook route only (stores, acknowledges; no worker).
MODE ``full``: salonbot as ``serve`` runs it: route, inbox workers, outbox dispatcher.
MODE ``baseline``: aiogram's ``SimpleRequestHandler`` (aiohttp) with a handler that does
nothing and stores nothing.
MODE ``whatsapp``: salonbot's WhatsApp route only (checks the signature, stores; no worker).
MODE ``whatsapp-baseline``: an aiohttp handler that checks the signature and stores nothing.
MODE ``reminders``: salonbot exactly as ``serve`` builds it (``Runtime(app, schedule=True,
elect=True)``, the Telegram channel, serve's pool and time limits, JSON logs on stderr), its
clock an hour before ``bench.reminders``' due minute until ``DUE_IN`` seconds after start,
then at it; the scheduler's visits tick is logged when it starts and ends, and the event
loop's lag is written to ``LAG_FILE`` as it goes. Two more arguments: ``DUE_IN LAG_FILE``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sys
import time
from datetime import datetime, timedelta

import uvicorn
from aiogram import Dispatcher
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from tests.fakes.telegram_api import DEFAULT_TOKEN

from adapters.whatsapp.webhook import signature
from bench.setup import NOW, FixedClock
from salonbot.bootstrap import Salonbot
from salonbot.cli import run_event_loop
from salonbot.database import SERVING_LIMITS, make_engine
from salonbot.logs import configure
from salonbot.runtime import Runtime
from salonbot.scheduler import Scheduler
from salonbot.telegram_runtime import add_telegram, build_telegram, make_bot
from salonbot.web import create_web_app
from salonbot.whatsapp_runtime import add_whatsapp

SECRET = "bench-secret"


async def salonbot(url: str, port: int, api_base: str, *, workers: bool) -> None:
    app = Salonbot(make_engine(url, pool_size=20), FixedClock())
    bot = make_bot(DEFAULT_TOKEN, api_base)
    runtime = build_telegram(app, bot, webhook_secret=SECRET)
    web_app = create_web_app(app, runtime.routers, runtime.running)
    if workers:
        await runtime.start()
    config = uvicorn.Config(web_app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    try:
        await uvicorn.Server(config).serve()
    finally:
        await runtime.stop()
        await app.close()


class DueClock:
    """An hour before the benchmark's clock until ``flip_at`` (wall seconds), then at it:
    the reminders fall due while the server runs, as they do in a salon."""

    def __init__(self, flip_at: float) -> None:
        self._flip_at = flip_at

    def now(self) -> datetime:
        return NOW if time.time() >= self._flip_at else NOW - timedelta(hours=1)


class TimedScheduler(Scheduler):
    """serve's scheduler, its visits tick logged when it starts and when it ends."""

    async def tick_visits(self) -> None:
        log = logging.getLogger("bench.scheduler")
        log.info("tick started", extra={"wall": time.time()})
        try:
            await super().tick_visits()
        finally:
            log.info("tick ended", extra={"wall": time.time()})


async def _watch_lag(lag_file: str, every: float = 0.05) -> None:
    """Write "wall-time seconds-late" of a sleep of ``every``, over and over, a second's
    worth at a time (uvicorn ends the process on SIGTERM: no writing at exit)."""
    loop = asyncio.get_running_loop()
    with open(lag_file, "w") as out:  # noqa: ASYNC230 - a few bytes a second
        while True:
            for _ in range(round(1 / every)):
                started = loop.time()
                await asyncio.sleep(every)
                out.write(f"{time.time()} {loop.time() - started - every}\n")
            out.flush()


async def reminders(url: str, port: int, api_base: str, due_in: float, lag_file: str) -> None:
    configure()
    flip_at = time.time() + due_in
    logging.getLogger("bench.clock").info("reminders fall due", extra={"wall": flip_at})
    app = Salonbot(make_engine(url, pool_size=10, limits=SERVING_LIMITS), DueClock(flip_at))
    runtime = Runtime(app, schedule=True, elect=True)
    runtime.scheduler = TimedScheduler(app, runtime.replies_waiting)  # the same, ticks logged
    add_telegram(runtime, make_bot(DEFAULT_TOKEN, api_base), webhook_secret=SECRET)
    web_app = create_web_app(
        app, runtime.routers, runtime.running, store_answering=runtime.store_answering
    )
    watcher = asyncio.create_task(_watch_lag(lag_file))
    await runtime.start()
    config = uvicorn.Config(web_app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    try:
        await uvicorn.Server(config).serve()
    finally:
        watcher.cancel()
        await runtime.stop()
        await app.close()


async def baseline(port: int, api_base: str) -> None:
    bot = make_bot(DEFAULT_TOKEN, api_base)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def ignore(message: Message) -> None:
        return None

    application = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token=SECRET).register(
        application, path="/webhooks/telegram"
    )
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await bot.session.close()


APP_SECRET = "bench-app-secret"


async def whatsapp(url: str, port: int, api_base: str) -> None:
    app = Salonbot(make_engine(url, pool_size=20), FixedClock())
    runtime = Runtime(app)
    add_whatsapp(
        runtime,
        api_base=api_base,
        phone_number_id="1234567890",
        token="bench-token",
        app_secret=APP_SECRET,
        verify_token="bench-verify",
    )
    web_app = create_web_app(app, runtime.routers, runtime.running)
    config = uvicorn.Config(web_app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    try:
        await uvicorn.Server(config).serve()
    finally:
        await runtime.stop()
        await app.close()


async def whatsapp_baseline(port: int) -> None:
    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        given = request.headers.get("X-Hub-Signature-256", "")
        if not secrets.compare_digest(given.encode(), signature(body, APP_SECRET).encode()):
            return web.json_response({"error": "bad signature"}, status=401)
        json.loads(body)
        return web.json_response({"ok": True})

    application = web.Application()
    application.router.add_post("/webhooks/whatsapp", receive)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    mode, url, port, api_base = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    # Both on the event loop ``salonbot serve`` uses (uvloop where installed).
    if mode == "baseline":
        run_event_loop(baseline(port, api_base))
    elif mode == "whatsapp":
        run_event_loop(whatsapp(url, port, api_base))
    elif mode == "whatsapp-baseline":
        run_event_loop(whatsapp_baseline(port))
    elif mode == "reminders":
        run_event_loop(reminders(url, port, api_base, float(sys.argv[5]), sys.argv[6]))
    else:
        run_event_loop(salonbot(url, port, api_base, workers=mode == "full"))


if __name__ == "__main__":
    main()
