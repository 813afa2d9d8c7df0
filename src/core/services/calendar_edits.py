"""Our own events edited in Google: a staff member moved or deleted salonbot's event of a
booking in their Google Calendar, and salonbot follows, or puts it back, never silently
diverging (``OurEventsSeen``: the calendar import keeps each read's events of ours in
``calendar_seen_events``, in the read's own transaction, and asks for them to be
reconciled).

The events due are claimed (``FOR UPDATE SKIP LOCKED``, then held ``CLAIM_FOR``), and each
is reconciled in its own transaction, under the lock of the staff member's row and the
booking's (the booking use cases run in savepoints of it), which also deletes it. One that
fails is logged, stays kept and is tried again with backoff (after a read, and on each
tick of the import); after ``MAX_ATTEMPTS`` it is parked, its error kept for the staff
page, until a read finds the event changed. The others go on. The rules
(``core.linked_calendars.edits.judge``):

* Nothing to do when the booking is unknown or not confirmed (cancelled, a no-show,
  completed, a hold); is another staff member's now (a hand-over in flight: the pushes
  move the event); has a push waiting or under way (salonbot's newer state is on its way
  and overwrites Google); salonbot's last push done on this calendar for it was a remove,
  or there is none; the event is as salonbot last put it (its start and end), or as the
  booking is; or the read is stale: the event's ``updated`` (Google's clock) is not later
  than the moment salonbot saw its last push there done. A new title or description,
  or the event shown as free, is the staff member's own business: ignored (the next put
  of the booking writes our title and description again; the free/busy flag is never
  written).
* Deleted in Google (a move to another calendar looks the same): the booking is
  cancelled as a staff cancellation (actor ``google:<staff key>``) and the customer is
  told in their chat, with a button to book again (``CustomerNotices``). A visit that has
  begun is left to the desk to mark. The pushes then queue a remove (done at once: 410).
* Moved in Google to a new start, same length, timed: a staff reschedule by the desk's
  rules (locks, re-check, exclusion constraint; no minimum notice); the customer is told
  (``CustomerNotices``) and the pushes queue a put of the same times.
* A move the booking use case refuses (taken, outside hours or off the grid, past, beyond
  the booking horizon, time off, busy in the staff member's own calendar), a new length,
  an all-day event, or the event made recurring (its instances come instead of it, each
  with an id of its own and ``recurringEventId`` naming salonbot's: salonbot's, never
  busy time): put back (a put of the booking as it is, queued; its patch empties
  ``recurrence``, and Google deletes the instances) and a ``reverted`` calendar alert
  raised for the staff, in the same transaction. An instance deleted is no deletion of
  the booking.

Why no echo of salonbot's own writes is taken for a staff edit: every write is a push.
While one is waiting or under way, nothing is done (the first rule above). Once done, its
echo is either the event as that push put it (equal to the last put: ignored) or an
older state of the event (written by an earlier push of ours, or by staff before our
newer write replaced it), which Google changed before our last write landed, so its
``updated`` is not later than the moment the pusher saw that write done: a stale read,
ignored; the next incremental read brings the event as we wrote it. A remove's echo (a
deletion) concerns a booking cancelled, a no-show, or moved to another staff member:
ignored. This holds while the server's clock is within the time between two pushes of a
booking (a pusher run apart) of Google's (NTP keeps it well within). A full read replays
every event of ours and changes nothing that is settled: applying a move queues a put of
the same times, putting one back queues the old ones, so either way the event ends
equal to the last put.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.booking_repository import BookingRepository
from core.db.calendar_push_repository import CalendarPushRepository
from core.db.calendar_seen_repository import SeenEvent, SeenEventRepository
from core.db.unit_of_work import NestedUnitOfWorkFactory, UnitOfWorkFactory
from core.domain.booking import Actor, Booking
from core.domain.catalog import Catalog
from core.domain.errors import DomainError, SlotNotOffered, SlotTaken
from core.linked_calendars.edits import EditAction, RevertReason, Verdict, judge
from core.linked_calendars.ports import CalendarEvent
from core.ports import Clock
from core.services.backoff import retry_delay
from core.services.booking import Bookings
from core.services.calendar_alerts import AlertKind, raise_alert
from core.services.calendar_push import draft
from core.services.catalog import CatalogReader

log = logging.getLogger(__name__)

CLAIM_FOR = timedelta(minutes=5)
"""An event claimed is reconciled within this, or taken over (its process died)."""
BATCH = 50
MAX_BATCHES = 100
"""Batches one call reconciles at most (5,000 events): a full read's worth, bounded."""
MAX_ATTEMPTS = 20


def google_actor(staff_key: str) -> Actor:
    """Who a change made in ``staff_key``'s Google Calendar is recorded as: the staff
    member, through their calendar."""
    return Actor.staff(f"google:{staff_key}")


