"""salonbot's own events kept by the calendar reads (``calendar_seen_events``) on Postgres:
kept as read, one claim at a time across processes, a newer read never lost to the
reconciling of an older one, the same event read again changing nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.calendar_seen_repository import SeenEvent, SeenEventRepository
from core.db.tables import calendar_seen_events, staff
from core.linked_calendars.ports import CalendarEvent, event_id
from salonbot.bootstrap import Salonbot
from tests.fakes.clock import FakeClock

MARIA = "maria@example.org"
TEN = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def moved(booking_id: int, start: datetime = TEN) -> CalendarEvent:
    return CalendarEvent(
        event_id(booking_id),
        False,
        start=start,
        end=start + HOUR,
        booking_id=booking_id,
        updated=datetime(2026, 12, 7, 6, 0, 0, 123000, tzinfo=UTC),
    )


async def maria(connection: AsyncConnection) -> int:
    staff_id = await connection.scalar(select(staff.c.id).where(staff.c.key == "maria"))
    assert staff_id is not None
    return int(staff_id)


async def keep(app: Salonbot, *events: CalendarEvent) -> None:
    async with app.uow() as uow:
        repository = SeenEventRepository(uow.connection)
        await repository.keep(await maria(uow.connection), MARIA, events, app.clock.now())
        await uow.commit()


async def claim(app: Salonbot, limit: int = 10) -> list[SeenEvent]:
    now = app.clock.now()
    async with app.uow() as uow:
        claimed = await SeenEventRepository(uow.connection).claim(
            now=now, until=now + timedelta(minutes=5), limit=limit
        )
        await uow.commit()
    return claimed


async def kept_rows(app: Salonbot) -> list[dict[str, object]]:
    async with app.engine.connect() as connection:
        rows = await connection.execute(
            select(calendar_seen_events).order_by(calendar_seen_events.c.booking_id)
        )
        return [dict(row._mapping) for row in rows]


async def test_events_are_kept_as_read_and_claimed_with_their_staff_member(app: Salonbot) -> None:
    ours = event_id(3)
    events = (
        moved(1),
        CalendarEvent(event_id(2), True, booking_id=2),  # deleted: its id alone
        CalendarEvent(f"{ours}_20261208T090000Z", False, busy=False, start=TEN, end=TEN + HOUR,
                      booking_id=3, recurring_event_id=ours),
        CalendarEvent(event_id(4), False, first_day=date(2026, 12, 8), end_day=date(2026, 12, 9),
                      booking_id=4),
    )  # fmt: skip
    await keep(app, *events)

    claimed = await claim(app)

    assert [seen.event for seen in claimed] == list(events)
    assert {(seen.staff_key, seen.calendar_id, seen.version) for seen in claimed} == {
        ("maria", MARIA, 1)
    }
    assert "summary" not in str((await kept_rows(app))[0]["event"])


async def test_an_event_is_claimed_by_one_process_at_a_time(
    app: Salonbot, clock: FakeClock
) -> None:
    await keep(app, moved(1))
    now = clock.now()
    async with app.engine.connect() as one, app.engine.connect() as other:
        first = await SeenEventRepository(one).claim(now=now, until=now + HOUR, limit=10)
        # While the first claim is not committed, its row is skipped, not waited for.
        second = await SeenEventRepository(other).claim(now=now, until=now + HOUR, limit=10)
        await one.commit()
        third = await SeenEventRepository(other).claim(now=now, until=now + HOUR, limit=10)
    assert (len(first), second, third) == (1, [], [])

    clock.advance(HOUR)  # the claimer died: taken over
    assert len(await claim(app)) == 1


async def test_a_newer_read_while_one_is_reconciled_is_kept_for_its_own_turn(
    app: Salonbot,
) -> None:
    await keep(app, moved(1))
    [older] = await claim(app)
    await keep(app, moved(1, TEN + HOUR))  # read again meanwhile: moved once more

    async with app.uow() as uow:
        await SeenEventRepository(uow.connection).done(older)
        await uow.commit()

    [row] = await kept_rows(app)
    assert (row["version"], row["claimed_until"]) == (2, None)
    [newer] = await claim(app)
    assert newer.event.start == TEN + HOUR


async def test_a_failure_is_kept_and_the_same_event_read_again_keeps_its_backoff(
    app: Salonbot, clock: FakeClock
) -> None:
    await keep(app, moved(1))
    [seen] = await claim(app)
    retry_at = clock.now() + timedelta(seconds=1)
    async with app.uow() as uow:
        await SeenEventRepository(uow.connection).failed(
            seen, "KeyError: 'start'", retry_at=retry_at, parked_at=None
        )
        await uow.commit()

    await keep(app, moved(1))  # a full read replays it, unchanged
    assert await claim(app) == []
    [row] = await kept_rows(app)
    assert (row["attempts"], row["version"], row["next_attempt_at"]) == (1, 1, retry_at)
    assert row["last_error"] == "KeyError: 'start'"

    await keep(app, moved(1, TEN + HOUR))  # changed: a fresh start
    [row] = await kept_rows(app)
    assert (row["attempts"], row["next_attempt_at"], row["last_error"]) == (0, None, None)
