"""What the staff routes share: the ports, the templates, and who is signed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from adapters.staff_web.security import PREFIX, SESSION_COOKIE
from adapters.staff_web.words import PageWords
from core.calendar.desk import CustomerBook, FrontDesk, LiveChanges
from core.calendar.feeds import StaffFeeds
from core.calendar.linked import LinkedCalendarDesk
from core.calendar.ports import Accounts, Calendar, SignedIn

MAX_TOKEN = 128

# The salon's local date now (the staff pages' "today").
Today = Callable[[], Awaitable[date]]
# The services a walk-in can be booked for, as (key, name in ``language``), in the
# catalog's order. Without one, the walk-in form asks for the service's key as text.
ServiceMenu = Callable[[str], Awaitable[Sequence[tuple[str, str]]]]


class NotSignedIn(Exception):
    """No live session: a page redirects to the login form, anything else answers 401."""


def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("adapters.staff_web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass
class StaffSide:
    """``https``: the salon's public address is HTTPS, so cookies are always Secure.
    ``live``: the calendar's changes (``/staff/live``); ``feeds``: the staff's calendar
    feed links (``/staff/feed/...``)."""

    accounts: Accounts
    calendar: Calendar
    today: Today
    desk: FrontDesk
    customers: CustomerBook
    https: bool = False
    menu: ServiceMenu | None = None
    templates: jinja2.Environment = field(default_factory=_templates)
    live: LiveChanges = field(kw_only=True)
    # The salon's public address (``PUBLIC_BASE_URL``): what links meant for outside this
    # browser (a calendar feed's) are built on; None: the request's own.
    public_url: str | None = field(default=None, kw_only=True)
    feeds: StaffFeeds = field(kw_only=True)
    # The staff's own Google Calendars, for the day page's notices; None: none shown.
    linked: LinkedCalendarDesk | None = field(default=None, kw_only=True)

    async def signed_in(self, request: Request) -> SignedIn:
        """The request's live session (a route's dependency), or ``NotSignedIn``."""
        token = request.cookies.get(SESSION_COOKIE)
        if not token or len(token) > MAX_TOKEN:
            raise NotSignedIn()
        signed = await self.accounts.session(token)
        if signed is None:
            raise NotSignedIn()
        return signed

    def page(
        self, template: str, words: PageWords, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        # ``heard``: how many changes the live feed had told when the page was drawn
        # (``static/live.js`` compares it with its stream's first word).
        heard = self.live.heard()
        html = self.templates.get_template(template).render(
            w=words, prefix=PREFIX, heard="" if heard is None else heard, **context
        )
        return HTMLResponse(html, status_code=status_code)
