"""One booking: ``GET /staff/booking/{id}`` (``?part=dialog``: the same as a fragment for
the day view's dialog) and its actions, ``POST .../move``, ``.../cancel``, ``.../mark``.

The page offers only what the signed-in user's role allows (``core.calendar.roles``); the
desk refuses the rest anyway (``NotAllowed``: a 403 page with the message). Each POST
carries the booking's version as the page showed it: a booking moved meanwhile is not
acted on blind. Done: 303 back to the page with a note; refused: the page again, with
the message and the form as it was typed.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies.
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.staff_web.desk_words import DONE_KEYS, DeskWords
from adapters.staff_web.forms import bounded, parse_clock, parse_id, signed_form
from adapters.staff_web.pages import parse_day
from adapters.staff_web.refusals import Refusal, bad_input, refusal
from adapters.staff_web.security import PREFIX
from adapters.staff_web.side import StaffSide
from core.calendar.desk import MAX_REASON, BookingDetail
from core.calendar.ports import SignedIn
from core.calendar.roles import may_edit
from core.domain.booking import BookingStatus
from core.domain.errors import DomainError, VisitMoved

OUTCOMES = {"completed": BookingStatus.COMPLETED, "no_show": BookingStatus.NO_SHOW}
MOVABLE = frozenset({BookingStatus.HELD, BookingStatus.CONFIRMED})


@dataclass(frozen=True, slots=True)
class Offer:
    """What the page offers the signed-in user on one booking."""

    may_edit: bool
    move: bool
    cancel: bool
    mark: bool
    staff: tuple[tuple[str, str], ...] = ()  # (key, name) a move may go to


@dataclass
class Typed:
    """The move and cancel forms' fields as the user sent them (kept on a refusal)."""

    day: str = ""
    at: str = ""
    staff: str = ""
    reason: str = ""
    extra: dict[str, str] = field(default_factory=dict)


# An action on a booking: the typed form in, the ``done`` key out (or a refusal of the input).
Action = Callable[[SignedIn, BookingDetail, Typed, DeskWords], Awaitable["str | Refusal"]]


def booking_path(booking_id: int, done: str = "") -> str:
    return f"{PREFIX}/booking/{booking_id}" + (f"?done={done}" if done else "")


def add_booking_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type

    async def offer(signed: SignedIn, detail: BookingDetail) -> Offer:
        block = detail.block
        mine = may_edit(signed.user, detail.staff_key)
        active = block.status in MOVABLE
        move = mine and block.status is BookingStatus.CONFIRMED
        staff: tuple[tuple[str, str], ...] = ((detail.staff_key, detail.staff_name),)
        if move and signed.user.staff_key != detail.staff_key:
            # Only the owner hands a booking to a colleague: every column of that day.
            day = await side.calendar.day(block.start.astimezone(detail.zone).date())
            staff = tuple((c.staff_key, c.staff_name) for c in day.columns) or staff
        started = block.start <= detail.now
        return Offer(
            mine,
            move=move,
            cancel=mine and active,
            mark=mine and started and block.status is BookingStatus.CONFIRMED,
            staff=staff,
        )

    async def show(
        signed: SignedIn,
        detail: BookingDetail,
        *,
        status_code: int = 200,
        problem: Refusal | None = None,
        done: str = "",
        typed: Typed | None = None,
        dialog: bool = False,
    ) -> HTMLResponse:
        words = DeskWords(signed.user.language)
        local = detail.block.start.astimezone(detail.zone)
        typed = typed or Typed(local.date().isoformat(), local.strftime("%H:%M"), detail.staff_key)
        return side.page(
            "booking_dialog.html" if dialog else "booking.html",
            words,
            status_code,
            d=detail,
            b=detail.block,
            zone=detail.zone,
            day=local.date(),
            offer=await offer(signed, detail),
            user=signed.user,
            csrf=signed.csrf,
            problem=problem,
            done=words.done(done) if done in DONE_KEYS else "",
            typed=typed,
            max_reason=MAX_REASON,
        )

    def missing(signed: SignedIn) -> HTMLResponse:
        return side.page("not_found.html", DeskWords(signed.user.language), 404)

    @router.get("/booking/{booking_id}")
    async def booking(
        signed: Session, booking_id: str, part: str = "", done: str = ""
    ) -> HTMLResponse:
        """A booking: its details, customer, history and the actions the user may take."""
        number = parse_id(booking_id)
        if number is None:
            return missing(signed)
        try:
            detail = await side.desk.booking(number)
        except DomainError as error:
            if refusal(error, DeskWords(signed.user.language)) is None:
                raise
            return missing(signed)
        return await show(signed, detail, done=done[:20], dialog=part == "dialog")

    async def act(
        request: Request,
        signed: SignedIn,
        booking_id: str,
        action: Action,
    ) -> Response:
        """Read the form, check it against the booking as it is, run ``action``."""
        fields = await signed_form(request, signed)
        number = parse_id(booking_id)
        if number is None:
            return missing(signed)
        words = DeskWords(signed.user.language)
        try:
            detail = await side.desk.booking(number)
        except DomainError as error:
            if refusal(error, words) is None:
                raise
            return missing(signed)
        typed = Typed(
            bounded(fields.get("day"), 10),
            bounded(fields.get("at"), 5),
            bounded(fields.get("staff"), 100),
            bounded(fields.get("reason"), MAX_REASON + 1),
            fields,
        )
        try:
            if fields.get("version") != str(detail.block.version):
                raise VisitMoved(number, detail.block.version)
            result = await action(signed, detail, typed, words)
        except DomainError as error:
            found = refusal(error, words)
            if found is None:
                raise
            detail = await side.desk.booking(number)
            return await show(signed, detail, status_code=found.status, problem=found, typed=typed)
        if isinstance(result, Refusal):
            return await show(
                signed, detail, status_code=result.status, problem=result, typed=typed
            )
        return RedirectResponse(booking_path(number, result), status_code=303)

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
