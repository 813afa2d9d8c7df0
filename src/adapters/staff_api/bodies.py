"""What the API takes: request bodies and the bounds of query and path values.

Every model forbids fields it does not name; every string and number is bounded. Instants
are ISO 8601 with an offset (a naive one is refused), dates the salon's local ``YYYY-MM-DD``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from core.calendar.desk import (
    MAX_NAME,
    MAX_PHONE,
    MAX_REASON,
    MAX_REQUEST_KEY,
    MAX_SEARCH,
    MIN_REQUEST_KEY,
)
from core.catalog.limits import MAX_ID_CHARS

MAX_EMAIL = 320
MAX_PASSWORD = 1024
MAX_QUERY = MAX_SEARCH
MAX_ID = 2**31 - 1  # the database's integer ids
# Far enough for any salon's planning, near enough that no date arithmetic overflows.
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)

Key = Annotated[
    str,
    StringConstraints(
        min_length=1,
        max_length=MAX_ID_CHARS,
        pattern=rf"^[a-z0-9][a-z0-9_-]{{0,{MAX_ID_CHARS - 1}}}$",
    ),
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# An ``Idempotency-Key`` header's value, as the desk bounds a request key.
REQUEST_KEY_PATTERN = rf"^[A-Za-z0-9_-]{{{MIN_REQUEST_KEY},{MAX_REQUEST_KEY}}}$"


def _in_range_day(day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return day


def _in_range_instant(moment: datetime) -> datetime:
    # The local date first: converting an instant at the calendar's very ends overflows.
    _in_range_day(moment.date())
    return moment.astimezone(UTC)


Day = Annotated[date, AfterValidator(_in_range_day)]
Instant = Annotated[AwareDatetime, AfterValidator(_in_range_instant)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class SignInBody(_Body):
    email: Annotated[str, Field(min_length=1, max_length=MAX_EMAIL)]
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD)]


class NewCustomerBody(_Body):
    """A customer the salon does not know yet."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    phone: Annotated[str, Field(max_length=MAX_PHONE)] = ""


class WalkInBody(_Body):
    """A booking made at the desk, confirmed at once. ``staff``: null for anyone free (a
    staff user: themselves). ``customer``: a known customer's id, or a new customer."""

    service: Key
    staff: Key | None = None
    start: Instant
    customer: Id | NewCustomerBody


class MoveBody(_Body):
    """A new start, and a new staff member when given (the owner's call)."""

    start: Instant
    staff: Key | None = None


class CancelBody(_Body):
    """Why, told to the customer in their chat."""

    reason: Annotated[str, Field(max_length=MAX_REASON)] = ""


class StatusBody(_Body):
    """How a visit that has started went."""

    status: Literal["completed", "no_show"]
