"""Long polling (``getUpdates``), for development without a public URL.

Each update is stored in the inbox before the next offset confirms it to Telegram, so a
crash between the two only makes Telegram send it again, which the inbox drops. Updates
are taken as Telegram sent them, as the webhook takes them: one that aiogram cannot read is
stored (and ignored by the worker, with the reason) instead of failing every poll after it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod

from adapters.common.platform_input import storable
from adapters.telegram.updates import CHANNEL, chat_key
from core.ports import StoreEvent

POLL_TIMEOUT = 25
log = logging.getLogger("salonbot.telegram")


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """``getUpdates``, its updates left as JSON objects (aiogram's own reads each one)."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    timeout: int | None = None


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
        updates = await self._bot(
            GetRawUpdates(offset=offset, timeout=POLL_TIMEOUT), request_timeout=POLL_TIMEOUT + 10
        )
        for raw in updates:
            update_id = raw.get("update_id")
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.warning("getUpdates gave something that is not an update", extra=_of(raw))
                continue
            offset = update_id + 1
            try:
                update = storable(raw)
            except ValueError:
                log.warning("telegram update not storable", extra=_of(raw))
                continue
            new = await self._store(CHANNEL, str(update_id), chat_key(update), update)
            log.info(
                "inbound stored" if new else "inbound duplicate dropped",
                extra={"channel": CHANNEL, "update_id": update_id, "chat": chat_key(update)},
            )
        return offset

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            pass


def _of(raw: dict[str, Any]) -> dict[str, object]:
    return {"channel": CHANNEL, "update_id": str(raw.get("update_id"))[:40]}
