"""The durable inbox and the outbox dispatcher on real Postgres, channel-agnostic: driven
through their ports by a recording channel, no platform involved."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.conversation.capacity import ChannelCapacity
from core.conversation.messages import ChatContact, Command, Form, Reply
from core.db.inbox_repository import InboxRepository, NewEvent
from core.db.outbox_repository import OutboxRepository
from core.ports import (
    Ignored,
    OutsideWindow,
    PermanentFailure,
    RetryAfter,
    SendOutcome,
    Sent,
    TransientFailure,
    Translated,
)
from core.services.dispatch import SHELF_LIFE, OutboxDispatcher
from core.services.inbox_store import StoreInbound
from core.services.inbox_worker import InboxWorker
from core.services.pacing import Pacing
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from tests.db_state import cut_sessions_in_a_transaction, rows
from tests.fakes.clock import FakeClock
from tests.waiting import settled, until

CAPACITY = ChannelCapacity(choices_per_message=10, label_length=40)
FAST = Pacing(per_chat_rate=1000, per_chat_burst=1000, overall_rate=1000, overall_burst=1000)


class RecordingChannel:
    """A channel whose events are ``{"chat": ..., "say": ...}``; ``"boom"`` cannot be read."""

    name = "test"
    capacity = CAPACITY

    def __init__(self) -> None:
        self.acknowledged: list[Mapping[str, Any]] = []

    def translate(self, payload: Mapping[str, Any]) -> Translated | Ignored:
        if payload.get("say") == "boom":
            raise ValueError("unreadable event")
        if "say" not in payload:
            return Ignored("nothing said")
        chat = str(payload["chat"])
        return Translated(ChatContact("test", chat, chat, "Ada", "en"), Command(payload["say"]))

    async def acknowledge(self, payload: Mapping[str, Any]) -> None:
        self.acknowledged.append(payload)


class ScriptedSender:
    """Answers each send with the next scripted outcome (then ``Sent``); records sends."""

    name = "test"

    def __init__(self, *script: SendOutcome) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> SendOutcome:
        self.sent.append((chat_id, reply.text))
        await asyncio.sleep(0)
        return self.script.pop(0) if self.script else Sent(str(len(self.sent)))

    async def reopen_window(self, chat_id: str) -> SendOutcome:
        return await self.send(chat_id, Reply("(reopener)"))

    async def send_form(self, chat_id: str, form: Form) -> SendOutcome:
        return await self.send(chat_id, Reply(f"(form {form.name})"))


def _worker(app: Salonbot, channel: RecordingChannel, **options: Any) -> InboxWorker:
    return InboxWorker(
        app.uow, app.clock, app.inbox_handler({"test": channel}), Wakeup(), **options
    )


async def test_a_redelivered_event_is_stored_once_even_within_one_batch(app: Salonbot) -> None:
    store = StoreInbound(app.uow, app.clock, Wakeup())
    results = await asyncio.gather(
        *(store("test", "u-1", "chat-1", {"chat": 1, "say": "start"}) for _ in range(5)),
        store("test", "u-2", "chat-1", {"chat": 1, "say": "help"}),
    )
    assert sorted(results) == [False, False, False, False, True, True]
    assert await rows(app.engine, "SELECT platform_id FROM inbound_events ORDER BY id") == [
        ("u-1",),
        ("u-2",),
    ]


async def test_concurrent_claims_take_only_the_head_of_each_chat(app: Salonbot) -> None:
    async with app.uow() as uow:
        await InboxRepository(uow.connection).store_many(
            [
                NewEvent("test", "a1", "A", {}),
                NewEvent("test", "a2", "A", {}),
                NewEvent("test", "b1", "B", {}),
            ],
            app.clock.now(),
        )
        await uow.commit()
    claimed = []
    async with app.uow() as first, app.uow() as second, app.uow() as third:
        for uow in (first, second, third):
            event = await InboxRepository(uow.connection).claim_next(app.clock.now())
            claimed.append(None if event is None else event.platform_id)
    assert claimed == ["a1", "b1", None]  # a2 waits for a1, however many workers claim


async def test_an_event_that_keeps_failing_is_parked_and_its_chat_moves_on(
    app: Salonbot, clock: FakeClock
) -> None:
    channel = RecordingChannel()
    store = StoreInbound(app.uow, app.clock, Wakeup())
    await store("test", "bad", "7", {"chat": 7, "say": "boom"})
    await store("test", "good", "7", {"chat": 7, "say": "start"})
    worker = _worker(app, channel, max_attempts=3)

    for _ in range(2):
        assert await worker.handle_one()
        assert not await worker.handle_one()  # the bad one backs off; the good one waits
        clock.advance(timedelta(minutes=10))
    assert await worker.handle_one()  # the third failure parks it

    assert await worker.handle_one()
    events = await rows(
        app.engine, "SELECT platform_id, status, attempts FROM inbound_events ORDER BY id"
    )
    assert events == [("bad", "failed", 3), ("good", "done", 1)]
    [(error,)] = await rows(
        app.engine, "SELECT last_error FROM inbound_events WHERE status='failed'"
    )
    assert error == "ValueError: unreadable event"


async def test_an_event_no_channel_reads_is_ignored_with_the_reason_kept(app: Salonbot) -> None:
    store = StoreInbound(app.uow, app.clock, Wakeup())
    await store("test", "x", "7", {"chat": 7})
    await store("nobody", "y", "7", {"chat": 7, "say": "start"})
    worker = _worker(app, RecordingChannel())
    assert await worker.handle_one()
    assert await worker.handle_one()
    assert await rows(app.engine, "SELECT status, last_error FROM inbound_events ORDER BY id") == [
        ("ignored", "nothing said"),
        ("ignored", "no channel 'nobody' in this process"),
    ]
    assert await rows(app.engine, "SELECT count(*) FROM outbound_messages") == [(0,)]


async def _queue(app: Salonbot, *chats_and_texts: tuple[str, str]) -> None:
    async with app.uow() as uow:
        repository = OutboxRepository(uow.connection)
        for chat, said in chats_and_texts:
            await repository.add("test", chat, [Reply(said)], app.clock.now())
        await uow.commit()


async def _drain(app: Salonbot, sender: ScriptedSender, **options: Any) -> None:
    """Run a dispatcher until every queued message is sent (or fails the test)."""
    dispatcher = OutboxDispatcher(
        app.uow, app.clock, sender, Wakeup(), pacing=FAST, poll_interval=0.01, **options
    )
    task = asyncio.create_task(dispatcher.run())
    try:
        await settled(app.engine)
    finally:
        dispatcher.stop()
        await task


async def test_each_chats_messages_go_out_in_order_across_lanes(app: Salonbot) -> None:
    await _queue(app, *[(chat, f"{chat}-{n}") for n in range(5) for chat in ("a", "b", "c")])
    sender = ScriptedSender()
    await _drain(app, sender, lanes=4)
    for chat in ("a", "b", "c"):
        assert [said for c, said in sender.sent if c == chat] == [f"{chat}-{n}" for n in range(5)]
    assert await rows(app.engine, "SELECT DISTINCT status FROM outbound_messages") == [("sent",)]


async def test_a_rate_limit_rests_the_chat_and_costs_no_attempt(
    app: Salonbot, clock: FakeClock
) -> None:
    await _queue(app, ("a", "hello"))
    sender = ScriptedSender(RetryAfter(7, "Too Many Requests: retry after 7"))
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()
    assert await rows(app.engine, "SELECT status, attempts FROM outbound_messages") == [
        ("pending", 0)
    ]
    assert not await dispatcher.send_one()  # not due for 7 s
    clock.advance(timedelta(seconds=7))
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()
    assert await rows(app.engine, "SELECT status, attempts FROM outbound_messages") == [("sent", 1)]
    assert sender.sent == [("a", "hello"), ("a", "hello")]


async def _due_in(app: Salonbot, clock: FakeClock) -> timedelta:
    [(due,)] = await rows(app.engine, "SELECT available_at FROM outbound_messages WHERE id = 1")
    return due - clock.now()


async def test_a_platform_down_for_hours_gets_the_reply_once_it_is_back(
    app: Salonbot, clock: FakeClock
) -> None:
    await _queue(app, ("a", "hello"))
    down = TransientFailure("TelegramNetworkError: Cannot connect to host")
    sender = ScriptedSender(*[down] * 40)  # 40 failed tries: 1 s doubling, then every 5 min
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    waits = []
    while sender.script:
        assert await dispatcher.send_one()
        wait = await _due_in(app, clock)
        assert not await dispatcher.send_one()  # not due before its backoff
        waits.append(wait)
        clock.advance(wait)
    assert waits[0] <= timedelta(seconds=1.25)
    assert max(waits) <= timedelta(minutes=5) * 1.25
    assert sum(waits, timedelta()) > timedelta(hours=2)  # and still not given up
    assert await dispatcher.send_one()  # the platform is back
    assert await rows(app.engine, "SELECT status, attempts FROM outbound_messages") == [
        ("sent", 41)
    ]
    assert sender.sent == [("a", "hello")] * 41
    assert not await dispatcher.send_one()


async def test_a_reply_tried_thousands_of_times_still_waits_at_most_the_cap(
    app: Salonbot, clock: FakeClock
) -> None:
    await _queue(app, ("a", "hello"))
    async with app.engine.begin() as connection:
        await connection.execute(text("UPDATE outbound_messages SET attempts = 5000"))
    sender = ScriptedSender(TransientFailure("502 Bad Gateway"))
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()
    assert timedelta(minutes=3) < await _due_in(app, clock) <= timedelta(minutes=5) * 1.25


async def test_a_reply_older_than_its_shelf_life_is_expired_not_sent(
    app: Salonbot, clock: FakeClock
) -> None:
    await _queue(app, ("a", "hello"), ("a", "and more"))
    sender = ScriptedSender(TransientFailure("502 Bad Gateway"))
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()
    clock.advance(SHELF_LIFE + timedelta(seconds=1))
    assert await dispatcher.send_one()
    assert await dispatcher.send_one()
    assert not await dispatcher.send_one()
    assert sender.sent == [("a", "hello")]
    assert await rows(app.engine, "SELECT status, attempts FROM outbound_messages ORDER BY id") == [
        ("expired", 1),
        ("expired", 0),
    ]


async def test_a_refusal_for_good_fails_once_and_marks_the_customer_only_when_they_are_gone(
    app: Salonbot,
) -> None:
    contact_a = ChatContact("test", "a", "a", "Ada", "en")
    contact_b = ChatContact("test", "b", "b", "Ben", "en")
    await app.converse(contact_a, Command("start"), CAPACITY)
    await app.converse(contact_b, Command("start"), CAPACITY)
    sender = ScriptedSender(
        PermanentFailure("Forbidden: bot was blocked by the user", unreachable=True),
        PermanentFailure("Bad Request: message is too long"),
    )
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()
    assert await dispatcher.send_one()
    assert not await dispatcher.send_one()
    assert await rows(app.engine, "SELECT status FROM outbound_messages ORDER BY id") == [
        ("failed",),
        ("failed",),
    ]
    assert await rows(
        app.engine, "SELECT external_id, unreachable_at IS NOT NULL FROM customers ORDER BY id"
    ) == [("a", True), ("b", False)]
    await app.converse(contact_a, Command("help"), CAPACITY)  # Ada writes again
    assert await rows(
        app.engine, "SELECT count(*) FROM customers WHERE unreachable_at IS NOT NULL"
    ) == [(0,)]


async def test_a_damaged_outbox_row_is_failed_at_once_without_blocking_other_chats(
    app: Salonbot, clock: FakeClock
) -> None:
    async with app.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbound_messages (channel, chat_id, body, available_at, created_at)"
                " VALUES ('test', 'a', '{\"no\": \"text\"}', '2026-12-07 05:59Z',"
                " '2026-12-07 05:59Z')"
            )
        )
    await _queue(app, ("b", "hello"))
    sender = ScriptedSender()
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()  # the damaged row: it never becomes readable
    assert await dispatcher.send_one()  # b's message goes
    assert not await dispatcher.send_one()
    assert sender.sent == [("b", "hello")]
    assert await rows(app.engine, "SELECT chat_id, status FROM outbound_messages ORDER BY id") == [
        ("a", "failed"),
        ("b", "sent"),
    ]


async def test_a_report_that_beats_the_send_being_recorded_is_applied_when_it_is(
    app: Salonbot,
) -> None:
    from datetime import UTC, datetime

    from core.ports import DeliveryReport
    from core.services.delivery import RecordDeliveries

    at = datetime(2026, 12, 7, 6, 0, 5, tzinfo=UTC)
    record = RecordDeliveries(app.uow, app.clock)
    early = DeliveryReport(
        "test", "wamid.early", "failed", at, "131047: Re-engagement message", window_closed=True
    )
    assert await record([early]) == 0  # no such message yet: kept for later
    await _queue(app, ("a", "hello"))
    sender = ScriptedSender(Sent("wamid.early"))
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()

    assert await rows(
        app.engine, "SELECT kind, status, delivery_status FROM outbound_messages ORDER BY id"
    ) == [("reply", "failed", "failed"), ("window_reopener", "pending", None)]
    assert await rows(app.engine, "SELECT count(*) FROM early_delivery_reports") == [(0,)]
    assert await dispatcher.send_one()
    assert sender.sent == [("a", "hello"), ("a", "(reopener)")]


async def test_reports_racing_the_sends_commit_are_never_lost(app: Salonbot) -> None:
    from datetime import UTC, datetime

    from core.ports import DeliveryReport
    from core.services.delivery import RecordDeliveries

    record = RecordDeliveries(app.uow, app.clock)
    chats = [f"race-{n}" for n in range(25)]
    await _queue(app, *[(chat, "hello") for chat in chats])

    class ReportingSender:
        """Sends, and has the platform's report arrive while the send is not yet recorded."""

        name = "test"

        def __init__(self) -> None:
            self.reports: list[asyncio.Task[int]] = []

        async def send(self, chat_id: str, reply: Reply) -> SendOutcome:
            wamid = f"wamid.{chat_id}"
            report = DeliveryReport("test", wamid, "delivered", datetime.now(UTC), "")
            self.reports.append(asyncio.create_task(record([report])))
            await asyncio.sleep(0)  # let the report race the commit that follows
            return Sent(wamid)

        async def reopen_window(self, chat_id: str) -> SendOutcome:
            raise AssertionError("no window here")

        async def send_form(self, chat_id: str, form: Form) -> SendOutcome:
            raise AssertionError("no window here")

    sender = ReportingSender()
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST, lanes=4)
    await asyncio.gather(*(dispatcher.send_one() for _ in chats))
    await asyncio.gather(*sender.reports)

    assert await rows(
        app.engine, "SELECT count(*) FROM outbound_messages WHERE delivery_status = 'delivered'"
    ) == [(len(chats),)]
    assert await rows(app.engine, "SELECT count(*) FROM early_delivery_reports") == [(0,)]


