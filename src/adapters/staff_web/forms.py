"""What the action pages read from a request: a signed-in user's form, checked against the
session's CSRF token, and the typed values in it (ids, dates, times), each bounded.

A parse answers None for anything it cannot take; the route turns that into a clear
message or a 404, never a 500.
"""

from __future__ import annotations

import re
from datetime import time

from fastapi import Request
from fastapi.responses import Response

from adapters.staff_web.security import BadForm, read_form, same_token
from core.calendar.ports import SignedIn

CLOCK = re.compile(r"(\d{2}):(\d{2})")
ID = re.compile(r"[1-9]\d{0,9}")
LARGEST_ID = 2**63 - 1  # Postgres' bigint


class Forged(Exception):
    """A POST without the session's CSRF token, or a body that is no small form."""


def forged() -> Response:
    return Response("The form has expired or was not ours: reload the page.", 403)


async def signed_form(request: Request, signed: SignedIn) -> dict[str, str]:
    """The fields of a POST from one of our pages (``MAX_FORM`` bytes at most, the
    session's own CSRF token in it), or ``Forged``."""
    try:
        fields = await read_form(request)
    except BadForm:
        raise Forged() from None
    if not same_token(fields.get("csrf"), signed.csrf):
        raise Forged()
    return fields


def parse_id(text: str | None) -> int | None:
    """A positive database id written in plain digits."""
    if text is None or not ID.fullmatch(text):
        return None
    number = int(text)
    return number if number <= LARGEST_ID else None


def parse_clock(text: str | None) -> time | None:
    """A local wall-clock time ``HH:MM`` (what ``<input type="time">`` sends)."""
    found = CLOCK.fullmatch(text or "")
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def bounded(text: str | None, longest: int) -> str:
    """``text`` (or ""), cut at ``longest`` characters: what a form's ``maxlength`` lets
    through, for the fields whose length the core does not judge."""
    return (text or "")[:longest]
