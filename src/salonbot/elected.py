"""A channel whose dispatcher (and long polling) runs in one process of many: the one
leading the channel (``salonbot.leadership``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from core.services.dispatch import OutboxDispatcher
from salonbot.leadership import Leadership

log = logging.getLogger("salonbot.leadership")

RECORD_EVERY = 0.2  # seconds between attempts to record what a lost lead left unrecorded


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
        *,
        record_every: float = RECORD_EVERY,
    ) -> None:
        self.leadership = leadership
        self.dispatcher = dispatcher
        self._make_poller = make_poller
        self._record_every = record_every
        self._recording: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            await self.leadership.run(self._lead)
        finally:
            if self._recording is not None:
                self._recording.cancel()
                await asyncio.gather(self._recording, return_exceptions=True)

    def stop(self) -> None:
        self.leadership.stop()

    async def _lead(self, ended: asyncio.Event) -> None:
        """Send (and poll) until ``ended``; then stop polling at once (updates not yet
        confirmed are delivered again to the next poller) and let a send in flight be
        finished and recorded. The dispatcher or the poller ending on its own (a bug:
        both run until stopped) ends the term too, so that the lock is let go and the
        channel led again, by this process or another, with both running."""
        self.dispatcher.resume()
        sending = asyncio.create_task(self.dispatcher.run())
        poller = self._make_poller() if self._make_poller is not None else None
        polling = asyncio.create_task(poller.run()) if poller is not None else None
        tasks = [sending] if polling is None else [sending, polling]
        try:
            await self._until_ended(ended, sending, polling)
            self.dispatcher.stop()
            if poller is not None and polling is not None:
                poller.stop()
                polling.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.dispatcher.unrecorded and (self._recording is None or self._recording.done()):
                self._recording = asyncio.create_task(self._record_kept())
        finally:
            for task in tasks:
                task.cancel()  # only when cut short: then nothing is finished
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _until_ended(
        self,
        ended: asyncio.Event,
        sending: asyncio.Task[None],
        polling: asyncio.Task[None] | None,
    ) -> None:
        """Until ``ended``, or until the dispatcher or the poller is over (logged)."""
        waiting = asyncio.ensure_future(ended.wait())
        tasks = [sending] if polling is None else [sending, polling]
        try:
            await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
        for task, what in ((sending, "dispatcher"), (polling, "poller")):
            if task is None or not task.done() or ended.is_set():
                continue
            error = None if task.cancelled() else task.exception()
            log.error(
                f"leadership: the {what} ended while leading: the term ends",
                extra={
                    "role": self.leadership.role,
                    "error": "none" if error is None else f"{type(error).__name__}: {error}",
                },
            )

    async def _record_kept(self) -> None:
        """Sends the database did not record (it went away, and the lead with it) are
        recorded as soon as it answers, leading or not. The next leader does not send
        them meanwhile: each was marked as being sent before its send
        (``OutboxDispatcher(mark_sending=True)``), and the claim leaves such a message
        alone for a send's timeout and its recording."""
        log.warning(
            "outbound sends not recorded when the lead was lost: recording them as soon as"
            " the database answers",
            extra={"role": self.leadership.role, "count": self.dispatcher.unrecorded},
        )
        while True:
            # Raises while the database is away (the leadership's outage story tells of
            # it); a row still locked by the lost session is left for the next turn.
            with contextlib.suppress(Exception):
                await self.dispatcher.record_kept()
            if not self.dispatcher.unrecorded:
                return
            await asyncio.sleep(self._record_every)
