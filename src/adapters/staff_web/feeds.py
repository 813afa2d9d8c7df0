"""Calendar feeds: ``GET /staff/feed/{token}.ics`` (public: the secret token is the key)
and the page that makes or stops a staff member's link, ``GET``/``POST
/staff/feeds/{staff_key}`` and ``POST /staff/feeds/{staff_key}/stop``.

A token that is not one of ours, or no longer is, gets the same bare 404 whatever the
reason. The new link is shown once, built on the salon's public address
(``PUBLIC_BASE_URL``) or else the request's own (behind a proxy, uvicorn takes its scheme
from ``X-Forwarded-Proto``).
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies.
import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from adapters.staff_web.feed_words import FeedWords
from adapters.staff_web.forms import signed_form
from adapters.staff_web.ics import calendar_text
from adapters.staff_web.security import PREFIX
from adapters.staff_web.side import StaffSide
from core.calendar.desk import NotAllowed
from core.calendar.feeds import MAX_FEED_TOKEN
from core.calendar.ports import SignedIn
from core.calendar.roles import may_edit
from core.domain.errors import UnknownStaff

TOKEN = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_FEED_TOKEN}}}")
FEED_PATH = "/feed/{token}.ics"
MAX_KEY = 100


def feed_url(base_url: str, token: str) -> str:
    """The feed's address at the salon's ``base_url`` (scheme and host, maybe a path)."""
    return f"{base_url.rstrip('/')}{PREFIX}/feed/{token}.ics"


def add_feed_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""
    Session = Annotated[SignedIn, Depends(side.signed_in)]  # noqa: N806 - a type

    @router.get(FEED_PATH)
    async def feed(token: str) -> Response:
        """A staff member's visits as iCalendar, for their phone to subscribe to."""
        found = await side.feeds.feed(token) if TOKEN.fullmatch(token) else None
        if found is None:
            return Response("Not found", 404, media_type="text/plain")
        return Response(calendar_text(found).encode(), media_type="text/calendar; charset=utf-8")

    async def page(
        signed: SignedIn,
        staff_key: str,
        link: str = "",
        status_code: int = 200,
        note: str = "",
    ) -> HTMLResponse:
        words = FeedWords(signed.user.language)
        if len(staff_key) > MAX_KEY:
            return side.page("not_found.html", words, 404)
        try:
            name = await side.feeds.staff_name(staff_key)
        except UnknownStaff:
            return side.page("not_found.html", words, 404)
        return side.page(
            "feeds.html",
            words,
            status_code,
            name=name,
            staff_key=staff_key,
            link=link,
            note=note,
            allowed=may_edit(signed.user, staff_key),
            user=signed.user,
            csrf=signed.csrf,
            today=await side.today(),
        )

    @router.get("/feeds/{staff_key}")
    async def feed_page(signed: Session, staff_key: str) -> HTMLResponse:
        """``staff_key``'s calendar feed: what it is, and a button for a new link."""
        return await page(signed, staff_key)

    async def change_link(
        request: Request,
        signed: SignedIn,
        staff_key: str,
        change: Callable[[], Awaitable[HTMLResponse]],
    ) -> Response:
        """A CSRF-checked change of ``staff_key``'s link, answered with its page; the page
        says "not allowed" (403) or "not found" for what the desk refuses."""
        await signed_form(request, signed)  # ``Forged``: the app answers 403
        if len(staff_key) > MAX_KEY:
            return await page(signed, staff_key)
        try:
            return await change()
        except NotAllowed:
            return await page(signed, staff_key, status_code=403)
        except UnknownStaff:
            return await page(signed, staff_key)  # the not-found page

    @router.post("/feeds/{staff_key}")
    async def new_feed_link(request: Request, signed: Session, staff_key: str) -> Response:
        """A new link for ``staff_key``'s feed (the old one stops working), shown once."""

        async def make() -> HTMLResponse:
            made = await side.feeds.new_link(signed.user, staff_key)
            # Behind a proxy the request's own host and scheme may be the proxy's view
            # (127.0.0.1, http): the salon's public address is what a phone can reach.
            base = side.public_url or str(request.url.replace(path="", query="", fragment=""))
            return await page(signed, staff_key, feed_url(base, made.token))

        return await change_link(request, signed, staff_key, make)

    @router.post("/feeds/{staff_key}/stop")
    async def stop_feed_link(request: Request, signed: Session, staff_key: str) -> Response:
        """``staff_key``'s link stops working; no new one is made."""

        async def stop() -> HTMLResponse:
            stopped = await side.feeds.stop_link(signed.user, staff_key)
            words = FeedWords(signed.user.language)
            note = words.feed_stopped if stopped else words.feed_none
            return await page(signed, staff_key, note=note)

        return await change_link(request, signed, staff_key, stop)
