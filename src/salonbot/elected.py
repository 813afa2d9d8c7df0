"""A channel whose dispatcher (and long polling) runs in one process of many: the one
leading the channel (``salonbot.leadership``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from core.services.dispatch import OutboxDispatcher
from salonbot.leadership import Leadership


class Poller(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...


class ElectedChannel:
    """``run`` follows, and sends (and polls) while this process leads the channel; the
    dispatcher asks ``leadership.holds`` before each send (``OutboxDispatcher.may_send``)."""

    def __init__(
        self,
        leadership: Leadership,
        dispatcher: OutboxDispatcher,
        make_poller: Callable[[], Poller] | None,
    ) -> None:
        self.leadership = leadership
        self.dispatcher = dispatcher
        self._make_poller = make_poller

    async def run(self) -> None:
        await self.leadership.run(self._lead)

    def stop(self) -> None:
        self.leadership.stop()

    async def _lead(self, ended: asyncio.Event) -> None:
        """Send (and poll) until ``ended``; then stop polling at once (updates not yet
        confirmed are delivered again to the next poller) and let a send in flight be
        finished and recorded."""
        self.dispatcher.resume()
        sending = asyncio.create_task(self.dispatcher.run())
        poller = self._make_poller() if self._make_poller is not None else None
        polling = asyncio.create_task(poller.run()) if poller is not None else None
        tasks = [sending] if polling is None else [sending, polling]
        try:
            await ended.wait()
            self.dispatcher.stop()
            if poller is not None and polling is not None:
                poller.stop()
                polling.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for task in tasks:
                task.cancel()  # only when cut short: then nothing is finished
            await asyncio.gather(*tasks, return_exceptions=True)
