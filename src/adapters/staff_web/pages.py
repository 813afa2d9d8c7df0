"""The calendar pages: ``/staff/`` (today), ``/staff/day/{date}``, ``/staff/week/{staff}/{date}``.

Each page is one call to the ``Calendar`` port and one render; a date that is not
``YYYY-MM-DD`` or a staff member the catalog does not know is a 404 page, never a 500.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies
# (closures over ``side``) as objects, not as names it cannot resolve.
import re
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse

from adapters.staff_web.grid import day_grid, week_grid
from adapters.staff_web.linked_words import LinkedWords
from adapters.staff_web.side import StaffSide
from adapters.staff_web.words import PageWords
from core.calendar.linked import LinkedCalendarNotices
from core.calendar.ports import SignedIn
from core.calendar.roles import may_edit
from core.domain.errors import UnknownStaff

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Far enough for any salon's planning, near enough that navigation never overflows.
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


def parse_day(text: str) -> date | None:
    if not DATE.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


def add_pages_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type

    def not_found(words: PageWords) -> HTMLResponse:
        return side.page("not_found.html", words, 404)

    async def day_page(signed: SignedIn, day: date) -> HTMLResponse:
        words = PageWords(signed.user.language)
        view = await side.calendar.day(day)
        linked = LinkedCalendarNotices()
        if side.linked is not None:
            linked = await side.linked.notices(signed.user)
        return side.page(
            "day.html",
            words,
            view=view,
            linked=linked,
            g=LinkedWords(words.language, view.zone),
            may_dismiss=lambda staff_key: may_edit(signed.user, staff_key),
            grid=day_grid(view),
            user=signed.user,
            csrf=signed.csrf,
            today=view.now.astimezone(view.zone).date(),
            previous=day - timedelta(days=1),
            next=day + timedelta(days=1),
        )

    @router.get("/")
    async def today(signed: Session) -> HTMLResponse:
        """The salon's day today."""
        return await day_page(signed, await side.today())

    @router.get("/day/{day}")
    async def day(signed: Session, day: str) -> HTMLResponse:
        """The salon's local day ``YYYY-MM-DD``: a column per staff member."""
        asked = parse_day(day)
        if asked is None:
            return not_found(PageWords(signed.user.language))
        return await day_page(signed, asked)

    @router.get("/week/{staff_key}/{day}")
    async def week(signed: Session, staff_key: str, day: str) -> HTMLResponse:
        """``staff_key``'s local week (Monday to Sunday) containing ``day``."""
        words = PageWords(signed.user.language)
        asked = parse_day(day)
        if asked is None or len(staff_key) > 100:
            return not_found(words)
        try:
            view = await side.calendar.week(staff_key, asked)
        except UnknownStaff:
            return not_found(words)
        monday = asked - timedelta(days=asked.weekday())
        return side.page(
            "week.html",
            words,
            view=view,
            grid=week_grid(view),
            user=signed.user,
            csrf=signed.csrf,
            title=words.week_title(view.staff_name, monday),
            today=view.now.astimezone(view.zone).date(),
            previous=monday - timedelta(days=7),
            next=monday + timedelta(days=7),
        )