class CutOffSender(ScriptedSender):
    """The platform takes the first message, and meanwhile the dispatcher's database
    connection is cut (its backend terminated by the server): recording that send fails."""

    def __init__(self, app: Salonbot) -> None:
        super().__init__()
        self._app = app
        self.cuts = 0

    async def send(self, chat_id: str, reply: Reply) -> SendOutcome:
        outcome = await super().send(chat_id, reply)
        if self.cuts == 0:
            self.cuts = await cut_sessions_in_a_transaction(self._app.engine)
        return outcome


async def test_a_send_the_database_could_not_record_is_kept_and_never_sent_again(
    app: Salonbot,
) -> None:
    await _queue(app, ("a", "hello"), ("a", "second"))
    sender = CutOffSender(app)
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    with pytest.raises(DBAPIError):
        await dispatcher.send_one()
    assert sender.cuts == 1  # the dispatcher's own connection, holding the claimed row
    assert dispatcher.unrecorded == 1
    assert await rows(app.engine, "SELECT status FROM outbound_messages ORDER BY id") == [
        ("pending",),
        ("pending",),
    ]

    assert await dispatcher.send_one()  # records "hello" first, then sends "second"
    assert dispatcher.unrecorded == 0
    assert not await dispatcher.send_one()
    assert sender.sent == [("a", "hello"), ("a", "second")]  # "hello" once
    assert await rows(
        app.engine,
        "SELECT status, platform_message_id, attempts FROM outbound_messages ORDER BY id",
    ) == [("sent", "1", 1), ("sent", "2", 1)]


