"""The wake-up signal between the parts of one process (webhook store, inbox workers,
outbox dispatchers): work arrived, look now instead of at the next poll."""

from __future__ import annotations

import asyncio
import contextlib


class Wakeup:
    """An in-process signal: ``notify`` wakes a waiting worker at once."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        """Until notified, or ``seconds`` at most (the polling fallback)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        self._event.clear()
