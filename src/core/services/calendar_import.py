"""The calendar import: what staff members put in their own linked calendars (Google
Calendar) makes them busy in salonbot.

``run`` is one scheduler tick. It keeps ``calendar_syncs`` in step with the catalog (a
row per staff member with a calendar; a calendar that left the catalog, or was changed,
loses its busy time at once and is never read again), then claims the calendars that are
due (``FOR UPDATE SKIP LOCKED``) and reads them outside any transaction, a few at once
(``READS_AT_ONCE``, each under its own claim: one slow calendar holds up no other;
``core.services.calendar_read``): each in full when it never was, when a full read is wanted,
or when its window no longer reaches a day past the booking horizon; else what changed
since its sync token (a 410 reads it in full, in the same run). Due: never read, a sync
wanted (a push notification, ``salonbot google resync``), or read ``poll_every`` ago.
Each tick then asks ``OurEventsSeen`` to reconcile salonbot's own events that reads kept
and that are still due (a failure retried, a process that stopped).

A calendar that cannot be read (unshared, Google down) keeps its last busy time and is
tried again with backoff (``last_error`` says why, for the staff page); the others go on.
One refused for good (not found or not shared, too many events) is tried again an hour
later, not every few minutes: it will not work until someone fixes it (then
``salonbot google resync``, or a push notification, asks for it at once).
Idle, a tick is three small queries: the catalog's digest, and two claims that find
nothing.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from core.db.calendar_sync_repository import CalendarSyncRepository, ClaimedSync
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.catalog import Catalog
from core.domain.errors import DomainError
from core.linked_calendars.ports import (
    CalendarRefused,
    LinkedCalendars,
    NoOneWatchingOurEvents,
    OurEventsSeen,
)
from core.ports import Clock
from core.services.backoff import retry_delay
from core.services.calendar_push import CalendarOfStaff, calendar_in_catalog
from core.services.calendar_read import CalendarRead, ClaimLost
from core.services.catalog import CatalogNotLoaded, CatalogReader

log = logging.getLogger(__name__)

POLL_EVERY = timedelta(minutes=5)
CALL_TIMEOUT = 30.0
"""Seconds one page may take; longer is a transient failure."""
CLAIM_FOR = timedelta(minutes=5)
"""A read holds its calendar this long, renewed before a page that could outlive it."""
COVER_BEYOND_HORIZON = timedelta(days=1)
LONGEST_RETRY_AFTER = timedelta(hours=1)
REFUSED_FOR_GOOD_RETRY = timedelta(hours=1)
CALENDARS_PER_RUN = 10
READS_AT_ONCE = 4
"""Calendars one tick reads at a time (the client's own concurrency is 4 too)."""


@dataclass(frozen=True, slots=True)
class ImportRun:
    """What one tick did (``dropped``: reads whose claim was lost, their findings not
    kept)."""

    read: int = 0
    failed: int = 0
    dropped: int = 0


@dataclass(frozen=True, slots=True)
class CalendarSynced:
    """One calendar's read for ``resync``: ``error`` None when it was read; ``busy``: the
    busy events it keeps then; ``dropped``: another process took the calendar over."""

    staff_key: str
    calendar_id: str
    error: str | None
    busy: int = 0
    dropped: bool = False


class NoLinkedCalendar(DomainError):
    def __init__(self, staff_key: str) -> None:
        super().__init__(f"{staff_key} has no google_calendar in the catalog")


class CalendarImport:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        calendars: LinkedCalendars,
        *,
        our_events: OurEventsSeen | None = None,
        calendar_of: CalendarOfStaff = calendar_in_catalog,
        poll_every: timedelta = POLL_EVERY,
        limit: int = CALENDARS_PER_RUN,
        call_timeout: float = CALL_TIMEOUT,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._catalogs = catalogs
        self._calendars = calendars
        self._our_events = our_events or NoOneWatchingOurEvents()
        self._calendar_of = calendar_of
        self._poll_every = poll_every
        self._limit = limit
        self._call_timeout = call_timeout
        # The catalog the rows were last put in step with, and the rows that follow it.
        self._in_step: tuple[Catalog, frozenset[int]] | None = None

    async def run(self) -> ImportRun:
        """Keep the rows in step with the catalog, then read the calendars that are due."""
        now = self._clock.now()
        async with self._uow() as uow:
            try:
                catalog = await self._catalogs.current(uow.connection)
            except CatalogNotLoaded:
                return ImportRun()
            repository = CalendarSyncRepository(uow.connection)
            current, settled = await self._keep_in_step(repository, catalog)
            horizon = catalog.salon.policies.booking_horizon
            claimed = await repository.claim_due(
                current,
                now=now,
                claimed_until=now + CLAIM_FOR,
                synced_before=now - self._poll_every,
                covered_until=now + horizon + COVER_BEYOND_HORIZON,
                limit=self._limit,
            )
            await uow.commit()
        self._in_step = (catalog, current) if settled else None
        at_once = asyncio.Semaphore(READS_AT_ONCE)

        async def read_one(sync: ClaimedSync) -> CalendarSynced:
            async with at_once:
                return await self._read(sync, catalog)

        outcomes = await asyncio.gather(*(read_one(sync) for sync in claimed))
        read = failed = dropped = 0
        for outcome in outcomes:
            read += outcome.error is None
            dropped += outcome.dropped
            failed += outcome.error is not None and not outcome.dropped
        await self._reconcile_left_over()
        return ImportRun(read, failed, dropped)

    async def _reconcile_left_over(self) -> None:
        """salonbot's own events kept by earlier reads and not reconciled yet (a failure,
        a process stopped): due ones are reconciled now."""
        try:
            await self._our_events.reconcile()
        except Exception:
            log.exception("salonbot's own calendar events not reconciled yet")

    async def resync(
        self, staff_key: str | None = None, *, wait: float = 60.0
    ) -> list[CalendarSynced]:
        """Read the calendar of ``staff_key`` (None: every linked one) in full now,
        whatever its schedule or backoff; one outcome each. A calendar another process
        is reading is waited for, up to ``wait`` seconds."""
        now = self._clock.now()
        async with self._uow() as uow:
            catalog = await self._catalogs.current(uow.connection)
            repository = CalendarSyncRepository(uow.connection)
            self._in_step = None
            current, _ = await self._keep_in_step(repository, catalog)
            keys = [key for key in catalog.staff if self._calendar_of(catalog, key)]
            if staff_key is not None:
                catalog.member(staff_key)  # UnknownStaff
                if staff_key not in keys:
                    raise NoLinkedCalendar(staff_key)
                keys = [staff_key]
            ids = await repository.staff_with_calendars(keys)
            targets = {key: staff_id for key, staff_id in ids.items() if staff_id in current}
            await repository.want(targets.values(), now, full=True)
            await uow.commit()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        outcomes: list[CalendarSynced] = []
        for key in keys:
            calendar_id = self._calendar_of(catalog, key) or ""
            if key not in targets:
                later = "not ready: its old push channel is being stopped; try again shortly"
                outcomes.append(CalendarSynced(key, calendar_id, later))
                continue
            sync = await self._claim_now(targets[key], deadline)
            if sync is None:
                busy = "another process is reading it; try again"
                outcomes.append(CalendarSynced(key, calendar_id, busy))
                continue
            outcomes.append(await self._read(sync, catalog))
        return outcomes

    async def _claim_now(self, staff_id: int, deadline: float) -> ClaimedSync | None:
        loop = asyncio.get_running_loop()
        while True:
            now = self._clock.now()
            async with self._uow() as uow:
                sync = await CalendarSyncRepository(uow.connection).claim(
                    staff_id, now=now, claimed_until=now + CLAIM_FOR
                )
                await uow.commit()
            if sync is not None or loop.time() >= deadline:
                return sync
            await asyncio.sleep(0.5)

    async def _keep_in_step(
        self, repository: CalendarSyncRepository, catalog: Catalog
    ) -> tuple[frozenset[int], bool]:
        """The staff ids whose rows follow ``catalog``, and whether that is settled: then
        the rows are not looked at again until the catalog changes."""
        if self._in_step is not None and self._in_step[0] is catalog:
            return self._in_step[1], True
        wanted = {
            key: calendar
            for key in catalog.staff
            if (calendar := self._calendar_of(catalog, key)) is not None
        }
        in_step = await repository.keep_in_step(wanted)
        return in_step.current, not in_step.again

    async def _read(self, sync: ClaimedSync, catalog: Catalog) -> CalendarSynced:
        window = sync.window
        horizon = catalog.salon.policies.booking_horizon
        full = (
            sync.sync_token is None
            or sync.full_wanted
            or window is None
            or window.end < self._clock.now() + horizon + COVER_BEYOND_HORIZON
        )
        reading = CalendarRead(
            self._uow,
            self._clock,
            self._calendars,
            self._our_events,
            catalog,
            sync,
            claim_for=CLAIM_FOR,
            call_timeout=self._call_timeout,
            full=full,
        )
        refused: CalendarRefused
        try:
            busy = await reading.run()
            return CalendarSynced(sync.staff_key, sync.calendar_id, None, busy or 0)
        except ClaimLost:
            log.info("calendar read dropped: its claim ran out", extra={"staff": sync.staff_key})
            lost = "taken over by another read"
            return CalendarSynced(sync.staff_key, sync.calendar_id, lost, dropped=True)
        except CalendarRefused as error:
            refused = error
        except Exception as error:
            # A bug, or the database gone: logged in full, tried again like an outage.
            log.exception("calendar read failed unexpectedly", extra={"staff": sync.staff_key})
            refused = CalendarRefused(f"unexpected {type(error).__name__}", transient=True)
        await self._failed(reading.sync, refused)
        return CalendarSynced(sync.staff_key, sync.calendar_id, refused.reason)

    async def _failed(self, sync: ClaimedSync, refused: CalendarRefused) -> None:
        now = self._clock.now()
        delay = retry_delay(sync.failures + 1)
        if not refused.transient:
            # It will not work until someone fixes it: a try (and a warning) an hour.
            delay = REFUSED_FOR_GOOD_RETRY
        elif refused.retry_after is not None:
            asked = timedelta(seconds=max(0.0, refused.retry_after))
            delay = max(delay, min(asked, LONGEST_RETRY_AFTER))
        try:
            async with self._uow() as uow:
                repository = CalendarSyncRepository(uow.connection)
                await repository.failed(sync, refused.reason, now + delay)
                await uow.commit()
        except Exception:
            # Its claim runs out and the next tick tries again.
            log.exception("calendar read failure not recorded", extra={"staff": sync.staff_key})
        log.warning(
            "calendar read failed: %s",
            refused.reason,
            extra={"staff": sync.staff_key, "retry_in": round(delay.total_seconds())},
        )
