"""An in-memory ``LinkedCalendars``: events by calendar and id, as Google keeps them.

A put of an id already there patches it (Google's 409 on insert, then a patch), a remove
of a missing event is done (404/410). ``refuse_next`` makes the next calls fail;
``calls`` records every call, in order; ``gate`` (when set) holds each call until it is
set, to catch two pushers at once; ``gates`` does so for one calendar's calls (a calendar
that hangs). ``changes`` reads a calendar back in one page: every
event put there (full reads: those overlapping the window), salonbot's own as Google
would list them.
``watch`` opens a channel in ``channels`` (expiring at
``shortened_to`` instead, when that is set and sooner: Google may shorten a channel's
life), ``stop_watch`` closes it (an unknown one counts as closed).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from core.linked_calendars.ports import (
    CalendarEvent,
    CalendarRefused,
    EventDraft,
    EventPage,
    WatchChannel,
)


@dataclass
class FakeLinkedCalendars:
    events: dict[str, dict[str, EventDraft]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    gate: asyncio.Event | None = None
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
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
        if (held := self.gates.get(calendar_id)) is not None:
            await held.wait()
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

    # -- push channels ---------------------------------------------------------------------

    channels: dict[str, WatchChannel] = field(default_factory=dict)
    watched: dict[str, str] = field(default_factory=dict)  # channel id -> calendar id
    tokens: dict[str, str] = field(default_factory=dict)  # channel id -> its token
    shortened_to: datetime | None = None

    async def watch(
        self, calendar_id: str, *, channel_id: str, address: str, token: str, expires_at: datetime
    ) -> WatchChannel:
        await self._call("watch", calendar_id, channel_id)
        if self.shortened_to is not None:
            expires_at = min(expires_at, self.shortened_to)
        channel = WatchChannel(channel_id, f"resource-of-{calendar_id}", expires_at)
        self.channels[channel_id] = channel
        self.watched[channel_id] = calendar_id
        self.tokens[channel_id] = token
        return channel

    async def stop_watch(self, channel_id: str, resource_id: str) -> None:
        await self._call("stop_watch", self.watched.get(channel_id, ""), channel_id)
        self.channels.pop(channel_id, None)
