"""What a failed Google call means for the core: a ``CalendarRefused``, transient or not,
with a one-line reason that never carries the key."""

from __future__ import annotations

import json
import socket

import httplib2
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from core.linked_calendars.ports import CalendarRefused

# 403 reasons that are Google's rate limits, worth retrying (Calendar API error docs).
_RATE_LIMITED = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
_REASON_LIMIT = 200


class HttpRefused(CalendarRefused):
    """A refusal Google answered with an HTTP status (``put`` and ``remove`` branch on it)."""

    def __init__(self, reason: str, *, status: int, transient: bool, retry_after: float | None):
        super().__init__(reason, transient=transient, retry_after=retry_after)
        self.status = status


def refusal(error: BaseException) -> CalendarRefused:
    """The ``CalendarRefused`` for an exception a Google call raised."""
    if isinstance(error, HttpError):
        return _http_refusal(error)
    if isinstance(error, auth_exceptions.RefreshError):
        # The token endpoint refused the key (a deleted key, a wrong account) unless
        # google-auth says it is worth retrying (a 5xx from the endpoint).
        transient = bool(getattr(error, "retryable", False))
        return CalendarRefused(
            _line(f"Google refused the service account key: {_first_arg(error)}"),
            transient=transient,
        )
    if isinstance(error, (TimeoutError, socket.timeout)):
        return CalendarRefused("Google Calendar did not answer in time", transient=True)
    if isinstance(error, (OSError, httplib2.HttpLib2Error, auth_exceptions.TransportError)):
        return CalendarRefused(
            _line(f"cannot reach Google Calendar: {type(error).__name__}"), transient=True
        )
    raise error


def _http_refusal(error: HttpError) -> HttpRefused:
    status = int(error.resp.status)
    reasons = _reasons(error)
    message = _message(error) or str(error.resp.reason or "")
    retry_after = _retry_after(error.resp.get("retry-after"))
    transient = status >= 500 or status == 429 or (status == 403 and bool(reasons & _RATE_LIMITED))
    if status == 404:
        text = "calendar not found or not shared with the service account"
    elif status == 401:
        text = "the service account's credentials were refused"
    elif status == 403 and not transient:
        text = "no permission to change events on this calendar"
    else:
        text = "Google Calendar is busy" if transient else "Google Calendar refused the call"
    detail = ", ".join(sorted(reasons)) or message
    return HttpRefused(
        _line(f"{text} ({status} {detail})"),
        status=status,
        transient=transient,
        retry_after=retry_after,
    )


def _reasons(error: HttpError) -> set[str]:
    """Every reason the error body names: the classic ``errors[].reason`` and the newer
    ``details[].reason`` (``RATE_LIMIT_EXCEEDED``), read from the body itself (the client's
    ``error_details`` keeps only one of the two), normalised to the classic spelling."""
    try:
        body = json.loads(error.content)["error"]
    except (ValueError, KeyError, TypeError):
        body = {}
    found: list[object] = []
    for key in ("errors", "details"):
        items = body.get(key) if isinstance(body, dict) else None
        if isinstance(items, list):
            found += [item.get("reason") for item in items if isinstance(item, dict)]
    return {_classic(str(reason)) for reason in found if reason}


def _classic(reason: str) -> str:
    """``RATE_LIMIT_EXCEEDED`` as ``rateLimitExceeded``; a classic reason as it is."""
    if not reason.isupper():
        return reason
    first, *rest = reason.lower().split("_")
    return first + "".join(word.capitalize() for word in rest)


def _message(error: HttpError) -> str:
    try:
        body = json.loads(error.content)
        return str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return ""


def _retry_after(value: object) -> float | None:
    try:
        seconds = float(str(value))
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 86400 else None


def _first_arg(error: BaseException) -> str:
    return str(error.args[0]) if error.args else type(error).__name__


def _line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _REASON_LIMIT else flat[: _REASON_LIMIT - 1] + "…"
