"""Planning a visit's reminders and follow-up, with every change of the booking.

``ReminderPlanner`` is a ``BookingFollower``: in the change's own transaction it plans the
notices of a booked visit, withdraws those of a visit that moved or ended (and their
messages still waiting in the outbox), and plans the new time of a moved one. A catalog
load replans every upcoming visit (``replan_upcoming``): the rules may have changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.notice_repository import NoticeKind, NoticeRepository, PlannedNotice
from core.db.outbox_repository import OutboxRepository
from core.domain.catalog import Catalog
from core.domain.reminders import follow_up_due, plan_reminders
from core.services.booking_changes import BookingAction, BookingChange

# The follow-up has one per visit: its key's rule is empty.
FOLLOW_UP_RULE = ""


def planned_notices(
    catalog: Catalog, booking_id: int, start: datetime, end: datetime, made_at: datetime
) -> list[PlannedNotice]:
    """The visit's reminders (one per rule, skipped ones with their reason) and its
    follow-up, as the catalog's settings plan them for a visit made at ``made_at``."""
    zone = catalog.salon.zone
    reminders = catalog.reminders
    planned = [
        PlannedNotice(booking_id, NoticeKind.REMINDER, r.rule, start, r.due, r.skipped)
        for r in plan_reminders(reminders, start, made_at, zone)
    ]
    if catalog.follow_up is not None:
        due = follow_up_due(catalog.follow_up, end, reminders.quiet_hours, zone)
        planned.append(PlannedNotice(booking_id, NoticeKind.FOLLOW_UP, FOLLOW_UP_RULE, end, due))
    return planned


class ReminderPlanner:
    """Keeps each visit's scheduled notices in step with the booking."""

    async def booking_changed(
        self, connection: AsyncConnection, catalog: Catalog, change: BookingChange
    ) -> None:
        notices = NoticeRepository(connection)
        booking, at = change.after, change.at
        match change.action:
            case BookingAction.CONFIRMED | BookingAction.BOOKED:
                await notices.plan(
                    planned_notices(catalog, booking.id, booking.start, booking.end, at), at
                )
            case BookingAction.RESCHEDULED:
                note = "the visit moved"
                await notices.withdraw([booking.id], note, at)
                await OutboxRepository(connection).withdraw(booking.id, note)
                # A message withdrawn unsent frees its key: moved back, it is planned again.
                await notices.unsent_withdrawn(booking.id, note, at)
                await notices.plan(
                    planned_notices(catalog, booking.id, booking.start, booking.end, at), at
                )
            case BookingAction.CANCELLED | BookingAction.NO_SHOW:
                cancelled = change.action is BookingAction.CANCELLED
                note = f"the visit was {'cancelled' if cancelled else 'missed'}"
                await notices.withdraw([booking.id], note, at)
                await OutboxRepository(connection).withdraw(booking.id, note)
                # As for a move: a no-show corrected to completed plans its follow-up again.
                await notices.unsent_withdrawn(booking.id, note, at)
            case BookingAction.COMPLETED:
                # Reminders of a visit that took place are moot; its follow-up stays (and
                # comes back when staff correct a no-show to completed).
                await notices.withdraw(
                    [booking.id], "the visit took place", at, kinds=(NoticeKind.REMINDER,)
                )
                planned = planned_notices(catalog, booking.id, booking.start, booking.end, at)
                await notices.plan([p for p in planned if p.kind is NoticeKind.FOLLOW_UP], at)
            case _:
                pass


def reminders_changed(before: Catalog, after: Catalog) -> bool:
    """Whether a visit's notices may be planned otherwise by ``after`` than by ``before``."""
    return (before.reminders, before.follow_up, before.salon.zone) != (
        after.reminders,
        after.follow_up,
        after.salon.zone,
    )


async def replan_upcoming(connection: AsyncConnection, catalog: Catalog, now: datetime) -> int:
    """Plan every upcoming confirmed visit's notices by ``catalog`` (a load's new rules),
    in the caller's transaction: new rules planned, changed due times moved, notices of
    rules that are gone withdrawn. What is queued or skipped already stays. Reminders
    whose new due time has passed are not sent late; a pending one already due keeps its
    time. How many visits were replanned."""
    notices = NoticeRepository(connection)
    visits = await notices.upcoming_visits(now)
    for chunk in _chunks(visits, 500):
        planned = [
            notice
            for booking_id, start, end in chunk
            for notice in planned_notices(catalog, booking_id, start, end, now)
        ]
        await notices.plan(planned, now)
        await notices.withdraw(
            [booking_id for booking_id, _, _ in chunk],
            "the salon's reminder settings changed",
            now,
            keeping=[p.key for p in planned],
        )
    return len(visits)


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