async def test_a_closed_window_queues_one_reopener_for_the_replies_it_refused(
    app: Salonbot,
) -> None:
    await _queue(app, ("a", "reminder"), ("a", "and its details"), ("b", "hello"))
    closed = OutsideWindow("HTTP 400 code 131047: more than 24 hours")
    sender = ScriptedSender(closed, closed)
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    while await dispatcher.send_one():
        pass
    assert sender.sent == [
        ("a", "reminder"),
        ("a", "and its details"),
        ("b", "hello"),
        ("a", "(reopener)"),
    ]
    assert await rows(
        app.engine, "SELECT chat_id, kind, status FROM outbound_messages ORDER BY id"
    ) == [
        ("a", "reply", "failed"),
        ("a", "reply", "failed"),
        ("b", "reply", "sent"),
        ("a", "window_reopener", "sent"),
    ]


async def test_reports_on_messages_never_sent_here_expire_a_batch_at_a_time(
    app: Salonbot, clock: FakeClock
) -> None:
    from datetime import UTC, datetime

    from core.db.outbox_repository import EARLY_REPORTS_DROPPED_AT_ONCE
    from core.ports import DeliveryReport
    from core.services.delivery import RecordDeliveries

    record = RecordDeliveries(app.uow, app.clock)
    at = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    stale = EARLY_REPORTS_DROPPED_AT_ONCE + 20
    # Another tool on the same number: reports on its messages, kept since long ago.
    await record(
        [DeliveryReport("test", f"wamid.other-{n}", "delivered", at) for n in range(stale)]
    )
    clock.advance(timedelta(minutes=61))  # salonbot's clock, not the database's
    await record([DeliveryReport("test", "wamid.fresh-1", "sent", at)])
    assert await rows(app.engine, "SELECT count(*) FROM early_delivery_reports") == [(20 + 1,)]
    await record([DeliveryReport("test", "wamid.fresh-2", "sent", at)])
    assert await rows(
        app.engine, "SELECT platform_message_id FROM early_delivery_reports ORDER BY id"
    ) == [("wamid.fresh-1",), ("wamid.fresh-2",)]


