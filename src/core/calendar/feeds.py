"""Each staff member's calendar feed: a secret link a phone's calendar subscribes to.

``salonbot`` supplies the implementation (``core.services.staff_feeds``); the web adapter
draws the feed as iCalendar and knows only this protocol and these values. Every instant
is UTC-aware.

Who may make a link (``core.calendar.roles``): the owner, for anyone; a staff member, for
themselves. A new link replaces the old one, which stops working at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from core.calendar.ports import StaffUser
from core.domain.booking import BookingStatus

# The longest token a link may carry; ours are 43 characters.
MAX_FEED_TOKEN = 64
# What a feed reaches back: a month of past visits; forward, the salon's booking horizon.
PAST_DAYS = 30


@dataclass(frozen=True, slots=True)
class FeedVisit:
    """One booking in a feed. ``customer``: the customer's first name only ("" for none):
    a subscribed calendar is copied to the phone's cloud, so no full name or phone goes
    there. ``version`` counts the booking's moves; ``changed_at`` its last change."""

    booking_id: int
    version: int
    start: datetime
    end: datetime
    service_name: str
    customer: str
    status: BookingStatus
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class StaffFeed:
    """A staff member's visits (held, confirmed, completed), earliest first."""

    salon_name: str
    staff_key: str
    staff_name: str
    visits: tuple[FeedVisit, ...]


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A new link's token: shown once, then only its digest is kept."""

    staff_key: str
    staff_name: str
    token: str = field(repr=False)


class StaffFeeds(Protocol):
    async def staff_name(self, staff_key: str) -> str:
        """The name of the catalog's staff member ``staff_key``; ``UnknownStaff``."""
        ...

    async def new_link(self, user: StaffUser | None, staff_key: str) -> FeedLink:
        """A new link to ``staff_key``'s feed, replacing theirs. ``user`` None: the
        salon's administrator (the command line). ``NotAllowed``, ``UnknownStaff``."""
        ...

    async def stop_link(self, user: StaffUser | None, staff_key: str) -> bool:
        """``staff_key``'s link stops working, no new one made (a lost phone, someone who
        left); whether there was one. ``NotAllowed``, ``UnknownStaff``."""
        ...

    async def feed(self, token: str) -> StaffFeed | None:
        """The feed a link's token opens, or None (an unknown or replaced token, one of a
        staff member no longer in the catalog, no catalog at all)."""
        ...
