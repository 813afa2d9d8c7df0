"""The customer book: ``GET /staff/customers?q=`` (search by name or phone) and
``GET /staff/customers/{id}`` (a customer's visits, cancellations and no-shows).

Read-only: any signed-in user may look. A search too long is told so, never a 500.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies.
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from adapters.staff_web.desk_words import DeskWords
from adapters.staff_web.forms import bounded, parse_id
from adapters.staff_web.refusals import Refusal, refusal
from adapters.staff_web.side import StaffSide
from core.calendar.desk import MAX_SEARCH, CustomerCard
from core.calendar.ports import SignedIn
from core.domain.errors import DomainError

SHOWN = 50


def add_customers_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type

    @router.get("/customers")
    async def customers(signed: Session, q: str = "") -> HTMLResponse:
        """Customers whose name or phone matches ``q``."""
        words = DeskWords(signed.user.language)
        text = bounded(q, MAX_SEARCH + 1)
        found: list[CustomerCard] = []
        problem: Refusal | None = None
        if text.strip():
            try:
                found = await side.customers.find(text, SHOWN)
            except DomainError as error:
                if (problem := refusal(error, words)) is None:
                    raise
        return side.page(
            "customers.html",
            words,
            problem.status if problem else 200,
            q=text,
            found=found,
            problem=problem,
            user=signed.user,
            csrf=signed.csrf,
            max_search=MAX_SEARCH,
        )

    @router.get("/customers/{customer_id}")
    async def customer(signed: Session, customer_id: str) -> HTMLResponse:
        """A customer's card and visits, newest first, with the counts."""
        words = DeskWords(signed.user.language)
        number = parse_id(customer_id)
        if number is None:
            return side.page("not_found.html", words, 404)
        try:
            seen = await side.customers.visits(number)
        except DomainError as error:
            if refusal(error, words) is None:
                raise
            return side.page("not_found.html", words, 404)
        return side.page(
            "customer.html",
            words,
            c=seen.customer,
            seen=seen,
            zone=seen.zone,
            user=signed.user,
            csrf=signed.csrf,
        )
