"""The channels at run time: one inbox (store, workers) for all of them, and for each one
its sender's dispatcher, its routes and (for polling) its poller.

``salonbot serve`` runs one of these next to the HTTP server, elected (``elect``): several
processes may serve one database, each storing webhooks and handling events, and each
channel's dispatcher and poller run in the one process leading the channel. Tests run it
in-process against fake platforms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from fastapi import APIRouter

from core.ports import ChannelSender, DeliveryReport, InboundChannel, NoTally, WorkTally
from core.services.delivery import RecordDeliveries
from core.services.dispatch import OutboxDispatcher
from core.services.inbox_store import StoreInbound
from core.services.inbox_worker import InboxWorker
from core.services.outage import Outage
from core.services.pacing import Pacing
from core.services.request_bound import RequestBound
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.elected import ElectedChannel, Poller
from salonbot.leadership import Leadership
from salonbot.live import connector
from salonbot.scheduler import Scheduler
from salonbot.shared_wakeup import OUTBOX_NOTICES, SharedWakeup

log = logging.getLogger("salonbot.inbox")

# Delivery reports kept in the background at a time (those whose request was refused
# included): with ``outbound_messages`` locked, each would hold a pooled connection until
# its lock wait ends, and enough of them leave the inbox's store no connection at all.
# Eight of the pool's twenty: a burst of statuses (each kept in milliseconds) still passes.
REPORTS_AT_ONCE = 8


def _always() -> bool:
    return True


class Runtime:
    """``schedule``: also run the scheduler's ticks (reminders, follow-ups, completed
    visits), as ``salonbot serve`` does; tests of the channels leave it off. ``tally``:
    what counts the workers' and dispatchers' outcomes (``salonbot.metrics``).
    ``elect``: run each channel's dispatcher and poller only while this process leads the
    channel among all on the database (``salonbot.leadership``), as ``salonbot serve``
    does; off, they run here unconditionally (one process, tests)."""

    def __init__(
        self,
        app: Salonbot,
        *,
        workers: int = 2,
        poll_interval: float = 1.0,
        schedule: bool = False,
        tally: WorkTally | None = None,
        elect: bool = False,
    ) -> None:
        self.app = app
        self.tally = tally or NoTally()
        self.inbox, self.outbox = Wakeup(), Wakeup()
        self._elect = elect
        self.channels: list[ElectedChannel] = []
        # Who is told when replies are queued: this process's dispatchers, and when they
        # are elected, the leaders in other processes too.
        self.replies_waiting: Wakeup = (
            SharedWakeup(app.engine, self.outbox, self._leads_all) if elect else self.outbox
        )
        self.scheduler = Scheduler(app, self.replies_waiting) if schedule else None
        # Everything a webhook request waits for is bounded, and one outage is one story
        # in the log however many requests it refuses.
        self.request_bound = RequestBound(Outage(log, "webhooks: storing in the database"))
        self.store = StoreInbound(app.uow, app.clock, self.inbox, bound=self.request_bound)
        # Reports have their own bound and story: they touch another table, which may be
        # locked while events are stored fine, and the two must not end each other's.
        self.report_bound = RequestBound(
            Outage(log, "webhooks: delivery reports"), most_at_once=REPORTS_AT_ONCE
        )
        self._record_deliveries = RecordDeliveries(app.uow, app.clock)
        self.routers: list[APIRouter] = []
        self.dispatchers: list[OutboxDispatcher] = []
        self.pollers: list[Poller] = []
        self._poller_makers: list[Callable[[], Poller]] = []
        self._channels: dict[str, InboundChannel] = {}
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._worker_count = workers
        self._poll_interval = poll_interval
        self.workers: list[InboxWorker] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._poller_tasks: list[asyncio.Task[None]] = []

    async def record_deliveries(self, reports: Sequence[DeliveryReport]) -> int:
        """Keep a webhook's delivery reports, within the request's bound."""
        if not reports:  # nothing to keep: not an answer from the database either way
            return 0
        return await self.report_bound(self._record_deliveries(reports))

    def store_answering(self) -> bool:
        """The inbox's store is not stuck on the database (``/readyz``)."""
        return not self.store.stalled(after=self.request_bound.seconds)

    def add_channel(
        self,
        inbound: InboundChannel,
        sender: ChannelSender,
        *,
        pacing: Pacing,
        routers: Sequence[APIRouter] = (),
        poller: Callable[[], Poller] | None = None,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``poller``: makes the channel's poller (a new one each time this process comes
        to lead the channel)."""
        self._channels[inbound.name] = inbound
        leadership = (
            Leadership(
                connector(self.app.engine),
                f"channel:{inbound.name}",
                listen=OUTBOX_NOTICES,
                on_notice=self.outbox.notify,
            )
            if self._elect
            else None
        )
        dispatcher = OutboxDispatcher(
            self.app.uow,
            self.app.clock,
            sender,
            self.outbox,
            pacing=pacing,
            poll_interval=self._poll_interval,
            tally=self.tally,
            may_send=leadership.holds if leadership is not None else _always,
            # Elected: a new leader must not resend what the old one is still sending.
            mark_sending=leadership is not None,
        )
        self.dispatchers.append(dispatcher)
        if leadership is not None:
            self.channels.append(ElectedChannel(leadership, dispatcher, poller))
        elif poller is not None:
            self._poller_makers.append(poller)
        self.routers += routers
        if close is not None:
            self._closers.append(close)

    def _leads_all(self) -> bool:
        return all(channel.leadership.holds() for channel in self.channels)

    async def start(self) -> None:
        handle = self.app.inbox_handler(self._channels)
        outage = Outage(log, "inbox workers")  # one story for all of them
        self.workers = [
            InboxWorker(
                self.app.uow,
                self.app.clock,
                handle,
                self.inbox,
                poll_interval=self._poll_interval,
                replies_waiting=self.replies_waiting,
                outage=outage,
                tally=self.tally,
            )
            for _ in range(self._worker_count)
        ]
        # One task per channel, in the order of ``dispatchers``: its dispatcher's, or when
        # elected its leadership's (which runs the dispatcher while leading).
        sending = (
            [c.run() for c in self.channels] if self._elect else [d.run() for d in self.dispatchers]
        )
        loops = [w.run() for w in self.workers] + sending
        self._tasks = [asyncio.create_task(loop) for loop in loops]
        self.pollers = [make() for make in self._poller_makers]
        self._poller_tasks = [asyncio.create_task(p.run()) for p in self.pollers]
        if self.scheduler is not None:
            self.scheduler.start()

    def running(self) -> bool:
        tasks = self._tasks + self._poller_tasks
        return bool(tasks) and not any(task.done() for task in tasks)

    async def stop(self, grace: float = 10.0) -> None:
        """Take nothing new, let what is in hand finish (or roll back), close the sessions.

        Everything gets ``grace`` seconds, then is cut (an event's transaction rolls back:
        it stays pending), except a dispatcher in the middle of a send: it gets its
        ``stop_grace``, the time a send needs to finish and be recorded. Cut sooner, a
        message the platform took would be sent again after the restart.
        """
        # No tick starts from now on; one in progress finishes (or rolls back) within the
        # same grace as everything else, not before it.
        scheduler = (
            asyncio.create_task(self.scheduler.stop(grace)) if self.scheduler is not None else None
        )
        for poller in self.pollers:
            poller.stop()
        for task in self._poller_tasks:
            # A long poll may wait 25 s more; cutting it loses nothing (updates not yet
            # confirmed are delivered again).
            task.cancel()
        for worker in self.workers:
            worker.stop()
        for channel in self.channels:
            channel.stop()  # its term winds down as below, then its lock is let go
        for dispatcher in self.dispatchers:
            dispatcher.stop()
        tasks = self._tasks + self._poller_tasks
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            # ``start`` runs the workers first, then one task per dispatcher.
            sending = zip(self._tasks[len(self.workers) :], self.dispatchers, strict=True)
            mid_send = {t: d.stop_grace for t, d in sending if t in late and d.sending}
            if mid_send:
                await asyncio.wait(mid_send, timeout=max(mid_send.values()) - grace)
            late = {task for task in late if not task.done()}
            for task in late:
                task.cancel()  # its transaction rolls back: the event stays pending
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*late, return_exceptions=True)
        if scheduler is not None:
            await scheduler
        if isinstance(self.replies_waiting, SharedWakeup):
            await self.replies_waiting.close()
        for close in self._closers:
            await close()
        self._closers = []
