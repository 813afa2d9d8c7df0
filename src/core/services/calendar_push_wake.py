"""Pushes as soon as they are queued: the calendar pusher run whenever it is woken.

``salonbot`` wakes it when the database announces a queued push (any process may have
queued it: ``CalendarPushRepository.add`` notifies at commit), so a booking reaches its
staff member's calendar in well under a second instead of at the next tick. It runs again
at once while a run found work (a booking's next push is claimed on a later run: a move
between staff members is a remove, then a put), and once more when a push it put off
falls due (a retry after a timeout).

Up to ``RUNS_AT_ONCE`` runs go at once: a wake while a run is held up by a hanging
calendar starts another, which leaves that calendar alone (the pusher's ``busy``) and
pushes the others. The scheduler's tick goes on beside it as the safety net (a notice
missed while the listener reconnects, a retry another process put off); none of them
ever pushes one row twice (the claim).
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
RUNS_AT_ONCE = 3


class PushWhenWoken:
    def __init__(
        self,
        pusher: CalendarPusher,
        wakeup: Wakeup,
        clock: Clock,
        *,
        resting: float = RESTING,
        runs_at_once: int = RUNS_AT_ONCE,
    ) -> None:
        self._pusher = pusher
        self._wakeup = wakeup
        self._clock = clock
        self._resting = resting
        self._runs_at_once = runs_at_once
        self._stopping = asyncio.Event()
        self._next_retry: datetime | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._missed = False  # woken while every run was taken: run again when one ends

    async def run(self) -> None:
        """Until ``stop``: wait to be woken (or for a push put off to fall due), then
        start a run; the runs in progress are waited for at the end (the caller cuts them
        after its grace: their claims run out, nothing is lost)."""
        try:
            while not self._stopping.is_set():
                await self._wakeup.wait(self._rest())
                if self._stopping.is_set():
                    break
                if self._next_retry is not None and self._next_retry <= self._clock.now():
                    self._next_retry = None  # due: the run starting now takes it
                if len(self._running) >= self._runs_at_once:
                    self._missed = True
                    continue
                task = asyncio.create_task(self._one_run(), name="calendar push run")
                self._running.add(task)
                task.add_done_callback(self._running.discard)
        finally:
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)

    async def _one_run(self) -> None:
        try:
            run = await self._pusher.run()
        except Exception:
            # The database away, say: logged; the next wake (or the tick) tries again.
            log.exception("calendar pushes: a run failed")
            return
        if run.next_retry is not None:
            self._next_retry = min(run.next_retry, self._next_retry or run.next_retry)
        if run.done + run.retried + run.parked or self._missed:
            # More may be due (a booking's next push, one left to the next run).
            self._missed = False
            self._wakeup.notify()

    def _rest(self) -> float:
        if self._next_retry is None:
            return self._resting
        due_in = (self._next_retry - self._clock.now()).total_seconds()
        return min(self._resting, max(0.0, due_in))

    def stop(self) -> None:
        """No new run starts; those in progress go on (the caller waits for them or cuts
        them)."""
        self._stopping.set()
        self._wakeup.notify()
