"""A walk-in or phone booking: ``GET /staff/new`` (the form) and ``POST /staff/new``.

The form's first part is a plain GET (service, staff member or anyone, day, a customer
search): it shows the day's free start times (``FrontDesk.free_starts``) and the customers
found. The second part books (POST): a start time, a customer found or a new one. A
refusal shows the form again as typed, with the message; a taken slot offers the free
times nearby as buttons of the same form, so picking one books it for the same customer.

The booking form carries a request key, fresh with every form drawn: the same form sent
twice (a double click, a resend, Back then Book) books once, and both answers lead to that
booking. A form drawn again after a refusal keeps its key (nothing was booked with it), so
its corrected submit is still the one request; one whose key booked something else gets a
fresh key.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies.
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.staff_web.booking_page import booking_path
from adapters.staff_web.desk_words import DeskWords
from adapters.staff_web.forms import bounded, parse_clock, parse_id, signed_form
from adapters.staff_web.pages import parse_day
from adapters.staff_web.refusals import Refusal, bad_input, refusal
from adapters.staff_web.side import StaffSide
from core.calendar import entries
from core.calendar.desk import (
    MAX_NAME,
    MAX_PHONE,
    MAX_REQUEST_KEY,
    MAX_SEARCH,
    CustomerCard,
    EntryRefused,
    NewCustomer,
)
from core.calendar.ports import Role, SignedIn
from core.domain.errors import DomainError, RequestReused

MAX_KEY = 100
NEW = "new"
MAX_INSTANT = 40  # "2026-12-08T09:15:00.000000+00:00" and room to spare


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 instant with its offset (what staff.js sends for a spot clicked on the
    day view), in UTC; None for anything else, a naive time included."""
    if not text or len(text) > MAX_INSTANT:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.utcoffset() is None:
            return None
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


@dataclass(frozen=True, slots=True)
class WalkIn:
    """The form as asked for or typed; every field a bounded string."""

    service: str = ""
    staff: str = ""
    day: str = ""
    at: str = ""
    q: str = ""
    customer: str = NEW
    name: str = ""
    phone: str = ""
    request: str = ""

    @classmethod
    def of(cls, fields: dict[str, str]) -> "WalkIn":
        return cls(
            service=bounded(fields.get("service"), MAX_KEY),
            staff=bounded(fields.get("staff"), MAX_KEY),
            day=bounded(fields.get("day"), 10),
            at=bounded(fields.get("at"), 5),
            q=bounded(fields.get("q"), MAX_SEARCH + 1),
            customer=bounded(fields.get("customer"), 20) or NEW,
            name=bounded(fields.get("name"), MAX_NAME + 1),
            phone=bounded(fields.get("phone"), MAX_PHONE + 1),
            request=bounded(fields.get("request"), MAX_REQUEST_KEY + 1),
        )

    def with_request_key(self) -> "WalkIn":
        """The form with its request key, or a fresh one if it has none fit to send."""
        try:
            entries.request_key(self.request)
        except EntryRefused:
            # 32 characters of [A-Za-z0-9_-]: 192 random bits.
            return replace(self, request=secrets.token_urlsafe(24))
        return self

    def picked(self, slot: str) -> "WalkIn":
        """The form with an offered slot (``staff day HH:MM``) in place of its time."""
        parts = slot.split(" ")
        if len(parts) != 3:
            return self
        return replace(self, staff=parts[0][:MAX_KEY], day=parts[1][:10], at=parts[2][:5])


def add_walk_in_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type

    async def page(
        signed: SignedIn,
        form: WalkIn,
        *,
        status_code: int = 200,
        problem: Refusal | None = None,
    ) -> HTMLResponse:
        words = DeskWords(signed.user.language)
        problems = [problem] if problem else []
        form = form.with_request_key()
        day = parse_day(form.day) or await side.today()
        view = await side.calendar.day(day)
        staff = [(c.staff_key, c.staff_name) for c in view.columns]
        if signed.user.role is not Role.OWNER:
            # A staff member books walk-ins with themselves (core.calendar.roles).
            staff = [s for s in staff if s[0] == signed.user.staff_key]
            form = replace(form, staff=signed.user.staff_key or "")
        services = await side.menu(words.language) if side.menu else None
        times: list[time] = []
        if form.service:
            try:
                starts = await side.desk.free_starts(form.service, form.staff or None, day)
            except DomainError as error:
                if (found := refusal(error, words)) is None:
                    raise
                problems.append(found)
            else:
                times = sorted({s.start.astimezone(view.zone).time() for s in starts})
        found_customers: list[CustomerCard] = []
        if form.q:
            try:
                found_customers = await side.customers.find(form.q)
            except DomainError as error:
                if (said := refusal(error, words)) is None:
                    raise
                problems.append(said)
        return side.page(
            "walk_in.html",
            words,
            status_code,
            form=form,
            day=day,
            zone=view.zone,
            staff=staff,
            services=services,
            times=times,
            asked_at=parse_clock(form.at),
            found=found_customers,
            problems=problems,
            user=signed.user,
            csrf=signed.csrf,
            max_name=MAX_NAME,
            max_phone=MAX_PHONE,
            max_search=MAX_SEARCH,
        )

    @router.get("/new")
    async def new_booking(
        signed: Session,
        service: str = "",
        staff: str = "",
        day: str = "",
        at: str = "",
        q: str = "",
        start: str = "",
    ) -> HTMLResponse:
        """The walk-in form, with the free times and customers found for what it asks.
        ``start``: an instant (a spot clicked on the day view) in place of ``day`` and
        ``at``; the salon's zone makes it a local day and time."""
        if (instant := parse_instant(start)) is not None:
            # The zone of the calendar of the day asked; the instant decides the day shown
            # (a grid that runs past midnight clicked after it).
            view = await side.calendar.day(parse_day(day) or await side.today())
            local = instant.astimezone(view.zone)
            day, at = local.date().isoformat(), local.strftime("%H:%M")
        asked = {"service": service, "staff": staff, "day": day, "at": at, "q": q}
        return await page(signed, WalkIn.of(asked))

    @router.post("/new")
    async def book(request: Request, signed: Session) -> Response:
        """Book the walk-in, or the form again with what stood in the way."""
        fields = await signed_form(request, signed)
        form = WalkIn.of(fields)
        if slot := fields.get("slot"):
            form = form.picked(slot[:200])
        words = DeskWords(signed.user.language)
        day, at = parse_day(form.day), parse_clock(form.at)
        customer: int | NewCustomer | None = (
            NewCustomer(form.name, form.phone) if form.customer == NEW else parse_id(form.customer)
        )
        problem = None
        if not form.service:
            problem = bad_input(words.choose_service)
        elif day is None:
            problem = bad_input(words.bad_day)
        elif at is None:
            problem = bad_input(words.bad_time)
        elif customer is None:
            problem = bad_input(words.choose_customer)
        if problem is not None or day is None or at is None or customer is None:
            return await page(signed, form, status_code=422, problem=problem)
        try:
            start = await side.desk.instant(day, at)
            # No key (a form drawn before forms had one): booked as it stands.
            booking = await side.desk.walk_in(
                signed.user, form.service, form.staff or None, start, customer, form.request or None
            )
        except DomainError as error:
            if (found := refusal(error, words)) is None:
                raise
            if isinstance(error, RequestReused):
                # Its key made a booking already: what is typed now is a request of its own.
                form = replace(form, request="")
            return await page(signed, form, status_code=found.status, problem=found)
        return RedirectResponse(booking_path(booking.id, "booked"), status_code=303)
