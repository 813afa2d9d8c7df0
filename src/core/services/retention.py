"""Retention: the scheduler's hourly prune of old inbox and outbox traffic.

Raw inbound events and sent messages hold what customers wrote and what they were told;
kept forever they would be a growing store of personal data nobody reads. Each run deletes
those older than the retention (``RETENTION_DAYS``) that nothing needs any more
(``core.db.retention_repository`` says which), in small batches, each its own short
transaction, so a run never holds many rows or the tables for long; what a run leaves, the
next one takes. Those parked as failed are kept ``FAILED_KEPT_FOR`` times as long: long
enough to find out why, not forever.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from core.db.retention_repository import RetentionRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock

log = logging.getLogger("salonbot.retention")

DEFAULT_RETENTION = timedelta(days=30)
FAILED_KEPT_FOR = 3
"""Failed events and messages are kept this many times the retention."""
BATCH = 500
"""Rows one statement deletes."""
BATCHES_PER_RUN = 4
"""Statements per kind of row in one run: at most 2,000 events and 2,000 messages an hour,
far more than a salon's traffic, so a backlog (retention turned on, or shortened) clears
in hours without one long run."""


@dataclass(frozen=True, slots=True)
class Pruned:
    """What one run deleted."""

    events: int = 0
    messages: int = 0
    failed_events: int = 0
    failed_messages: int = 0


class PruneOldTraffic:
    """Deletes handled inbound events and finished outbound messages older than ``keep``,
    and failed ones of either older than ``FAILED_KEPT_FOR`` times ``keep``."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        keep: timedelta = DEFAULT_RETENTION,
        *,
        batch: int = BATCH,
        batches: int = BATCHES_PER_RUN,
    ) -> None:
        if keep <= timedelta(0) or batch < 1 or batches < 1:
            raise ValueError("retention, batch and batches must be positive")
        self._uow = uow
        self._clock = clock
        self._keep = keep
        self._batch = batch
        self._batches = batches

    async def run(self) -> Pruned:
        before = self._clock.now() - self._keep
        long_before = self._clock.now() - FAILED_KEPT_FOR * self._keep
        limit = self._batch
        pruned = Pruned(
            await self._in_batches(lambda r: r.drop_handled_events(before, limit)),
            await self._in_batches(lambda r: r.drop_finished_messages(before, limit)),
            await self._in_batches(
                lambda r: r.drop_handled_events(long_before, limit, failed=True)
            ),
            await self._in_batches(
                lambda r: r.drop_finished_messages(long_before, limit, failed=True)
            ),
        )
        if pruned != Pruned():
            log.info(
                "old traffic pruned",
                extra={
                    "events": pruned.events,
                    "messages": pruned.messages,
                    "failed_events": pruned.failed_events,
                    "failed_messages": pruned.failed_messages,
                    "before": before.isoformat(),
                },
            )
        return pruned

    async def _in_batches(self, drop: Callable[[RetentionRepository], Awaitable[int]]) -> int:
        total = 0
        for _ in range(self._batches):
            async with self._uow() as uow:
                dropped = await drop(RetentionRepository(uow.connection))
                await uow.commit()
            total += dropped
            if dropped < self._batch:
                break
        return total