async def test_an_unrecorded_send_whose_row_stays_locked_holds_only_its_chat(
    app: Salonbot,
) -> None:
    await _queue(app, ("a", "hello"), ("a", "second"), ("b", "hi"), ("c", "hey"))
    sender = CutOffSender(app)
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    with pytest.raises(DBAPIError):
        await dispatcher.send_one()
    assert dispatcher.unrecorded == 1
    # The database dropped the connection on our side only: its server session lingers,
    # still holding the row of "hello" (as until TCP keepalive ends it, hours later).
    async with app.engine.connect() as lingering:
        await lingering.execute(text("SELECT id FROM outbound_messages WHERE id = 1 FOR UPDATE"))
        for _ in ("b", "c"):
            turn = asyncio.create_task(dispatcher.send_one())

            async def turn_ended(turn: asyncio.Task[bool] = turn) -> bool:
                return turn.done()

            await until(turn_ended, "a turn of the dispatcher ends without waiting for the lock")
            assert turn.result()
        assert not await dispatcher.send_one()  # only chat a is left, and it waits
        assert dispatcher.unrecorded == 1
        assert sender.sent == [("a", "hello"), ("b", "hi"), ("c", "hey")]
        await lingering.rollback()  # the server ends the lost session at last

    assert await dispatcher.send_one()  # records "hello", then sends "second"
    assert dispatcher.unrecorded == 0
    assert sender.sent == [("a", "hello"), ("b", "hi"), ("c", "hey"), ("a", "second")]
    assert await rows(
        app.engine, "SELECT chat_id, status, attempts FROM outbound_messages ORDER BY id"
    ) == [("a", "sent", 1), ("a", "sent", 1), ("b", "sent", 1), ("c", "sent", 1)]


