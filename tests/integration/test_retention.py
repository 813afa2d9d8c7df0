"""Retention on real Postgres with a controlled clock: handled inbound events and finished
outbound messages older than the retention are pruned, in bounded batches, on the
partial indexes; what is pending, retrying, parked or still needed stays."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.conversation.messages import Reply
from core.db.inbox_repository import InboxRepository, InboxStatus, NewEvent
from core.db.outbox_repository import OutboxRepository
from core.db.tables import inbound_events, outbound_messages
from core.domain.booking import Actor
from core.services.retention import Pruned, PruneOldTraffic
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.scheduler import Scheduler
from tests.fakes.clock import FakeClock
from tests.waiting import until

DAY = timedelta(days=1)
KEEP = timedelta(days=30)
STAFF = Actor.staff("owner")
SOON = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 10:00 in Berlin: Maria's
LATER = datetime(2027, 1, 20, 10, 0, tzinfo=UTC)  # a Wednesday, 44 days on: Maria's


async def _store(app: Salonbot, chat: str, count: int) -> list[int]:
    """``count`` new events of ``chat``, stored now; their ids."""
    now = app.clock.now()
    async with app.uow() as uow:
        inbox = InboxRepository(uow.connection)
        platform = f"{chat}-{now.timestamp()}"
        await inbox.store_many(
            [NewEvent("telegram", f"{platform}-{i}", chat, {"n": i}) for i in range(count)], now
        )
        ids = await uow.connection.execute(
            select(inbound_events.c.id)
            .where(inbound_events.c.platform_id.like(f"{platform}-%"))
            .order_by(inbound_events.c.id)
        )
        await uow.commit()
    return [int(i) for i in ids.scalars()]


async def _finish(app: Salonbot, event_id: int, status: InboxStatus) -> None:
    async with app.uow() as uow:
        await InboxRepository(uow.connection).finish(event_id, status, app.clock.now())
        await uow.commit()


async def _ids(engine: AsyncEngine, table: Any) -> set[int]:
    async with engine.connect() as connection:
        return {int(i) for i in (await connection.execute(select(table.c.id))).scalars()}


def _prune(app: Salonbot, *, batch: int = 500, batches: int = 4) -> PruneOldTraffic:
    return PruneOldTraffic(app.uow, app.clock, KEEP, batch=batch, batches=batches)


async def test_handled_events_older_than_the_retention_go_pending_retrying_and_failed_stay(
    app: Salonbot, clock: FakeClock
) -> None:
    done, ignored, pending, retrying, failed, recent = await _store(app, "501", 6)
    await _finish(app, done, InboxStatus.DONE)
    await _finish(app, ignored, InboxStatus.IGNORED)
    async with app.uow() as uow:
        inbox = InboxRepository(uow.connection)
        await inbox.failed_attempt(retrying, "boom", clock.now() + DAY, clock.now())
        await inbox.failed_attempt(failed, "boom", None, clock.now())
        await uow.commit()
    clock.advance(KEEP - DAY)
    await _finish(app, recent, InboxStatus.DONE)  # handled a day inside the retention

    assert await _prune(app).run() == Pruned()  # nothing is 30 days old yet
    clock.advance(DAY + timedelta(seconds=1))
    assert await _prune(app).run() == Pruned(events=2)
    assert await _ids(app.engine, inbound_events) == {pending, retrying, failed, recent}
    clock.advance(KEEP)
    assert await _prune(app).run() == Pruned(events=1)
    assert await _ids(app.engine, inbound_events) == {pending, retrying, failed}


async def _message(
    app: Salonbot, *, sent: bool = False, booking_id: int | None = None, chat: str = "501"
) -> int:
    async with app.uow() as uow:
        outbox = OutboxRepository(uow.connection)
        (message,) = await outbox.add(
            "telegram", chat, [Reply("hello")], app.clock.now(), booking_id=booking_id
        )
        if sent:
            await outbox.mark_sent(message, "telegram", f"tg-{message}", app.clock.now())
        await uow.commit()
    return message


async def test_finished_messages_older_than_the_retention_go_unless_something_needs_them(
    app: Salonbot, clock: FakeClock
) -> None:
    soon = await app.bookings.book("manicure", SOON, STAFF, staff_key="maria")
    later = await app.bookings.book("manicure", LATER, STAFF, staff_key="maria")
    sent = await _message(app, sent=True)
    expired = await _message(app)
    pending = await _message(app)
    failed = await _message(app)
    sent_late = await _message(app)  # written now, sent only weeks later
    about_soon = await _message(app, sent=True, booking_id=soon.id)
    about_later = await _message(app, sent=True, booking_id=later.id)
    async with app.uow() as uow:
        outbox = OutboxRepository(uow.connection)
        await outbox.mark_expired(expired, "not sent: expired")
        await outbox.mark_failed(failed, "Forbidden: bot was blocked by the user")
        await uow.commit()
    clock.advance(KEEP - DAY)
    async with app.uow() as uow:
        await OutboxRepository(uow.connection).mark_sent(
            sent_late, "telegram", "tg-late", clock.now()
        )
        await uow.commit()
    clock.advance(DAY + timedelta(seconds=1))

    assert await _prune(app).run() == Pruned(messages=2)
    assert sent not in await _ids(app.engine, outbound_messages)
    assert expired not in await _ids(app.engine, outbound_messages)
    # A visit's messages stay while the visit is ahead or ended within the retention (the
    # scheduler reads its reminders); a message sent within it stays, however old.
    clock.set(SOON + KEEP + DAY)
    assert await _prune(app).run() == Pruned(messages=1)
    remaining = await _ids(app.engine, outbound_messages)
    assert about_soon not in remaining
    assert remaining == {pending, failed, sent_late, about_later}
    clock.set(LATER + KEEP + DAY)
    assert await _prune(app).run() == Pruned(messages=2)
    assert await _ids(app.engine, outbound_messages) == {pending, failed}


async def test_failed_events_and_messages_go_after_three_times_the_retention(
    app: Salonbot, clock: FakeClock
) -> None:
    """Parked as failed, they are what someone reads to find out what went wrong: kept
    longer than the rest, but not forever."""
    first, second, done = await _store(app, "501", 3)
    failed_messages = [await _message(app) for _ in range(3)]
    async with app.uow() as uow:
        inbox, outbox = InboxRepository(uow.connection), OutboxRepository(uow.connection)
        for event_id in (first, second):
            await inbox.failed_attempt(event_id, "boom", None, clock.now())
        for message in failed_messages:
            await outbox.mark_failed(message, "Forbidden: bot was blocked by the user")
        await uow.commit()
    await _finish(app, done, InboxStatus.DONE)
    prune = _prune(app, batch=2, batches=1)

    clock.advance(3 * KEEP - timedelta(seconds=1))
    assert await prune.run() == Pruned(events=1)  # the handled one, long since
    assert await _ids(app.engine, inbound_events) == {first, second}
    clock.advance(timedelta(seconds=2))
    assert await prune.run() == Pruned(failed_events=2, failed_messages=2)  # in batches
    assert await prune.run() == Pruned(failed_messages=1)
    assert await _ids(app.engine, inbound_events) == set()
    assert await _ids(app.engine, outbound_messages) == set()


async def test_a_backlog_goes_in_bounded_batches_over_several_runs(
    app: Salonbot, clock: FakeClock
) -> None:
    events = await _store(app, "501", 7)
    for event_id in events:
        await _finish(app, event_id, InboxStatus.DONE)
    for _ in range(5):
        await _message(app, sent=True, chat="502")
    clock.advance(KEEP + DAY)
    prune = _prune(app, batch=2, batches=2)

    assert await prune.run() == Pruned(events=4, messages=4)
    # Oldest first: the last three events are left for the next run.
    assert await _ids(app.engine, inbound_events) == set(events[4:])
    assert await prune.run() == Pruned(events=3, messages=1)
    assert await prune.run() == Pruned()


@pytest.fixture
def statements(app: Salonbot) -> Iterator[list[tuple[str, Any]]]:
    """The SQL the engine runs, with its parameters, while the test runs."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    engine = app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def _literal(value: object) -> str:
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    assert isinstance(value, int), value
    return str(value)


