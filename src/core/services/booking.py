"""Taking and changing bookings: hold, confirm, book, cancel, reschedule.

Double-booking safety has two layers. Every use case that takes time locks the rows of the
staff members concerned (``SELECT ... FOR UPDATE``, in id order), re-checks the slot against
what is committed, and writes, all in one transaction; and the exclusion constraint
``ex_bookings_staff_blocked`` refuses overlapping active bookings whatever the code does.
A refusal from either layer reaches the caller as ``SlotTaken`` with the nearest free
alternatives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from core.db.booking_repository import (
    BookingRepository,
    NewBooking,
    RequestKeyUsed,
    SlotConflict,
)
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.availability import SlotQuery, find_slot, free_slots, local_day, nearest
from core.domain.booking import (
    Actor,
    ActorKind,
    Booking,
    BookingStatus,
    check_customer_cutoff,
    require_status,
)
from core.domain.catalog import Catalog, Staff
from core.domain.errors import (
    Alternative,
    BookingNotFound,
    DomainError,
    HoldExpired,
    InvalidTransition,
    SlotNotOffered,
    SlotTaken,
    StaffDoesNotPerform,
    VisitMoved,
)
from core.domain.timeline import Interval, to_utc
from core.ports import Clock, ExternalBusy, NoExternalBusy
from core.services.booking_changes import (
    BookingAction,
    BookingChange,
    BookingFollower,
    tell_followers,
)
from core.services.booking_request import BookingRequest, CustomerFor
from core.services.busy_time import busy_by_staff, local_day_span, local_days_window
from core.services.catalog import CatalogReader
from core.services.holds import expire_lapsed_holds

ALTERNATIVES = 3

# A check of a booking as it stands under the use case's lock, before it is changed:
# raising refuses the change (a staff user's role, say: the booking may have changed hands
# while the caller waited for the lock).
BookingCheck = Callable[[Booking], None]


def _check_confirmable(booking: Booking) -> None:
    if booking.status is BookingStatus.CANCELLED and booking.hold_expires_at is not None:
        raise HoldExpired(booking.id)
    require_status(booking, "confirm", BookingStatus.HELD, BookingStatus.CONFIRMED)


T = TypeVar("T")


def _rules_for(catalog: Catalog, actor: Actor) -> Catalog:
    """The booking rules ``actor`` books by: a customer the salon's (minimum notice and
    all), the salon's own people and the system those of the desk (``at_the_desk``)."""
    return catalog if actor.kind is ActorKind.CUSTOMER else catalog.at_the_desk()


async def _write_or_sweep(
    repository: BookingRepository,
    now: datetime,
    staff_id: int,
    write: Callable[[], Awaitable[T]],
) -> T | None:
    """Run a write that the exclusion constraint may refuse; None if it stays refused.

    Lapsed holds block nobody, but until swept their rows still sit in the constraint.
    Sweeping is done only when the constraint objects, so the common path pays nothing.
    """
    try:
        return await write()
    except SlotConflict:
        if not await expire_lapsed_holds(repository, now, [staff_id]):
            return None
    try:
        return await write()
    except SlotConflict:
        return None


async def _settled(attempt: Callable[[], Awaitable[Booking | None]], start: datetime) -> Booking:
    """Run a locked attempt that answers None when the world moved while it waited for
    the locks (a catalog load landed, the booking changed staff); then try again."""
    for _ in range(3):
        booking = await attempt()
        if booking is not None:
            return booking
    raise SlotTaken(start)


