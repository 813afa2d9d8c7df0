"""Push notifications of the linked calendars: the port they come in through (the
webhook route), and what the channels' upkeep needs of the calendars.

A notification carries no data: only that something changed in the calendar a channel
watches. The core answers it by asking for an incremental sync of that calendar, stored
before the notification is acknowledged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.linked_calendars.ports import WatchChannel


class CalendarWatch(Protocol):
    """The part of ``LinkedCalendars`` that opens and closes push channels (see its
    ``watch`` and ``stop_watch``): all ``core.services.calendar_channels`` calls."""

    async def watch(
        self, calendar_id: str, *, channel_id: str, address: str, token: str, expires_at: datetime
    ) -> WatchChannel: ...

    async def stop_watch(self, channel_id: str, resource_id: str) -> None: ...


class CalendarNotifications(Protocol):
    async def notified(self, channel_id: str, token: str) -> bool:
        """A notification of push channel ``channel_id`` bearing ``token``. When the channel
        is one of ours and the token is its own, a sync of its calendar is asked for
        (stored, committed) and True; otherwise nothing changes and False. Raises
        ``core.ports.StoreUnavailable`` when the database does not answer in time."""
        ...
