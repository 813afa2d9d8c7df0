"""The scheduler never sends a message twice and never loses one: two processes (two app
instances, two engines) ticking at once on one database, a tick holding its rows while
another runs, a process stopped and started again later, a tick that fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.conversation.messages import Reply
from core.conversation.state import State
from core.db.conversation_repository import ConversationRepository
from core.db.customer_repository import CustomerRepository
from core.db.notice_repository import Decision, NoticeRepository, NoticeStatus
from core.db.outbox_repository import BulkMessage, OutboxRepository
from core.domain.booking import Actor, Booking
from core.services.catalog import load_catalog
from core.services.due_notices import QueueDueNotices
from core.services.visits_done import CompleteEndedVisits
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from salonbot.runtime import Runtime
from salonbot.scheduler import Scheduler
from tests.db_state import rows
from tests.fakes.clock import FakeClock
from tests.waiting import until, waiting_for_a_lock

pytestmark = pytest.mark.race

STAFF = Actor.staff("front-desk")
WEDNESDAY = datetime(2026, 12, 9, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
HOURS = '["09:00-19:00"]'
SALON = f"""
salon: {{name: Lumen, timezone: Europe/Berlin, languages: [en], currency: EUR}}
policies: {{min_notice: 30m, booking_horizon: 60d, slot_step: 15m}}
services:
  - {{id: cut, name: {{en: Cut}}, duration: 45m, price: 30}}
staff:
  - {{id: ann, name: Ann, services: [cut], hours: {{wed: {HOURS}, thu: {HOURS}}}}}
  - {{id: bea, name: Bea, services: [cut], hours: {{wed: {HOURS}, thu: {HOURS}}}}}
reminders:
  rules:
    - before: 24h
    - day_before_at: "18:00"
    - before: 2h
  quiet_hours: "21:00-09:00"
  ask_to_confirm: true
follow_up: {{after: 1h}}
"""


class StumblingClock(FakeClock):
    """A fake clock whose readings fail while ``stumbling`` (every tick then breaks)."""

    stumbling = False

    def now(self) -> datetime:
        if self.stumbling:
            raise RuntimeError("the tick stumbled")
        return super().now()


@pytest.fixture
async def salon(clean_engine: AsyncEngine, clock: FakeClock) -> Salonbot:
    app = Salonbot(clean_engine, clock)
    document, _ = load_catalog_text(SALON)
    await load_catalog(app.uow, clock, document)
    return app


@pytest.fixture
async def other_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A second process's engine on the same database."""
    engine = make_engine(database_url, pool_size=10)
    yield engine
    await engine.dispose()


async def _book_many(app: Salonbot, count: int, first: datetime = WEDNESDAY) -> list[Booking]:
    """``count`` visits of as many customers (each with a chat) on Wednesday and Thursday,
    hourly from ``first``."""
    booked = []
    starts = [
        first + timedelta(days=day, minutes=60 * slot)
        for slot in range(10)
        for day in (0, 1)
        for _ in ("ann", "bea")
    ]
    for i, start in enumerate(starts[:count]):
        now = app.clock.now()
        async with app.uow() as uow:
            customer, _ = await CustomerRepository(uow.connection).for_identity(
                "telegram", str(1000 + i), now, language="en"
            )
            await ConversationRepository(uow.connection).save(
                "telegram", str(1000 + i), customer, State().to_json(), None, now
            )
            await uow.commit()
        booked.append(await app.bookings.book("cut", start, STAFF, customer_id=customer))
    return booked


async def _queued_and_sent(app: Salonbot) -> tuple[int, int, int]:
    """(notices queued, bulk messages in the outbox, distinct outbox ids of queued notices)."""
    [(queued, messages, distinct)] = await rows(
        app.engine,
        "SELECT (SELECT count(*) FROM scheduled_notices WHERE status = 'queued'),"
        " (SELECT count(*) FROM outbound_messages WHERE priority = 1),"
        " (SELECT count(DISTINCT outbox_id) FROM scheduled_notices WHERE status = 'queued')",
    )
    return int(queued), int(messages), int(distinct)


