"""The scheduler's tick for visits that ended: each confirmed one becomes completed.

A visit staff marked as a no-show is no longer confirmed and stays as marked. Completing
is a booking change like any other (recorded, told to the followers: the follow-up stays
planned, the reminders are withdrawn), in batches claimed with ``SKIP LOCKED``.
"""

from __future__ import annotations

import logging

from core.services.booking import Bookings

log = logging.getLogger("salonbot.visits")

BATCH = 100


class CompleteEndedVisits:
    """``run()``: record every ended confirmed visit as completed; how many."""

    def __init__(self, bookings: Bookings, *, batch: int = BATCH) -> None:
        self._bookings = bookings
        self._batch = batch

    async def run(self) -> int:
        total = 0
        while True:
            done = await self._bookings.complete_ended(self._batch)
            total += done
            if done < self._batch:
                break
        if total:
            log.info("visits completed", extra={"completed": total})
        return total