@pytest.mark.parametrize(
    ("seconds", "due_in"),
    [
        (1e300, SHELF_LIFE),
        (math.inf, SHELF_LIFE),
        (math.nan, SHELF_LIFE),
        (-5.0, timedelta()),
    ],
)
async def test_an_absurd_retry_after_is_bounded_and_recorded(
    app: Salonbot, clock: FakeClock, seconds: float, due_in: timedelta
) -> None:
    await _queue(app, ("a", "hello"))
    sender = ScriptedSender(RetryAfter(seconds, "Too Many Requests"))
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()
    assert dispatcher.unrecorded == 0
    assert await _due_in(app, clock) == due_in
    clock.advance(due_in)
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()
    assert await rows(app.engine, "SELECT status, attempts FROM outbound_messages") == [("sent", 1)]


async def test_an_outcome_that_can_never_be_recorded_is_given_up_and_its_chat_goes_on(
    app: Salonbot, caplog: pytest.LogCaptureFixture
) -> None:
    await _queue(app, ("a", "hello"), ("a", "second"), ("b", "hi"))
    # A platform id Postgres cannot store (text never holds NUL): recording fails the same
    # way every time, while the database is fine.
    sender = ScriptedSender(Sent("wamid.\x00"))
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    with pytest.raises(DBAPIError):
        await dispatcher.send_one()
    assert dispatcher.unrecorded == 1
    with caplog.at_level(logging.ERROR, logger="salonbot.outbox"):
        assert await dispatcher.send_one()  # gives "hello" up, then sends "second"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "outbound outcome cannot be recorded: marked failed"
    ]
    assert dispatcher.unrecorded == 0
    assert await dispatcher.send_one()
    assert not await dispatcher.send_one()
    assert sender.sent == [("a", "hello"), ("a", "second"), ("b", "hi")]
    outbox = await rows(
        app.engine, "SELECT status, left(last_error, 21) FROM outbound_messages ORDER BY id"
    )
    assert outbox == [("failed", "outcome not recorded:"), ("sent", None), ("sent", None)]


