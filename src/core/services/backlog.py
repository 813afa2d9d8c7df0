"""What monitoring reads from the database: the work waiting, and the bookings made.

``ReadBacklog`` looks once, in one read-only transaction whose every statement is cut
after ``STATEMENT_TIMEOUT``: a scrape never holds the database for long, whatever the
tables' size. The same on every process that reads it (unlike the counters of what one
process did).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.db.backlog_repository import BacklogRepository, PendingRows
from core.db.unit_of_work import UnitOfWorkFactory
from core.ports import Clock
from core.services.booking_changes import BookingAction

STATEMENT_TIMEOUT = timedelta(seconds=2)
# A calendar whose read-back failed this many times in a row keeps failing: more than a
# passing hiccup (each failure waits longer before the next try).
FAILING_AFTER = 3
# The bookings' history, counted as monitoring names it: made is a booking confirmed,
# either at once (staff, a direct book) or from a hold.
BOOKING_COUNTS: Mapping[str, tuple[BookingAction, ...]] = {
    "made": (BookingAction.BOOKED, BookingAction.CONFIRMED),
    "cancelled": (BookingAction.CANCELLED,),
    "no_show": (BookingAction.NO_SHOW,),
}


@dataclass(frozen=True, slots=True)
class QueueDepth:
    """A channel's pending rows in a queue and the age of the oldest, in seconds."""

    channel: str
    pending: int
    oldest_age: float


@dataclass(frozen=True, slots=True)
class CalendarSync:
    """A staff member's linked calendar: syncs failed in a row, seconds since the last
    good one (None: never synced)."""

    staff_key: str
    failures: int
    since_synced: float | None

    @property
    def failing(self) -> bool:
        return self.failures >= FAILING_AFTER


@dataclass(frozen=True, slots=True)
class Backlog:
    inbox: tuple[QueueDepth, ...]
    outbox: tuple[QueueDepth, ...]
    pushes_open: int
    oldest_open_push_age: float | None
    pushes_parked: int
    calendars: tuple[CalendarSync, ...]
    bookings: Mapping[str, int]  # made, cancelled, no_show: since the salon began


class ReadBacklog:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        statement_timeout: timedelta = STATEMENT_TIMEOUT,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._timeout_ms = max(1, round(statement_timeout.total_seconds() * 1000))

    async def __call__(self) -> Backlog:
        """Raises what the database raises (a statement cut by the timeout included)."""
        async with self._uow() as uow:  # read only: rolled back at the end
            repository = BacklogRepository(uow.connection)
            await repository.bound(self._timeout_ms)
            inbox = await repository.inbox()
            outbox = await repository.outbox()
            pushes = await repository.calendar_pushes()
            syncs = await repository.calendar_syncs()
            actions = await repository.booking_actions(
                action.value for actions in BOOKING_COUNTS.values() for action in actions
            )
        now = self._clock.now()
        return Backlog(
            inbox=_depths(inbox, now),
            outbox=_depths(outbox, now),
            pushes_open=pushes.open,
            oldest_open_push_age=_age(pushes.oldest_open, now),
            pushes_parked=pushes.parked,
            calendars=tuple(
                CalendarSync(row.staff_key, row.failures, _age(row.synced_at, now)) for row in syncs
            ),
            bookings={
                name: sum(actions.get(action.value, 0) for action in counted)
                for name, counted in BOOKING_COUNTS.items()
            },
        )


def _age(then: datetime | None, now: datetime) -> float | None:
    # Never negative: a row stamped by a clock slightly ahead of this one is brand new.
    return None if then is None else max(0.0, (now - then).total_seconds())


def _depths(rows: list[PendingRows], now: datetime) -> tuple[QueueDepth, ...]:
    return tuple(
        QueueDepth(row.channel, row.count, max(0.0, (now - row.oldest).total_seconds()))
        for row in rows
    )
