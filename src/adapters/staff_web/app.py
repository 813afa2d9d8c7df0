"""The staff side as one ASGI app, mounted by ``salonbot.web`` at ``/staff``.

Its own app so that its security headers, its 404 page and its "not signed in" answer
cover exactly its routes. ``PUBLIC_ROUTES`` is the complete list of what answers without
a session; a test walks ``routes`` and holds every other route to a session.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from adapters.common.route_name import route_of
from adapters.staff_web.booking_actions import add_booking_actions
from adapters.staff_web.booking_page import add_booking_routes
from adapters.staff_web.customers import add_customers_routes
from adapters.staff_web.feeds import FEED_PATH, add_feed_routes
from adapters.staff_web.forms import Forged, forged
from adapters.staff_web.linked_alerts import add_linked_routes
from adapters.staff_web.live import add_live_routes
from adapters.staff_web.login import add_login_routes
from adapters.staff_web.pages import add_pages_routes
from adapters.staff_web.security import (
    HEADERS,
    PREFIX,
    SESSION_COOKIE,
    clear_cookie,
    security_headers,
)
from adapters.staff_web.side import NotSignedIn, StaffSide
from adapters.staff_web.time_off import add_time_off_routes
from adapters.staff_web.walk_in import add_walk_in_routes
from adapters.staff_web.words import PageWords, language_of
from core.domain.errors import DomainError

log = logging.getLogger("salonbot.staff_web")

STATIC = Path(__file__).with_name("static")
# (path, method) that answer without a session; the static files are a mount of their own.
# A calendar feed is opened by its secret token instead (a phone's calendar has no session).
PUBLIC_ROUTES = frozenset({("/login", "GET"), ("/login", "POST"), (FEED_PATH, "GET")})
STATIC_PATH = "/static"


def create_staff_app(side: StaffSide) -> FastAPI:
    staff = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    staff.middleware("http")(security_headers)
    add_login_routes(staff, side)
    add_pages_routes(staff, side)
    add_booking_routes(staff, side)
    add_booking_actions(staff, side)
    add_walk_in_routes(staff, side)
    add_time_off_routes(staff, side)
    add_customers_routes(staff, side)
    add_live_routes(staff, side)
    add_feed_routes(staff, side)
    add_linked_routes(staff, side)
    staff.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="static")

    @staff.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _: Exception) -> Response:
        if request.method in ("GET", "HEAD") or request.url.path.endswith("/logout"):
            # Signing out of a session that has already ended: done, sign in again.
            response = RedirectResponse(f"{PREFIX}/login", status_code=303)
            clear_cookie(response, SESSION_COOKIE)
            return response
        return Response("Sign in first.", 401)

    @staff.exception_handler(Forged)
    async def not_ours(request: Request, _: Exception) -> Response:
        return forged()

    @staff.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> Response:
        # Answered by the outermost middleware, past ``security_headers``: the headers are
        # set here (a failure, the database away say, is a page like any other).
        log.exception("staff page failed", extra={"route": route_of(request)})
        response = Response("Something went wrong. Please try again.", 500)
        response.headers.update(HEADERS)
        response.headers["Cache-Control"] = "no-store"
        return response

    @staff.exception_handler(DomainError)
    async def not_ready(request: Request, _: Exception) -> Response:
        # The only rule a read-only page can meet: no catalog loaded yet.
        words = PageWords(language_of(request.headers.get("accept-language")))
        return side.page("not_ready.html", words, 503)

    @staff.exception_handler(HTTPException)
    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        if error.status_code == 404:
            words = PageWords(language_of(request.headers.get("accept-language")))
            return side.page("not_found.html", words, 404)
        return Response(str(error.detail), error.status_code, headers=error.headers)

    return staff


def mount_staff(web: FastAPI, side: StaffSide) -> FastAPI:
    """Serve the staff side at ``/staff`` in ``web``; the staff app."""
    staff = create_staff_app(side)
    web.mount(PREFIX, staff)
    return staff