async def test_two_processes_ticking_at_once_queue_each_reminder_exactly_once(
    salon: Salonbot, other_engine: AsyncEngine, clock: FakeClock
) -> None:
    await _book_many(salon, 40)
    other = Salonbot(other_engine, clock)
    # Small batches: the two interleave many times within each round.
    ticks = [
        (
            QueueDueNotices(app.uow, clock, app.catalogs, batch=3),
            CompleteEndedVisits(app.bookings, batch=2),
        )
        for app in (salon, other)
    ]

    clock.set(WEDNESDAY - timedelta(days=1))
    while clock.now() < WEDNESDAY + timedelta(days=1, hours=12):
        await asyncio.gather(*(visits.run() for _, visits in ticks))
        await asyncio.gather(*(notices.run() for notices, _ in ticks))
        clock.advance(timedelta(hours=1))

    queued, messages, distinct = await _queued_and_sent(salon)
    assert queued == messages == distinct
    # Every visit got its reminder (the latest due of each round goes) and its follow-up.
    [(visits_reminded, followed_up, undecided)] = await rows(
        salon.engine,
        "SELECT count(DISTINCT booking_id) FILTER (WHERE kind = 'reminder' AND status = 'queued'),"
        " count(*) FILTER (WHERE kind = 'follow_up' AND status = 'queued'),"
        " count(*) FILTER (WHERE status = 'pending')"
        " FROM scheduled_notices",
    )
    assert (visits_reminded, followed_up, undecided) == (40, 40, 0)
    [(completions,)] = await rows(
        salon.engine, "SELECT count(*) FROM booking_events WHERE action = 'completed'"
    )
    assert completions == 40


async def test_two_schedulers_on_one_database_queue_a_burst_exactly_once(
    salon: Salonbot, other_engine: AsyncEngine, clock: FakeClock
) -> None:
    booked = await _book_many(salon, 40)
    clock.set(WEDNESDAY - timedelta(hours=20))  # Tuesday 13:00 local
    schedulers = [
        Scheduler(app, Wakeup(), visits_every=0.01, agendas_every=3600)
        for app in (Salonbot(salon.engine, clock), Salonbot(other_engine, clock))
    ]

    for scheduler in schedulers:
        scheduler.start()
    try:
        await until(lambda: _due_pending(salon), "no due reminder is left pending")
    finally:
        for scheduler in schedulers:
            await scheduler.stop()

    due = sum(b.start - timedelta(hours=24) <= clock.now() for b in booked)
    assert due == 10  # Wednesday 09:00-13:00 local, two stylists
    assert await _queued_and_sent(salon) == (due,) * 3


async def _due_pending(app: Salonbot) -> bool:
    [(count,)] = await rows(
        app.engine,
        "SELECT count(*) FROM scheduled_notices WHERE status = 'pending'"
        " AND due_at <= '2026-12-08 12:00+00'",
    )
    return bool(count == 0)


async def test_reminders_held_by_a_tick_in_progress_are_left_to_it_and_sent_once_after_its_crash(
    salon: Salonbot, other_engine: AsyncEngine, clock: FakeClock
) -> None:
    await _book_many(salon, 6)
    other = Salonbot(other_engine, clock)
    clock.set(WEDNESDAY - timedelta(hours=20))

    async with salon.uow() as stuck:  # a process that claimed them and never commits
        held = await NoticeRepository(stuck.connection).claim_due(clock.now(), 100)
        assert held
        assert (await other.due_notices().run()).queued == 0
    # Its transaction rolled back (the process died): the rows are due again.

    assert (await other.due_notices().run()).queued == len(held)
    assert (await salon.due_notices().run()).queued == 0
    assert await _queued_and_sent(salon) == (len(held),) * 3


