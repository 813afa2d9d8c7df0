"""An in-memory ``LinkedCalendars``: events by calendar and id, as Google keeps them.

A put of an id already there patches it (Google's 409 on insert, then a patch), a remove
of a missing event is done (404/410). ``refuse_next`` makes the next calls fail;
``calls`` records every call, in order; ``gate`` (when set) holds each call until it is
set, to catch two pushers at once; ``gates`` does so for one calendar's calls (a calendar
that hangs). The staff member in Google's own app: ``owner_move``, ``owner_delete``.
``changes`` reads a calendar back in one page, each event with ``updated`` (when it last
changed, by ``clock``: real time unless set), as Google lists salonbot's own with
``showDeleted``: a full read, the events overlapping the window, deleted ones
(``cancelled``) too; with the sync token of an earlier read, the events put, moved or
deleted since; a token it never gave, ``SyncExpired``. Changes made by editing
``events`` directly are not listed as changes.
``watch`` opens a channel in ``channels`` (expiring at
``shortened_to`` instead, when that is set and sooner: Google may shorten a channel's
life), ``stop_watch`` closes it (an unknown one counts as closed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from core.linked_calendars.ports import (
    CalendarEvent,
    CalendarRefused,
    EventDraft,
    EventPage,
    SyncExpired,
    WatchChannel,
)


@dataclass
class FakeLinkedCalendars:
    events: dict[str, dict[str, EventDraft]] = field(default_factory=dict)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    gate: asyncio.Event | None = None
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    clock: Callable[[], datetime] | None = None
    _refusals: list[CalendarRefused] = field(default_factory=list)
    # The change log behind sync tokens (a token is the log's length at its read), when
    # each event last changed, and the events deleted.
    _log: list[tuple[str, str]] = field(default_factory=list)
    _updated: dict[tuple[str, str], datetime] = field(default_factory=dict)
    _deleted: dict[tuple[str, str], EventDraft] = field(default_factory=dict)

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
        self._changed(calendar_id, event)

    async def remove(self, calendar_id: str, event_id: str) -> None:
        await self._call("remove", calendar_id, event_id)
        self._gone(calendar_id, event_id)

    def owner_move(self, calendar_id: str, event_id: str, start: datetime, end: datetime) -> None:
        """The staff member drags an event in Google's own app."""
        moved = replace(self.events[calendar_id][event_id], start=start, end=end)
        self._changed(calendar_id, moved)

    def owner_delete(self, calendar_id: str, event_id: str) -> None:
        """The staff member deletes an event in Google's own app."""
        self._gone(calendar_id, event_id)

    def _changed(self, calendar_id: str, event: EventDraft) -> None:
        self.events.setdefault(calendar_id, {})[event.event_id] = event
        self._deleted.pop((calendar_id, event.event_id), None)
        self._stamp(calendar_id, event.event_id)

    def _gone(self, calendar_id: str, event_id: str) -> None:
        event = self.events.get(calendar_id, {}).pop(event_id, None)
        if event is not None:
            self._deleted[calendar_id, event_id] = event
            self._stamp(calendar_id, event_id)

    def _stamp(self, calendar_id: str, event_id: str) -> None:
        self._log.append((calendar_id, event_id))
        self._updated[calendar_id, event_id] = (self.clock or _real_now)()

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
        live = self.events.get(calendar_id, {})
        if sync_token is None:
            deleted = {id_: e for (cal, id_), e in self._deleted.items() if cal == calendar_id}
            listed = [
                self._listed(calendar_id, event, cancelled=event.event_id in deleted)
                for event in [*live.values(), *deleted.values()]
                if event.start < window[1] and event.end > window[0]
            ]
        else:
            if not sync_token.isdigit() or int(sync_token) > len(self._log):
                raise SyncExpired("an unknown sync token")
            since = [id_ for cal, id_ in self._log[int(sync_token) :] if cal == calendar_id]
            listed = [
                self._listed(calendar_id, live[event_id], cancelled=False)
                if event_id in live
                else self._listed(calendar_id, self._deleted[calendar_id, event_id], cancelled=True)
                for event_id in dict.fromkeys(since)
            ]
        return EventPage(listed, next_page=None, sync_token=str(len(self._log)))

    def _listed(self, calendar_id: str, event: EventDraft, *, cancelled: bool) -> CalendarEvent:
        return CalendarEvent(
            event.event_id,
            cancelled=cancelled,
            start=event.start,
            end=event.end,
            booking_id=event.booking_id,
            updated=self._updated.get((calendar_id, event.event_id)),
        )

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


def _real_now() -> datetime:
    return datetime.now(UTC)
