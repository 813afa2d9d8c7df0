"""Calendar pushes: a staff member's linked calendar (Google Calendar) follows their bookings.

A ``BookingFollower``: in the change's own transaction it only queues rows in
``calendar_pushes`` (``core.services.calendar_pusher`` calls the calendar later, outside
any transaction), so a calendar that fails never holds a booking back. A booking made
(confirmed, or booked in one step) is put; a move is put again (same staff member), or
removed from the old member's calendar and put on the new one's; a cancel or a no-show is
removed. Holds are never pushed (a hold let go was never there). Only staff members with a
calendar are pushed to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.calendar_push_repository import CalendarPushRepository
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Booking, BookingStatus
from core.domain.catalog import Catalog
from core.linked_calendars.ports import EventDraft, event_id
from core.services.booking_changes import BookingAction, BookingChange

log = logging.getLogger(__name__)

CalendarOfStaff = Callable[[Catalog, str], str | None]
"""The linked calendar id of a staff member (by key) in the catalog; None: none linked."""


def calendar_in_catalog(catalog: Catalog, staff_key: str) -> str | None:
    """The staff member's ``google_calendar`` in the catalog, when the catalog has one."""
    member = catalog.staff.get(staff_key)
    calendar = getattr(member, "google_calendar", None)
    return calendar if isinstance(calendar, str) and calendar else None


_PUT = frozenset({BookingAction.BOOKED, BookingAction.CONFIRMED})
_REMOVE = frozenset({BookingAction.CANCELLED, BookingAction.NO_SHOW})


class CalendarPushes:
    """The ``BookingFollower`` that queues calendar pushes."""

    def __init__(self, calendar_of: CalendarOfStaff = calendar_in_catalog) -> None:
        self._calendar_of = calendar_of

    async def booking_changed(
        self, connection: AsyncConnection, catalog: Catalog, change: BookingChange
    ) -> None:
        after, before = change.after, change.before
        # (staff key, put or remove), in the order they must go.
        moves: list[tuple[str, bool]] = []
        if change.action in _PUT or (
            # A no-show corrected to completed: the visit is back on the calendar.
            change.action is BookingAction.COMPLETED
            and before is not None
            and before.status is BookingStatus.NO_SHOW
        ):
            moves.append((after.staff_key, True))
        elif change.action in _REMOVE and (
            before is None or before.status is not BookingStatus.HELD
        ):
            moves.append((after.staff_key, False))
        elif change.action is BookingAction.RESCHEDULED and before is not None:
            if before.staff_key != after.staff_key:
                moves.append((before.staff_key, False))
            moves.append((after.staff_key, True))
        repository = CalendarPushRepository(connection)
        planned: list[tuple[str, str, bool]] = []
        for key, put in moves:
            # A remove goes where the event was put: the staff member's calendar may have
            # changed in the catalog since, or been taken out of it.
            calendar = None if put else await repository.last_put_calendar(after.id, key)
            calendar = calendar or self._calendar_of(catalog, key)
            if calendar is not None:
                planned.append((key, calendar, put))
        if not planned:
            return
        event = None
        for key, calendar, put in planned:
            if put and event is None:
                event = await draft(connection, catalog, after)
            await repository.add(after.id, key, calendar, event if put else None, change.at)
        log.info(
            "calendar push of booking %d (%s) queued: %d",
            after.id,
            change.action.value,
            len(planned),
        )


async def draft(connection: AsyncConnection, catalog: Catalog, booking: Booking) -> EventDraft:
    """The booking as an event: the service and the customer's first name; the phone when
    known, the channel and the booking's reference below."""
    language = catalog.salon.default_language
    service = catalog.services.get(booking.service_key)
    what = service.name(language) if service is not None else booking.service_key
    lines: list[str] = []
    first_name = ""
    if booking.customer_id is not None:
        profile = await CustomerRepository(connection).get(booking.customer_id)
        names = profile.name.split()
        first_name = names[0] if names else ""
        if profile.phone:
            lines.append(profile.phone)
        channel = await CalendarPushRepository(connection).channel_of(booking.customer_id)
        if channel is not None:
            lines.append(channel)
    lines.append(f"salonbot #{booking.id}")
    return EventDraft(
        event_id=event_id(booking.id),
        booking_id=booking.id,
        summary=f"{what}: {first_name}" if first_name else what,
        description="\n".join(lines),
        start=booking.start,
        end=booking.end,
        time_zone=catalog.salon.zone.key,
    )
