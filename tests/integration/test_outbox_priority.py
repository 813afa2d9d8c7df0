"""The outbox's priorities, expiry, withdrawal and forms on real Postgres: what the salon
sends unasked (reminders, notices) waits behind the conversation, never goes late, is
taken back when its visit moves, and goes as its pre-approved form when the customer's
window has closed."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from core.conversation.messages import Choice, Form, Reply
from core.db.outbox_repository import (
    OutboxRepository,
    Priority,
    StandIn,
    next_to_claim,
    reply_body,
    reply_from_body,
)
from core.db.unit_of_work import NestedUnitOfWorkFactory
from core.domain.booking import Actor
from core.ports import DeliveryReport, OutsideWindow, RetryAfter, SendOutcome, Sent
from core.services.booking import Bookings
from core.services.delivery import RecordDeliveries
from core.services.dispatch import SHELF_LIFE, OutboxDispatcher
from core.services.pacing import Pacing
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from tests.db_state import rows
from tests.fakes.clock import FakeClock
from tests.waiting import until, waiting_for_a_lock

FAST = Pacing(per_chat_rate=1000, per_chat_burst=1000, overall_rate=1000, overall_burst=1000)
TUESDAY_11 = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
STAFF = Actor.staff("front-desk")
REMINDER_FORM = Form("reminder", "en", ("Manicure", "Tue 8 Dec, 11:00", "Maria"), ("c", "r", "x"))


class FormSender:
    """Records what it was asked to send; answers each send with the next scripted outcome
    (then ``Sent``)."""

    name = "test"

    def __init__(self, *script: SendOutcome) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, str]] = []

    async def _answer(self, chat_id: str, what: str) -> SendOutcome:
        self.sent.append((chat_id, what))
        await asyncio.sleep(0)
        return self.script.pop(0) if self.script else Sent(f"m{len(self.sent)}")

    async def send(self, chat_id: str, reply: Reply) -> SendOutcome:
        return await self._answer(chat_id, reply.text)

    async def reopen_window(self, chat_id: str) -> SendOutcome:
        return await self._answer(chat_id, "(reopener)")

    async def send_form(self, chat_id: str, form: Form) -> SendOutcome:
        return await self._answer(chat_id, f"(form {form.name} {','.join(form.params)})")


async def _booking(app: Salonbot, start: datetime = TUESDAY_11) -> int:
    booking = await app.bookings.book("manicure", start, STAFF, staff_key="maria")
    return booking.id


async def _add(app: Salonbot, chat: str, *replies: Reply, **options: Any) -> list[int]:
    async with app.uow() as uow:
        ids = await OutboxRepository(uow.connection).add(
            "test", chat, list(replies), app.clock.now(), **options
        )
        await uow.commit()
    return ids


def _dispatcher(app: Salonbot, sender: FormSender) -> OutboxDispatcher:
    return OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)


async def _send_all(dispatcher: OutboxDispatcher) -> None:
    while await dispatcher.send_one():
        pass


def test_a_reply_with_a_form_is_stored_and_read_back_with_it() -> None:
    reply = Reply("See you tomorrow", (Choice("cv:1.x", "Confirm"),), "", REMINDER_FORM)
    assert reply_from_body(reply_body(reply)) == reply
    assert "form" not in reply_body(Reply("hello"))
    assert reply_from_body(reply_body(Reply("hello"))) == Reply("hello")


async def test_adding_records_the_priority_booking_and_expiry(app: Salonbot) -> None:
    booking_id = await _booking(app)
    await _add(app, "a", Reply("hello"))
    await _add(
        app, "a", Reply("reminder"), priority=Priority.BULK, booking_id=booking_id,
        expires_at=TUESDAY_11,
    )  # fmt: skip
    assert await rows(
        app.engine, "SELECT priority, booking_id, expires_at FROM outbound_messages ORDER BY id"
    ) == [(0, None, None), (1, booking_id, TUESDAY_11)]


async def test_a_naive_expiry_is_refused(app: Salonbot) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await _add(app, "a", Reply("x"), expires_at=datetime(2026, 12, 8, 10, 0))  # noqa: DTZ001
    assert await rows(app.engine, "SELECT count(*) FROM outbound_messages") == [(0,)]


async def test_a_conversation_reply_is_claimed_before_older_bulk_messages(app: Salonbot) -> None:
    await _add(app, "b", Reply("reminder for b"), priority=Priority.BULK)
    await _add(app, "c", Reply("notice for c"), priority=Priority.BULK)
    await _add(app, "a", Reply("answer to a"))
    sender = FormSender()
    await _send_all(_dispatcher(app, sender))
    assert sender.sent == [("a", "answer to a"), ("b", "reminder for b"), ("c", "notice for c")]


async def test_a_chats_own_messages_keep_their_order_whatever_their_priority(
    app: Salonbot,
) -> None:
    await _add(app, "a", Reply("reminder"), priority=Priority.BULK)
    await _add(app, "a", Reply("answer"))
    sender = FormSender()
    await _send_all(_dispatcher(app, sender))
    assert sender.sent == [("a", "reminder"), ("a", "answer")]


async def test_ten_thousand_bulk_messages_do_not_delay_a_conversation_reply(
    app: Salonbot,
) -> None:
    async with app.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbound_messages"
                " (channel, chat_id, body, available_at, created_at, priority)"
                " SELECT 'test', 'bulk-' || n, '{\"text\": \"r\", \"choices\": []}',"
                " :at, :at, 1 FROM generate_series(1, 10000) AS n"
            ),
            {"at": app.clock.now()},
        )
        await connection.execute(text("ANALYZE outbound_messages"))
    [answer] = await _add(app, "chatting", Reply("answer"))
    async with app.uow() as uow:
        claimed = await OutboxRepository(uow.connection).claim_next("test", app.clock.now())
        assert claimed is not None
        assert claimed.id == answer
        assert claimed.priority is Priority.CONVERSATION


async def test_the_claim_walks_the_priority_index_instead_of_sorting_every_pending_row(
    app: Salonbot,
) -> None:
    async with app.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbound_messages"
                " (channel, chat_id, body, available_at, created_at, priority)"
                " SELECT 'test', 'bulk-' || n, '{}', :at, :at, 1"
                " FROM generate_series(1, 10000) AS n"
            ),
            {"at": app.clock.now()},
        )
        await connection.execute(text("ANALYZE outbound_messages"))
    claim = next_to_claim("test", app.clock.now()).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    async with app.engine.connect() as connection:
        plan = "\n".join(await connection.scalars(text(f"EXPLAIN {claim}")))
    assert "ix_outbound_messages_pending_by_priority" in plan
    assert "Sort" not in plan.split("SubPlan")[0]


async def test_a_bulk_message_past_its_expiry_is_expired_not_sent(
    app: Salonbot, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    booking_id = await _booking(app)
    await _add(
        app, "a", Reply("reminder"), priority=Priority.BULK, booking_id=booking_id,
        expires_at=TUESDAY_11,
    )  # fmt: skip
    clock.set(TUESDAY_11)
    sender = FormSender()
    with caplog.at_level(logging.WARNING, "salonbot.outbox"):
        await _send_all(_dispatcher(app, sender))
    assert sender.sent == []
    [(status, error)] = await rows(app.engine, "SELECT status, last_error FROM outbound_messages")
    assert status == "expired"
    assert "expired at 2026-12-08T10:00:00+00:00" in error
    assert any(r.getMessage() == "outbound expired" for r in caplog.records)


async def test_a_bulk_message_that_expires_while_waiting_for_its_token_is_expired_not_sent(
    app: Salonbot, clock: FakeClock
) -> None:
    await _add(app, "a", Reply("answer"))
    expires = clock.now() + timedelta(minutes=1)
    await _add(app, "b", Reply("reminder"), priority=Priority.BULK, expires_at=expires)
    # The platform's "retry after" on the answer holds the whole channel a moment; the
    # pacing's time stands still until the test moves it.
    pacing_time = [0.0]
    sender = FormSender(RetryAfter(0.05, "HTTP 429: retry after 0.05"))
    dispatcher = OutboxDispatcher(
        app.uow, app.clock, sender, Wakeup(), pacing=FAST, monotonic=lambda: pacing_time[0]
    )
    assert await dispatcher.send_one()  # the answer: told to retry after a while

    waiting = asyncio.create_task(dispatcher.send_one())  # the reminder: claimed, still fresh

    async def claimed() -> bool:
        return dispatcher.sending  # from then on it waits for a token

    await until(claimed, "the reminder is claimed and waits for a token")
    clock.set(expires)
    pacing_time[0] = 1.0
    assert await waiting

    assert sender.sent == [("a", "answer")]
    [(status, error)] = await rows(
        app.engine, "SELECT status, last_error FROM outbound_messages WHERE chat_id = 'b'"
    )
    assert status == "expired"
    assert f"expired at {expires.isoformat()}" in error


async def test_a_message_with_an_expiry_goes_until_then_even_past_the_shelf_life(
    app: Salonbot, clock: FakeClock
) -> None:
    await _add(app, "a", Reply("reminder"), priority=Priority.BULK, expires_at=TUESDAY_11)
    clock.advance(SHELF_LIFE + timedelta(minutes=1))
    assert clock.now() < TUESDAY_11
    sender = FormSender()
    await _send_all(_dispatcher(app, sender))
    assert sender.sent == [("a", "reminder")]


async def test_withdrawing_a_booking_expires_only_its_pending_messages(app: Salonbot) -> None:
    moved = await _booking(app)
    other = await _booking(app, TUESDAY_11 + timedelta(days=1))
    await _add(app, "a", Reply("sent already"), priority=Priority.BULK, booking_id=moved)
    await _send_all(_dispatcher(app, FormSender()))
    await _add(app, "a", Reply("24h"), Reply("2h"), priority=Priority.BULK, booking_id=moved)
    await _add(app, "a", Reply("other visit"), priority=Priority.BULK, booking_id=other)
    await _add(app, "a", Reply("a chat reply"))
    async with app.uow() as uow:
        assert await OutboxRepository(uow.connection).withdraw(moved, "visit moved") == 2
        await uow.commit()
    assert await rows(
        app.engine, "SELECT body->>'text', status, last_error FROM outbound_messages ORDER BY id"
    ) == [
        ("sent already", "sent", None),
        ("24h", "expired", "withdrawn: visit moved"),
        ("2h", "expired", "withdrawn: visit moved"),
        ("other visit", "pending", None),
        ("a chat reply", "pending", None),
    ]


async def test_withdrawing_lets_go_of_a_message_being_sent_right_now(app: Salonbot) -> None:
    booking_id = await _booking(app)
    [sending, waiting] = await _add(
        app, "a", Reply("1"), Reply("2"), priority=Priority.BULK, booking_id=booking_id
    )
    async with app.engine.connect() as dispatcher, dispatcher.begin():
        await dispatcher.execute(
            text(f"SELECT id FROM outbound_messages WHERE id = {sending} FOR UPDATE")
        )
        async with app.uow() as uow:
            assert await OutboxRepository(uow.connection).withdraw(booking_id, "cancelled") == 1
            await uow.commit()
    assert await rows(app.engine, "SELECT id, status FROM outbound_messages ORDER BY id") == [
        (sending, "pending"),
        (waiting, "expired"),
    ]


async def test_a_refused_reminder_with_a_form_is_sent_as_its_template_once(
    app: Salonbot, caplog: pytest.LogCaptureFixture
) -> None:
    booking_id = await _booking(app)
    reminder = Reply("Your visit tomorrow", (Choice("cv:1.x", "Confirm"),), form=REMINDER_FORM)
    await _add(
        app, "a", reminder, priority=Priority.BULK, booking_id=booking_id, expires_at=TUESDAY_11
    )
    sender = FormSender(OutsideWindow("HTTP 400 code 131047: more than 24 hours"))
    with caplog.at_level(logging.WARNING, "salonbot.outbox"):
        await _send_all(_dispatcher(app, sender))
    assert sender.sent == [
        ("a", "Your visit tomorrow"),
        ("a", "(form reminder Manicure,Tue 8 Dec, 11:00,Maria)"),
    ]
    assert await rows(
        app.engine,
        "SELECT kind, status, priority, booking_id, expires_at FROM outbound_messages ORDER BY id",
    ) == [
        ("reply", "failed", 1, booking_id, TUESDAY_11),
        ("template", "sent", 1, booking_id, TUESDAY_11),
    ]
    assert "outbound outside the window, template queued" in caplog.messages


async def test_a_refused_bulk_message_without_a_form_gets_nothing_in_its_place(
    app: Salonbot, caplog: pytest.LogCaptureFixture
) -> None:
    await _add(app, "a", Reply("Thanks for visiting"), priority=Priority.BULK)
    sender = FormSender(OutsideWindow("HTTP 400 code 131047: more than 24 hours"))
    with caplog.at_level(logging.WARNING, "salonbot.outbox"):
        await _send_all(_dispatcher(app, sender))
    assert sender.sent == [("a", "Thanks for visiting")]
    assert await rows(app.engine, "SELECT kind, status FROM outbound_messages") == [
        ("reply", "failed")
    ]
    assert "outbound outside the window, nothing sent in its place" in caplog.messages


async def test_a_refused_conversation_reply_still_gets_the_window_reopener(app: Salonbot) -> None:
    await _add(app, "a", Reply("Pick a time"))
    sender = FormSender(OutsideWindow("HTTP 400 code 131047: more than 24 hours"))
    await _send_all(_dispatcher(app, sender))
    assert sender.sent == [("a", "Pick a time"), ("a", "(reopener)")]


async def test_reports_that_a_sent_reminder_failed_outside_the_window_queue_its_template_once(
    app: Salonbot,
) -> None:
    booking_id = await _booking(app)
    reminder = Reply("Your visit tomorrow", form=REMINDER_FORM)
    await _add(app, "a", reminder, priority=Priority.BULK, booking_id=booking_id)
    await _add(app, "b", Reply("Thanks for visiting"), priority=Priority.BULK)
    await _send_all(_dispatcher(app, FormSender()))
    at = app.clock.now()
    closed = "131047: Re-engagement message"
    record = RecordDeliveries(app.uow, app.clock)
    await record([DeliveryReport("test", "m1", "failed", at, closed, window_closed=True)])
    later = at + timedelta(seconds=1)
    await record(
        [
            DeliveryReport("test", "m1", "failed", later, closed, window_closed=True),
            DeliveryReport("test", "m2", "failed", later, closed, window_closed=True),
        ]
    )
    assert await rows(
        app.engine,
        "SELECT chat_id, kind, status, booking_id, body->'form'->>'name'"
        " FROM outbound_messages ORDER BY id",
    ) == [
        ("a", "reply", "failed", booking_id, "reminder"),
        ("b", "reply", "failed", None, None),
        ("a", "template", "pending", booking_id, "reminder"),
    ]


async def test_a_withdrawn_visit_takes_back_its_queued_template_too(app: Salonbot) -> None:
    booking_id = await _booking(app)
    [refused] = await _add(
        app, "a", Reply("Your visit", form=REMINDER_FORM), priority=Priority.BULK,
        booking_id=booking_id,
    )  # fmt: skip
    async with app.uow() as uow:
        repository = OutboxRepository(uow.connection)
        await repository.mark_failed(refused, "131047")
        assert await repository.stand_in_for_refused(refused) is StandIn.TEMPLATE
        assert await repository.withdraw(booking_id, "cancelled") == 1
        await uow.commit()
    assert await rows(app.engine, "SELECT kind, status FROM outbound_messages ORDER BY id") == [
        ("reply", "failed"),
        ("template", "expired"),
    ]


async def test_a_damaged_template_row_is_failed_without_blocking_its_chat(app: Salonbot) -> None:
    async with app.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbound_messages (channel, chat_id, body, kind, available_at,"
                " created_at) VALUES ('test', 'a', '{\"form\": {\"name\": 3}}', 'template',"
                " :at, :at)"
            ),
            {"at": app.clock.now()},
        )
    await _add(app, "a", Reply("next"))
    sender = FormSender()
    await _send_all(_dispatcher(app, sender))
    assert sender.sent == [("a", "next")]
    [(status, error)] = await rows(
        app.engine, "SELECT status, last_error FROM outbound_messages WHERE kind = 'template'"
    )
    assert status == "failed"
    assert error.startswith("unreadable template")


async def test_a_conversation_reply_waits_a_token_or_two_behind_a_burst_of_bulk_messages(
    app: Salonbot,
) -> None:
    for n in range(40):
        await _add(app, f"bulk-{n}", Reply(f"reminder {n}"), priority=Priority.BULK)
    sender = FormSender()
    # Ten tokens a second, all eight lanes busy with bulk messages waiting for them.
    paced = Pacing(per_chat_rate=1000, per_chat_burst=1000, overall_rate=10, overall_burst=1)
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=paced, lanes=8)
    running = asyncio.create_task(dispatcher.run())
    try:
        await until(lambda: _sent_at_least(sender, 3), "three reminders are sent")
        await _add(app, "chatting", Reply("answer"))
        queued_at = len(sender.sent)
        await until(lambda: _sent_at_least(sender, 0, "chatting"), "the answer is sent")
    finally:
        dispatcher.stop()
        await running
    answered_at = sender.sent.index(("chatting", "answer"))
    # Bulk sends between its queueing and its send: the one a lane was finishing, then a
    # token or two (without its priority for the token: up to one per lane).
    assert answered_at - queued_at <= 3


async def _sent_at_least(sender: FormSender, count: int, chat: str | None = None) -> bool:
    if chat is not None:
        return any(c == chat for c, _ in sender.sent)
    return len(sender.sent) >= count


@pytest.mark.parametrize("change", ["cancelled", "moved"])
async def test_a_reminder_refused_after_its_visit_changed_gets_no_template(
    app: Salonbot, clock: FakeClock, change: str
) -> None:
    booking_id = await _booking(app)
    reminder = Reply("Your visit tomorrow at 11:00", form=REMINDER_FORM)
    await _add(app, "a", reminder, priority=Priority.BULK, booking_id=booking_id)
    # The visit changes while the reminder is being sent (``withdraw`` lets that one go):
    # a dispatcher holds its row meanwhile.
    clock.advance(timedelta(minutes=1))
    async with app.engine.connect() as sending:
        await sending.execute(text("SELECT id FROM outbound_messages FOR UPDATE"))
        if change == "cancelled":
            await app.bookings.cancel(booking_id, STAFF)
        else:
            await app.bookings.reschedule(booking_id, TUESDAY_11 + timedelta(days=1), STAFF)
        await sending.rollback()
    sender = FormSender(OutsideWindow("HTTP 400 code 131047: more than 24 hours"))
    await _send_all(_dispatcher(app, sender))
    assert sender.sent == [("a", "Your visit tomorrow at 11:00")]
    assert await rows(app.engine, "SELECT kind, status FROM outbound_messages") == [
        ("reply", "failed")
    ]


async def test_a_channel_delivering_in_process_shows_no_message_past_its_expiry(
    app: Salonbot, clock: FakeClock
) -> None:
    await _add(app, "a", Reply("reminder"), priority=Priority.BULK, expires_at=TUESDAY_11)
    await _add(app, "a", Reply("still fresh"))
    clock.set(TUESDAY_11)
    async with app.uow() as uow:
        taken = await OutboxRepository(uow.connection).take_pending("test", "a", clock.now())
        await uow.commit()
    assert [m.reply.text for m in taken] == ["still fresh"]
    assert await rows(app.engine, "SELECT status FROM outbound_messages ORDER BY id") == [
        ("expired",),
        ("sent",),
    ]


async def test_a_reminder_ahead_of_a_chatting_customers_reply_goes_with_it_before_other_bulk(
    app: Salonbot,
) -> None:
    await _add(app, "b", Reply("reminder for b"), priority=Priority.BULK)
    await _add(app, "a", Reply("reminder for a"), priority=Priority.BULK)
    await _add(app, "a", Reply("answer to a"))
    sender = FormSender()
    await _send_all(_dispatcher(app, sender))
    assert sender.sent == [("a", "reminder for a"), ("a", "answer to a"), ("b", "reminder for b")]
    assert await rows(
        app.engine, "SELECT chat_id, priority FROM outbound_messages ORDER BY id"
    ) == [
        ("b", 1),
        ("a", 0),
        ("a", 0),
    ]


async def test_a_reminder_refused_while_its_visit_is_moving_waits_for_the_move_and_gets_no_template(
    app: Salonbot, clock: FakeClock
) -> None:
    booking_id = await _booking(app)
    reminder = Reply("Your visit tomorrow at 11:00", form=REMINDER_FORM)
    [message_id] = await _add(app, "a", reminder, priority=Priority.BULK, booking_id=booking_id)
    clock.advance(timedelta(minutes=1))
    async with app.engine.connect() as sending, app.engine.connect() as moving:
        # A dispatcher has the reminder (its row locked) and the platform refuses it...
        await sending.execute(
            text(f"SELECT id FROM outbound_messages WHERE id = {message_id} FOR UPDATE")
        )
        # ...while the salon moves the visit, not committed yet (its withdraw let the
        # reminder go, as a dispatcher holds it).
        await moving.begin()
        bookings = Bookings(
            NestedUnitOfWorkFactory(moving), clock, app.catalogs, followers=app.followers
        )
        await bookings.reschedule(booking_id, TUESDAY_11 + timedelta(days=1), STAFF)
        standing_in = asyncio.create_task(
            OutboxRepository(sending).stand_in_for_refused(message_id)
        )
        await waiting_for_a_lock(app.engine)  # it waits for the move, not reading around it
        await moving.commit()
        stand_in = await standing_in
        await sending.commit()

    assert stand_in is StandIn.NOTHING
    assert await rows(app.engine, "SELECT kind FROM outbound_messages ORDER BY id") == [("reply",)]
