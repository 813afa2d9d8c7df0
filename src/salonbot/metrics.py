"""``/metrics``: what salonbot did and what waits, in Prometheus' text format.

One ``Metrics`` per app, with its own registry: nothing is registered at import time, and
several apps in one process (as tests make) never share a series. Two kinds of numbers:

* counters of what this process did (events handled, sends and their outcomes, webhook
  latency): per process; with several replicas Prometheus sums them (``sum by``);
* gauges read from the database at scrape time (queues, the Google sync, bookings):
  the same on every replica; take ``max by`` across replicas, never the sum.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import get_args

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.process_collector import ProcessCollector

from core.ports import InboundOutcome, OutboundOutcome
from core.services.backlog import Backlog
from salonbot.backlog_gauges import BacklogGauges

# The classic text format: every Prometheus version reads it.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Meta asks for a median under 250 ms and under 1% over 1 s; Telegram waits about 60 s.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The app's metrics. It is the runtime's ``WorkTally``; the web app tells it each
    webhook's latency; ``exposition`` renders them all, the backlog read (at most every
    ``fresh_for`` seconds, within ``within`` seconds) first."""

    def __init__(
        self,
        read_backlog: Callable[[], Awaitable[Backlog]],
        *,
        fresh_for: float = 5.0,
        within: float = 3.0,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self._inbound = Counter(
            "salonbot_inbound_events",
            "Inbound events' attempts by outcome: handled, ignored (stored, not answered),"
            " retried (failed, tried again later), parked (failed for the last time).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self._outbound = Counter(
            "salonbot_outbound_messages",
            "Outbound messages' turns by outcome: sent, rate_limited (the platform's 429 or"
            " throughput limit), retried (network error or 5xx), refused, outside_window,"
            " expired.",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self._webhooks = Histogram(
            "salonbot_webhook_duration_seconds",
            "Time to answer a platform's webhook request (Telegram, WhatsApp, Google"
            " Calendar), by route and HTTP status.",
            ["route", "status"],
            buckets=WEBHOOK_BUCKETS,
            registry=self.registry,
        )
        options = {} if monotonic is None else {"monotonic": monotonic}
        self.backlog = BacklogGauges(read_backlog, fresh_for=fresh_for, within=within, **options)
        self.registry.register(self.backlog)
        ProcessCollector(registry=self.registry)  # memory, CPU, open files of this process

    def channels(self, names: Iterable[str]) -> None:
        """The channels this process serves: their series start at zero (a rate needs a
        first sample), and their queues show as empty rather than absent."""
        names = tuple(names)
        for name in names:
            for inbound in get_args(InboundOutcome):
                self._inbound.labels(name, inbound)
            for outbound in get_args(OutboundOutcome):
                self._outbound.labels(name, outbound)
        self.backlog.channels(names)

    # WorkTally
    def inbound(self, channel: str, outcome: InboundOutcome) -> None:
        self._inbound.labels(channel, outcome).inc()

    def outbound(self, channel: str, outcome: OutboundOutcome) -> None:
        self._outbound.labels(channel, outcome).inc()

    def webhook_answered(self, route: str, status: int, seconds: float) -> None:
        self._webhooks.labels(route, str(status)).observe(seconds)

    async def exposition(self) -> bytes:
        """Every metric, in Prometheus' text format (``CONTENT_TYPE``)."""
        await self.backlog.refresh()
        return generate_latest(self.registry)

    async def close(self) -> None:
        await self.backlog.close()
