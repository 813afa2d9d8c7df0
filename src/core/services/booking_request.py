"""What a booking request asks for, and the rule that makes a request with a key single-use.

A caller that may send one request twice (a staff form pressed twice, a browser's resend,
an API client's retry) gives it a request key. The first request with a key books; the
same request again answers that booking, as it is now, and books nothing. The key with a
different request is refused (``RequestReused``): the caller reused a key, and nothing it
asked for is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.booking_repository import BookingRepository
from core.domain.booking import Booking
from core.domain.errors import RequestReused


class CustomerFor(Protocol):
    """Who a new booking is for when the caller names them by what was typed, not by id."""

    async def __call__(self, connection: AsyncConnection, at: datetime) -> int:
        """The customer, found or added in the booking's own transaction (over its
        connection, at its ``now``): a refused booking rolls the customer back with it."""
        ...

    async def names(self, connection: AsyncConnection, customer_id: int | None) -> bool:
        """Whether ``customer_id`` is whom this would have found or added: the customer
        of a booking made earlier with the request's key."""
        ...


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """A booking asked for: ``staff_key`` None is anyone free; the customer by id, or by
    ``customer_for``."""

    service_key: str
    start: datetime
    staff_key: str | None
    customer_id: int | None
    customer_for: CustomerFor | None = None

    async def was_made_as(self, repository: BookingRepository, key: str) -> Booking | None:
        """The booking ``key`` made, when it made one for this very request; None when the
        key made none. ``RequestReused`` when it made one for another request.

        Compared with what the booking was made as (its first start and staff member: a
        move since does not make the request a different one)."""
        made = await repository.made_with(key)
        if made is None:
            return None
        booking = made.booking
        same = (
            booking.service_key == self.service_key
            and made.start == self.start
            and self.staff_key in (None, made.staff_key)
        )
        if same and self.customer_for is not None:
            same = await self.customer_for.names(repository.connection, booking.customer_id)
        elif same:
            same = booking.customer_id == self.customer_id
        if not same:
            raise RequestReused(booking.id)
        return booking
