"""``/metrics``' numbers on real Postgres: the backlog read at scrape time (cached, bounded)
and the counters the inbox worker and the outbox dispatcher keep."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import ChatContact, Command, Form, Reply
from core.db.inbox_repository import InboxRepository, NewEvent
from core.db.outbox_repository import OutboxRepository
from core.db.tables import calendar_pushes, calendar_syncs
from core.domain.booking import Actor, BookingStatus
from core.domain.catalog import Catalog
from core.ports import Ignored, RetryAfter, SendOutcome, Sent, Translated
from core.services.backlog import ReadBacklog
from core.services.catalog import load_catalog
from core.services.dispatch import OutboxDispatcher
from core.services.inbox_worker import InboxWorker
from core.services.pacing import Pacing
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.metrics import Metrics
from tests.calendar_rows import read_back
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.staff_chats import add_customer
from tests.waiting import waiting_for_a_lock

MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Maria works Mondays
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
WEDNESDAY_12 = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)  # Olga's
STAFF = Actor.staff("owner")
CALENDARS = {"maria": "maria@example.org", "olga": "olga@example.org"}
FAST = Pacing(per_chat_rate=1000, per_chat_burst=1000, overall_rate=1000, overall_burst=1000)


def calendar_of(catalog: Catalog, staff_key: str) -> str | None:
    return CALENDARS.get(staff_key)


class Ticks:
    """The metrics' monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scraped(exposition: bytes) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition.decode())
        for sample in family.samples
    }


def value(samples: Mapping[Any, float], name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def store_events(app: Salonbot, *events: NewEvent) -> None:
    async with app.uow() as uow:
        await InboxRepository(uow.connection).store_many(list(events), app.clock.now())
        await uow.commit()


async def queue_reply(app: Salonbot, channel: str, chat: str) -> None:
    async with app.uow() as uow:
        await OutboxRepository(uow.connection).add(channel, chat, [Reply("hi")], app.clock.now())
        await uow.commit()


async def test_queues_show_depth_and_the_oldest_pending_age_per_channel(
    app: Salonbot, clock: FakeClock
) -> None:
    metrics = Metrics(ReadBacklog(app.uow, clock))
    metrics.channels(["telegram", "whatsapp"])
    await store_events(app, NewEvent("telegram", "1", "7", {}), NewEvent("telegram", "2", "8", {}))
    await queue_reply(app, "whatsapp", "15550001")
    clock.advance(timedelta(seconds=90))
    await store_events(app, NewEvent("telegram", "3", "9", {}))
    await queue_reply(app, "whatsapp", "15550002")

    samples = scraped(await metrics.exposition())

    assert value(samples, "salonbot_backlog_read_ok") == 1
    assert value(samples, "salonbot_inbox_pending", channel="telegram") == 3
    assert value(samples, "salonbot_inbox_oldest_pending_seconds", channel="telegram") == 90
    assert value(samples, "salonbot_outbox_pending", channel="whatsapp") == 2
    assert value(samples, "salonbot_outbox_oldest_pending_seconds", channel="whatsapp") == 90
    # A channel served with nothing pending shows as empty, not absent.
    assert value(samples, "salonbot_inbox_pending", channel="whatsapp") == 0
    assert value(samples, "salonbot_outbox_pending", channel="telegram") == 0
    assert value(samples, "salonbot_outbox_oldest_pending_seconds", channel="telegram") == 0


async def test_a_scrape_within_five_seconds_of_a_look_reads_nothing_again(
    app: Salonbot, clock: FakeClock
) -> None:
    ticks = Ticks()
    metrics = Metrics(ReadBacklog(app.uow, clock), monotonic=ticks)
    await store_events(app, NewEvent("telegram", "1", "7", {}))
    first = scraped(await metrics.exposition())
    await store_events(app, NewEvent("telegram", "2", "7", {}))

    ticks.now += 4.9
    cached = scraped(await metrics.exposition())
    ticks.now += 0.2
    fresh = scraped(await metrics.exposition())

    assert value(first, "salonbot_inbox_pending", channel="telegram") == 1
    assert value(cached, "salonbot_inbox_pending", channel="telegram") == 1
    assert value(fresh, "salonbot_inbox_pending", channel="telegram") == 2


async def test_a_locked_table_cuts_the_look_and_leaves_the_gauges_out(
    app: Salonbot, clock: FakeClock
) -> None:
    ticks = Ticks()
    read = ReadBacklog(app.uow, clock, statement_timeout=timedelta(seconds=0.3))
    metrics = Metrics(read, monotonic=ticks, within=30.0)
    async with app.engine.connect() as locker:
        await locker.execute(text("LOCK TABLE outbound_messages IN ACCESS EXCLUSIVE MODE"))
        samples = scraped(await metrics.exposition())
        # The lock still held, nothing waits for it any more: the statement timeout ended
        # the look (the scrape's own bound would have left it waiting).
        async with app.engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
        await locker.rollback()

    assert waiting == 0

    assert value(samples, "salonbot_backlog_read_ok") == 0
    assert not [key for key in samples if key[0].startswith(("salonbot_inbox", "salonbot_outbox"))]
    # The counters of this process are still there.
    assert any(key[0].startswith("process_") for key in samples)

    ticks.now += 5.1
    again = scraped(await metrics.exposition())
    assert value(again, "salonbot_backlog_read_ok") == 1


async def test_a_scrape_waits_at_most_its_bound_and_scrapes_meanwhile_share_one_look(
    app: Salonbot, clock: FakeClock
) -> None:
    ticks = Ticks()
    metrics = Metrics(ReadBacklog(app.uow, clock), monotonic=ticks, within=0.3)
    async with app.engine.connect() as locker:
        await locker.execute(text("LOCK TABLE inbound_events IN ACCESS EXCLUSIVE MODE"))
        # No statement timeout here: the scrape comes back, the lock still held and its
        # look still waiting (asserted below), only because of its own bound.
        first = scraped(await metrics.exposition())
        await waiting_for_a_lock(app.engine)
        ticks.now += 5.1
        # The look still waits for the lock: a new scrape waits for it, it starts no other.
        second = scraped(await metrics.exposition())
        async with app.engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                )
            )
        await locker.rollback()

    assert value(first, "salonbot_backlog_read_ok") == 0
    assert value(second, "salonbot_backlog_read_ok") == 0
    assert waiting == 1
    await metrics.close()


