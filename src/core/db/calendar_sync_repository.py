"""The staff's linked calendars read back: each one's sync state (``calendar_syncs``) and
the busy time read from it (``calendar_busy``).

A process syncs a calendar only while it holds the row's claim (``claimed_until``); every
write of what it read first locks the row and checks that the claim is still its own
(``still_claimed``), so a sync that outlived its claim, or whose calendar left the
catalog meanwhile, changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, and_, case, delete, false, literal, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from core.db.tables import calendar_busy, calendar_syncs, staff
from core.domain.timeline import Interval

MAX_ERROR_LENGTH = 2000
_INSERT_CHUNK = 1000  # rows per INSERT: well under Postgres's 32,767 parameters


@dataclass(frozen=True, slots=True)
class ClaimedSync:
    """A calendar a process syncs until ``claimed_until``, with its state at the claim."""

    staff_id: int
    staff_key: str
    calendar_id: str
    sync_token: str | None
    window: Interval | None
    wanted_at: datetime | None
    full_wanted: bool
    failures: int
    claimed_until: datetime


@dataclass(frozen=True, slots=True)
class BusyEvent:
    """One event's busy time, as ``calendar_busy`` keeps it."""

    event_id: str
    time: Interval


@dataclass(frozen=True, slots=True)
class InStep:
    """The rows after ``keep_in_step``: the staff ids whose row follows the catalog, and
    whether to look again on the next tick (a row that left the catalog waits for its
    push channel to be stopped, or another process added a row meanwhile)."""

    current: frozenset[int]
    again: bool


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(calendar_syncs.c.claimed_until.is_(None), calendar_syncs.c.claimed_until <= now)


class CalendarSyncRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._db = connection

    @property
    def connection(self) -> AsyncConnection:
        """The connection (and transaction) this repository works in."""
        return self._db

    async def keep_in_step(self, wanted: Mapping[str, str]) -> InStep:
        """Rows follow ``wanted`` (staff key -> calendar id, from the catalog).

        A missing row is added (its first sync will be a full read). A row whose staff
        member or calendar left the catalog loses its busy time, sync token and claim at
        once, and is never claimed again; once its push channel is stopped
        (``channel_id`` NULL) the row is deleted, or, when the staff member has another
        calendar now, starts over on it.
        """
        rows = await self._db.execute(
            select(
                calendar_syncs.c.staff_id,
                staff.c.key,
                calendar_syncs.c.calendar_id,
                calendar_syncs.c.channel_id,
            )
            .join(staff, staff.c.id == calendar_syncs.c.staff_id)
            .order_by(calendar_syncs.c.staff_id)
            .with_for_update(of=calendar_syncs)
        )
        current: set[int] = set()
        again = False
        have = set()
        for row in rows:
            have.add(row.key)
            if wanted.get(row.key) == row.calendar_id:
                current.add(row.staff_id)
                continue
            await self._leave(row.staff_id)
            if row.channel_id is not None:
                again = True
            elif row.key in wanted:
                await self._start_over(row.staff_id, wanted[row.key])
                current.add(row.staff_id)
            else:
                await self._db.execute(
                    delete(calendar_syncs).where(calendar_syncs.c.staff_id == row.staff_id)
                )
        for key, calendar_id in wanted.items():
            if key in have:
                continue
            added = await self._db.scalar(
                insert(calendar_syncs)
                .from_select(
                    ["staff_id", "calendar_id"],
                    select(staff.c.id, literal(calendar_id)).where(staff.c.key == key),
                )
                .on_conflict_do_nothing()
                .returning(calendar_syncs.c.staff_id)
            )
            if added is not None:
                current.add(int(added))
            else:
                again = True
        return InStep(frozenset(current), again)

    async def _leave(self, staff_id: int) -> None:
        # The claim goes too: a sync in flight then writes nothing (``still_claimed``).
        await self._db.execute(
            update(calendar_syncs)
            .where(calendar_syncs.c.staff_id == staff_id)
            .values(sync_token=None, window_start=None, window_end=None, claimed_until=None)
        )
        await self._db.execute(delete(calendar_busy).where(calendar_busy.c.staff_id == staff_id))

    async def _start_over(self, staff_id: int, calendar_id: str) -> None:
        await self._db.execute(
            update(calendar_syncs)
            .where(calendar_syncs.c.staff_id == staff_id)
            .values(
                calendar_id=calendar_id,
                sync_token=None,
                window_start=None,
                window_end=None,
                synced_at=None,
                claimed_until=None,
                failures=0,
                next_attempt_at=None,
                last_error=None,
            )
        )

    async def claim_due(
        self,
        staff_ids: Collection[int],
        *,
        now: datetime,
        claimed_until: datetime,
        synced_before: datetime,
        covered_until: datetime,
        limit: int,
    ) -> list[ClaimedSync]:
        """Claim up to ``limit`` of these staff members' calendars that are due and not
        waiting for a retry: never synced, a sync wanted, last synced before
        ``synced_before``, or a window that no longer reaches ``covered_until``. Rows
        another process holds or has claimed are skipped."""
        due = or_(
            calendar_syncs.c.synced_at.is_(None),
            calendar_syncs.c.wanted_at.is_not(None),
            calendar_syncs.c.synced_at <= synced_before,
            calendar_syncs.c.window_end.is_(None),
            calendar_syncs.c.window_end < covered_until,
        )
        retry_due = or_(
            calendar_syncs.c.next_attempt_at.is_(None), calendar_syncs.c.next_attempt_at <= now
        )
        return await self._claim(
            and_(calendar_syncs.c.staff_id.in_(list(staff_ids)), _unclaimed(now), due, retry_due),
            claimed_until,
            limit,
        )

    async def claim(
        self, staff_id: int, *, now: datetime, claimed_until: datetime
    ) -> ClaimedSync | None:
        """Claim one calendar now, due or not, unless another process holds it."""
        found = await self._claim(
            and_(calendar_syncs.c.staff_id == staff_id, _unclaimed(now)), claimed_until, 1
        )
        return found[0] if found else None

    async def _claim(
        self, where: ColumnElement[bool], claimed_until: datetime, limit: int
    ) -> list[ClaimedSync]:
        chosen = (
            select(calendar_syncs.c.staff_id)
            .where(where)
            .order_by(calendar_syncs.c.synced_at.asc().nulls_first(), calendar_syncs.c.staff_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed = (
            update(calendar_syncs)
            .where(calendar_syncs.c.staff_id.in_(chosen))
            .values(claimed_until=claimed_until)
            .returning(*calendar_syncs.c)
            .cte("claimed")
        )
        rows = await self._db.execute(
            select(claimed, staff.c.key)
            .join(staff, staff.c.id == claimed.c.staff_id)
            .order_by(claimed.c.staff_id)
        )
        return [_claimed(row) for row in rows]

    async def still_claimed(
        self, sync: ClaimedSync, *, renew_until: datetime | None = None
    ) -> ClaimedSync | None:
        """Lock the calendar's row if ``sync``'s claim still holds (renewed to
        ``renew_until`` when given); None when it does not: write nothing then."""
        until = renew_until or sync.claimed_until
        held = await self._db.scalar(
            update(calendar_syncs)
            .where(
                calendar_syncs.c.staff_id == sync.staff_id,
                calendar_syncs.c.claimed_until == sync.claimed_until,
                calendar_syncs.c.calendar_id == sync.calendar_id,
            )
            .values(claimed_until=until)
            .returning(calendar_syncs.c.claimed_until)
        )
        if held is None:
            return None
        return ClaimedSync(
            sync.staff_id,
            sync.staff_key,
            sync.calendar_id,
            sync.sync_token,
            sync.window,
            sync.wanted_at,
            sync.full_wanted,
            sync.failures,
            held,
        )

    async def replace_busy(self, staff_id: int, events: Sequence[BusyEvent]) -> None:
        """The staff member's busy time is exactly ``events`` (a full read)."""
        await self._db.execute(delete(calendar_busy).where(calendar_busy.c.staff_id == staff_id))
        rows = [_busy_row(staff_id, event) for event in events]
        for first in range(0, len(rows), _INSERT_CHUNK):
            await self._db.execute(insert(calendar_busy), rows[first : first + _INSERT_CHUNK])

    async def put_busy(self, staff_id: int, events: Sequence[BusyEvent]) -> list[str]:
        """Add or update these events' busy time; the ids of those that are new or moved."""
        if not events:
            return []
        changed: list[str] = []
        rows = [_busy_row(staff_id, event) for event in events]
        for first in range(0, len(rows), _INSERT_CHUNK):
            statement = insert(calendar_busy).values(rows[first : first + _INSERT_CHUNK])
            excluded = statement.excluded
            result = await self._db.execute(
                statement.on_conflict_do_update(
                    index_elements=["staff_id", "event_id"],
                    set_={"starts_at": excluded.starts_at, "ends_at": excluded.ends_at},
                    where=or_(
                        calendar_busy.c.starts_at != excluded.starts_at,
                        calendar_busy.c.ends_at != excluded.ends_at,
                    ),
                ).returning(calendar_busy.c.event_id)
            )
            changed += [str(event_id) for event_id in result.scalars()]
        return changed

    async def drop_busy(self, staff_id: int, event_ids: Collection[str]) -> None:
        if event_ids:
            await self._db.execute(
                delete(calendar_busy).where(
                    calendar_busy.c.staff_id == staff_id,
                    calendar_busy.c.event_id.in_(list(event_ids)),
                )
            )

    async def synced(
        self,
        sync: ClaimedSync,
        *,
        sync_token: str,
        window: Interval | None,
        began: datetime,
        full: bool,
    ) -> None:
        """The read that began at ``began`` is done: its token (and, for a full read, its
        window) kept, failures forgotten, the claim let go. A sync asked for after the
        read began stays asked for."""
        asked_before = or_(
            calendar_syncs.c.wanted_at.is_(None), calendar_syncs.c.wanted_at <= began
        )
        values: dict[str, object] = {
            "sync_token": sync_token,
            "synced_at": began,
            "claimed_until": None,
            "failures": 0,
            "next_attempt_at": None,
            "last_error": None,
            "wanted_at": case((asked_before, None), else_=calendar_syncs.c.wanted_at),
        }
        if full:
            still = calendar_syncs.c.full_wanted
            values["full_wanted"] = case((asked_before, false()), else_=still)
        if window is not None:
            values["window_start"], values["window_end"] = window.start, window.end
        await self._db.execute(
            update(calendar_syncs)
            .where(
                calendar_syncs.c.staff_id == sync.staff_id,
                calendar_syncs.c.claimed_until == sync.claimed_until,
            )
            .values(values)
        )

    async def forget_token(self, sync: ClaimedSync) -> None:
        """The calendar's next read is a full one (its sync token expired)."""
        await self._db.execute(
            update(calendar_syncs)
            .where(
                calendar_syncs.c.staff_id == sync.staff_id,
                calendar_syncs.c.claimed_until == sync.claimed_until,
            )
            .values(sync_token=None)
        )

    async def failed(self, sync: ClaimedSync, error: str, retry_at: datetime) -> None:
        """The read failed: tried again at ``retry_at``; the claim let go."""
        await self._db.execute(
            update(calendar_syncs)
            .where(
                calendar_syncs.c.staff_id == sync.staff_id,
                calendar_syncs.c.claimed_until == sync.claimed_until,
            )
            .values(
                claimed_until=None,
                failures=calendar_syncs.c.failures + 1,
                next_attempt_at=retry_at,
                last_error=error[:MAX_ERROR_LENGTH],
            )
        )

    async def want(self, staff_ids: Collection[int], at: datetime, *, full: bool) -> None:
        """Ask for a sync of these calendars (``full``: a full read) as soon as possible,
        whatever their backoff."""
        values: dict[str, object] = {"wanted_at": at, "next_attempt_at": None}
        if full:
            values["full_wanted"] = true()
        await self._db.execute(
            update(calendar_syncs)
            .where(calendar_syncs.c.staff_id.in_(list(staff_ids)))
            .values(values)
        )

    async def staff_with_calendars(self, keys: Collection[str]) -> dict[str, int]:
        """Staff key -> id of those of ``keys`` whose row exists."""
        rows = await self._db.execute(
            select(staff.c.key, calendar_syncs.c.staff_id)
            .join(staff, staff.c.id == calendar_syncs.c.staff_id)
            .where(staff.c.key.in_(list(keys)))
        )
        return {row.key: row.staff_id for row in rows}


def _busy_row(staff_id: int, event: BusyEvent) -> dict[str, object]:
    return {
        "staff_id": staff_id,
        "event_id": event.event_id,
        "starts_at": event.time.start,
        "ends_at": event.time.end,
    }


def _claimed(row: Row[tuple[object, ...]]) -> ClaimedSync:
    m = row._mapping
    window = None
    if m["window_start"] is not None and m["window_end"] is not None:
        window = Interval(m["window_start"], m["window_end"])
    return ClaimedSync(
        staff_id=int(m["staff_id"]),
        staff_key=str(m["key"]),
        calendar_id=str(m["calendar_id"]),
        sync_token=m["sync_token"],
        window=window,
        wanted_at=m["wanted_at"],
        full_wanted=bool(m["full_wanted"]),
        failures=int(m["failures"]),
        claimed_until=m["claimed_until"],
    )
