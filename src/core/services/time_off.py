"""Staff time off: a span in which a staff member takes no bookings."""

from __future__ import annotations

from core.catalog.values import is_key
from core.db.booking_repository import BookingRepository
from core.db.time_off_repository import TimeOffRepository
from core.db.unit_of_work import UnitOfWorkFactory
from core.domain.booking import Actor
from core.domain.errors import TimeOffConflict, UnknownStaff
from core.domain.timeline import Interval, to_utc
from core.ports import Clock


class AddTimeOff:
    """Block a staff member's time. Refused while active bookings sit in it, so nothing is
    silently orphaned: staff move or cancel those first. Takes the staff lock, so no booking
    can slip in between the check and the insert."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock

    async def __call__(self, staff_key: str, span: Interval, actor: Actor, reason: str = "") -> int:
        span = Interval(to_utc(span.start), to_utc(span.end))
        if span.start >= span.end:
            raise ValueError("time off must end after it starts")
        if not is_key(staff_key):  # a forged key (a NUL in it, say) never reaches a query
            raise UnknownStaff(staff_key[:100])
        async with self._uow() as uow:
            staff_ids = await BookingRepository(uow.connection).lock_staff([staff_key])
            if staff_key not in staff_ids:
                raise UnknownStaff(staff_key)
            repository = TimeOffRepository(uow.connection)
            now = self._clock.now()
            clashes = await repository.clashing_bookings(staff_ids[staff_key], span, now)
            if clashes:
                raise TimeOffConflict(staff_key, clashes)
            created_by = f"{actor.kind.value}:{actor.ref}" if actor.ref else actor.kind.value
            time_off_id = await repository.add(staff_ids[staff_key], span, reason, created_by, now)
            await uow.commit()
            return time_off_id
