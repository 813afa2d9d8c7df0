"""The staff API as one ASGI app, mounted by ``salonbot.web`` at ``/api/v1``.

Its own app so that its OpenAPI (``/api/v1/openapi.json``), its error shape and its guards
cover exactly its routes. ``PUBLIC_ROUTES`` is the complete list of what answers without a
bearer token; a test walks ``routes`` and holds every other route to one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from adapters.common.route_name import route_of
from adapters.staff_api.bookings import add_booking_routes
from adapters.staff_api.guards import ApiGuards
from adapters.staff_api.lookups import add_lookup_routes
from adapters.staff_api.problems import BAD_INPUT, ApiProblem, Problem, refusal
from adapters.staff_api.sessions import add_session_routes
from adapters.staff_api.side import ApiSide
from core.domain.errors import DomainError

log = logging.getLogger("salonbot.staff_api")

PREFIX = "/api/v1"
OPENAPI_PATH = "/openapi.json"
# (path, method) that answer without a token: signing in, and the API's description.
PUBLIC_ROUTES = frozenset({("/sessions", "POST"), (OPENAPI_PATH, "GET"), (OPENAPI_PATH, "HEAD")})
MAX_PROBLEMS = 20
DESCRIPTION = """\
The salon's calendar for its staff: the bookings of a day, free starts, customers, and the
front desk's actions (a walk-in, move, cancel, a visit's outcome).

Sign in with `POST /sessions` (a staff user's email and password) and send the token as
`Authorization: Bearer <token>` with every other request. The token is never a cookie, so
no other site can make a browser use it (no CSRF). Instants are UTC, ISO 8601 with an
offset; dates are the salon's local `YYYY-MM-DD`. Every error is
`{"error": code, "message": ...}`.
"""


def _answer(
    problem: Problem, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(problem.model_dump(mode="json", exclude_none=True), status, headers=headers)


def _where(location: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in location)[:200]


def create_api_app(side: ApiSide) -> FastAPI:
    api = FastAPI(
        title="salonbot staff API",
        version="1",
        description=DESCRIPTION,
        openapi_url=OPENAPI_PATH,
        docs_url=None,
        redoc_url=None,
    )
    add_session_routes(api, side)
    add_booking_routes(api, side)
    add_lookup_routes(api, side)

    @api.exception_handler(ApiProblem)
    async def problem(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiProblem)
        return _answer(error.body, error.status, error.headers)

    @api.exception_handler(DomainError)
    async def refused(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        answer = refusal(error)
        return _answer(answer.body, answer.status)

    @api.exception_handler(RequestValidationError)
    async def bad_input(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        # Where and what only: the value sent (a password, say) is never echoed.
        problems = [
            f"{_where(tuple(e.get('loc', ())))}: {str(e.get('msg', ''))[:200]}"
            for e in error.errors()[:MAX_PROBLEMS]
        ]
        message = "The request is not what this operation takes."
        return _answer(Problem(error=BAD_INPUT, message=message, problems=problems), 422)

    @api.exception_handler(HTTPException)
    async def http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        codes = {404: "not_found", 405: "method_not_allowed", 400: BAD_INPUT}
        status = 422 if error.status_code == 400 else error.status_code
        code = codes.get(error.status_code, "http_error")
        return _answer(Problem(error=code, message=str(error.detail)), status, error.headers)

    @api.exception_handler(Exception)
    async def failed(request: Request, _: Exception) -> JSONResponse:
        log.exception("staff API failed", extra={"route": route_of(request)})
        message = "Something went wrong. Please try again."
        return _answer(Problem(error="internal", message=message), 500)

    return api


def mount_api(web: FastAPI, side: ApiSide) -> FastAPI:
    """Serve the staff API at ``/api/v1`` in ``web``, behind its guards; the API's app."""
    api = create_api_app(side)
    web.mount(PREFIX, ApiGuards(api))
    return api
