"""What else happens when a booking changes: the followers of booking changes.

Every change the booking use cases make (booked, confirmed, rescheduled, cancelled, the
customer's confirmation that they are coming, an outcome) is recorded in the booking's
history and then told to each ``BookingFollower``, inside the change's own transaction: the
reminders are planned or withdrawn and the staff member's notice is queued together with
the change, or not at all.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.booking import Actor, Booking
from core.domain.catalog import Catalog


class BookingAction(enum.StrEnum):
    """What happened to a booking (``booking_events.action``)."""

    HELD = "held"
    BOOKED = "booked"  # held and confirmed in one step (staff, or a direct book)
    CONFIRMED = "confirmed"  # a hold confirmed: the booking is made
    RELEASED = "released"  # a hold let go
    CANCELLED = "cancelled"
    RESCHEDULED = "rescheduled"
    # The customer said they are coming (a reminder's Confirm); the status is unchanged.
    ATTENDANCE_CONFIRMED = "attendance_confirmed"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


@dataclass(frozen=True, slots=True)
class BookingChange:
    """One recorded change: the booking before (None for a new one) and after; ``note``
    as recorded in its history (a cancel's reason)."""

    action: BookingAction
    before: Booking | None
    after: Booking
    actor: Actor
    at: datetime
    note: str = ""


class BookingFollower(Protocol):
    """Something that must happen with a booking change, in its transaction."""

    async def booking_changed(
        self, connection: AsyncConnection, catalog: Catalog, change: BookingChange
    ) -> None:
        """Act on ``change`` over ``connection`` (the change's transaction, not committed
        yet): write, never commit, never call out of the process. Raising undoes the
        change."""
        ...


async def tell_followers(
    followers: Sequence[BookingFollower],
    connection: AsyncConnection,
    catalog: Catalog,
    change: BookingChange,
) -> None:
    for follower in followers:
        await follower.booking_changed(connection, catalog, change)