class Bookings:
    """The booking use cases. Each call is one transaction."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        catalogs: CatalogReader,
        external: ExternalBusy | None = None,
        followers: Sequence[BookingFollower] = (),
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._catalogs = catalogs
        self._external = external or NoExternalBusy()
        self._followers = tuple(followers)

    def over(self, uow_factory: UnitOfWorkFactory) -> Bookings:
        """The same use cases (clock, catalogs, busy time, followers) over ``uow_factory``:
        savepoints of a composing use case's transaction (``NestedUnitOfWorkFactory``)."""
        return Bookings(uow_factory, self._clock, self._catalogs, self._external, self._followers)

    async def _changed(
        self,
        repository: BookingRepository,
        catalog: Catalog,
        action: BookingAction,
        actor: Actor,
        now: datetime,
        *,
        before: Booking | None,
        after: Booking,
        note: str = "",
    ) -> None:
        """Record the change in the booking's history and tell the followers, in the
        change's transaction."""
        await repository.record(
            after.id, actor, action.value, now, before=before, after=after, note=note
        )
        change = BookingChange(action, before, after, actor, now, note)
        await tell_followers(self._followers, repository.connection, catalog, change)

    async def hold(
        self,
        service_key: str,
        start: datetime,
        actor: Actor,
        *,
        staff_key: str | None = None,
        customer_id: int | None = None,
    ) -> Booking:
        """Reserve a slot for the salon's hold TTL while the customer confirms."""
        return await self._take(service_key, start, actor, staff_key, customer_id, hold=True)

    async def book(
        self,
        service_key: str,
        start: datetime,
        actor: Actor,
        *,
        staff_key: str | None = None,
        customer_id: int | None = None,
        customer_for: CustomerFor | None = None,
        request_key: str | None = None,
    ) -> Booking:
        """Hold and confirm in one step.

        With ``staff_key=None`` ("any staff"), the slot goes to whoever of the free staff
        has the fewest active bookings that local day; ties go by catalog order.
        ``customer_for`` (not with ``customer_id``, and not for a customer actor) finds or
        adds the customer in the booking's transaction, once the slot is found free.

        ``request_key`` (bounded by the caller) makes the request single-use
        (``core.services.booking_request``): a key that made a booking answers it, as it
        is now, and books nothing; with a different request it is ``RequestReused``.
        Decided in the booking's transaction: two requests with one key at once make one
        booking (the unique index on the key backs it), and both answer it.
        """
        if customer_for is not None and (
            customer_id is not None or actor.kind is ActorKind.CUSTOMER
        ):
            raise ValueError("customer_for is for staff booking someone not known by id")
        return await self._take(
            service_key,
            start,
            actor,
            staff_key,
            customer_id,
            hold=False,
            customer_for=customer_for,
            request_key=request_key,
        )

    async def confirm(self, booking_id: int, actor: Actor) -> Booking:
        """Turn a hold into a booking.

        A hold confirmed in time always succeeds. A lapsed one succeeds only if its slot
        would still be offered to it now (checked under the staff lock, as a new booking
        is); otherwise it is released and ``HoldExpired`` is raised.
        """
        async with self._uow() as uow:
            repository = BookingRepository(uow.connection)
            catalog = await self._catalogs.current(uow.connection)
            now = self._clock.now()
            seen = await self._owned(repository, booking_id, actor)
            _check_confirmable(seen)
            if seen.status is BookingStatus.CONFIRMED:
                return seen
            staff_ids = await repository.lock_staff([seen.staff_key])
            booking = await self._owned(repository, booking_id, actor, lock=True)
            _check_confirmable(booking)
            if booking.status is BookingStatus.CONFIRMED:
                return booking
            if booking.hold_expired(now) and not await self._still_offered(
                repository, catalog, booking, staff_ids, now
            ):
                await expire_lapsed_holds(repository, now, [staff_ids[booking.staff_key]])
                await uow.commit()
                raise HoldExpired(booking_id)
            confirmed = replace(booking, status=BookingStatus.CONFIRMED, hold_expires_at=None)
            await repository.set_status(booking_id, BookingStatus.CONFIRMED, now)
            await self._changed(
                repository,
                catalog,
                BookingAction.CONFIRMED,
                actor,
                now,
                before=booking,
                after=confirmed,
            )
            await uow.commit()
            return confirmed

    async def _still_offered(
        self,
        repository: BookingRepository,
        catalog: Catalog,
        booking: Booking,
        staff_ids: dict[str, int],
        now: datetime,
    ) -> bool:
        if booking.staff_key not in staff_ids or booking.service_key not in catalog.services:
            return False
        day = local_day(booking.start, catalog)
        busy = await busy_by_staff(
            repository,
            self._external,
            {booking.staff_key: staff_ids[booking.staff_key]},
            local_days_window(catalog, day, day),
            now,
            ignore_booking=booking.id,
        )
        slot = find_slot(
            catalog,
            booking.service_key,
            booking.staff_key,
            booking.start,
            now,
            busy[booking.staff_key],
        )
        return slot is not None and slot.end == booking.end

    async def cancel(
        self, booking_id: int, actor: Actor, *, note: str = "", check: BookingCheck | None = None
    ) -> Booking:
        """Cancel a booking or release a hold; customers are held to the cancel cutoff.
        ``check`` sees the booking under its lock first."""
        async with self._uow() as uow:
            repository = BookingRepository(uow.connection)
            catalog = await self._catalogs.current(uow.connection)
            now = self._clock.now()
            booking = await self._owned(repository, booking_id, actor, lock=True)
            if check is not None:
                check(booking)
            if booking.status is BookingStatus.CANCELLED:
                return booking
            require_status(booking, "cancel", BookingStatus.HELD, BookingStatus.CONFIRMED)
            if booking.status is BookingStatus.CONFIRMED:
                check_customer_cutoff(
                    booking, actor, now, catalog.salon.policies.customer_cancel_cutoff, "cancelled"
                )
            cancelled = replace(booking, status=BookingStatus.CANCELLED, hold_expires_at=None)
            await repository.set_status(booking_id, BookingStatus.CANCELLED, now)
            held = booking.status is BookingStatus.HELD
            action = BookingAction.RELEASED if held else BookingAction.CANCELLED
            await self._changed(
                repository, catalog, action, actor, now, before=booking, after=cancelled, note=note
            )
            await uow.commit()
            return cancelled

    async def confirm_attendance(
        self, booking_id: int, actor: Actor, *, version: int | None = None
    ) -> Booking:
        """Note that the customer is coming to a confirmed visit that has not started.

        Recorded (``ATTENDANCE_CONFIRMED``) and told to the followers the first time; a
        visit already confirmed so is returned unchanged, nothing recorded again. Raises
        ``BookingNotFound`` (not the actor's), ``InvalidTransition`` (not confirmed, or
        started), or ``VisitMoved`` when ``version`` (the visit the customer was shown) is
        not the visit's version any more: checked under the row's lock, so a move that
        commits while the customer's tap is handled is never confirmed on their behalf.
        """
        async with self._uow() as uow:
            repository = BookingRepository(uow.connection)
            catalog = await self._catalogs.current(uow.connection)
            now = self._clock.now()
            booking = await self._owned(repository, booking_id, actor, lock=True)
            require_status(booking, "confirm attendance", BookingStatus.CONFIRMED)
            if version is not None and booking.version != version:
                raise VisitMoved(booking_id, version)
            if booking.customer_confirmed_at is not None:
                return booking
            if booking.start <= now:
                raise InvalidTransition(booking_id, "started", "confirm attendance")
            confirmed = replace(booking, customer_confirmed_at=now)
            await repository.confirm_attendance(booking_id, now)
            await self._changed(
                repository,
                catalog,
                BookingAction.ATTENDANCE_CONFIRMED,
                actor,
                now,
                before=booking,
                after=confirmed,
            )
            await uow.commit()
            return confirmed

    async def record_outcome(
        self,
        booking_id: int,
        actor: Actor,
        status: BookingStatus,
        *,
        check: BookingCheck | None = None,
    ) -> Booking:
        """Staff mark a visit that has started completed or a no-show.

        A visit the scheduler recorded completed when it ended (``complete_ended``) can
        still be marked a no-show, and the other way round: staff correct the record.
        Marking what is already marked changes nothing. ``check`` sees the booking under
        its lock first.
        """
        if status not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
            raise ValueError(f"{status} is not an outcome")
        async with self._uow() as uow:
            repository = BookingRepository(uow.connection)
            catalog = await self._catalogs.current(uow.connection)
            now = self._clock.now()
            booking = await self._owned(repository, booking_id, actor, lock=True)
            if check is not None:
                check(booking)
            if booking.status is status:
                return booking
            require_status(
                booking,
                f"mark {status.value}",
                BookingStatus.CONFIRMED,
                BookingStatus.COMPLETED,
                BookingStatus.NO_SHOW,
            )
            if now < booking.start:
                raise InvalidTransition(booking_id, "not started yet", f"mark {status.value}")
            after = replace(booking, status=status)
            await repository.set_status(booking_id, status, now)
            await self._changed(
                repository,
                catalog,
                BookingAction(status.value),
                actor,
                now,
                before=booking,
                after=after,
            )
            await uow.commit()
            return after

    async def complete_ended(self, limit: int) -> int:
        """Record up to ``limit`` confirmed visits whose end has passed as completed (a
        no-show is marked by staff before); how many. Rows another caller holds are
        skipped, so concurrent callers never complete a visit twice."""
        async with self._uow() as uow:
            repository = BookingRepository(uow.connection)
            now = self._clock.now()
            ended = await repository.lock_ended(now, limit)
            if not ended:
                return 0
            catalog = await self._catalogs.current(uow.connection)
            actor = Actor.system("visit ended")
            for booking in ended:
                completed = replace(booking, status=BookingStatus.COMPLETED)
                await repository.set_status(booking.id, BookingStatus.COMPLETED, now)
                await self._changed(
                    repository,
                    catalog,
                    BookingAction.COMPLETED,
                    actor,
                    now,
                    before=booking,
                    after=completed,
                )
            await uow.commit()
            return len(ended)

    async def reschedule(
        self,
        booking_id: int,
        new_start: datetime,
        actor: Actor,
        *,
        staff_key: str | None = None,
        check: BookingCheck | None = None,
    ) -> Booking:
        """Move a confirmed booking atomically: the old time is freed only if the new is taken.

        The booking keeps its staff member unless ``staff_key`` names another. ``check``
        sees the booking under its lock first.
        """
        new_start = to_utc(new_start)
        # A concurrent reschedule may hand the booking to a staff member we did not lock.
        return await _settled(
            lambda: self._try_reschedule(booking_id, new_start, actor, staff_key, check),
            new_start,
        )

    async def _try_reschedule(
        self,
        booking_id: int,
        new_start: datetime,
        actor: Actor,
        staff_key: str | None,
        check: BookingCheck | None,
    ) -> Booking | None:
        async with self._uow() as uow:
            repository = BookingRepository(uow.connection)
            catalog = await self._catalogs.current(uow.connection)
            now = self._clock.now()
            seen = await self._owned(repository, booking_id, actor)
            require_status(seen, "reschedule", BookingStatus.CONFIRMED)
            check_customer_cutoff(
                seen, actor, now, catalog.salon.policies.customer_reschedule_cutoff, "rescheduled"
            )
            target = catalog.member(staff_key or seen.staff_key)
            if not target.performs(seen.service_key):
                raise StaffDoesNotPerform(target.key, seen.service_key)
            staff_ids = await repository.lock_staff({seen.staff_key, target.key})
            if await self._catalogs.current(uow.connection) is not catalog:
                return None  # a catalog load committed while we waited: start over
            # Re-read under the locks: a concurrent change may have moved or cancelled it.
            current = await self._owned(repository, booking_id, actor, lock=True)
            if current.staff_key not in staff_ids:
                return None
            if check is not None:
                check(current)
            require_status(current, "reschedule", BookingStatus.CONFIRMED)
            day = local_day(new_start, catalog)
            busy = await busy_by_staff(
                repository,
                self._external,
                {target.key: staff_ids[target.key]},
                local_days_window(catalog, day, day),
                now,
                ignore_booking=booking_id,
            )
            rules = _rules_for(catalog, actor)
            slot = find_slot(
                rules, current.service_key, target.key, new_start, now, busy[target.key]
            )
            moved = None
            if slot is not None:
                found = slot
                done = await _write_or_sweep(
                    repository,
                    now,
                    staff_ids[target.key],
                    lambda: repository.move(booking_id, found, staff_ids[target.key], now),
                )
                if done is not None:
                    moved = replace(
                        current,
                        staff_key=target.key,
                        start=slot.start,
                        end=slot.end,
                        customer_confirmed_at=None,
                        version=current.version + 1,
                    )
            if moved is not None:
                await self._changed(
                    repository,
                    catalog,
                    BookingAction.RESCHEDULED,
                    actor,
                    now,
                    before=current,
                    after=moved,
                )
                await uow.commit()
                return moved
        raise self._refusal(
            _rules_for(catalog, actor), current.service_key, [target], new_start, now, busy
        )

    async def _take(
        self,
        service_key: str,
        start: datetime,
        actor: Actor,
        staff_key: str | None,
        customer_id: int | None,
        *,
        hold: bool,
        customer_for: CustomerFor | None = None,
        request_key: str | None = None,
    ) -> Booking:
        start = to_utc(start)
        if actor.kind is ActorKind.CUSTOMER and str(customer_id) != actor.ref:
            raise ValueError("a customer books only for themselves")
        return await _settled(
            lambda: self._try_take(
                service_key,
                start,
                actor,
                staff_key,
                customer_id,
                hold=hold,
                customer_for=customer_for,
                request_key=request_key,
            ),
            start,
        )

    async def _try_take(
        self,
        service_key: str,
        start: datetime,
        actor: Actor,
        staff_key: str | None,
        customer_id: int | None,
        *,
        hold: bool,
        customer_for: CustomerFor | None = None,
        request_key: str | None = None,
    ) -> Booking | None:
        request = BookingRequest(service_key, start, staff_key, customer_id, customer_for)
        async with self._uow() as uow:
            repository = BookingRepository(uow.connection)

            async def made_already() -> Booking | None:
                if request_key is None:
                    return None
                return await request.was_made_as(repository, request_key)

            # A request sent again finds its booking before anything is checked or locked:
            # its slot is taken (by itself), and the catalog may have changed since.
            if made := await made_already():
                return made
            catalog = await self._catalogs.current(uow.connection)
            service = catalog.service(service_key)
            candidates = self._candidates(catalog, service_key, staff_key)
            staff_ids = await repository.lock_staff(m.key for m in candidates)
            if await self._catalogs.current(uow.connection) is not catalog:
                return None
            # Again under the locks: the same request sent at once by another transaction
            # that held them first has committed its booking by now.
            if made := await made_already():
                return made
            candidates = [m for m in candidates if m.key in staff_ids]
            now = self._clock.now()
            day = local_day(start, catalog)
            window = local_days_window(catalog, day, day)
            busy = await busy_by_staff(repository, self._external, staff_ids, window, now)
            ordered = await self._least_booked_first(
                repository, catalog, candidates, staff_ids, start, now
            )
            status = BookingStatus.HELD if hold else BookingStatus.CONFIRMED
            expires = now + catalog.salon.policies.hold_ttl if hold else None
            for member in ordered:
                slot = find_slot(
                    _rules_for(catalog, actor),
                    service_key,
                    member.key,
                    start,
                    now,
                    busy[member.key],
                )
                if slot is None:
                    continue
                if customer_for is not None and customer_id is None:
                    customer_id = await customer_for(uow.connection, now)
                new = NewBooking(
                    customer_id, service_key, slot, status, service.price, expires, request_key
                )
                try:
                    booking_id = await _write_or_sweep(
                        repository,
                        now,
                        staff_ids[member.key],
                        lambda: repository.add(new, staff_ids[member.key], now),  # noqa: B023
                    )
                except RequestKeyUsed:
                    # The same key's request, made at once with other staff locked, won
                    # the unique index (it waited for the winner's commit): answer the
                    # winner's booking, and roll back what this one did (a customer added).
                    if made := await made_already():
                        return made
                    raise
                if booking_id is None:
                    continue
                booking = Booking(
                    booking_id,
                    customer_id,
                    service_key,
                    member.key,
                    slot.start,
                    slot.end,
                    status,
                    expires,
                )
                await self._changed(
                    repository,
                    catalog,
                    BookingAction.HELD if hold else BookingAction.BOOKED,
                    actor,
                    now,
                    before=None,
                    after=booking,
                )
                await uow.commit()
                return booking
        # Refused: the locks are released before the alternatives are worked out, so a
        # crowd of losers does not queue behind each other's arithmetic.
        raise self._refusal(_rules_for(catalog, actor), service_key, candidates, start, now, busy)

    @staticmethod
    def _candidates(catalog: Catalog, service_key: str, staff_key: str | None) -> list[Staff]:
        if staff_key is None:
            return catalog.staff_for(service_key)
        member = catalog.member(staff_key)
        if not member.performs(service_key):
            raise StaffDoesNotPerform(staff_key, service_key)
        return [member]

    async def _owned(
        self, repository: BookingRepository, booking_id: int, actor: Actor, *, lock: bool = False
    ) -> Booking:
        """The booking, if the actor may act on it: a customer sees only their own."""
        booking = await repository.get(booking_id, for_update=lock)
        if booking is None or (
            actor.kind is ActorKind.CUSTOMER and str(booking.customer_id) != actor.ref
        ):
            raise BookingNotFound(booking_id)
        return booking

    async def _least_booked_first(
        self,
        repository: BookingRepository,
        catalog: Catalog,
        candidates: list[Staff],
        staff_ids: dict[str, int],
        start: datetime,
        now: datetime,
    ) -> list[Staff]:
        if len(candidates) < 2:
            return candidates
        span = local_day_span(catalog, local_day(start, catalog))
        counts = await repository.active_count_between(
            list(staff_ids.values()), span.start, span.end, now
        )
        order = {m.key: i for i, m in enumerate(catalog.staff.values())}
        return sorted(candidates, key=lambda m: (counts.get(staff_ids[m.key], 0), order[m.key]))

    def _refusal(
        self,
        catalog: Catalog,
        service_key: str,
        candidates: list[Staff],
        start: datetime,
        now: datetime,
        busy: dict[str, list[Interval]],
    ) -> DomainError:
        """Why ``start`` could not be taken: taken (with alternatives) or never offered."""
        policies = catalog.salon.policies
        if start < now + policies.min_notice:
            return SlotNotOffered(start, "too soon: below the salon's minimum notice")
        if start > now + policies.booking_horizon:
            return SlotNotOffered(start, "too far ahead: beyond the booking horizon")
        offered_when_free = any(
            find_slot(catalog, service_key, m.key, start, now, ()) is not None for m in candidates
        )
        if not offered_when_free:
            return SlotNotOffered(start, "not a start time the salon offers for this service")
        day = local_day(start, catalog)
        slots = [
            slot
            for member in candidates
            for slot in free_slots(
                catalog,
                SlotQuery(
                    service_key, day - timedelta(days=1), day + timedelta(days=1), member.key
                ),
                now,
                busy,
            )
        ]
        alternatives = [
            Alternative(s.staff_key, s.start) for s in nearest(slots, start, ALTERNATIVES)
        ]
        return SlotTaken(start, alternatives)
