"""One booking: ``GET /staff/booking/{id}`` (``?part=dialog``: the same as a fragment for
the day view's dialog), drawn with the actions the signed-in user's role allows
(``core.calendar.roles``); ``booking_actions`` takes them.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies.
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from adapters.staff_web.desk_words import DONE_KEYS, DeskWords
from adapters.staff_web.forms import parse_id
from adapters.staff_web.refusals import Refusal, refusal
from adapters.staff_web.security import PREFIX
from adapters.staff_web.side import StaffSide
from core.calendar.desk import MAX_REASON, BookingDetail
from core.calendar.ports import SignedIn
from core.calendar.roles import may_edit
from core.domain.booking import BookingStatus
from core.domain.errors import DomainError

ACTIVE = frozenset({BookingStatus.HELD, BookingStatus.CONFIRMED})


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


def booking_path(booking_id: int, done: str = "") -> str:
    return f"{PREFIX}/booking/{booking_id}" + (f"?done={done}" if done else "")


@dataclass
class BookingPages:
    """Drawing one booking's page, for the page itself and for its actions' answers."""

    side: StaffSide

    async def offer(self, signed: SignedIn, detail: BookingDetail) -> Offer:
        block = detail.block
        mine = may_edit(signed.user, detail.staff_key)
        move = mine and block.status is BookingStatus.CONFIRMED
        staff: tuple[tuple[str, str], ...] = ((detail.staff_key, detail.staff_name),)
        if move and signed.user.staff_key != detail.staff_key:
            # Only the owner hands a booking to a colleague: every column of that day.
            day = await self.side.calendar.day(block.start.astimezone(detail.zone).date())
            staff = tuple((c.staff_key, c.staff_name) for c in day.columns) or staff
        return Offer(
            mine,
            move=move,
            cancel=mine and block.status in ACTIVE,
            mark=mine and block.start <= detail.now and block.status is BookingStatus.CONFIRMED,
            staff=staff,
        )

    async def show(
        self,
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
        return self.side.page(
            "booking_dialog.html" if dialog else "booking.html",
            words,
            status_code,
            d=detail,
            b=detail.block,
            zone=detail.zone,
            day=local.date(),
            offer=await self.offer(signed, detail),
            user=signed.user,
            csrf=signed.csrf,
            problem=problem,
            done=words.done(done) if done in DONE_KEYS else "",
            typed=typed,
            max_reason=MAX_REASON,
        )

    def missing(self, signed: SignedIn) -> HTMLResponse:
        return self.side.page("not_found.html", DeskWords(signed.user.language), 404)

    async def detail(self, signed: SignedIn, booking_id: str) -> BookingDetail | None:
        """The booking an address names, or None (not an id, or no such booking)."""
        number = parse_id(booking_id)
        if number is None:
            return None
        try:
            return await self.side.desk.booking(number)
        except DomainError as error:
            if refusal(error, DeskWords(signed.user.language)) is None:
                raise
            return None


def add_booking_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type
    pages = BookingPages(side)

    @router.get("/booking/{booking_id}")
    async def booking(
        signed: Session, booking_id: str, part: str = "", done: str = ""
    ) -> HTMLResponse:
        """A booking: its details, customer, history and the actions the user may take."""
        detail = await pages.detail(signed, booking_id)
        if detail is None:
            return pages.missing(signed)
        return await pages.show(signed, detail, done=done[:20], dialog=part == "dialog")
