"""Pushes as soon as they are queued: the calendar pusher run whenever it is woken.

``salonbot`` wakes it when the database announces a queued push (any process may have
queued it: ``CalendarPushRepository.add`` notifies at commit), so a booking reaches its
staff member's calendar in well under a second instead of at the next tick. It runs again
at once while a run found work (a booking's next push is claimed on a later run: a move
between staff members is a remove, then a put), and once more when a push it put off
falls due (a retry after a timeout). The scheduler's tick goes on beside it as the safety
net (a notice missed while the listener reconnects, a retry another process put off); the
two never push one row at once (the claim), and a run held up by a hanging calendar in one
never stops the other.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from core.ports import Clock
from core.services.calendar_pusher import CalendarPusher
from core.services.wakeup import Wakeup

log = logging.getLogger(__name__)

RESTING = 60.0
"""Seconds between runs when nothing wakes it (the tick is the real safety net)."""


class PushWhenWoken:
    def __init__(
        self, pusher: CalendarPusher, wakeup: Wakeup, clock: Clock, *, resting: float = RESTING
    ) -> None:
        self._pusher = pusher
        self._wakeup = wakeup
        self._clock = clock
        self._resting = resting
        self._stopping = asyncio.Event()
        self._next_retry: datetime | None = None

    async def run(self) -> None:
        """Until ``stop``: wait to be woken (or for a push put off to fall due), then push
        until a run finds nothing to do. A failed run (the database away) is logged; the
        next wake tries again."""
        while not self._stopping.is_set():
            await self._wakeup.wait(self._rest())
            if self._next_retry is not None and self._next_retry <= self._clock.now():
                self._next_retry = None  # due: this turn's runs take it
            while not self._stopping.is_set():
                try:
                    run = await self._pusher.run()
                except Exception:
                    log.exception("calendar pushes: a run failed")
                    break
                if run.next_retry is not None:
                    self._next_retry = min(run.next_retry, self._next_retry or run.next_retry)
                if run.done + run.retried + run.parked == 0:
                    break

    def _rest(self) -> float:
        if self._next_retry is None:
            return self._resting
        due_in = (self._next_retry - self._clock.now()).total_seconds()
        return min(self._resting, max(0.0, due_in))

    def stop(self) -> None:
        """No new run starts; one in progress goes on (the caller waits for it or cuts it)."""
        self._stopping.set()
        self._wakeup.notify()