async def test_report_batches_naming_two_messages_in_opposite_orders_do_not_deadlock(
    app: Salonbot,
) -> None:
    from datetime import UTC, datetime

    from core.ports import DeliveryReport
    from core.services.delivery import RecordDeliveries

    await _queue(app, ("a", "hello"), ("b", "hi"))
    sender = ScriptedSender(Sent("wamid.1"), Sent("wamid.2"))
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()
    assert await dispatcher.send_one()
    at = datetime(2026, 12, 7, 6, 0, 5, tzinfo=UTC)
    first, second = (DeliveryReport("test", f"wamid.{n}", "read", at) for n in (1, 2))
    record = RecordDeliveries(app.uow, app.clock)

    async def both_wait() -> bool:
        waiting = await rows(
            app.engine,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'",
        )
        return waiting == [(2,)]

    # Hold both reports' locks, so the two batches queue up and then race from one moment.
    async with app.engine.connect() as holder:
        await OutboxRepository(holder).lock_report_slots([("test", "wamid.1"), ("test", "wamid.2")])
        batches = [
            asyncio.create_task(record([first, second])),
            asyncio.create_task(record([second, first])),
        ]
        await until(both_wait, "both batches wait for a report's lock")
        await holder.rollback()
    assert sorted(await asyncio.gather(*batches)) == [0, 2]  # no DeadlockDetected
    assert await rows(app.engine, "SELECT delivery_status FROM outbound_messages") == [
        ("read",),
        ("read",),
    ]