async def test_every_app_has_its_own_registry(app: Salonbot, clock: FakeClock) -> None:
    one, two = Metrics(ReadBacklog(app.uow, clock)), Metrics(ReadBacklog(app.uow, clock))
    one.inbound("telegram", "handled")

    name, labels = "salonbot_inbound_events_total", {"channel": "telegram", "outcome": "handled"}
    assert value(scraped(await one.exposition()), name, **labels) == 1
    assert value(scraped(await two.exposition()), name, **labels) is None


async def test_bookings_made_cancelled_and_no_show_are_counted_from_their_history(
    app: Salonbot, clock: FakeClock
) -> None:
    ada = await add_customer(app, "Ada Lovelace", "+4930111222")
    metrics = Metrics(ReadBacklog(app.uow, clock))
    booked = await app.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria")
    customer = Actor.customer(ada)
    hold = await app.bookings.hold("manicure", TUESDAY_11, customer, customer_id=ada)
    await app.bookings.confirm(hold.id, customer)
    wednesday = TUESDAY_11 + timedelta(days=1)
    let_go = await app.bookings.hold("pedicure", wednesday, customer, customer_id=ada)
    await app.bookings.cancel(let_go.id, customer)  # a hold let go: not a cancelled booking
    await app.bookings.cancel(hold.id, STAFF)
    clock.set(MONDAY_10 + timedelta(minutes=5))
    await app.bookings.record_outcome(booked.id, STAFF, BookingStatus.NO_SHOW)

    samples = scraped(await metrics.exposition())

    assert value(samples, "salonbot_bookings_total", event="made") == 2
    assert value(samples, "salonbot_bookings_total", event="cancelled") == 1
    assert value(samples, "salonbot_bookings_total", event="no_show") == 1


