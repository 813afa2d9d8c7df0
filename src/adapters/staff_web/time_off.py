"""A staff member's time off, a week at a time: ``GET /staff/time-off/{staff}/{day}``,
adding (``POST`` the same address) and removing (``POST .../remove``).

Anyone signed in sees it; the owner and the staff member themselves change it (the desk
refuses anyone else: ``NotAllowed``). Time off over a booking is refused with the
bookings in the way, linked. A staff key that is no staff member's (too long, unknown,
with a NUL in it) is the not-found page before anything reaches the desk.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies.
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.staff_web.desk_words import DONE_KEYS, DeskWords
from adapters.staff_web.forms import bounded, parse_clock, parse_id, signed_form
from adapters.staff_web.pages import parse_day
from adapters.staff_web.refusals import Refusal, bad_input, refusal
from adapters.staff_web.security import PREFIX
from adapters.staff_web.side import StaffSide
from core.calendar.desk import MAX_REASON
from core.calendar.ports import SignedIn
from core.calendar.roles import may_edit
from core.domain.errors import DomainError, UnknownStaff

MAX_KEY = 100


@dataclass(frozen=True, slots=True)
class TimeOffForm:
    """The add form as typed (kept on a refusal)."""

    from_day: str = ""
    from_at: str = ""
    to_day: str = ""
    to_at: str = ""
    reason: str = ""

    @classmethod
    def of(cls, fields: dict[str, str]) -> "TimeOffForm":
        return cls(
            bounded(fields.get("from_day"), 10),
            bounded(fields.get("from_at"), 5),
            bounded(fields.get("to_day"), 10),
            bounded(fields.get("to_at"), 5),
            bounded(fields.get("reason"), MAX_REASON + 1),
        )


def time_off_path(staff_key: str, day: date, done: str = "") -> str:
    path = f"{PREFIX}/time-off/{quote(staff_key, safe='')}/{day.isoformat()}"
    return path + (f"?done={done}" if done else "")


def add_time_off_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type

    async def known(staff_key: str) -> bool:
        """Whether ``staff_key`` is a staff member of the catalog (read in memory: a key
        no column can hold never reaches the database)."""
        if len(staff_key) > MAX_KEY:
            return False
        try:
            await side.feeds.staff_name(staff_key)
        except UnknownStaff:
            return False
        return True

    async def page(
        signed: SignedIn,
        staff_key: str,
        day: date,
        *,
        status_code: int = 200,
        problem: Refusal | None = None,
        done: str = "",
        form: TimeOffForm | None = None,
    ) -> HTMLResponse:
        words = DeskWords(signed.user.language)
        if len(staff_key) > MAX_KEY:
            return side.page("not_found.html", words, 404)
        try:
            week = await side.calendar.week(staff_key, day)
        except UnknownStaff:
            return side.page("not_found.html", words, 404)
        monday = day - timedelta(days=day.weekday())
        start = datetime.combine(monday, time(), week.zone).astimezone(UTC)
        end = datetime.combine(monday + timedelta(days=7), time(), week.zone).astimezone(UTC)
        spans = await side.desk.time_off(staff_key, start, end)
        return side.page(
            "time_off.html",
            words,
            status_code,
            week=week,
            zone=week.zone,
            monday=monday,
            heading=words.time_off_heading(week.staff_name, monday),
            day=day,
            spans=spans,
            may=may_edit(signed.user, staff_key),
            form=form or TimeOffForm(day.isoformat(), "", day.isoformat(), ""),
            problem=problem,
            done=words.done(done) if done in DONE_KEYS else "",
            user=signed.user,
            csrf=signed.csrf,
            max_reason=MAX_REASON,
        )

    @router.get("/time-off/{staff_key}/{day}")
    async def time_off(signed: Session, staff_key: str, day: str, done: str = "") -> Response:
        """``staff_key``'s time off in the local week of ``day``, and the form to add."""
        asked = parse_day(day)
        if asked is None:
            return side.page("not_found.html", DeskWords(signed.user.language), 404)
        return await page(signed, staff_key, asked, done=done[:20])

    @router.post("/time-off/{staff_key}/{day}")
    async def add(request: Request, signed: Session, staff_key: str, day: str) -> Response:
        """Add time off from a local day and time to another."""
        fields = await signed_form(request, signed)
        asked = parse_day(day)
        words = DeskWords(signed.user.language)
        if asked is None or not await known(staff_key):
            return side.page("not_found.html", words, 404)
        form = TimeOffForm.of(fields)
        days = parse_day(form.from_day), parse_day(form.to_day)
        clocks = parse_clock(form.from_at), parse_clock(form.to_at)
        if days[0] is None or days[1] is None:
            problem: Refusal | None = bad_input(words.bad_day)
        elif clocks[0] is None or clocks[1] is None:
            problem = bad_input(words.bad_time)
        else:
            try:
                start = await side.desk.instant(days[0], clocks[0])
                end = await side.desk.instant(days[1], clocks[1])
                await side.desk.add_time_off(signed.user, staff_key, start, end, form.reason)
                target = time_off_path(staff_key, days[0], "time_off_added")
                return RedirectResponse(target, status_code=303)
            except DomainError as error:
                if (problem := refusal(error, words)) is None:
                    raise
        status = problem.status if problem else 422
        return await page(signed, staff_key, asked, status_code=status, problem=problem, form=form)

    @router.post("/time-off/{staff_key}/{day}/remove")
    async def remove(request: Request, signed: Session, staff_key: str, day: str) -> Response:
        """Remove one time off (its id in the form)."""
        fields = await signed_form(request, signed)
        asked = parse_day(day)
        words = DeskWords(signed.user.language)
        time_off_id = parse_id(fields.get("id"))
        if asked is None or time_off_id is None or not await known(staff_key):
            return side.page("not_found.html", words, 404)
        try:
            await side.desk.remove_time_off(signed.user, time_off_id)
        except DomainError as error:
            if (problem := refusal(error, words)) is None:
                raise
            return await page(signed, staff_key, asked, status_code=problem.status, problem=problem)
        return RedirectResponse(
            time_off_path(staff_key, asked, "time_off_removed"), status_code=303
        )
