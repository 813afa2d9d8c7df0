"""What the desk looks up before it acts: ``GET /availability`` (free starts of a service
on a day) and ``GET /customers?q=`` (customers by name or phone)."""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies
# (closures over ``side``) as objects, not as names it cannot resolve.
from typing import Annotated

from fastapi import Depends, FastAPI, Query

from adapters.staff_api.answers import AvailabilityOut, CustomerOut, FreeStartOut
from adapters.staff_api.bodies import MAX_QUERY, Day, Key
from adapters.staff_api.problems import SIGNED_IN, documented
from adapters.staff_api.sessions import session_of
from adapters.staff_api.side import ApiSide
from core.calendar.ports import SignedIn

MAX_CUSTOMERS = 50


def add_lookup_routes(api: FastAPI, side: ApiSide) -> None:
    Session = Annotated[SignedIn, Depends(session_of(side))]  # noqa: N806 - a type

    @api.get("/availability", responses=documented(*SIGNED_IN, 409))
    async def availability(
        _: Session,
        service: Annotated[Key, Query(description="The service's key.")],
        day: Annotated[Day, Query(alias="date", description="The salon's local date.")],
        staff: Annotated[Key | None, Query(description="Only with this staff member.")] = None,
    ) -> AvailabilityOut:
        """The starts the service can be booked at on the local date (with the staff
        member, or anyone who performs it), earliest first."""
        starts = await side.desk.free_starts(service, staff, day)
        return AvailabilityOut(
            date=day, service=service, staff=staff, starts=[FreeStartOut.of(s) for s in starts]
        )

    @api.get("/customers", responses=documented(*SIGNED_IN))
    async def customers(
        _: Session,
        q: Annotated[
            str,
            Query(
                min_length=1,
                max_length=MAX_QUERY,
                description="Part of a name (any case) or of a phone number.",
            ),
        ],
        limit: Annotated[int, Query(ge=1, le=MAX_CUSTOMERS)] = 20,
    ) -> list[CustomerOut]:
        """Customers whose name contains ``q`` or whose phone contains its digits, the best
        matches first."""
        return [CustomerOut.of(card) for card in await side.customers.find(q, limit)]
