"""One read of one staff member's linked calendar, while its claim holds.

A full read asks for every event overlapping its window, collects all pages, then, in
one transaction, replaces the staff member's busy time with what it found and keeps the
sync token and the window. An incremental read applies each page's changes in a
transaction of its own and keeps the token with the last page. Every write first checks
that the claim is still this read's (``CalendarSyncRepository.still_claimed``, which
locks the calendar's row), then, before it writes busy time, locks the staff member's row
as the booking use cases do: a booking being made or confirmed meanwhile commits first,
and is seen, or waits and sees the busy time (always in that order, the calendar's row
then the staff member's: nothing locks them the other way round). The calendar is called
outside any transaction.

Busy time that overlaps a confirmed booking raises a conflict alert in the same
transaction (``core.services.calendar_conflicts``): on an incremental read the events
found new or moved, on a full read every event. salonbot's own events never become busy
time (deleted ones are read too: every read returns those): they are kept
(``calendar_seen_events``) in the transaction that writes their page's busy time, after
the staff member's lock, then ``OurEventsSeen`` is asked to reconcile them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

from core.db.booking_repository import BookingRepository
from core.db.calendar_conflict_repository import CalendarConflictRepository
from core.db.calendar_seen_repository import SeenEventRepository
from core.db.calendar_sync_repository import BusyEvent, CalendarSyncRepository, ClaimedSync
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.catalog import Catalog
from core.domain.timeline import Interval
from core.linked_calendars.busy import booking_of, busy_time
from core.linked_calendars.edits import one_per_booking
from core.linked_calendars.ports import (
    CalendarEvent,
    CalendarRefused,
    EventPage,
    LinkedCalendars,
    OurEventsSeen,
    SyncExpired,
)
from core.ports import Clock
from core.services.calendar_conflicts import alert_conflicts

log = logging.getLogger(__name__)

_Write = Callable[[CalendarSyncRepository, ClaimedSync], Awaitable[None]]

MAX_PAGES = 100
"""Pages one read follows (25,000 events): a calendar that has more is refused."""
FULL_READ_BEHIND = timedelta(days=1)
FULL_READ_BEYOND_HORIZON = timedelta(days=8)
"""A full read covers [now - 1 day, now + booking horizon + 8 days]: it is read again in
full once it no longer reaches a day past the horizon, about a week later."""


class ClaimLost(Exception):
    """Another process took the calendar over (this read outlived its claim), or it left
    the catalog: what this read found is dropped."""


def full_read_window(now: datetime, catalog: Catalog) -> Interval:
    horizon = catalog.salon.policies.booking_horizon
    return Interval(now - FULL_READ_BEHIND, now + horizon + FULL_READ_BEYOND_HORIZON)


class CalendarRead:
    """Reads one claimed calendar; ``run`` returns how many busy events a full read kept
    (None after an incremental one)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        calendars: LinkedCalendars,
        our_events: OurEventsSeen,
        catalog: Catalog,
        sync: ClaimedSync,
        *,
        claim_for: timedelta,
        call_timeout: float,
        full: bool,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._calendars = calendars
        self._our_events = our_events
        self._catalog = catalog
        self.sync = sync  # the claim as it stands (renewed on the way)
        self._claim_for = claim_for
        self._call_timeout = call_timeout
        self._full = full
        self._began = clock.now()

    async def run(self) -> int | None:
        if not self._full and self.sync.window is not None:
            try:
                await self._incremental(self.sync.window)
                return None
            except SyncExpired:
                log.info("calendar sync token expired: a full read", extra=self._who())
            await self._write(self._forget_token)
        return await self._full_read()

    async def _full_read(self) -> int:
        window = full_read_window(self._began, self._catalog)
        events: list[CalendarEvent] = []
        page_token: str | None = None
        sync_token: str | None = None
        for _ in range(MAX_PAGES):
            page = await self._page(None, page_token, window)
            events += page.events
            sync_token, page_token = page.sync_token, page.next_page
            if sync_token is not None:
                break
        if sync_token is None:
            raise CalendarRefused(
                f"more than {MAX_PAGES} pages of events in {window.end - window.start}",
                transient=False,
            )
        busy, _, ours = self._sort(events, window)
        await self._write(
            partial(self._keeping, ours, partial(self._replace, busy, sync_token, window))
        )
        await self._hand_over(ours)
        return len(busy)

    async def _replace(
        self,
        busy: Sequence[BusyEvent],
        sync_token: str,
        window: Interval,
        repository: CalendarSyncRepository,
        held: ClaimedSync,
    ) -> None:
        await self._lock_staff(repository, held)
        await repository.replace_busy(held.staff_id, busy)
        # Every event, not only the new or moved ones: a resync reconciles what was missed.
        await self._tell_conflicts(repository, held, None)
        await repository.synced(
            held, sync_token=sync_token, window=window, began=self._began, full=True
        )

    async def _incremental(self, window: Interval) -> None:
        token = self.sync.sync_token
        page_token: str | None = None
        for _ in range(MAX_PAGES):
            page = await self._page(token, page_token, window)
            busy, gone, ours = self._sort(page.events, window)
            await self._write(
                partial(self._keeping, ours, partial(self._apply, busy, gone, page.sync_token))
            )
            await self._hand_over(ours)
            if page.sync_token is not None:
                return
            page_token = page.next_page
        # So many changes since the token: reading the window in full is shorter.
        raise SyncExpired(f"more than {MAX_PAGES} pages of changes")

    async def _apply(
        self,
        busy: Sequence[BusyEvent],
        gone: Sequence[str],
        sync_token: str | None,
        repository: CalendarSyncRepository,
        held: ClaimedSync,
    ) -> None:
        await self._lock_staff(repository, held)
        moved = await repository.put_busy(held.staff_id, busy)
        await repository.drop_busy(held.staff_id, gone)
        await self._tell_conflicts(repository, held, moved)
        if sync_token is not None:
            await repository.synced(
                held, sync_token=sync_token, window=None, began=self._began, full=False
            )

    async def _page(
        self, sync_token: str | None, page_token: str | None, window: Interval
    ) -> EventPage:
        """One page, the claim renewed first when the call could outlive it."""
        if self._clock.now() + timedelta(seconds=self._call_timeout * 2) >= self.sync.claimed_until:
            await self._write(None, renew=True)
        try:
            return await asyncio.wait_for(
                self._calendars.changes(
                    self.sync.calendar_id,
                    sync_token=sync_token,
                    page_token=page_token,
                    window=(window.start, window.end),
                ),
                self._call_timeout,
            )
        except TimeoutError:
            late = "Google Calendar did not answer in time"
            raise CalendarRefused(late, transient=True) from None

    def _sort(
        self, events: Iterable[CalendarEvent], window: Interval
    ) -> tuple[list[BusyEvent], list[str], list[CalendarEvent]]:
        """Busy time (one per event id, the last word kept), the event ids that are not
        busy (deleted, free, salonbot's, outside the window) and salonbot's own events."""
        busy: dict[str, BusyEvent] = {}
        gone: list[str] = []
        ours: list[CalendarEvent] = []
        zone = self._catalog.salon.zone
        for event in events:
            booking_id = booking_of(event)
            if booking_id is not None:
                seen = replace(event, booking_id=booking_id)
                if event.cancelled and event.updated is None:
                    # Google keeps only a deleted event's id for sure (no ``updated``).
                    # This read began after every write salonbot had seen done by then
                    # and found the event deleted: deleted after those writes, which is
                    # what ``CalendarEdits`` asks of ``updated``. A write done later
                    # (it revives the event) may be newer: the deletion is not followed.
                    seen = replace(seen, updated=self._began)
                ours.append(seen)
            span = busy_time(event, zone, window)
            if span is None:
                busy.pop(event.event_id, None)
                gone.append(event.event_id)
            else:
                busy[event.event_id] = BusyEvent(event.event_id, span)
        return list(busy.values()), gone, ours

    @staticmethod
    async def _lock_staff(repository: CalendarSyncRepository, held: ClaimedSync) -> None:
        # After the calendar's row (``still_claimed``): the one order of these two locks.
        await BookingRepository(repository.connection).lock_staff([held.staff_key])

    async def _tell_conflicts(
        self,
        repository: CalendarSyncRepository,
        held: ClaimedSync,
        event_ids: Sequence[str] | None,
    ) -> None:
        """Conflict alerts for these busy events (None: every one of the staff member's)."""
        now = self._clock.now()
        connection = repository.connection
        found = await CalendarConflictRepository(connection).of_events(
            held.staff_id, event_ids, now
        )
        await alert_conflicts(connection, self._catalog, held.staff_key, found, now)

    async def _forget_token(self, repository: CalendarSyncRepository, held: ClaimedSync) -> None:
        # The busy time stays until the full read replaces it in one transaction: a
        # failed full read leaves the old copy, never none.
        await repository.forget_token(held)

    async def _write(self, work: _Write | None, *, renew: bool = False) -> None:
        """``work`` in a transaction of its own, if the claim still holds (renewed)."""
        renew_until = self._clock.now() + self._claim_for if renew else None
        async with self._uow() as uow:
            repository = CalendarSyncRepository(uow.connection)
            held = await repository.still_claimed(self.sync, renew_until=renew_until)
            if held is None:
                raise ClaimLost(self.sync.staff_key)
            if work is not None:
                await work(repository, held)
            await uow.commit()
        self.sync = held

    # -- the hand-over of salonbot's own events (``OurEventsSeen``) -------------------------

    async def _keeping(
        self,
        ours: Sequence[CalendarEvent],
        work: _Write,
        repository: CalendarSyncRepository,
        held: ClaimedSync,
    ) -> None:
        """``work``, then salonbot's own events of the same page kept in its transaction:
        once its sync token moves on, none is lost (after any lock ``work`` takes)."""
        await work(repository, held)
        await SeenEventRepository(repository.connection).keep(
            held.staff_id, held.calendar_id, one_per_booking(ours), self._clock.now()
        )

    async def _hand_over(self, ours: Sequence[CalendarEvent]) -> None:
        if not ours:
            return
        try:
            await self._our_events.reconcile(self.sync.staff_key)
        except Exception:
            # They are kept: the import's next tick reconciles what is left.
            log.exception("salonbot's own calendar events not reconciled yet", extra=self._who())

    def _who(self) -> dict[str, object]:
        return {"staff": self.sync.staff_key}
