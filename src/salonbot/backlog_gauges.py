"""The backlog's gauges: read from the database at scrape time, kept a few seconds.

Scrapes cannot load the database: a look is reused for ``fresh_for`` seconds (a failed
one too), one look runs at a time (scrapes meanwhile wait for it), and a scrape waits at
most ``within`` seconds. A look that failed or is late leaves the gauges out and says so
(``salonbot_backlog_read_ok 0``): an old number never passes for a current one.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.services.backlog import Backlog, QueueDepth

log = logging.getLogger("salonbot.metrics")


class BacklogGauges(Collector):
    def __init__(
        self,
        read: Callable[[], Awaitable[Backlog]],
        *,
        fresh_for: float,
        within: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._fresh_for = fresh_for
        self._within = within
        self._monotonic = monotonic
        self._channels: tuple[str, ...] = ()
        self._backlog: Backlog | None = None
        self._read_at = -math.inf
        self._look: asyncio.Task[None] | None = None
        self._failing = False

    def channels(self, names: Sequence[str]) -> None:
        """Channels whose queues show (at zero) even when nothing of theirs is pending."""
        self._channels = tuple(names)

    async def refresh(self) -> None:
        """Look again unless the last look is recent; never raises, never waits longer
        than ``within``."""
        if self._monotonic() - self._read_at < self._fresh_for:
            return
        if self._look is None or self._look.done():
            self._look = asyncio.create_task(self._look_once())
        try:
            async with asyncio.timeout(self._within):
                # Shielded: the bound ends this wait, not the look, which later scrapes share.
                await asyncio.shield(self._look)
        except TimeoutError:
            self._backlog = None
            self._read_at = self._monotonic()
            self._tell("the database did not answer in time")

    async def _look_once(self) -> None:
        try:
            backlog = await self._read()
        except Exception as error:  # the database's: the gauges are left out, not the scrape
            self._backlog = None
            self._tell(f"{type(error).__name__}")
        else:
            self._backlog = backlog
            if self._failing:
                log.info("metrics: the backlog is read again")
            self._failing = False
        self._read_at = self._monotonic()

    def _tell(self, why: str) -> None:
        if not self._failing:  # one line per outage, not one per scrape
            log.warning("metrics: cannot read the backlog", extra={"error": why})
        self._failing = True

    async def close(self) -> None:
        """Stop a look still hanging (at shutdown)."""
        if self._look is not None and not self._look.done():
            self._look.cancel()
            await asyncio.wait([self._look], timeout=1.0)  # its cleanup may hang as well

    def collect(self) -> Iterator[Metric]:
        backlog = self._backlog
        ok = GaugeMetricFamily(
            "salonbot_backlog_read_ok",
            "1 when the queues, the Google sync and the bookings below were read from the"
            " database for this scrape (at most a few seconds ago), 0 when they could not be.",
        )
        ok.add_metric([], 1 if backlog is not None else 0)
        yield ok
        if backlog is None:
            return
        yield from self._queue("inbox", "inbound events", backlog.inbox)
        yield from self._queue("outbox", "outbound messages", backlog.outbox)
        yield from _calendar(backlog)
        bookings = CounterMetricFamily(
            "salonbot_bookings",
            "Bookings made (confirmed), cancelled and marked no-show since the salon began,"
            " from the bookings' history (the same on every replica).",
            labels=["event"],
        )
        for event, count in backlog.bookings.items():
            bookings.add_metric([event], count)
        yield bookings

    def _queue(self, name: str, what: str, depths: Sequence[QueueDepth]) -> Iterator[Metric]:
        by_channel = {depth.channel: depth for depth in depths}
        for channel in self._channels:
            by_channel.setdefault(channel, QueueDepth(channel, 0, 0.0))
        pending = GaugeMetricFamily(
            f"salonbot_{name}_pending", f"Pending {what}, by channel.", labels=["channel"]
        )
        oldest = GaugeMetricFamily(
            f"salonbot_{name}_oldest_pending_seconds",
            f"Age of the oldest pending {what[:-1]}, by channel (0 when none is pending).",
            labels=["channel"],
        )
        for channel, depth in sorted(by_channel.items()):
            pending.add_metric([channel], depth.pending)
            oldest.add_metric([channel], depth.oldest_age)
        yield pending
        yield oldest


def _calendar(backlog: Backlog) -> Iterator[Metric]:
    pushes = GaugeMetricFamily(
        "salonbot_calendar_pushes",
        "Bookings not yet written to (or removed from) staff members' Google Calendars:"
        " open (waiting or being tried) and parked (given up; `salonbot google resync`).",
        labels=["state"],
    )
    pushes.add_metric(["open"], backlog.pushes_open)
    pushes.add_metric(["parked"], backlog.pushes_parked)
    yield pushes
    yield GaugeMetricFamily(
        "salonbot_calendar_push_oldest_open_seconds",
        "Age of the oldest open calendar push (0 when none is open).",
        value=backlog.oldest_open_push_age or 0.0,
    )
    failures = GaugeMetricFamily(
        "salonbot_calendar_sync_failures",
        "Reads of a staff member's Google Calendar failed in a row (0: the last one worked).",
        labels=["staff"],
    )
    since = GaugeMetricFamily(
        "salonbot_calendar_sync_age_seconds",
        "Seconds since a staff member's Google Calendar was last read in full or in part"
        " (absent: never yet).",
        labels=["staff"],
    )
    for calendar in backlog.calendars:
        failures.add_metric([calendar.staff_key], calendar.failures)
        if calendar.since_synced is not None:
            since.add_metric([calendar.staff_key], calendar.since_synced)
    yield failures
    yield since
    yield GaugeMetricFamily(
        "salonbot_calendar_syncs_failing",
        "Staff members' Google Calendars whose reading keeps failing (3 or more in a row).",
        value=sum(calendar.failing for calendar in backlog.calendars),
    )
