"""What staff type into the desk, checked and tidied before anything is stored.

Each function answers the tidy value or raises ``EntryRefused``: nothing typed reaches the
database unbounded, and a name of blanks is no name.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from core.calendar.desk import (
    MAX_NAME,
    MAX_PHONE,
    MAX_REASON,
    MAX_REQUEST_KEY,
    MAX_SEARCH,
    MIN_REQUEST_KEY,
    EntryRefused,
    NoSuchLocalTime,
)
from core.domain.timeline import local_to_utc

# Control characters (NUL, which Postgres cannot store, among them) and lone surrogates
# (which UTF-8 cannot encode): what no keyboard types, so a forged form or request.
_UNTYPABLE = frozenset({"Cc", "Cs"})
_REQUEST_KEY = re.compile(rf"[A-Za-z0-9_-]{{{MIN_REQUEST_KEY},{MAX_REQUEST_KEY}}}")


def _bounded(text: str, field: str, longest: int) -> str:
    tidy = " ".join(text.split())
    if len(tidy) > longest:
        raise EntryRefused(field, "too_long")
    if any(unicodedata.category(c) in _UNTYPABLE for c in tidy):
        raise EntryRefused(field, "bad_character")
    return tidy


def customer_name(text: str) -> str:
    """A customer's name with its runs of blanks made one space; never empty."""
    name = _bounded(text, "name", MAX_NAME)
    if not name:
        raise EntryRefused("name", "empty")
    return name


def phone(text: str) -> str:
    """A phone number as typed, tidied; "" for none. Given, it must hold a digit."""
    number = _bounded(text, "phone", MAX_PHONE)
    if number and not phone_digits(number):
        raise EntryRefused("phone", "no_digits")
    return number


def phone_digits(text: str) -> str:
    """The digits of a phone number: what two spellings of one number share."""
    return "".join(c for c in text if c.isascii() and c.isdigit())


def reason(text: str) -> str:
    """A cancel's or a time off's reason; may be empty."""
    return _bounded(text, "reason", MAX_REASON)


def search(text: str) -> str:
    """What the customer book is searched for; may be empty (finds nothing)."""
    return _bounded(text, "search", MAX_SEARCH)


def request_key(text: str) -> str:
    """A request key as sent: no tidying, since a key is not typed but picked by a page or
    an API client; one out of its bounds is ``EntryRefused("request_key", "malformed")``."""
    if _REQUEST_KEY.fullmatch(text) is None:
        raise EntryRefused("request_key", "malformed")
    return text


def instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of local ``day`` ``at`` in ``zone``: the earlier one when the
    clocks go back, ``NoSuchLocalTime`` in the hour they skip going forward."""
    try:
        found = local_to_utc(datetime.combine(day, at.replace(tzinfo=None)), zone)
    except OverflowError:  # the first or last hours of the calendar: no such instant
        found = None
    if found is None:
        raise NoSuchLocalTime(day, at)
    return found
