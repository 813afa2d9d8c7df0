"""Pushes as soon as they are queued: each calendar's pushes run when the pusher is woken.

``salonbot`` wakes it when the database announces a queued push (any process may have
queued it: ``CalendarPushRepository.add`` notifies at commit), so a booking reaches its
staff member's calendar in well under a second instead of at the next tick.

Woken, it asks which calendars have pushes due and starts a lane for each that has none
yet: a lane pushes its calendar's pushes (``CalendarPusher.run_calendar``) until none is
due, or the calendar refuses for now. Lanes are independent, ``LANES_AT_ONCE`` at most: a
calendar that hangs holds up its own lane only. A lane that did work wakes the pusher
again when it ends (a booking's next push may be due on another calendar: a move between
staff members is a remove, then a put), and a push put off (a retry after a timeout)
wakes it when it falls due.

The scheduler's tick goes on beside it as the safety net (a notice missed while the
listener reconnects, a retry another process put off); in one process a calendar is
pushed by one of them at a time (the pusher's ``busy``), and no row is ever pushed twice
(the claim).
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
"""Seconds between looks when nothing wakes it (the tick is the real safety net)."""
LANES_AT_ONCE = 8
"""Calendars pushed at once by the lanes (the Google adapter bounds its calls besides)."""


class PushWhenWoken:
    def __init__(
        self,
        pusher: CalendarPusher,
        wakeup: Wakeup,
        clock: Clock,
        *,
        resting: float = RESTING,
        lanes_at_once: int = LANES_AT_ONCE,
    ) -> None:
        self._pusher = pusher
        self._wakeup = wakeup
        self._clock = clock
        self._resting = resting
        self._lanes_at_once = lanes_at_once
        self._stopping = asyncio.Event()
        self._next_retry: datetime | None = None
        self._lanes: dict[str, asyncio.Task[None]] = {}

    async def run(self) -> None:
        """Until ``stop``: wait to be woken (or for a push put off to fall due), then start
        a lane for each calendar with pushes due; the lanes still going are waited for at
        the end (the caller cuts them after its grace: their claims run out, nothing is
        lost)."""
        try:
            while not self._stopping.is_set():
                await self._wakeup.wait(self._rest())
                if self._stopping.is_set():
                    break
                if self._next_retry is not None and self._next_retry <= self._clock.now():
                    self._next_retry = None  # due: the lanes starting now take it
                await self._start_lanes()
        finally:
            if self._lanes:
                await asyncio.gather(*self._lanes.values(), return_exceptions=True)

    async def _start_lanes(self) -> None:
        room = self._lanes_at_once - len(self._lanes)
        if room <= 0:
            return  # a lane ending wakes it again
        try:
            due = await self._pusher.due_calendars()
        except Exception:
            # The database away, say: logged; the next wake (or the tick) tries again.
            log.exception("calendar pushes: cannot read which calendars are due")
            return
        for calendar_id in [c for c in due if c not in self._lanes][:room]:
            lane = asyncio.create_task(self._lane(calendar_id), name="calendar push lane")
            self._lanes[calendar_id] = lane

    async def _lane(self, calendar_id: str) -> None:
        worked = False
        try:
            while not self._stopping.is_set():
                run = await self._pusher.run_calendar(calendar_id)
                if run.next_retry is not None:
                    self._next_retry = min(run.next_retry, self._next_retry or run.next_retry)
                worked = worked or bool(run.done + run.retried + run.parked)
                if run.done + run.parked == 0 or run.retried:
                    break  # nothing due, or refused for now: its retry wakes it
        except Exception:
            log.exception("calendar pushes: a run failed")
        finally:
            del self._lanes[calendar_id]
            if worked:
                # More may be due: a booking's next push, a calendar left for lack of room.
                self._wakeup.notify()

    def _rest(self) -> float:
        if self._next_retry is None:
            return self._resting
        due_in = (self._next_retry - self._clock.now()).total_seconds()
        return min(self._resting, max(0.0, due_in))

    def stop(self) -> None:
        """No new lane starts; lanes end after their current run (the caller waits for
        them or cuts them)."""
        self._stopping.set()
        self._wakeup.notify()
