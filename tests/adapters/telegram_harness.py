"""salonbot's Telegram channel in-process, against the fake Bot API, through the real route."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.services.catalog import load_catalog
from core.services.pacing import Pacing
from salonbot.bootstrap import Salonbot
from salonbot.runtime import Runtime
from salonbot.telegram_runtime import build_telegram, make_bot
from salonbot.web import create_web_app
from tests.catalog_cases import DEMO_TEXT
from tests.fakes.clock import RunningClock
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram, SentMessage

SECRET = "test-webhook-secret_1"
MONDAY_MORNING = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
# As salonbot paces by default: just under the fake's (Telegram's) limits.
PACING = Pacing()


async def eventually(check: Callable[[], Any], within: float = 15.0) -> Any:
    """Wait until ``check()`` is truthy (it may be async); its value."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for a condition")
        await asyncio.sleep(0.02)


class Salon:
    """salonbot serving one bot: post updates as Telegram would, read what the bot sent."""

    def __init__(
        self, app: Salonbot, fake: FakeTelegram, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        self.app = app
        self.fake = fake
        self.runtime = runtime
        self.client = client

    async def post(
        self, update: dict[str, Any] | bytes | str, secret: str | None = SECRET
    ) -> httpx.Response:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        if isinstance(update, dict):
            return await self.client.post("/webhooks/telegram", json=update, headers=headers)
        return await self.client.post(
            "/webhooks/telegram",
            content=update,
            headers={**headers, "Content-Type": "application/json"},
        )

    def to(self, chat: int) -> list[SentMessage]:
        return self.fake.messages_to(chat)

    async def reply_after(self, chat: int, update: dict[str, Any]) -> SentMessage:
        """Post ``update`` and wait for the one reply it brings."""
        before = len(self.to(chat))
        response = await self.post(update)
        assert response.status_code == 200, response.text
        await eventually(lambda: len(self.to(chat)) > before)
        return self.to(chat)[-1]

    async def say(self, chat: int, text: str, language: str | None = "en") -> SentMessage:
        return await self.reply_after(chat, self.fake.text_update(chat, text, language))

    async def tap(self, chat: int, label: str) -> SentMessage:
        """Press the button of the bot's last message whose text contains ``label``."""
        data = button(self.to(chat)[-1], label)
        return await self.reply_after(chat, self.fake.callback_update(chat, data))

    async def tap_nth(self, chat: int, index: int) -> SentMessage:
        data = buttons(self.to(chat)[-1])[index][1]
        return await self.reply_after(chat, self.fake.callback_update(chat, data))

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        async with self.app.engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(sql))]


def buttons(message: SentMessage) -> list[tuple[str, str]]:
    markup = message.reply_markup or {}
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


def button(message: SentMessage, label: str) -> str:
    found = [data for text_, data in buttons(message) if label.casefold() in text_.casefold()]
    assert len(found) == 1, f"{label!r} among {buttons(message)}"
    return found[0]


async def demo_app(engine: AsyncEngine) -> Salonbot:
    app = Salonbot(engine, RunningClock(MONDAY_MORNING))
    document, _ = load_catalog_text(DEMO_TEXT)
    await load_catalog(app.uow, app.clock, document)
    return app


@asynccontextmanager
async def serving(
    app: Salonbot,
    fake: FakeTelegram,
    *,
    webhook: bool = True,
    start: bool = True,
    workers: int = 2,
) -> AsyncIterator[Salon]:
    """salonbot's Telegram side on ``app``: the web app, workers and dispatcher running."""
    bot = make_bot(DEFAULT_TOKEN, fake.base_url)
    runtime = build_telegram(
        app,
        bot,
        webhook_secret=SECRET if webhook else None,
        workers=workers,
        pacing=PACING,
        poll_interval=0.05,
    )
    web = create_web_app(app, runtime.routers, runtime.running)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salonbot") as client:
        if start:
            await runtime.start()
        try:
            yield Salon(app, fake, runtime, client)
        finally:
            await runtime.stop()
