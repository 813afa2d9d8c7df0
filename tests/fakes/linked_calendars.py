"""An in-memory ``LinkedCalendars``: events by calendar and id, as Google keeps them.

A put of an id already there patches it (Google's 409 on insert, then a patch), a remove
of a missing event is done (404/410). ``refuse_next`` makes the next calls fail;
``calls`` records every call, in order; ``gate`` (when set) holds each call until it is
set, to catch two pushers at once. ``changes`` reads a calendar back in one page: every
event put there (full reads: those overlapping the window), salonbot's own as Google
would list them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from core.linked_calendars.ports import CalendarEvent, CalendarRefused, EventDraft, EventPage


@dataclass
class FakeLinkedCalendars:
    events: dict[str, dict[str, EventDraft]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    gate: asyncio.Event | None = None
    _refusals: list[CalendarRefused] = field(default_factory=list)

    def refuse_next(
        self, times: int, reason: str, *, transient: bool, retry_after: float | None = None
    ) -> None:
        """The next ``times`` calls raise ``CalendarRefused``."""
        self._refusals.extend(
            CalendarRefused(reason, transient=transient, retry_after=retry_after)
            for _ in range(times)
        )

    async def _call(self, what: str, calendar_id: str, event_id: str) -> None:
        self.calls.append((what, calendar_id, event_id))
        if self.gate is not None:
            await self.gate.wait()
        if self._refusals:
            raise self._refusals.pop(0)
        if calendar_id in self.unknown:
            raise CalendarRefused("calendar not found", transient=False)

    async def put(self, calendar_id: str, event: EventDraft) -> None:
        await self._call("put", calendar_id, event.event_id)
        self.events.setdefault(calendar_id, {})[event.event_id] = event

    async def remove(self, calendar_id: str, event_id: str) -> None:
        await self._call("remove", calendar_id, event_id)
        self.events.get(calendar_id, {}).pop(event_id, None)

    async def check(self, calendar_id: str) -> str | None:
        await self._call("check", calendar_id, "")
        return None

    async def changes(
        self,
        calendar_id: str,
        *,
        sync_token: str | None,
        page_token: str | None,
        window: tuple[datetime, datetime],
    ) -> EventPage:
        await self._call("changes", calendar_id, "")
        listed = [
            CalendarEvent(
                event.event_id,
                cancelled=False,
                start=event.start,
                end=event.end,
                booking_id=event.booking_id,
            )
            for event in self.events.get(calendar_id, {}).values()
            if sync_token is not None or (event.start < window[1] and event.end > window[0])
        ]
        return EventPage(listed, next_page=None, sync_token="in-memory")
