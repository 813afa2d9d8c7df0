"""In-memory ``LiveChanges`` and ``StaffFeeds``: the staff web's live feed and calendar feed
links, for its own tests.

Faithful to the ports (``core.calendar.desk``, ``core.calendar.feeds``) as
``salonbot.live`` and ``StoredStaffFeeds`` keep them: every subscriber hears every change
in order; one with ``room`` changes waiting is dropped (its iteration ends); ``stop`` ends
every subscription and later ones end at once. A new link replaces the old one; the owner
makes anyone's, a staff member only their own; an unknown key is ``UnknownStaff``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from core.calendar.desk import EVERYTHING, CalendarChange
from core.calendar.feeds import MAX_FEED_TOKEN, FeedLink, FeedVisit, StaffFeed
from core.calendar.ports import StaffUser
from core.calendar.roles import require_may_edit
from core.domain.errors import UnknownStaff


class _Subscription:
    def __init__(self, room: int) -> None:
        self.waiting: deque[CalendarChange] = deque()
        self.room = room
        self.wake = asyncio.Event()
        self.ended = False

    def offer(self, change: CalendarChange) -> None:
        if len(self.waiting) >= self.room:
            self.end()
        elif not self.ended:
            self.waiting.append(change)
            self.wake.set()

    def end(self) -> None:
        self.ended = True
        self.wake.set()

    def __aiter__(self) -> _Subscription:
        return self

    async def __anext__(self) -> CalendarChange:
        while not self.ended:
            if self.waiting:
                return self.waiting.popleft()
            self.wake.clear()
            await self.wake.wait()
        raise StopAsyncIteration


class FakeLiveChanges:
    def __init__(self, room: int = 100) -> None:
        self.room = room
        self._subscribers: list[_Subscription] = []
        self._stopped = False
        self.joined = asyncio.Event()  # set whenever someone subscribes
        self._heard = 0

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[CalendarChange]]:
        subscription = _Subscription(self.room)
        if self._stopped:
            subscription.end()
        else:
            self._subscribers.append(subscription)
            self.joined.set()
        try:
            yield subscription
        finally:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)
            subscription.end()

    def heard(self) -> int | None:
        return None if self._stopped else self._heard

    def changed(self, change: CalendarChange) -> None:
        """A change committed (somewhere): every subscriber hears it."""
        self._heard += 1
        for subscription in list(self._subscribers):
            subscription.offer(change)

    def gap(self) -> None:
        """The database was away for a while: reload everything."""
        self.changed(EVERYTHING)

    def stop(self) -> None:
        self._stopped = True
        for subscription in list(self._subscribers):
            subscription.end()


@dataclass
class FakeStaffFeeds:
    names: dict[str, str]  # staff key -> name, as in the catalog
    salon_name: str = "Studio Lumen"
    visits: dict[str, list[FeedVisit]] = field(default_factory=dict)
    _links: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (digest, by)
    away: bool = False  # the database is away: reading a feed fails

    async def staff_name(self, staff_key: str) -> str:
        if staff_key not in self.names:
            raise UnknownStaff(staff_key)
        return self.names[staff_key]

    async def new_link(self, user: StaffUser | None, staff_key: str) -> FeedLink:
        if user is not None:
            require_may_edit(user, staff_key, "a feed link of another staff member")
        name = await self.staff_name(staff_key)
        token = secrets.token_urlsafe(32)
        self._links[staff_key] = (self._digest(token), "cli" if user is None else user.email)
        return FeedLink(staff_key, name, token)

    async def stop_link(self, user: StaffUser | None, staff_key: str) -> bool:
        if user is not None:
            require_may_edit(user, staff_key, "a feed link of another staff member")
        await self.staff_name(staff_key)
        return self._links.pop(staff_key, None) is not None

    def made_by(self, staff_key: str) -> str | None:
        found = self._links.get(staff_key)
        return None if found is None else found[1]

    async def feed(self, token: str) -> StaffFeed | None:
        if self.away:
            raise ConnectionRefusedError("the database is away")
        if not 0 < len(token) <= MAX_FEED_TOKEN:
            return None
        digest = self._digest(token)
        for key, (stored, _) in self._links.items():
            if secrets.compare_digest(stored, digest) and key in self.names:
                visits = tuple(sorted(self.visits.get(key, []), key=lambda v: v.start))
                return StaffFeed(self.salon_name, key, self.names[key], visits)
        return None

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
