"""Sweeping lapsed holds: a hold past its expiry blocks nobody and becomes cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from core.db.booking_repository import BookingRepository
from core.domain.booking import Actor, BookingStatus

HOLD_EXPIRY = Actor.system("hold-expiry")


async def expire_lapsed_holds(
    repository: BookingRepository, now: datetime, staff_ids: Sequence[int] | None = None
) -> int:
    """Cancel the lapsed holds (of these staff, or everyone's) and record why; how many."""
    lapsed = await repository.expire_holds(staff_ids, now)
    for hold in lapsed:
        after = replace(hold, status=BookingStatus.CANCELLED)
        await repository.record(hold.id, HOLD_EXPIRY, "hold_expired", now, before=hold, after=after)
    return len(lapsed)
