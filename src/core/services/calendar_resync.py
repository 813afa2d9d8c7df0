"""A full two-way resync of staff members' linked calendars, now (``salonbot google
resync``): when a calendar and salonbot may have drifted apart (it was unshared for a
while, restored from a backup, edited by hand), put them back in step.

For each staff member (one, or every one with a calendar): the calendar is read in full
(its busy time replaced by what the read found, in one transaction), then every
confirmed booking of theirs not over yet is queued again as a put (``calendar_pushes``,
the pushes' own durable queue) and the pusher runs until nothing is due or ``push_for``
seconds have passed. A push still open then is not lost: ``serve`` carries it on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from core.db.booking_repository import BookingRepository
from core.db.calendar_push_repository import CalendarPushRepository
from core.db.calendar_resync_repository import CalendarResyncRepository
from core.db.calendar_sync_repository import CalendarSyncRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.booking import BookingStatus
from core.ports import Clock
from core.services.calendar_import import CalendarImport, CalendarSynced
from core.services.calendar_push import draft
from core.services.calendar_pusher import CalendarPusher
from core.services.catalog import CatalogReader

PUSH_FOR = 120.0


@dataclass(frozen=True, slots=True)
class StaffResynced:
    """One staff member's resync: the read (``read_error`` None: read, ``busy`` events
    kept), and ``pushed`` of ``bookings`` put on the calendar (``push_error``: why one
    was not, yet)."""

    staff_key: str
    calendar_id: str
    read_error: str | None
    busy: int
    bookings: int
    pushed: int
    push_error: str | None

    @property
    def ok(self) -> bool:
        return self.read_error is None and self.pushed == self.bookings


class CalendarResync:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        calendar_import: CalendarImport,
        pusher: CalendarPusher,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._catalogs = catalogs
        self._import = calendar_import
        self._pusher = pusher

    async def run(
        self, staff_key: str | None = None, *, push_for: float = PUSH_FOR
    ) -> list[StaffResynced]:
        """Resync ``staff_key``'s calendar (None: every linked one); ``UnknownStaff``,
        ``NoLinkedCalendar``."""
        read = await self._import.resync(staff_key)
        queued = await self._queue_puts(read)
        deadline = asyncio.get_running_loop().time() + push_for
        while asyncio.get_running_loop().time() < deadline:
            run = await self._pusher.run()
            if run.done + run.retried + run.parked == 0:
                break
        async with self._uow() as uow:
            states = await CalendarResyncRepository(uow.connection).push_states(
                [push for pushes in queued.values() for push in pushes]
            )
        outcomes: list[StaffResynced] = []
        for synced in read:
            pushes = [states[push] for push in queued.get(synced.staff_key, []) if push in states]
            open_errors = [state.last_error or "waiting" for state in pushes if not state.done]
            outcomes.append(
                StaffResynced(
                    synced.staff_key,
                    synced.calendar_id,
                    synced.error,
                    synced.busy,
                    len(pushes),
                    sum(state.done for state in pushes),
                    open_errors[0] if open_errors else None,
                )
            )
        return outcomes

    async def _queue_puts(self, read: list[CalendarSynced]) -> dict[str, list[int]]:
        """Each staff member's confirmed bookings not over yet, queued as puts in one
        transaction; the push ids by staff key."""
        now = self._clock.now()
        queued: dict[str, list[int]] = {}
        async with self._uow() as uow:
            connection = uow.connection
            catalog = await self._catalogs.current(connection)
            ids = await CalendarSyncRepository(connection).staff_with_calendars(
                [synced.staff_key for synced in read]
            )
            found = CalendarResyncRepository(connection)
            bookings = BookingRepository(connection)
            pushes = CalendarPushRepository(connection)
            for synced in read:
                staff_id = ids.get(synced.staff_key)
                if staff_id is None or not synced.calendar_id:
                    continue
                for booking_id in await found.upcoming_bookings(staff_id, now):
                    # Locked: a move or cancel made meanwhile queues its push after this
                    # one, so the calendar ends with the booking as it is. One that
                    # committed while this waited for the lock is looked at again: a
                    # booking cancelled, handed to a colleague or over is not put back.
                    booking = await bookings.get(booking_id, for_update=True)
                    if (
                        booking is None
                        or booking.status is not BookingStatus.CONFIRMED
                        or booking.staff_key != synced.staff_key
                        or booking.end <= now
                    ):
                        continue
                    event = await draft(connection, catalog, booking)
                    push = await pushes.add(
                        booking.id, synced.staff_key, synced.calendar_id, event, now
                    )
                    queued.setdefault(synced.staff_key, []).append(push)
            await uow.commit()
        return queued
