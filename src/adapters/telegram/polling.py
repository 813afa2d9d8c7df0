"""Long polling (``getUpdates``), for development without a public URL.

Each update is stored in the inbox before the next offset confirms it to Telegram, so a
crash between the two only makes Telegram send it again, which the inbox drops.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from adapters.telegram.updates import CHANNEL, chat_key
from core.ports import StoreEvent

POLL_TIMEOUT = 25
log = logging.getLogger("salonbot.telegram")


class TelegramPolling:
    def __init__(self, bot: Bot, store: StoreEvent) -> None:
        self._bot = bot
        self._store = store
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Poll until ``stop``; any failure (Telegram, the network, the database) is logged
        and retried with backoff, never the end of polling."""
        offset: int | None = None
        failures = 0
        webhook_removed = False
        while not self._stopping.is_set():
            try:
                if not webhook_removed:
                    await self._bot.delete_webhook(drop_pending_updates=False)
                    webhook_removed = True
                offset = await self._poll(offset)
                failures = 0
            except TelegramRetryAfter as error:
                log.warning(
                    "getUpdates rate-limited",
                    extra={"channel": CHANNEL, "retry_after": error.retry_after},
                )
                await self._pause(float(error.retry_after))
            except Exception as error:
                failures += 1
                log.warning(
                    "polling failed",
                    extra={"channel": CHANNEL, "error": f"{type(error).__name__}: {error}"},
                )
                await self._pause(min(2.0**failures, 60.0))

    async def _poll(self, offset: int | None) -> int | None:
        """One ``getUpdates``; each update stored before the next offset confirms it."""
        updates = await self._bot.get_updates(
            offset=offset, timeout=POLL_TIMEOUT, request_timeout=POLL_TIMEOUT + 10
        )
        for update in updates:
            raw = update.model_dump(mode="json", exclude_none=True, by_alias=True)
            new = await self._store(CHANNEL, str(update.update_id), chat_key(raw), raw)
            log.info(
                "inbound stored" if new else "inbound duplicate dropped",
                extra={"channel": CHANNEL, "update_id": update.update_id, "chat": chat_key(raw)},
            )
            offset = update.update_id + 1
        return offset

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            pass