async def test_report_batches_closing_two_chats_windows_in_crossing_orders_do_not_deadlock(
    app: Salonbot,
) -> None:
    from datetime import UTC, datetime

    from core.ports import DeliveryReport
    from core.services.delivery import RecordDeliveries

    await _queue(app, ("a", "hello"), ("b", "hi"), ("a", "more"), ("b", "and more"))
    dispatcher = OutboxDispatcher(app.uow, app.clock, ScriptedSender(), Wakeup(), pacing=FAST)
    while await dispatcher.send_one():
        pass
    sent = await rows(
        app.engine, "SELECT id, chat_id, platform_message_id FROM outbound_messages ORDER BY id"
    )
    assert [chat for _, chat, _ in sent] == ["a", "b", "a", "b"]
    at = datetime(2026, 12, 7, 6, 0, 5, tzinfo=UTC)
    closed = [
        DeliveryReport("test", platform_id, "failed", at, "131047", window_closed=True)
        for _, _, platform_id in sent
    ]
    record = RecordDeliveries(app.uow, app.clock)

    async def both_wait_for_a_chat() -> bool:
        waiting = await rows(
            app.engine,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
        )
        return waiting == [(2,)]

    # The report locks of the two batches do not overlap: only the chats' reopener locks
    # do. Message ids order them a, b in one batch and b, a in the other. Hold both
    # chats' locks (as a transaction queuing their reopeners), so the two batches queue
    # up at them and then race from one moment.
    async with app.engine.connect() as holder:
        repository = OutboxRepository(holder)
        await repository.queue_window_reopener(sent[0][0])
        await repository.queue_window_reopener(sent[1][0])
        batches = [
            asyncio.create_task(record([closed[0], closed[3]])),  # chats a, then b
            asyncio.create_task(record([closed[1], closed[2]])),  # chats b, then a
        ]
        await until(both_wait_for_a_chat, "both batches wait for a chat's reopener lock")
        await holder.rollback()
    assert await asyncio.gather(*batches) == [2, 2]  # no DeadlockDetected
    assert await rows(
        app.engine, "SELECT kind, chat_id, status FROM outbound_messages ORDER BY kind, chat_id"
    ) == [
        ("reply", "a", "failed"),
        ("reply", "a", "failed"),
        ("reply", "b", "failed"),
        ("reply", "b", "failed"),
        ("window_reopener", "a", "pending"),  # one reopener per chat
        ("window_reopener", "b", "pending"),
    ]


async def test_a_report_batch_takes_a_chats_reopener_lock_only_after_every_report_lock(
    app: Salonbot,
) -> None:
    from datetime import UTC, datetime

    from core.ports import DeliveryReport
    from core.services.delivery import RecordDeliveries

    await _queue(app, ("a", "hello"), ("a", "more"))
    sender = ScriptedSender(Sent("wamid.1"), Sent("wamid.2"))
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    assert await dispatcher.send_one()
    assert await dispatcher.send_one()
    at = datetime(2026, 12, 7, 6, 0, 5, tzinfo=UTC)
    closed = DeliveryReport("test", "wamid.1", "failed", at, "131047", window_closed=True)
    delivered = DeliveryReport("test", "wamid.2", "delivered", at)

    async def one_waits() -> bool:
        waiting = await rows(
            app.engine,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'",
        )
        return waiting == [(1,)]

    # As the dispatcher recording "more": it holds that message's report lock, and (an
    # early report said its window had closed) then wants chat a's reopener lock.
    async with app.engine.connect() as recording:
        repository = OutboxRepository(recording)
        await repository.lock_report_slots([("test", "wamid.2")])
        batch = asyncio.create_task(RecordDeliveries(app.uow, app.clock)([closed, delivered]))
        await until(one_waits, "the batch waits for the report lock of wamid.2")
        reopening = asyncio.create_task(repository.queue_window_reopener(2))

        async def reopened() -> bool:
            return reopening.done()

        await until(reopened, "the dispatcher gets chat a's lock: the batch does not hold it")
        await recording.rollback()
    assert await batch == 2  # and no DeadlockDetected
    assert await rows(
        app.engine, "SELECT kind, status, delivery_status FROM outbound_messages ORDER BY id"
    ) == [
        ("reply", "failed", "failed"),
        ("reply", "sent", "delivered"),
        ("window_reopener", "pending", None),
    ]