async def test_the_google_sync_queue_shows_open_and_parked_pushes_and_failing_calendars(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    app = Salonbot(
        clean_engine, clock, linked_calendars=FakeLinkedCalendars(), calendar_of=calendar_of
    )
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(app.uow, clock, document)
    metrics = Metrics(ReadBacklog(app.uow, clock))
    first = await app.bookings.book("manicure", MONDAY_10, STAFF, staff_key="maria")
    clock.advance(timedelta(minutes=2))
    await app.bookings.book("manicure", TUESDAY_11, STAFF, staff_key="maria")
    await app.bookings.book("manicure", WEDNESDAY_12, STAFF, staff_key="olga")
    async with clean_engine.begin() as connection:
        await connection.execute(
            update(calendar_pushes)
            .where(calendar_pushes.c.booking_id == first.id)
            .values(parked_at=clock.now(), last_error="refused")
        )
    await read_back(clean_engine, "maria", "maria@example.org")
    await read_back(clean_engine, "olga", "olga@example.org")
    async with clean_engine.begin() as connection:
        await connection.execute(
            update(calendar_syncs)
            .where(calendar_syncs.c.calendar_id == "olga@example.org")
            .values(failures=4, synced_at=clock.now() - timedelta(hours=1))
        )
    clock.advance(timedelta(minutes=1))

    samples = scraped(await metrics.exposition())

    assert value(samples, "salonbot_calendar_pushes", state="open") == 2
    assert value(samples, "salonbot_calendar_pushes", state="parked") == 1
    assert value(samples, "salonbot_calendar_push_oldest_open_seconds") == 60
    assert value(samples, "salonbot_calendar_sync_failures", staff="maria") == 0
    assert value(samples, "salonbot_calendar_sync_failures", staff="olga") == 4
    assert value(samples, "salonbot_calendar_sync_age_seconds", staff="olga") == 3660
    assert value(samples, "salonbot_calendar_sync_age_seconds", staff="maria") is None
    assert value(samples, "salonbot_calendar_syncs_failing") == 1


CAPACITY = ChannelCapacity(choices_per_message=10, label_length=40)


class SayingChannel:
    """Events ``{"chat": ..., "say": ...}``; ``"boom"`` cannot be read; no ``say``: ignored."""

    name = "test"
    capacity = CAPACITY

    def translate(self, payload: Mapping[str, Any]) -> Translated | Ignored:
        if payload.get("say") == "boom":
            raise ValueError("unreadable event")
        if "say" not in payload:
            return Ignored("nothing said")
        chat = str(payload["chat"])
        return Translated(ChatContact("test", chat, chat, "Ada", "en"), Command(payload["say"]))

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        return None


class ScriptedSender:
    """Answers each send with the next scripted outcome, then ``Sent``."""

    name = "test"

    def __init__(self, *script: SendOutcome) -> None:
        self.script = list(script)

    async def send(self, chat_id: str, reply: Reply) -> SendOutcome:
        return self.script.pop(0) if self.script else Sent("m")

    async def reopen_window(self, chat_id: str) -> SendOutcome:
        return await self.send(chat_id, Reply(""))

    async def send_form(self, chat_id: str, form: Form) -> SendOutcome:
        return await self.send(chat_id, Reply(""))


async def test_the_inbox_worker_counts_each_outcome_once_it_is_kept(
    app: Salonbot, clock: FakeClock
) -> None:
    metrics = Metrics(ReadBacklog(app.uow, clock))
    worker = InboxWorker(
        app.uow,
        clock,
        app.inbox_handler({"test": SayingChannel()}),
        Wakeup(),
        max_attempts=2,
        tally=metrics,
    )
    await store_events(
        app,
        NewEvent("test", "a", "1", {"chat": 1, "say": "start"}),
        NewEvent("test", "b", "2", {"chat": 2}),
        NewEvent("test", "c", "3", {"chat": 3, "say": "boom"}),
    )
    while await worker.handle_one():
        pass
    clock.advance(timedelta(minutes=10))  # the failed one's retry is due
    while await worker.handle_one():
        pass

    samples = scraped(await metrics.exposition())
    counted = {
        outcome: value(samples, "salonbot_inbound_events_total", channel="test", outcome=outcome)
        for outcome in ("handled", "ignored", "retried", "parked")
    }
    assert counted == {"handled": 1, "ignored": 1, "retried": 1, "parked": 1}


async def test_the_dispatcher_counts_sends_and_rate_limits(app: Salonbot, clock: FakeClock) -> None:
    metrics = Metrics(ReadBacklog(app.uow, clock))
    metrics.channels(["test"])  # its series start at zero
    ticks = Ticks()
    sender = ScriptedSender(RetryAfter(3, "Too Many Requests: retry after 3"))
    dispatcher = OutboxDispatcher(
        app.uow, clock, sender, Wakeup(), pacing=FAST, monotonic=ticks, tally=metrics
    )
    await queue_reply(app, "test", "1")

    assert await dispatcher.send_one()  # 429: the chat rests 3 s
    assert not await dispatcher.send_one()
    clock.advance(timedelta(seconds=4))
    ticks.now += 4
    assert await dispatcher.send_one()

    samples = scraped(await metrics.exposition())
    name = "salonbot_outbound_messages_total"
    assert value(samples, name, channel="test", outcome="rate_limited") == 1
    assert value(samples, name, channel="test", outcome="sent") == 1
    assert value(samples, name, channel="test", outcome="retried") == 0
