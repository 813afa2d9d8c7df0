"""Calendar pushes: bookings waiting to be put on or taken off a staff member's linked
calendar, in order per booking (``calendar_pushes``).

Queuing a push also announces it on ``PUSHES_CHANNEL`` (Postgres ``NOTIFY``, delivered at
the queuing transaction's commit, dropped with its rollback): a pusher in any process
listening there pushes it at once instead of at its next tick.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.db.tables import calendar_pushes, customers, staff
from core.linked_calendars.edits import LastWrite
from core.linked_calendars.ports import EventDraft, event_id

MAX_ERROR_LENGTH = 2000
PUSHES_CHANNEL = "salonbot_calendar_pushes"
"""Where a queued push is announced (no payload: a pusher claims what is due)."""
SUPERSEDED = "superseded by a later push"
"""``last_error`` of a push marked done because a later one replaced it: never carried out."""
SETTLED = "settled by a later push"
"""Added to ``last_error`` of a parked push marked done because a later push of its booking
to the same calendar was carried out: it was never carried out itself."""
MOST_DUE_CALENDARS = 100


class PushAction(StrEnum):
    PUT = "put"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class ClaimedPush:
    """A push a pusher has claimed until ``claimed_until``: ``event`` for a put, None for
    a remove (``event_id`` names the event either way)."""

    id: int
    booking_id: int
    calendar_id: str
    action: PushAction
    event_id: str
    event: EventDraft | None
    attempts: int
    claimed_until: datetime


def event_body(event: EventDraft) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "booking_id": event.booking_id,
        "summary": event.summary,
        "description": event.description,
        "start": event.start.isoformat(),
        "end": event.end.isoformat(),
        "time_zone": event.time_zone,
    }


def event_from_body(body: dict[str, Any]) -> EventDraft:
    """The draft stored by ``event_body``; raises (KeyError, TypeError, ValueError) when
    the stored shape is damaged or an instant is not timezone-aware."""
    start = datetime.fromisoformat(body["start"])
    end = datetime.fromisoformat(body["end"])
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("a pushed event's instants are timezone-aware")
    return EventDraft(
        str(body["event_id"]),
        int(body["booking_id"]),
        str(body["summary"]),
        str(body["description"]),
        start,
        end,
        str(body["time_zone"]),
    )


def _open() -> ColumnElement[bool]:
    return and_(calendar_pushes.c.done_at.is_(None), calendar_pushes.c.parked_at.is_(None))


def _still_claimed(push: ClaimedPush) -> tuple[ColumnElement[bool], ...]:
    """The push's row while this claim holds and it is open: an outcome recorded after
    the claim ran out (another pusher took the push over), or after a newer push
    superseded it, changes nothing."""
    return (
        calendar_pushes.c.id == push.id,
        calendar_pushes.c.claimed_until == push.claimed_until,
        _open(),
    )


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(calendar_pushes.c.claimed_until.is_(None), calendar_pushes.c.claimed_until <= now)


def _due(now: datetime, busy: Collection[str]) -> tuple[ColumnElement[bool], ...]:
    """Open, unclaimed, due now, to none of the ``busy`` calendars."""
    return (
        _open(),
        _unclaimed(now),
        calendar_pushes.c.next_attempt_at <= now,
        calendar_pushes.c.calendar_id.not_in(sorted(busy)),
    )


class CalendarPushRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    async def last_put_calendar(self, booking_id: int, staff_key: str) -> str | None:
        """The calendar the booking's event was last put on for ``staff_key`` (whatever
        became of that push), or None: where its event is, whatever the catalog says now."""
        found = await self._db.scalar(
            select(calendar_pushes.c.calendar_id)
            .join(staff, staff.c.id == calendar_pushes.c.staff_id)
            .where(
                calendar_pushes.c.booking_id == booking_id,
                calendar_pushes.c.action == PushAction.PUT,
                staff.c.key == staff_key,
            )
            .order_by(calendar_pushes.c.id.desc())
            .limit(1)
        )
        return None if found is None else str(found)

    async def add(
        self,
        booking_id: int,
        staff_key: str,
        calendar_id: str,
        event: EventDraft | None,
        at: datetime,
    ) -> int:
        """Queue a put of ``event`` (or, when None, a remove of the booking's event) on
        ``calendar_id``; due at once, after the booking's earlier open pushes.

        The booking's older open puts on the same calendar that no pusher holds are
        superseded (marked done): only the latest state of the event matters. One a
        pusher is carrying out right now is left to finish; this one waits for it.
        """
        older_puts = (
            select(calendar_pushes.c.id)
            .where(
                _open(),
                _unclaimed(at),
                calendar_pushes.c.booking_id == booking_id,
                calendar_pushes.c.calendar_id == calendar_id,
                calendar_pushes.c.action == PushAction.PUT,
            )
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        await self._db.execute(
            update(calendar_pushes)
            .where(calendar_pushes.c.id.in_(older_puts))
            .values(done_at=at, last_error=SUPERSEDED)
        )
        staff_id = select(staff.c.id).where(staff.c.key == staff_key).scalar_subquery()
        pushed = await self._db.scalar(
            calendar_pushes.insert()
            .values(
                booking_id=booking_id,
                staff_id=staff_id,
                calendar_id=calendar_id,
                action=PushAction.PUT if event is not None else PushAction.REMOVE,
                event=null() if event is None else event_body(event),
                next_attempt_at=at,
                created_at=at,
            )
            .returning(calendar_pushes.c.id)
        )
        # One notice per transaction however many pushes it queues (Postgres folds equal
        # payloads), sent at commit.
        await self._db.execute(select(func.pg_notify(PUSHES_CHANNEL, "")))
        return int(pushed)

    async def channel_of(self, customer_id: int) -> str | None:
        """The channel the customer came through (None: added by staff)."""
        channel = await self._db.scalar(
            select(customers.c.channel).where(customers.c.id == customer_id)
        )
        return None if channel is None else str(channel)

    async def claim(
        self,
        now: datetime,
        claimed_until: datetime,
        limit: int,
        *,
        busy: Collection[str] = (),
        calendar_id: str | None = None,
    ) -> list[ClaimedPush]:
        """Claim up to ``limit`` due pushes until ``claimed_until``, each the oldest open
        push of its booking (a later one waits for it, even while it is waiting to be
        retried), none to the ``busy`` calendars (only to ``calendar_id``, when given).
        Rows another pusher holds or has claimed are skipped. A stored event too damaged
        to read is parked, not claimed.

        Fair between calendars: every calendar's first due push comes before any
        calendar's second (then oldest first), so a calendar with a long queue (one that
        fails, say) never fills a run on its own. Returned in id order."""
        earlier = calendar_pushes.alias("earlier")
        earlier_open = exists().where(
            earlier.c.booking_id == calendar_pushes.c.booking_id,
            earlier.c.id < calendar_pushes.c.id,
            earlier.c.done_at.is_(None),
            earlier.c.parked_at.is_(None),
        )
        claimable = _due(now, busy)
        if calendar_id is not None:
            claimable += (calendar_pushes.c.calendar_id == calendar_id,)
        ranked = (
            select(
                calendar_pushes.c.id,
                func.row_number()
                .over(
                    partition_by=calendar_pushes.c.calendar_id,
                    order_by=(calendar_pushes.c.next_attempt_at, calendar_pushes.c.id),
                )
                .label("turn"),
            )
            .where(*claimable, ~earlier_open)
            .subquery("ranked")
        )
        # The conditions again on the locked rows: a row another pusher claimed and
        # committed meanwhile is re-checked against them (the subquery's snapshot is not).
        # An earlier open push of the booking cannot appear meanwhile (later ids only).
        due = (
            select(calendar_pushes.c.id)
            .join(ranked, ranked.c.id == calendar_pushes.c.id)
            .where(*claimable)
            .order_by(ranked.c.turn, calendar_pushes.c.next_attempt_at, calendar_pushes.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=calendar_pushes)
            .scalar_subquery()
        )
        rows = await self._db.execute(
            update(calendar_pushes)
            .where(calendar_pushes.c.id.in_(due))
            .values(claimed_until=claimed_until)
            .returning(
                calendar_pushes.c.id,
                calendar_pushes.c.booking_id,
                calendar_pushes.c.calendar_id,
                calendar_pushes.c.action,
                calendar_pushes.c.event,
                calendar_pushes.c.attempts,
            )
        )
        claimed: list[ClaimedPush] = []
        for row in sorted(rows, key=lambda r: int(r.id)):
            event = None
            if row.action == PushAction.PUT:
                try:
                    event = event_from_body(row.event)
                except (KeyError, TypeError, ValueError) as error:
                    await self._park(int(row.id), f"damaged event: {error!r}", now)
                    continue
            claimed.append(
                ClaimedPush(
                    int(row.id),
                    int(row.booking_id),
                    row.calendar_id,
                    PushAction(row.action),
                    _event_id_of(int(row.booking_id), event),
                    event,
                    int(row.attempts),
                    claimed_until,
                )
            )
        return claimed

    async def due_calendars(self, now: datetime, busy: Collection[str] = ()) -> list[str]:
        """The calendars with a push due now that no pusher has claimed (``busy`` left
        out), at most ``MOST_DUE_CALENDARS``: where to push next. (A due push may still
        wait for an earlier one of its booking: its calendar is named all the same.)"""
        rows = await self._db.execute(
            select(calendar_pushes.c.calendar_id)
            .where(*_due(now, busy))
            .group_by(calendar_pushes.c.calendar_id)
            .order_by(func.min(calendar_pushes.c.next_attempt_at))
            .limit(MOST_DUE_CALENDARS)
        )
        return [str(calendar) for calendar in rows.scalars()]

    async def done(self, push: ClaimedPush, at: datetime) -> None:
        """Carried out; the booking's earlier pushes to the same calendar that were parked
        are settled by it (marked done, their reason kept): the event is as it should be
        now, so they are no longer stuck."""
        recorded = await self._db.execute(
            update(calendar_pushes)
            .where(*_still_claimed(push))
            .values(done_at=at, claimed_until=None, attempts=calendar_pushes.c.attempts + 1)
        )
        if recorded.rowcount == 0:
            return
        await self._db.execute(
            update(calendar_pushes)
            .where(
                calendar_pushes.c.booking_id == push.booking_id,
                calendar_pushes.c.calendar_id == push.calendar_id,
                calendar_pushes.c.id < push.id,
                calendar_pushes.c.parked_at.is_not(None),
                calendar_pushes.c.done_at.is_(None),
            )
            .values(
                done_at=at,
                last_error=func.left(
                    func.concat(calendar_pushes.c.last_error, f" ({SETTLED})"), MAX_ERROR_LENGTH
                ),
            )
        )

    async def retry_at(self, push: ClaimedPush, at: datetime, error: str) -> None:
        await self._db.execute(
            update(calendar_pushes)
            .where(*_still_claimed(push))
            .values(
                next_attempt_at=at,
                claimed_until=None,
                last_error=error[:MAX_ERROR_LENGTH],
                attempts=calendar_pushes.c.attempts + 1,
            )
        )

    async def release(self, pushes: Sequence[ClaimedPush], due_at: datetime) -> None:
        """Let claimed pushes go untried: due again at ``due_at`` at the soonest (their
        own due time if later), no attempt counted."""
        for push in pushes:
            await self._db.execute(
                update(calendar_pushes)
                .where(*_still_claimed(push))
                .values(
                    claimed_until=None,
                    next_attempt_at=func.greatest(calendar_pushes.c.next_attempt_at, due_at),
                )
            )

    async def park(self, push: ClaimedPush, error: str, at: datetime) -> None:
        """Given up: kept with its reason, for the staff page (a later push of the booking
        goes on)."""
        await self._park(push.id, error, at, _still_claimed(push))

    async def _park(
        self, push_id: int, error: str, at: datetime, where: tuple[ColumnElement[bool], ...] = ()
    ) -> None:
        await self._db.execute(
            update(calendar_pushes)
            .where(calendar_pushes.c.id == push_id, *where)
            .values(
                parked_at=at,
                claimed_until=None,
                last_error=error[:MAX_ERROR_LENGTH],
                attempts=calendar_pushes.c.attempts + 1,
            )
        )

    async def has_open(self, booking_id: int) -> bool:
        """Whether a push of the booking is waiting or under way (not done, not parked)."""
        found = await self._db.scalar(
            select(calendar_pushes.c.id)
            .where(calendar_pushes.c.booking_id == booking_id, _open())
            .limit(1)
        )
        return found is not None

    async def last_done(self, booking_id: int, calendar_id: str) -> LastWrite | None:
        """The booking's last push carried out on ``calendar_id`` (a superseded one never
        was, nor a parked one a later push settled), or None: what salonbot last wrote
        there for it."""
        row = (
            await self._db.execute(
                select(calendar_pushes.c.action, calendar_pushes.c.event, calendar_pushes.c.done_at)
                .where(
                    calendar_pushes.c.booking_id == booking_id,
                    calendar_pushes.c.calendar_id == calendar_id,
                    calendar_pushes.c.done_at.is_not(None),
                    calendar_pushes.c.last_error.is_distinct_from(SUPERSEDED),
                    calendar_pushes.c.parked_at.is_(None),
                )
                .order_by(calendar_pushes.c.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        if row.action != PushAction.PUT:
            return LastWrite(put=False, done_at=row.done_at)
        event = event_from_body(row.event)
        return LastWrite(put=True, done_at=row.done_at, start=event.start, end=event.end)


def _event_id_of(booking_id: int, event: EventDraft | None) -> str:
    return event.event_id if event is not None else event_id(booking_id)
