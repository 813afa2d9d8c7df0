"""Who is calling: ``POST /sessions`` (a bearer token for an email and password),
``DELETE /sessions/current``, and the bearer check every other route depends on.

The token is the staff session's own (the same accounts, the same throttling as the sign-in
page). It travels only in the ``Authorization`` header, never in a cookie, so a browser
never sends it by itself and the API needs no CSRF token.
"""

# No ``from __future__ import annotations``: FastAPI must see the routes' dependencies
# (closures over ``side``) as objects, not as names it cannot resolve.
import math
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.staff_api.answers import SessionOut
from adapters.staff_api.bodies import SignInBody
from adapters.staff_api.problems import NOT_SIGNED_IN, ApiProblem, Problem, documented
from adapters.staff_api.side import ApiSide
from core.calendar.ports import LoginRefused, SignedIn

MAX_TOKEN = 128
_bearer = HTTPBearer(auto_error=False, description="A token from `POST /sessions`.")


def not_signed_in() -> ApiProblem:
    return ApiProblem(
        401,
        NOT_SIGNED_IN,
        "Sign in first: send a token from POST /sessions as 'Authorization: Bearer <token>'.",
        headers={"WWW-Authenticate": "Bearer"},
    )


SessionCheck = Callable[[HTTPAuthorizationCredentials | None], Awaitable[SignedIn]]


def session_of(side: ApiSide) -> SessionCheck:
    """The dependency that answers the request's live session, or a 401."""

    async def signed_in(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> SignedIn:
        if credentials is None or not 0 < len(credentials.credentials) <= MAX_TOKEN:
            raise not_signed_in()
        signed = await side.accounts.session(credentials.credentials)
        if signed is None:
            raise not_signed_in()
        return signed

    return signed_in


def add_session_routes(api: FastAPI, side: ApiSide) -> None:
    Session = Annotated[SignedIn, Depends(session_of(side))]  # noqa: N806 - a type

    @api.post(
        "/sessions",
        status_code=201,
        responses={
            401: {
                "model": Problem,
                "description": "Wrong email or password, never which (`sign_in_refused`).",
            },
            429: {
                "model": Problem,
                "description": "Too many failed attempts from this address "
                "(`too_many_attempts`); `Retry-After` says how many seconds to wait.",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            },
            **documented(413, 422),
        },
    )
    async def sign_in(request: Request, body: SignInBody) -> SessionOut:
        """Sign in: a bearer token for the staff user. Failures are counted per account
        and per address, as on the sign-in page."""
        address = request.client.host if request.client else ""
        try:
            signed = await side.accounts.sign_in(body.email, body.password, address)
        except LoginRefused as refusal:
            if refusal.locked_until is not None:
                wait = (refusal.locked_until - side.clock.now()).total_seconds()
                raise ApiProblem(
                    429,
                    "too_many_attempts",
                    "Too many failed attempts. Try again later.",
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                ) from None
            raise ApiProblem(401, "sign_in_refused", "Wrong email or password.") from None
        return SessionOut.of(signed)

    @api.delete(
        "/sessions/current", status_code=204, response_class=Response, responses=documented(401)
    )
    async def sign_out(signed: Session) -> Response:
        """End the session: its token no longer works."""
        await side.accounts.sign_out(signed.token)
        return Response(status_code=204)