async def test_serve_ticks_on_start_and_a_restart_catches_up_with_what_is_still_useful(
    salon: Salonbot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    [booking] = await _book_many(salon, 1, WEDNESDAY + timedelta(hours=4))  # 13:00 local
    caplog.set_level("INFO", logger="salonbot")
    clock.set(booking.start - timedelta(hours=24))
    runtime = Runtime(salon, schedule=True)
    await runtime.start()
    await until(lambda: _count_bulk(salon, 1), "the first reminder is queued at once")
    await runtime.stop()

    clock.set(booking.start - timedelta(minutes=90))  # down through the evening and 2 h ones
    restarted = Runtime(Salonbot(salon.engine, clock), schedule=True)
    await restarted.start()
    await until(lambda: _count_bulk(salon, 2), "the latest reminder is queued on restart")
    await restarted.stop()

    decided = await rows(
        salon.engine,
        "SELECT rule, status FROM scheduled_notices WHERE kind = 'reminder' ORDER BY id",
    )
    assert decided == [
        ("before:24h", "queued"),
        ("day_before_at:18:00", "skipped"),
        ("before:2h", "queued"),
    ]
    assert "reminder skipped: a later reminder of the same visit is due too" in caplog.messages


async def test_a_tick_that_fails_is_logged_and_the_next_one_runs(
    salon: Salonbot, caplog: pytest.LogCaptureFixture
) -> None:
    clock = StumblingClock(WEDNESDAY - timedelta(days=2))
    app = Salonbot(salon.engine, clock)
    await _book_many(app, 1)
    clock.set(WEDNESDAY - timedelta(hours=23))
    clock.stumbling = True
    scheduler = Scheduler(app, Wakeup(), visits_every=0.05, agendas_every=3600)

    scheduler.start()
    try:
        await until(lambda: _visits_tick_failed(caplog), "the visits' tick fails")
        assert await _count_bulk(app, 0)  # the failed tick queued nothing
        clock.stumbling = False
        await until(lambda: _count_bulk(app, 1), "a later tick queues the reminder")
    finally:
        await scheduler.stop()


async def _visits_tick_failed(caplog: pytest.LogCaptureFixture) -> bool:
    return any(
        r.getMessage() == "scheduler tick failed" and getattr(r, "job", None) == "visits"
        for r in caplog.records
    )


async def _count_bulk(app: Salonbot, expected: int) -> bool:
    [(count,)] = await rows(app.engine, "SELECT count(*) FROM outbound_messages WHERE priority = 1")
    return bool(count == expected)


async def test_stopping_lets_a_tick_in_progress_finish_within_the_grace(
    salon: Salonbot, clock: FakeClock
) -> None:
    await _book_many(salon, 1)
    clock.set(WEDNESDAY - timedelta(hours=23))  # the 24-hour reminder is due
    scheduler = Scheduler(salon, Wakeup(), visits_every=3600, agendas_every=3600)
    async with salon.engine.connect() as blocker:
        # The tick's claim waits for the table, as for a slow database.
        await blocker.execute(text("LOCK TABLE scheduled_notices IN ACCESS EXCLUSIVE MODE"))
        scheduler.start()
        await waiting_for_a_lock(salon.engine)
        stopping = asyncio.create_task(scheduler.stop(grace=15))
        await asyncio.sleep(0.2)
        assert not stopping.done()  # waiting for the tick, not cutting it
        await blocker.rollback()
    await stopping

    assert await _count_bulk(salon, 1)  # the tick finished and queued its reminder


@pytest.mark.parametrize("change", ["cancel", "reschedule"])
async def test_a_booking_change_meeting_a_tick_between_its_claim_and_its_queueing_waits_for_it(
    salon: Salonbot, clock: FakeClock, change: str
) -> None:
    [booking] = await _book_many(salon, 1)
    clock.set(WEDNESDAY - timedelta(hours=23))  # the 24-hour reminder is due
    staff = Actor.staff("owner")
    async with salon.uow() as tick:
        # A tick has claimed the reminder (its row locked) and is rendering it...
        [claimed] = await NoticeRepository(tick.connection).claim_due(clock.now(), 10)
        if change == "cancel":
            changing = salon.bookings.cancel(booking.id, staff)
        else:
            changing = salon.bookings.reschedule(
                booking.id, booking.start + timedelta(days=7), staff
            )
        changed = asyncio.create_task(changing)
        # ...while the booking changes: it has locked the booking and waits for the notice.
        await waiting_for_a_lock(salon.engine)
        # The tick's message refers to the booking (its foreign key): no deadlock.
        reply = Reply("reminder")
        [message_id] = await OutboxRepository(tick.connection).add_bulk(
            [BulkMessage("telegram", claimed.chat_id or "", reply, booking_id=booking.id)],
            clock.now(),
        )
        await NoticeRepository(tick.connection).decide(
            [Decision(claimed.id, NoticeStatus.QUEUED, outbox_id=message_id)], clock.now()
        )
        await tick.commit()
    await changed  # the change went through, after the tick

    [(status, error)] = await rows(
        salon.engine, f"SELECT status, last_error FROM outbound_messages WHERE id = {message_id}"
    )
    assert (status, error.startswith("withdrawn: ")) == ("expired", True)