class CalendarEdits:
    """``OurEventsSeen``: reconciles the bookings with their events as Google has them."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        bookings: Bookings,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._bookings = bookings

    async def reconcile(self, staff_key: str | None = None) -> None:
        """Reconcile the kept events of ours that are due (``staff_key``'s, or all)."""
        for _ in range(MAX_BATCHES):
            now = self._clock.now()
            async with self._uow() as uow:
                claimed = await SeenEventRepository(uow.connection).claim(
                    now=now, until=now + CLAIM_FOR, limit=BATCH, staff_key=staff_key
                )
                await uow.commit()
            if not claimed:
                return
            for seen in claimed:
                await self._one(seen)

    async def _one(self, seen: SeenEvent) -> None:
        try:
            await self._reconcile(seen)
        except Exception as error:
            log.exception(
                "calendar event %s of booking %s not reconciled",
                seen.event.event_id,
                seen.event.booking_id,
                extra={"staff": seen.staff_key},
            )
            await self._failed(seen, error)

    async def _failed(self, seen: SeenEvent, error: Exception) -> None:
        now = self._clock.now()
        attempts = seen.attempts + 1
        parked = now if attempts >= MAX_ATTEMPTS else None
        why = f"{type(error).__name__}: {error}"
        try:
            async with self._uow() as uow:
                await SeenEventRepository(uow.connection).failed(
                    seen, why, retry_at=now + retry_delay(attempts), parked_at=parked
                )
                await uow.commit()
        except Exception:
            # The database away: the claim runs out and a later call tries again.
            log.exception("calendar event failure not recorded", extra={"staff": seen.staff_key})
            return
        if parked is not None:
            log.error(
                "calendar event %s of booking %s parked after %d failures: %s",
                seen.event.event_id,
                seen.event.booking_id,
                attempts,
                why,
                extra={"staff": seen.staff_key},
            )

    async def _judge(
        self,
        connection: AsyncConnection,
        staff_key: str,
        calendar_id: str,
        event: CalendarEvent,
        *,
        lock: bool,
    ) -> tuple[Verdict, Booking | None]:
        assert event.booking_id is not None
        booking = await BookingRepository(connection).get(event.booking_id, for_update=lock)
        pushes = CalendarPushRepository(connection)
        verdict = judge(
            staff_key,
            event,
            booking,
            open_push=await pushes.has_open(event.booking_id),
            last=await pushes.last_done(event.booking_id, calendar_id),
            now=self._clock.now(),
        )
        return verdict, booking

    async def _reconcile(self, seen: SeenEvent) -> None:
        """The event followed (or put back, or left alone) and forgotten, at once."""
        async with self._uow() as uow:
            await self._follow(uow.connection, seen.staff_key, seen.calendar_id, seen.event)
            await SeenEventRepository(uow.connection).done(seen)
            await uow.commit()

    async def _follow(
        self, connection: AsyncConnection, staff_key: str, calendar_id: str, event: CalendarEvent
    ) -> None:
        # Most events of a read are settled: judged without a lock first, and again under
        # the locks only when something is to be done.
        verdict, _ = await self._judge(connection, staff_key, calendar_id, event, lock=False)
        if verdict.action is EditAction.IGNORE:
            log.debug("calendar event %s: %s", event.event_id, verdict.why)
            return
        await BookingRepository(connection).lock_staff([staff_key])
        verdict, booking = await self._judge(connection, staff_key, calendar_id, event, lock=True)
        if verdict.action is EditAction.IGNORE or booking is None:
            return
        catalog = await self._catalogs.current(connection)
        bookings = self._bookings.over(NestedUnitOfWorkFactory(connection))
        actor = google_actor(staff_key)
        if verdict.action is EditAction.CANCEL:
            await bookings.cancel(booking.id, actor)
            log.info("booking %d cancelled: its event was deleted in Google", booking.id)
        elif verdict.action is EditAction.MOVE and verdict.start is not None:
            try:
                await bookings.reschedule(booking.id, verdict.start, actor)
                log.info("booking %d moved as its event was in Google", booking.id)
            except DomainError as refused:
                why = _refusal(catalog, refused, verdict.start, self._clock.now())
                log.info(
                    "booking %d's move in Google to %s refused",
                    booking.id,
                    _when(catalog, verdict.start),
                )
                await self._put_back(connection, catalog, booking, calendar_id, event, why)
        else:
            await self._put_back(connection, catalog, booking, calendar_id, event, verdict.why)

    async def _put_back(
        self,
        connection: AsyncConnection,
        catalog: Catalog,
        booking: Booking,
        calendar_id: str,
        event: CalendarEvent,
        why: str,
    ) -> None:
        """Queue a put of the booking as it is (the pusher patches Google back) and tell
        the staff why."""
        now = self._clock.now()
        put = await draft(connection, catalog, booking)
        await CalendarPushRepository(connection).add(
            booking.id, booking.staff_key, calendar_id, put, now
        )
        # Why alone, in words the notice and the staff page translate: where the booking
        # stays they tell themselves, and the staff member knows where they moved it.
        detail = why
        await raise_alert(
            connection,
            catalog,
            staff_key=booking.staff_key,
            kind=AlertKind.REVERTED,
            booking_id=booking.id,
            event_id=event.event_id,
            detail=detail,
            at=now,
        )
        log.warning(
            "booking %d's event put back in Google to %s: %s",
            booking.id,
            _when(catalog, booking.start),
            detail,
        )


def _refusal(catalog: Catalog, error: DomainError, start: datetime, now: datetime) -> str:
    """Why the booking use case refused the move, for the staff (a ``RevertReason``, or
    the refusal's own words for one no reason names)."""
    if start <= now:
        return RevertReason.PAST
    if isinstance(error, SlotTaken):
        return RevertReason.TAKEN
    if isinstance(error, SlotNotOffered):
        if start > now + catalog.salon.policies.booking_horizon:
            return RevertReason.TOO_FAR
        return RevertReason.NOT_OFFERED
    return str(error)


def _when(catalog: Catalog, at: datetime) -> str:
    return f"{at.astimezone(catalog.salon.zone):%a %d %b %H:%M}"
