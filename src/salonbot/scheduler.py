"""The scheduler inside ``salonbot serve``: it only ticks.

APScheduler's ``AsyncIOScheduler`` runs a few interval jobs on the server's event loop;
each calls a use case that claims its work in Postgres (``FOR UPDATE SKIP LOCKED``, a
unique key per message), so restarts, a tick that runs long and any number of processes
on one database never send a message twice. A job never overlaps itself
(``max_instances=1``), missed runs fold into one (``coalesce``), and a tick that fails is
logged and the next one runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]

from core.services.calendar_push_wake import PushWhenWoken
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.live import connector
from salonbot.push_notices import PushNotices

log = logging.getLogger("salonbot.scheduler")

# A tick every 5 seconds queues a burst within about 10 s of its time (a burst of 10,000
# takes the tick about 5 s: docs/benchmarks.md); idle, a tick is two indexed queries.
VISITS_EVERY = 5.0
# Agendas are due once a day per staff member: once a minute is punctual enough.
AGENDAS_EVERY = 60.0
# Bookings reach the staff's linked calendars at once (the pusher is woken when a push is
# queued); this tick is the safety net.
CALENDARS_EVERY = 2.0
# The import only reads the calendars that are due (polled every few minutes, or asked
# for by a push notification): idle, a tick is two small queries.
CALENDAR_IMPORT_EVERY = 2.0
# Push channels live a week and are renewed a day ahead: once a minute is plenty.
CALENDAR_CHANNELS_EVERY = 60.0
# Retention prunes traffic older than days: once an hour is plenty.
RETENTION_EVERY = 3600.0


class Scheduler:
    """Ticks the scheduled work of ``app``; ``outbox`` wakes the dispatchers.
    ``wake_pushes``: calendar pushes also go as soon as they are queued (else at the
    tick only: ``bench.google_calendar``'s baseline)."""

    def __init__(
        self,
        app: Salonbot,
        outbox: Wakeup,
        *,
        visits_every: float = VISITS_EVERY,
        agendas_every: float = AGENDAS_EVERY,
        calendars_every: float = CALENDARS_EVERY,
        wake_pushes: bool = True,
        calendar_channels_every: float = CALENDAR_CHANNELS_EVERY,
        retention_every: float = RETENTION_EVERY,
        calendar_import_every: float = CALENDAR_IMPORT_EVERY,
    ) -> None:
        self._app = app
        self._due_notices = app.due_notices(outbox)
        self._agendas = app.agendas(outbox)
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._ticking: set[asyncio.Task[None]] = set()
        self._waking: asyncio.Task[None] | None = None
        self._add("visits", self.tick_visits, visits_every)
        self._add("agendas", self.tick_agendas, agendas_every)
        # Calendar pushes: the tick, and a run as soon as the database announces a push
        # (``core.services.calendar_push_wake``), each on its own.
        self.push_notices: PushNotices | None = None
        self._pushes_woken: PushWhenWoken | None = None
        self._pushing: list[asyncio.Task[None]] = []
        if app.calendar_pusher is not None:
            self._add("calendars", app.calendar_pusher.run, calendars_every)
        if app.calendar_pusher is not None and wake_pushes:
            woken = Wakeup()
            self.push_notices = PushNotices(connector(app.engine), woken)
            self._pushes_woken = PushWhenWoken(app.calendar_pusher, woken, app.clock)
        if app.calendar_import is not None:
            self._add("calendar import", app.calendar_import.run, calendar_import_every)
        if app.calendar_channels is not None:
            self._add("calendar channels", app.calendar_channels.run, calendar_channels_every)
        self._add("retention", app.prune_old_traffic.run, retention_every)

    def _add(self, name: str, tick: Callable[[], Awaitable[object]], seconds: float) -> None:
        async def run() -> None:
            task = asyncio.current_task()
            assert task is not None
            self._ticking.add(task)
            try:
                await tick()
            except Exception:
                # The next tick tries again: what failed rolled back and is still pending.
                log.exception("scheduler tick failed", extra={"job": name})
            finally:
                self._ticking.discard(task)

        self._scheduler.add_job(
            run,
            "interval",
            seconds=seconds,
            id=name,
            max_instances=1,
            coalesce=True,
            # The first tick at once: a process that was down catches up on start.
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )

    async def tick_visits(self) -> None:
        """Ended visits become completed, then the due reminders and follow-ups go (a
        follow-up waits for its visit to be completed)."""
        try:
            await self._app.complete_ended_visits.run()
        except Exception:
            # Logged now, and the reminders go all the same. (A cancelled tick, at stop, is
            # not an Exception: it stops here.)
            log.exception("scheduler tick failed", extra={"job": "visits", "step": "completing"})
        await self._due_notices.run()

    async def tick_agendas(self) -> None:
        """Each linked staff member's day, once, at the catalog's ``staff_agenda_at``."""
        await self._agendas.run()

    def start(self) -> None:
        self._scheduler.start()
        if self.push_notices is not None and self._pushes_woken is not None:
            self._pushing = [
                asyncio.create_task(self.push_notices.run(), name="calendar push notices"),
                asyncio.create_task(self._pushes_woken.run(), name="calendar pushes woken"),
            ]
        if self._app.calendar_import is not None:
            self._waking = asyncio.create_task(self._import_when_wanted())

    async def _import_when_wanted(self) -> None:
        """A push notification (the webhook stored a wanted sync) runs the calendar import
        now rather than at its next tick; a run already going leaves the sync to the tick
        after it (``wanted_at`` stays set until a read that began after it)."""
        while True:
            await self._app.calendar_sync_wanted.wait(3600.0)
            job = self._scheduler.get_job("calendar import")
            if job is not None and self._scheduler.running:
                job.modify(next_run_time=datetime.now(UTC))

    async def stop(self, grace: float = 10.0) -> None:
        """No new tick starts; a tick in progress gets ``grace`` seconds to commit, then
        is cut (its transaction rolls back: what it held is still pending).

        APScheduler's own shutdown cancels the jobs running at once, so it comes last:
        the scheduler is paused first, the ticks in progress are waited for.
        """
        if self._waking is not None:
            self._waking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._waking
            self._waking = None
        if not self._scheduler.running:
            return
        self._scheduler.pause()
        if self.push_notices is not None and self._pushes_woken is not None:
            self.push_notices.stop()
            self._pushes_woken.stop()
        ticking = set(self._ticking) | set(self._pushing)
        if ticking:
            _, late = await asyncio.wait(ticking, timeout=grace)
            for task in late:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*late, return_exceptions=True)
        self._scheduler.shutdown(wait=False)