async def test_the_prune_walks_the_partial_indexes(
    app: Salonbot, clock: FakeClock, statements: list[tuple[str, Any]]
) -> None:
    await _prune(app).run()
    deletes = [(sql, params) for sql, params in statements if sql.startswith("DELETE")]
    assert len(deletes) == 4  # handled events, finished messages, then the failed of each
    plans = []
    async with app.engine.connect() as connection:
        # A generic plan (what a prepared statement gets after its fifth run) does not know
        # the parameters' values: only a predicate written like the index's matches it.
        await connection.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        await connection.execute(text("SET LOCAL enable_seqscan = off"))
        for number, (sql, params) in enumerate(deletes):
            await connection.exec_driver_sql(f"PREPARE prune_{number} AS {sql}")
            values = ", ".join(_literal(value) for value in params)
            plan = await connection.exec_driver_sql(f"EXPLAIN EXECUTE prune_{number}({values})")
            plans.append("\n".join(row[0] for row in plan))
    for walk in plans[0::2]:
        assert "ix_inbound_events_handled_at" in walk, walk
    for walk in plans[1::2]:
        assert "ix_outbound_messages_finished_created_at" in walk, walk


async def test_the_scheduler_prunes_on_its_retention_tick(app: Salonbot, clock: FakeClock) -> None:
    events = await _store(app, "501", 3)
    for event_id in events:
        await _finish(app, event_id, InboxStatus.DONE)
    clock.advance(KEEP + DAY)
    scheduler = Scheduler(
        app, Wakeup(), visits_every=3600, agendas_every=3600, retention_every=0.05
    )
    scheduler.start()
    try:

        async def pruned() -> bool:
            return not await _ids(app.engine, inbound_events)

        await until(pruned, "the retention tick pruned the old events")
    finally:
        await scheduler.stop()


async def test_the_retention_is_the_apps_setting(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    short = Salonbot(clean_engine, clock, retention=timedelta(days=8))
    (event_id,) = await _store(short, "501", 1)
    await _finish(short, event_id, InboxStatus.DONE)
    clock.advance(timedelta(days=8, seconds=1))
    assert await short.prune_old_traffic.run() == Pruned(events=1)
