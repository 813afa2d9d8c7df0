"""Pushes as soon as they are queued: the calendar pusher run whenever it is woken.

``salonbot`` wakes it when the database announces a queued push (any process may have
queued it: ``CalendarPushRepository.add`` notifies at commit), so a booking reaches its
staff member's calendar in well under a second instead of at the next tick. It runs again
at once while a run found work (a booking's next push is claimed on a later run: a move
between staff members is a remove, then a put). The scheduler's tick goes on beside it as
the safety net (a notice missed while the listener reconnects, a retry falling due); the
two never push one row at once (the claim), and a run held up by a hanging calendar in one
never stops the other.
"""

from __future__ import annotations

import asyncio
import logging

from core.services.calendar_pusher import CalendarPusher
from core.services.wakeup import Wakeup

log = logging.getLogger(__name__)

RESTING = 60.0
"""Seconds between runs when nothing wakes it (the tick is the real safety net)."""


class PushWhenWoken:
    def __init__(self, pusher: CalendarPusher, wakeup: Wakeup, *, resting: float = RESTING):
        self._pusher = pusher
        self._wakeup = wakeup
        self._resting = resting
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Until ``stop``: wait to be woken, then push until a run finds nothing to do. A
        failed run (the database away) is logged; the next wake tries again."""
        while not self._stopping.is_set():
            await self._wakeup.wait(self._resting)
            while not self._stopping.is_set():
                try:
                    run = await self._pusher.run()
                except Exception:
                    log.exception("calendar pushes: a run failed")
                    break
                if run.done + run.retried + run.parked == 0:
                    break

    def stop(self) -> None:
        """No new run starts; one in progress goes on (the caller waits for it or cuts it)."""
        self._stopping.set()
        self._wakeup.notify()
