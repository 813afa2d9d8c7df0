"""The staff pages' guards that are not about who is signed in: response headers, the
cookies' attributes, CSRF tokens and bounded form bodies."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import Response

PREFIX = "/staff"
SESSION_COOKIE = "salonbot_staff"
LOGIN_COOKIE = "salonbot_login"  # the anonymous login form's double-submit CSRF token
# A password of 1,024 characters of 4 UTF-8 bytes each, percent-encoded, and the rest.
MAX_FORM = 16_384

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Every response of the staff side gets ``HEADERS``; every page (anything but the
    static files) ``Cache-Control: no-store``, so a signed-out browser shows nothing."""
    response = await call_next(request)
    response.headers.update(HEADERS)
    if not request.url.path.startswith(f"{PREFIX}/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Whether a form's token matches, in constant time; a missing one never does."""
    if not given or not expected:
        return False
    return secrets.compare_digest(given.encode(), expected.encode())


def set_cookie(response: Response, request: Request, name: str, value: str, https: bool) -> None:
    """HttpOnly, SameSite=Lax, path /staff; Secure over HTTPS (the request's own scheme,
    which uvicorn takes from a trusted proxy's ``X-Forwarded-Proto``, or ``https``: the
    salon's public address is HTTPS)."""
    response.set_cookie(
        name,
        value,
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=https or request.url.scheme == "https",
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=PREFIX, httponly=True, samesite="lax")


class BadForm(Exception):
    """A body that is not a small URL-encoded form."""


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form of at most ``MAX_FORM`` bytes (first value each)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        raise BadForm()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise BadForm()
    try:
        fields = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise BadForm() from None
    return {name: values[0] for name, values in fields.items()}
