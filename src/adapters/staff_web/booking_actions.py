"""A booking's actions: ``POST /staff/booking/{id}/move``, ``.../cancel``, ``.../mark``.

Each reads a form checked against the session's CSRF token, within bounds, and calls the
desk once; the desk refuses what the user's role does not allow (``NotAllowed``: a 403
page with the message), whatever the page offered. Each form carries the booking's
version as the page showed it: a booking moved since is not acted on blind (a courtesy
check before the call; the desk's locks and rules are what keep the calendar right).
Done: 303 back to the page with a note; refused: the page again, with the message and
the form as typed.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies.
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from adapters.staff_web.booking_page import BookingPages, Typed, booking_path
from adapters.staff_web.desk_words import DeskWords
from adapters.staff_web.forms import bounded, parse_clock, signed_form
from adapters.staff_web.pages import parse_day
from adapters.staff_web.refusals import Refusal, bad_input, refusal
from adapters.staff_web.side import StaffSide
from core.calendar.desk import MAX_REASON, BookingDetail
from core.calendar.ports import SignedIn
from core.domain.booking import BookingStatus
from core.domain.errors import DomainError, VisitMoved

OUTCOMES = {"completed": BookingStatus.COMPLETED, "no_show": BookingStatus.NO_SHOW}

# An action: the typed form in, the ``done`` key out (or a refusal of what was typed).
Action = Callable[[SignedIn, BookingDetail, Typed, DeskWords], Awaitable[str | Refusal]]


def add_booking_actions(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type
    pages = BookingPages(side)

    async def act(request: Request, signed: SignedIn, booking_id: str, action: Action) -> Response:
        """Read the form, check it against the booking as it is, run ``action``."""
        fields = await signed_form(request, signed)
        detail = await pages.detail(signed, booking_id)
        if detail is None:
            return pages.missing(signed)
        words = DeskWords(signed.user.language)
        typed = Typed(
            bounded(fields.get("day"), 10),
            bounded(fields.get("at"), 5),
            bounded(fields.get("staff"), 100),
            bounded(fields.get("reason"), MAX_REASON + 1),
            fields,
        )
        try:
            if fields.get("version") != str(detail.block.version):
                raise VisitMoved(detail.block.id, detail.block.version)
            result = await action(signed, detail, typed, words)
        except DomainError as error:
            problem = refusal(error, words)
            if problem is None:
                raise
            now = await pages.detail(signed, booking_id) or detail
            return await pages.show(
                signed, now, status_code=problem.status, problem=problem, typed=typed
            )
        if isinstance(result, Refusal):
            return await pages.show(
                signed, detail, status_code=result.status, problem=result, typed=typed
            )
        return RedirectResponse(booking_path(detail.block.id, result), status_code=303)

    async def move(
        signed: SignedIn, detail: BookingDetail, typed: Typed, w: DeskWords
    ) -> str | Refusal:
        day, at = parse_day(typed.day), parse_clock(typed.at)
        if day is None:
            return bad_input(w.bad_day)
        if at is None:
            return bad_input(w.bad_time)
        start = await side.desk.instant(day, at)
        await side.desk.move(signed.user, detail.block.id, start, typed.staff or None)
        return "moved"

    async def cancel(
        signed: SignedIn, detail: BookingDetail, typed: Typed, w: DeskWords
    ) -> str | Refusal:
        await side.desk.cancel(signed.user, detail.block.id, typed.reason)
        return "cancelled"

    async def mark(
        signed: SignedIn, detail: BookingDetail, typed: Typed, w: DeskWords
    ) -> str | Refusal:
        outcome = OUTCOMES.get(typed.extra.get("outcome", ""))
        if outcome is None:
            return bad_input(w.bad_request)
        await side.desk.mark(signed.user, detail.block.id, outcome)
        return outcome.value

    @router.post("/booking/{booking_id}/move")
    async def move_booking(request: Request, signed: Session, booking_id: str) -> Response:
        """Move to another local day and time (and staff member, the owner's call)."""
        return await act(request, signed, booking_id, move)

    @router.post("/booking/{booking_id}/cancel")
    async def cancel_booking(request: Request, signed: Session, booking_id: str) -> Response:
        """Cancel with a reason; the customer is told in their chat."""
        return await act(request, signed, booking_id, cancel)

    @router.post("/booking/{booking_id}/mark")
    async def mark_booking(request: Request, signed: Session, booking_id: str) -> Response:
        """Mark a visit that has started completed or no-show."""
        return await act(request, signed, booking_id, mark)
