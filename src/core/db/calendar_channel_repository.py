"""Push channels of the linked calendars read back: the channel columns of
``calendar_syncs`` (``core.services.calendar_channels`` keeps them, the webhook reads them).

Every change of a row's channel is a compare-and-set on the channel the caller read, so
of two processes deciding from the same row, one changes it and the other finds it
changed (Postgres re-checks the condition after a concurrent commit) and leaves it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import null, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.db.tables import calendar_syncs, staff


def token_digest(token: str) -> str:
    """What is kept of a channel's token: its SHA-256, hex (the token itself only ever
    travels to Google and back)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Channel:
    """A row's push channel. ``resource_id`` None: being opened (Google not answered yet),
    and ``expires_at`` is then the deadline of that opening; else Google's expiry."""

    channel_id: str
    token_digest: str
    resource_id: str | None
    expires_at: datetime
    opened_at: datetime | None = None
    """When salonbot asked Google for it."""

    @property
    def opening(self) -> bool:
        return self.resource_id is None


@dataclass(frozen=True, slots=True)
class WatchedCalendar:
    """A calendar read back (a ``calendar_syncs`` row), its staff member and its channel."""

    staff_id: int
    staff_key: str
    calendar_id: str
    channel: Channel | None


@dataclass(frozen=True, slots=True)
class ChannelOwner:
    staff_id: int
    token_digest: str


_CHANNEL = (
    calendar_syncs.c.channel_id,
    calendar_syncs.c.channel_token_digest,
    calendar_syncs.c.channel_resource_id,
    calendar_syncs.c.channel_expires_at,
    calendar_syncs.c.channel_opened_at,
)


def _is(channel: Channel | None) -> tuple[ColumnElement[bool], ...]:
    """The row's channel columns hold exactly ``channel`` (None: no channel)."""
    values: tuple[object, ...] = (
        (None, None, None, None, None)
        if channel is None
        else (
            channel.channel_id,
            channel.token_digest,
            channel.resource_id,
            channel.expires_at,
            channel.opened_at,
        )
    )
    return tuple(
        column.is_not_distinct_from(value) for column, value in zip(_CHANNEL, values, strict=True)
    )


def _values(channel: Channel | None) -> dict[str, object]:
    if channel is None:
        return {column.name: null() for column in _CHANNEL}
    return {
        "channel_id": channel.channel_id,
        "channel_token_digest": channel.token_digest,
        "channel_resource_id": channel.resource_id,
        "channel_expires_at": channel.expires_at,
        "channel_opened_at": channel.opened_at,
    }


class CalendarChannelRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def owner(self, channel_id: str) -> ChannelOwner | None:
        """Whose calendar channel ``channel_id`` watches, with its token's digest."""
        row = (
            await self._db.execute(
                select(calendar_syncs.c.staff_id, calendar_syncs.c.channel_token_digest).where(
                    calendar_syncs.c.channel_id == channel_id
                )
            )
        ).first()
        if row is None or row.channel_token_digest is None:
            return None
        return ChannelOwner(int(row.staff_id), str(row.channel_token_digest))

    async def want_sync(self, staff_id: int, channel_id: str, at: datetime) -> bool:
        """Ask for a sync of the calendar ``channel_id`` watches (``wanted_at``), while the
        row still names that channel."""
        done = await self._db.execute(
            update(calendar_syncs)
            .where(calendar_syncs.c.staff_id == staff_id, calendar_syncs.c.channel_id == channel_id)
            .values(wanted_at=at)
        )
        return done.rowcount == 1

    async def calendars(self) -> list[WatchedCalendar]:
        """Every calendar read back, by staff id."""
        rows = await self._db.execute(
            select(calendar_syncs.c.staff_id, staff.c.key, calendar_syncs.c.calendar_id, *_CHANNEL)
            .join(staff, staff.c.id == calendar_syncs.c.staff_id)
            .order_by(calendar_syncs.c.staff_id)
        )
        found: list[WatchedCalendar] = []
        for row in rows:
            channel = None
            if row.channel_id is not None and row.channel_expires_at is not None:
                channel = Channel(
                    row.channel_id,
                    row.channel_token_digest or "",
                    row.channel_resource_id,
                    row.channel_expires_at,
                    row.channel_opened_at,
                )
            found.append(WatchedCalendar(int(row.staff_id), row.key, row.calendar_id, channel))
        return found

    async def replace(
        self, staff_id: int, calendar_id: str, seen: Channel | None, new: Channel | None
    ) -> bool:
        """The row's channel becomes ``new`` (None: none), if the row still watches
        ``calendar_id`` with exactly the channel ``seen``; whether it did."""
        done = await self._db.execute(
            update(calendar_syncs)
            .where(
                calendar_syncs.c.staff_id == staff_id,
                calendar_syncs.c.calendar_id == calendar_id,
                *_is(seen),
            )
            .values(**_values(new))
        )
        return done.rowcount == 1

    async def opened(
        self,
        staff_id: int,
        channel_id: str,
        resource_id: str,
        expires_at: datetime,
        at: datetime,
    ) -> bool:
        """Google opened the channel being opened: its resource id and expiry are kept, and
        a sync is asked for (what changed before the channel was live is read then)."""
        done = await self._db.execute(
            update(calendar_syncs)
            .where(
                calendar_syncs.c.staff_id == staff_id,
                calendar_syncs.c.channel_id == channel_id,
                calendar_syncs.c.channel_resource_id.is_(None),
            )
            .values(channel_resource_id=resource_id, channel_expires_at=expires_at, wanted_at=at)
        )
        return done.rowcount == 1
