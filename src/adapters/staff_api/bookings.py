"""The bookings: ``GET /bookings?date=`` (the salon's day), ``GET /bookings/{id}``, and the
front desk's actions: ``POST /bookings`` (a walk-in), ``.../move``, ``.../cancel``,
``.../status``.

``POST /bookings`` takes an ``Idempotency-Key`` header: the walk-in sent again with it
(a client's retry after a lost answer) answers the booking it made, 201 again with the
booking as it is now, and books nothing; the key with a different walk-in is 409
``request_key_reused``.

Each route is one call to a port; who may do what is the core's rule (a refusal is a
``DomainError``, answered by ``problems.refusal``). A change answers the booking as it is
after it, in the shape of ``GET /bookings/{id}``.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies
# (closures over ``side``) as objects, not as names it cannot resolve.
from typing import Annotated

from fastapi import Body, Depends, FastAPI, Header, Path, Query, Request, Response

from adapters.staff_api.answers import BookingDetailOut, DayOut
from adapters.staff_api.bodies import (
    MAX_ID,
    REQUEST_KEY_PATTERN,
    CancelBody,
    Day,
    MoveBody,
    StatusBody,
    WalkInBody,
)
from adapters.staff_api.problems import SIGNED_IN, documented
from adapters.staff_api.sessions import session_of
from adapters.staff_api.side import ApiSide
from core.calendar.desk import NewCustomer
from core.calendar.ports import SignedIn
from core.domain.booking import Booking, BookingStatus

BookingId = Annotated[int, Path(ge=1, le=MAX_ID, description="The booking's id.")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=REQUEST_KEY_PATTERN,
        description="A key the client picks at random for this walk-in (16 to 64 of "
        "`A-Z a-z 0-9 _ -`). Sent again with the same walk-in, the booking it made is "
        "answered (201, as it is now) and nothing more is booked, even when both arrive "
        "at once; with a different walk-in it is 409 `request_key_reused`.",
    ),
]


def add_booking_routes(api: FastAPI, side: ApiSide) -> None:
    Session = Annotated[SignedIn, Depends(session_of(side))]  # noqa: N806 - a type

    async def as_now(booking: Booking) -> BookingDetailOut:
        return BookingDetailOut.of(await side.desk.booking(booking.id))

    @api.get("/bookings", responses=documented(*SIGNED_IN, 409))
    async def day(
        _: Session,
        day: Annotated[Day, Query(alias="date", description="The salon's local date.")],
    ) -> DayOut:
        """The salon's local day: a column per staff member with their bookings and the
        time they cannot be booked (the day page's data)."""
        return DayOut.of(await side.calendar.day(day))

    @api.get("/bookings/{booking_id}", responses=documented(*SIGNED_IN, 404, 409))
    async def booking(_: Session, booking_id: BookingId) -> BookingDetailOut:
        """One booking with its customer and its history, oldest change first."""
        return BookingDetailOut.of(await side.desk.booking(booking_id))

    changes = documented(*SIGNED_IN, 403, 404, 409, 413)

    @api.post("/bookings", status_code=201, responses=changes)
    async def walk_in(
        signed: Session,
        body: Annotated[WalkInBody, Body()],
        request: Request,
        response: Response,
        idempotency_key: IdempotencyKey = None,
    ) -> BookingDetailOut:
        """Book a walk-in or phone customer (a known one by id, or a new one), confirmed
        at once. A staff member books with themselves; the owner with anyone. With an
        `Idempotency-Key`, a retry books nothing more: it answers the booking the key made."""
        customer = (
            body.customer
            if isinstance(body.customer, int)
            else NewCustomer(body.customer.name, body.customer.phone)
        )
        made = await side.desk.walk_in(
            signed.user, body.service, body.staff, body.start, customer, idempotency_key
        )
        response.headers["Location"] = f"{request.scope.get('root_path', '')}/bookings/{made.id}"
        return await as_now(made)

    @api.post("/bookings/{booking_id}/move", responses=changes)
    async def move(
        signed: Session, booking_id: BookingId, body: Annotated[MoveBody, Body()]
    ) -> BookingDetailOut:
        """Move a confirmed booking to a new start (and staff member, the owner's call);
        the customer is told in their chat."""
        moved = await side.desk.move(signed.user, booking_id, body.start, body.staff)
        return await as_now(moved)

    @api.post("/bookings/{booking_id}/cancel", responses=changes)
    async def cancel(
        signed: Session, booking_id: BookingId, body: Annotated[CancelBody, Body()]
    ) -> BookingDetailOut:
        """Cancel a booking; the customer is told in their chat, with the reason."""
        return await as_now(await side.desk.cancel(signed.user, booking_id, body.reason))

    @api.post("/bookings/{booking_id}/status", responses=changes)
    async def status(
        signed: Session, booking_id: BookingId, body: Annotated[StatusBody, Body()]
    ) -> BookingDetailOut:
        """Record how a visit that has started went: completed or a no-show."""
        marked = await side.desk.mark(signed.user, booking_id, BookingStatus(body.status))
        return await as_now(marked)
