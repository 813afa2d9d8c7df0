"""Push channels: Google tells salonbot at once when a staff member's calendar changes.

A process with an ``https://`` address for the webhook (``PUBLIC_BASE_URL``) keeps one
push channel (``events.watch``) for every calendar read back (a ``calendar_syncs`` row)
whose calendar is still its staff member's in the catalog; a notification only asks for a
sync (``core.services.calendar_notifications``), and the import's polling stays the
safety net. Each run (a scheduler tick) looks at every row:

* **no channel** → one is opened: a random id and token (``secrets``; only the token's
  SHA-256 is kept), asked to live ``CHANNEL_LIFE``. The id and the token's digest are
  stored and committed *before* Google is asked, because Google may deliver the first
  notification (``sync``) before it answers; meanwhile ``channel_expires_at`` is the
  deadline of the opening (``OPENING_FOR``): other processes leave the row alone until
  then, after which the opening counts as abandoned and a new channel is opened. Google's
  answer (resource id, expiry, which may be sooner than asked) is kept and a sync asked
  for. A refusal puts back what was there.
* **in the last part of its life** (the last fifth of what Google granted, at most
  ``RENEW_WITHIN``: a day of a week's channel, 12 minutes of an hour's) → renewed: a
  new channel is opened as above, then the old one stopped. The row names one channel,
  so from the new one's opening on the old one's notifications are refused; a change
  only the old one told of in that moment is read all the same by the sync the new
  channel's opening asks for.
* **a calendar no longer the catalog's** for its staff member (removed, changed, the
  staff member gone) → its channel is stopped (unknown to Google counts as stopped), then
  the channel columns are cleared, which lets the import delete or reset the row. Any
  process does this, with an address or without.

A process without an https address (``PUBLIC_BASE_URL`` unset, say ``salonbot google
resync`` or a second ``serve``) opens and renews nothing and leaves the channels of the
catalog's calendars alone: they are the business of the processes that have the address,
which would otherwise be undone every minute. It only forgets a channel that has expired
(or an opening past its deadline), without asking Google. So when ``PUBLIC_BASE_URL`` is
removed everywhere, the channels run out by themselves within their life (7 days at most)
and are forgotten then; meanwhile Google may still notify the old address, and a
notification only asks for a sync.

Two processes never open two channels for one calendar: every change of a row's channel
is a compare-and-set on the channel the process read, so of two deciding at once one
wins and the other skips the row. The calendar is called outside transactions, each call
bounded (``CALL_TIMEOUT``); a failure is logged (never the token) and the calendar tried
again on a later run after a backoff (seconds doubling up to 5 minutes; an hour after a
refusal for good), kept in memory: a restart only tries sooner.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from core.db.calendar_channel_repository import (
    CalendarChannelRepository,
    Channel,
    WatchedCalendar,
    token_digest,
)
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.catalog import Catalog
from core.linked_calendars.notifications import CalendarWatch
from core.linked_calendars.ports import CalendarRefused
from core.ports import Clock
from core.services.backoff import retry_delay
from core.services.calendar_push import CalendarOfStaff, calendar_in_catalog
from core.services.catalog import CatalogNotLoaded, CatalogReader

log = logging.getLogger("salonbot.google_calendar")

CHANNEL_LIFE = timedelta(days=7)
"""Asked of Google for each channel (its default for ``events.watch``)."""
RENEW_WITHIN = timedelta(days=1)
RENEW_IN_LAST = 0.2
"""A channel is renewed in the last fifth of the life Google granted it, and at most
``RENEW_WITHIN`` before it expires: runs every minute have a day of a week's channel to do
it, and a channel Google granted an hour is renewed every 48 minutes, not at each run."""
CALL_TIMEOUT = 30.0
"""Seconds one call to the calendar may take; longer is a transient failure."""
OPENING_FOR = timedelta(minutes=2)
"""How long an opening holds a row: well past a call's timeout."""
REFUSED_FOR_GOOD_RETRY = timedelta(hours=1)
"""When a calendar refused for good (unshared, say) is tried again: someone may fix it."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ChannelRun:
    """What one run did."""

    opened: int = 0
    renewed: int = 0
    closed: int = 0
    failed: int = 0


class CalendarChannels:
    """Keeps one push channel per calendar read back, to ``address`` (None, or not
    ``https://``: opens none and leaves the others' channels alone)."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        calendars: CalendarWatch,
        catalogs: CatalogReader,
        *,
        address: str | None,
        calendar_of: CalendarOfStaff = calendar_in_catalog,
        call_timeout: float = CALL_TIMEOUT,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._calendars = calendars
        self._catalogs = catalogs
        self._address = address if address is not None and address.startswith("https://") else None
        self._calendar_of = calendar_of
        self._call_timeout = call_timeout
        # Backoff of the calendars that failed: staff id -> (failures in a row, next try).
        self._failing: dict[int, tuple[int, datetime]] = {}

    async def run(self) -> ChannelRun:
        """Open, renew and close the channels that need it, one calendar at a time."""
        async with self._uow() as uow:
            rows = await CalendarChannelRepository(uow.connection).calendars()
            try:
                catalog: Catalog | None = await self._catalogs.current(uow.connection)
            except CatalogNotLoaded:
                catalog = None
        counts = {"opened": 0, "renewed": 0, "closed": 0, "failed": 0}
        for row in rows:
            now = self._clock.now()
            plan = self._plan(row, catalog, now)
            failing = self._failing.get(row.staff_id)
            if plan is None or (failing is not None and now < failing[1]):
                continue
            try:
                done = await plan(row)
            except Exception as error:
                counts["failed"] += 1
                self._failed(row, error)
                continue
            self._failing.pop(row.staff_id, None)
            if done is not None:
                counts[done] += 1
        return ChannelRun(**counts)

    def _plan(
        self, row: WatchedCalendar, catalog: Catalog | None, now: datetime
    ) -> Callable[[WatchedCalendar], Awaitable[str | None]] | None:
        channel = row.channel
        if channel is not None and channel.opening and now < channel.expires_at:
            return None  # a process is opening it (or died doing so: wait for the deadline)
        in_catalog = (
            catalog is not None and self._calendar_of(catalog, row.staff_key) == row.calendar_id
        )
        if not in_catalog:
            return self._close if channel is not None else None
        if self._address is None:
            # The channels are the processes' with an address; one that has run out (or an
            # opening past its deadline) is nobody's any more.
            expired = channel is not None and channel.expires_at <= now
            return self._forget if expired else None
        if channel is None or channel.opening:
            return self._open
        if channel.expires_at - now <= _renew_within(channel):
            return self._open
        return None

    async def _open(self, row: WatchedCalendar) -> str | None:
        assert self._address is not None
        old = row.channel
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        opening = Channel(str(uuid.uuid4()), token_digest(token), None, now + OPENING_FOR, now)
        if not await self._replace(row, old, opening):
            return None  # another process got there first
        try:
            watch = await self._bounded(
                self._calendars.watch(
                    row.calendar_id,
                    channel_id=opening.channel_id,
                    address=self._address,
                    token=token,
                    expires_at=now + CHANNEL_LIFE,
                )
            )
        except Exception:
            # Put back what was there: the old channel is still open at Google (an
            # abandoned opening is not: nothing then). Cancelled (the process stops), the
            # row stays being opened until its deadline.
            await self._replace(row, opening, old if old is not None and not old.opening else None)
            raise
        async with self._uow() as uow:
            kept = await CalendarChannelRepository(uow.connection).opened(
                row.staff_id,
                opening.channel_id,
                watch.resource_id,
                watch.expires_at,
                self._clock.now(),
            )
            await uow.commit()
        if not kept:
            # The row moved on meanwhile (this opening outlived its deadline, or the
            # calendar left the catalog): the channel is nobody's.
            await self._stop_quietly(row, opening.channel_id, watch.resource_id)
            return None
        if old is None or old.resource_id is None:
            log.info("calendar push channel opened", extra={"staff": row.staff_key})
            return "opened"
        await self._stop_quietly(row, old.channel_id, old.resource_id)
        log.info("calendar push channel renewed", extra={"staff": row.staff_key})
        return "renewed"

    async def _close(self, row: WatchedCalendar) -> str | None:
        channel = row.channel
        assert channel is not None
        if channel.resource_id is not None:
            try:
                await self._bounded(
                    self._calendars.stop_watch(channel.channel_id, channel.resource_id)
                )
            except CalendarRefused as refused:
                if refused.transient:
                    raise
                # It cannot be stopped (the key refused, say); it expires by itself, and
                # its notifications are refused once the row no longer names it.
                log.warning(
                    "calendar push channel not stopped, left to expire",
                    extra={"staff": row.staff_key, "reason": refused.reason},
                )
        if not await self._replace(row, channel, None):
            return None
        log.info("calendar push channel closed", extra={"staff": row.staff_key})
        return "closed"

    async def _forget(self, row: WatchedCalendar) -> str | None:
        """A channel that has expired at Google: its columns cleared, nothing asked."""
        if not await self._replace(row, row.channel, None):
            return None
        log.info("calendar push channel expired, forgotten", extra={"staff": row.staff_key})
        return "closed"

    async def _replace(
        self, row: WatchedCalendar, seen: Channel | None, new: Channel | None
    ) -> bool:
        async with self._uow() as uow:
            replaced = await CalendarChannelRepository(uow.connection).replace(
                row.staff_id, row.calendar_id, seen, new
            )
            await uow.commit()
        return replaced

    async def _stop_quietly(self, row: WatchedCalendar, channel_id: str, resource_id: str) -> None:
        """Stop a channel no row names any more; one that will not stop expires by itself
        (its notifications are refused meanwhile)."""
        try:
            await self._bounded(self._calendars.stop_watch(channel_id, resource_id))
        except (CalendarRefused, TimeoutError) as error:
            reason = error.reason if isinstance(error, CalendarRefused) else "no answer in time"
            log.warning(
                "calendar push channel not stopped, left to expire",
                extra={"staff": row.staff_key, "reason": reason},
            )

    async def _bounded(self, call: Awaitable[T]) -> T:
        return await asyncio.wait_for(call, self._call_timeout)

    def _failed(self, row: WatchedCalendar, error: Exception) -> None:
        failures = self._failing.get(row.staff_id, (0, self._clock.now()))[0] + 1
        for_good = isinstance(error, CalendarRefused) and not error.transient
        delay = REFUSED_FOR_GOOD_RETRY if for_good else retry_delay(failures)
        self._failing[row.staff_id] = (failures, self._clock.now() + delay)
        if isinstance(error, CalendarRefused):
            reason = error.reason
        elif isinstance(error, TimeoutError):
            reason = "no answer in time"
        else:
            # A bug, or the database away: logged in full, tried again later.
            log.exception("calendar push channel failed", extra={"staff": row.staff_key})
            return
        log.warning(
            "calendar push channel failed",
            extra={"staff": row.staff_key, "reason": reason, "failures": failures},
        )


def _renew_within(channel: Channel) -> timedelta:
    """How long before its expiry the channel is renewed: the last fifth of its life, at
    most ``RENEW_WITHIN`` (a channel with no opening time: ``RENEW_WITHIN``)."""
    if channel.opened_at is None:
        return RENEW_WITHIN
    return min(RENEW_WITHIN, (channel.expires_at - channel.opened_at) * RENEW_IN_LAST)
