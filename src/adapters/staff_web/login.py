"""Signing in and out: ``GET``/``POST /staff/login``, ``POST /staff/logout``.

The anonymous login form is guarded by a double-submit token (a cookie and the same value
in the form); logout by the session's own CSRF token. A refusal never says whether the
email or the password was wrong.
"""

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from adapters.staff_web.security import (
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    BadForm,
    clear_cookie,
    new_token,
    read_form,
    same_token,
    set_cookie,
)
from adapters.staff_web.side import MAX_TOKEN, StaffSide
from adapters.staff_web.words import PageWords, language_of
from core.calendar.ports import LoginRefused, SignedIn

MAX_EMAIL = 320
MAX_PASSWORD = 1024


def forbidden() -> Response:
    return Response("The form has expired or was not ours: reload the page.", 403)


def add_login_routes(router: FastAPI, side: StaffSide) -> None:
    """Routes straight on the staff app, so its ``routes`` list them all."""

    def form(request: Request, status_code: int = 200, problem: str = "") -> HTMLResponse:
        words = PageWords(language_of(request.headers.get("accept-language")))
        token = request.cookies.get(LOGIN_COOKIE, "")
        if not 0 < len(token) <= MAX_TOKEN:
            token = new_token()
        message = getattr(words, problem) if problem else ""
        page = side.page("login.html", words, status_code, csrf=token, problem=message)
        set_cookie(page, request, LOGIN_COOKIE, token, side.https)
        return page

    @router.get("/login")
    async def login_form(request: Request) -> HTMLResponse:
        """The sign-in form."""
        return form(request)

    @router.post("/login")
    async def login(request: Request) -> Response:
        """Sign in: a session cookie and off to today's calendar, or the form again."""
        try:
            fields = await read_form(request)
        except BadForm:
            return forbidden()
        if not same_token(fields.get("csrf"), request.cookies.get(LOGIN_COOKIE)):
            return forbidden()
        email = fields.get("email", "")[:MAX_EMAIL]
        password = fields.get("password", "")[:MAX_PASSWORD]
        address = request.client.host if request.client else ""
        try:
            signed = await side.accounts.sign_in(email, password, address)
        except LoginRefused as refusal:
            if refusal.locked_until is not None:
                return form(request, 429, "locked")
            return form(request, 401, "refused")
        if previous := request.cookies.get(SESSION_COOKIE):
            # Someone else's session on this browser (a shared front desk) ends here.
            await side.accounts.sign_out(previous)
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        set_cookie(response, request, SESSION_COOKIE, signed.token, side.https)
        clear_cookie(response, LOGIN_COOKIE)
        return response

    @router.post("/logout")
    async def logout(
        request: Request, signed: Annotated[SignedIn, Depends(side.signed_in)]
    ) -> Response:
        """End the session (with its CSRF token) and go back to the sign-in form."""
        try:
            fields = await read_form(request)
        except BadForm:
            return forbidden()
        if not same_token(fields.get("csrf"), signed.csrf):
            return forbidden()
        await side.accounts.sign_out(signed.token)
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        clear_cookie(response, SESSION_COOKIE)
        return response
