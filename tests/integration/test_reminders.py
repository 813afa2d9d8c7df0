"""Reminders and follow-ups on a real Postgres: planned with each booking change, queued by
the scheduler's tick once, withdrawn when the visit moves or ends, caught up after a pause.

The salon's clock is Berlin; the test's clock starts on Monday 2026-12-07 07:00 local.
The visit is on Wednesday at 11:00 local (10:00 UTC); its reminders are due on Tuesday at
11:00 (24 h before), Tuesday at 20:00 (the day before at 20:00) and Wednesday at 09:00 (2 h
before, right at the end of the quiet hours 21:00-09:00).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.conversation.messages import Form, Reply
from core.conversation.state import State
from core.db.booking_repository import BookingRepository
from core.db.conversation_repository import ConversationRepository
from core.db.customer_repository import CustomerRepository
from core.db.outbox_repository import OutboxRepository
from core.db.reachability_repository import ReachabilityRepository
from core.domain.booking import Actor, Booking, BookingStatus
from core.ports import SendOutcome, Sent, TransientFailure
from core.services.catalog import load_catalog
from core.services.dispatch import OutboxDispatcher
from core.services.pacing import Pacing
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from tests.db_state import rows
from tests.fakes.clock import FakeClock

STAFF = Actor.staff("front-desk")
FAST = Pacing(per_chat_rate=1000, per_chat_burst=1000, overall_rate=1000, overall_burst=1000)
VISIT = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)  # Wednesday 11:00 in Berlin
DUE_24H = VISIT - timedelta(hours=24)
DUE_EVENING = datetime(2026, 12, 8, 19, 0, tzinfo=UTC)  # Tuesday 20:00 in Berlin
DUE_2H = VISIT - timedelta(hours=2)  # Wednesday 09:00 in Berlin
QUIET_TUESDAY = datetime(2026, 12, 8, 20, 0, tzinfo=UTC)  # Tuesday 21:00 in Berlin
QUIET_WEDNESDAY = QUIET_TUESDAY + timedelta(days=1)

SALON = """
salon: {name: Lumen, timezone: Europe/Berlin, languages: [en, ru], currency: EUR,
        address: "Kastanienallee 12", phone: "+49 30 1234567"}
policies: {min_notice: 30m, booking_horizon: 60d, slot_step: 15m}
services:
  - {id: cut, name: {en: Cut, ru: Стрижка}, duration: 45m, price: 30}
staff:
  - id: ann
    name: Ann
    services: [cut]
    hours: {mon: ["09:00-19:00"], tue: ["09:00-19:00"], wed: ["09:00-19:00"],
            thu: ["09:00-19:00"], fri: ["09:00-19:00"]}
RULES
"""
REMINDING = """
reminders:
  rules:
    - before: 24h
    - day_before_at: "20:00"
    - before: 2h
  quiet_hours: "21:00-09:00"
  ask_to_confirm: true
follow_up:
  after: 2h
  review_url: https://example.com/review
"""


async def _salon(engine: AsyncEngine, clock: FakeClock, settings: str = REMINDING) -> Salonbot:
    app = Salonbot(engine, clock)
    document, _ = load_catalog_text(SALON.replace("RULES", settings))
    await load_catalog(app.uow, clock, document)
    return app


@pytest.fixture
async def salon(clean_engine: AsyncEngine, clock: FakeClock) -> Salonbot:
    return await _salon(clean_engine, clock)


async def _customer(
    app: Salonbot, chat: str = "100", *, language: str = "en", channel: str = "telegram"
) -> int:
    """A customer who has written to the salon from ``chat``."""
    now = app.clock.now()
    async with app.uow() as uow:
        customer_id, _ = await CustomerRepository(uow.connection).for_identity(
            channel, chat, now, name="Eva", language=language
        )
        await ConversationRepository(uow.connection).save(
            channel, chat, customer_id, State().to_json(), None, now
        )
        await uow.commit()
    return customer_id


async def _book(app: Salonbot, customer_id: int | None, start: datetime = VISIT) -> Booking:
    return await app.bookings.book("cut", start, STAFF, staff_key="ann", customer_id=customer_id)


async def _notices(app: Salonbot, booking_id: int) -> list[tuple[Any, ...]]:
    return await rows(
        app.engine,
        "SELECT kind, rule, occasion, due_at, status, note FROM scheduled_notices"
        f" WHERE booking_id = {booking_id} ORDER BY id",
    )


async def _statuses(app: Salonbot, booking_id: int) -> dict[str, str]:
    return {
        f"{kind}:{rule}": status for kind, rule, _, _, status, _ in await _notices(app, booking_id)
    }


async def _outbox(app: Salonbot) -> list[tuple[Any, ...]]:
    return await rows(
        app.engine,
        "SELECT chat_id, priority, booking_id, expires_at, status, body FROM outbound_messages"
        " ORDER BY id",
    )


class RecordingSender:
    """Records what it was asked to send; answers with the scripted outcomes, then
    ``Sent``."""

    name = "telegram"

    def __init__(self, *script: SendOutcome) -> None:
        self.script = list(script)
        self.sent: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> SendOutcome:
        self.sent.append((chat_id, reply.text))
        return self.script.pop(0) if self.script else Sent(f"m{len(self.sent)}")

    async def reopen_window(self, chat_id: str) -> SendOutcome:
        raise AssertionError("no window to reopen on Telegram")

    async def send_form(self, chat_id: str, form: Form) -> SendOutcome:
        raise AssertionError("no forms on Telegram")


async def _dispatch(app: Salonbot, sender: RecordingSender) -> None:
    """Send every message due now."""
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    while await dispatcher.send_one():
        pass


async def _tick(app: Salonbot, at: datetime) -> None:
    assert isinstance(app.clock, FakeClock)
    app.clock.set(at)
    await app.complete_ended_visits.run()
    await app.due_notices().run()


async def test_a_booked_visit_plans_one_reminder_per_rule_and_its_follow_up(
    salon: Salonbot,
) -> None:
    booking = await _book(salon, await _customer(salon))

    assert await _notices(salon, booking.id) == [
        ("reminder", "before:24h", VISIT, DUE_24H, "pending", ""),
        ("reminder", "day_before_at:20:00", VISIT, DUE_EVENING, "pending", ""),
        ("reminder", "before:2h", VISIT, DUE_2H, "pending", ""),
        (
            "follow_up",
            "",
            VISIT + timedelta(minutes=45),
            VISIT + timedelta(minutes=165),
            "pending",
            "",
        ),
    ]


async def test_a_due_reminder_is_queued_once_as_bulk_about_its_visit_and_asks_to_confirm(
    salon: Salonbot,
) -> None:
    booking = await _book(salon, await _customer(salon, language="ru"))

    await _tick(salon, DUE_24H)
    await _tick(salon, DUE_24H + timedelta(minutes=1))

    [(chat, priority, about, expires, status, body)] = await _outbox(salon)
    assert (chat, priority, about, status) == ("100", 1, booking.id, "pending")
    assert expires == QUIET_TUESDAY  # not sent into the night (the visit is the morning after)
    assert "Стрижка" in body["text"]  # the customer's language
    assert len(body["choices"]) == 3  # confirm, reschedule, cancel
    assert body["form"]["name"] == "reminder"
    assert (await _statuses(salon, booking.id))["reminder:before:24h"] == "queued"


async def test_the_reminders_after_the_first_no_longer_ask_to_confirm(salon: Salonbot) -> None:
    await _book(salon, await _customer(salon))

    await _tick(salon, DUE_24H)
    await _tick(salon, DUE_EVENING)

    first, second = (body for *_, body in await _outbox(salon))
    assert len(first["choices"]) == 3
    assert len(second["choices"]) == 2  # reschedule, cancel


async def test_a_reminder_after_one_that_never_went_out_still_asks_to_confirm(
    salon: Salonbot,
) -> None:
    await _book(salon, await _customer(salon))
    await _tick(salon, DUE_24H)
    [(first_id,)] = await rows(salon.engine, "SELECT id FROM outbound_messages")
    async with salon.uow() as uow:  # as the dispatcher does with a message past its time
        await OutboxRepository(uow.connection).mark_expired(first_id, "not sent: expired")
        await uow.commit()

    await _tick(salon, DUE_EVENING)

    _, second = (body for *_, body in await _outbox(salon))
    assert [c["id"].split(".")[0] for c in second["choices"]] == ["cv", "rv", "cx"]


async def test_a_reminder_queued_before_the_quiet_hours_expires_as_they_begin(
    salon: Salonbot, clock: FakeClock
) -> None:
    await _book(salon, await _customer(salon))
    await _tick(salon, DUE_EVENING)  # 20:00: a long queue or a "retry after" ahead of it
    sender = RecordingSender()

    clock.set(QUIET_TUESDAY)
    await _dispatch(salon, sender)

    assert sender.sent == []
    [(*_, expires, status, _)] = await _outbox(salon)
    assert (expires, status) == (QUIET_TUESDAY, "expired")


async def test_a_reminder_queued_on_the_morning_of_its_visit_expires_when_the_visit_starts(
    salon: Salonbot,
) -> None:
    await _book(salon, await _customer(salon))

    await _tick(salon, DUE_2H)

    assert [expires for *_, expires, _, _ in await _outbox(salon)] == [VISIT]


async def test_a_follow_up_expires_when_the_quiet_hours_begin_so_its_retries_stop_at_night(
    salon: Salonbot, clock: FakeClock
) -> None:
    await _book(salon, await _customer(salon))
    end = VISIT + timedelta(minutes=45)
    await _tick(salon, end)
    await _tick(salon, end + timedelta(hours=2))
    sender = RecordingSender(TransientFailure("HTTP 502"))
    await _dispatch(salon, sender)  # failed once: tried again later, with backoff

    clock.set(QUIET_WEDNESDAY)
    await _dispatch(salon, sender)

    assert len(sender.sent) == 1
    [(*_, expires, status, body)] = await _outbox(salon)
    assert "review" in body["text"]
    assert (expires, status) == (QUIET_WEDNESDAY, "expired")


async def test_a_reminder_due_before_the_booking_was_made_is_skipped_never_sent_late(
    salon: Salonbot, clock: FakeClock
) -> None:
    clock.set(DUE_24H + timedelta(hours=1))
    booking = await _book(salon, await _customer(salon))

    await _tick(salon, DUE_2H)

    notices = await _notices(salon, booking.id)
    assert notices[0][4:] == ("skipped", "due before the booking was made")
    [(*_, body)] = await _outbox(salon)  # the 2 h one only (the evening one is superseded)
    assert "Cut" in body["text"]


async def test_a_process_that_was_down_sends_only_the_latest_due_reminder_and_logs_the_rest(
    salon: Salonbot, caplog: pytest.LogCaptureFixture
) -> None:
    booking = await _book(salon, await _customer(salon))
    caplog.set_level("INFO", logger="salonbot.notices")

    await _tick(salon, DUE_2H + timedelta(minutes=30))

    assert await _statuses(salon, booking.id) == {
        "reminder:before:24h": "skipped",
        "reminder:day_before_at:20:00": "skipped",
        "reminder:before:2h": "queued",
        "follow_up:": "pending",
    }
    [(*_, body)] = await _outbox(salon)
    assert len(body["choices"]) == 3  # the only one that goes asks to confirm
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert skipped == ["reminder skipped: a later reminder of the same visit is due too"] * 2


async def test_no_reminder_goes_once_the_visit_has_started(salon: Salonbot) -> None:
    booking = await _book(salon, await _customer(salon))

    await _tick(salon, VISIT + timedelta(minutes=10))

    assert await _outbox(salon) == []
    notices = await _notices(salon, booking.id)
    assert [(s, n) for k, *_, s, n in notices if k == "reminder"] == [
        ("skipped", "the visit has started")
    ] * 3


async def test_a_reminder_found_due_in_quiet_hours_waits_for_their_end(salon: Salonbot) -> None:
    booking = await _book(salon, await _customer(salon))
    late_evening = datetime(2026, 12, 8, 21, 0, tzinfo=UTC)  # Tuesday 22:00 in Berlin

    await _tick(salon, late_evening)

    assert await _outbox(salon) == []
    evening = (await _notices(salon, booking.id))[1]
    assert evening[3:5] == (DUE_2H, "pending")  # Wednesday 09:00 in Berlin
    await _tick(salon, DUE_2H)
    assert len(await _outbox(salon)) == 1  # one of the two now due: the later rule's


async def test_a_late_reminder_found_in_quiet_hours_that_end_after_the_visit_is_skipped(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    app = await _salon(clean_engine, clock, REMINDING.replace("21:00-09:00", "21:00-12:00"))
    booking = await _book(app, await _customer(app))

    await _tick(app, DUE_2H - timedelta(minutes=30))  # 08:30 local: quiet until 12:00

    assert await _outbox(app) == []
    reminders = [(s, n) for k, _, _, _, s, n in await _notices(app, booking.id) if k == "reminder"]
    assert reminders == [
        ("skipped", "a later reminder of the same visit is due too"),
        ("skipped", "a later reminder of the same visit is due too"),
        ("skipped", "quiet hours now, and they end too late"),
    ]


async def test_a_rescheduled_visit_replaces_its_pending_reminders_and_its_unsent_message(
    salon: Salonbot,
) -> None:
    booking = await _book(salon, await _customer(salon))
    await _tick(salon, DUE_24H)  # the 24 h reminder is queued, not sent yet
    later = VISIT + timedelta(days=1)

    await salon.bookings.reschedule(booking.id, later, STAFF)

    [(*_, status, _), (*_, told, body)] = await _outbox(salon)
    assert status == "expired"
    # In its place, the customer hears of the salon's move (core.services.customer_notices).
    assert (told, "has moved your visit" in body["text"]) == ("pending", True)
    notices = await _notices(salon, booking.id)
    old = [(rule, status) for kind, rule, occasion, _, status, _ in notices if occasion == VISIT]
    assert old == [
        ("before:24h", "withdrawn"),
        ("day_before_at:20:00", "withdrawn"),
        ("before:2h", "withdrawn"),
    ]
    new = [
        (rule, due, status) for _, rule, occasion, due, status, _ in notices if occasion == later
    ]
    assert new == [
        ("before:24h", later - timedelta(hours=24), "pending"),
        ("day_before_at:20:00", DUE_EVENING + timedelta(days=1), "pending"),
        ("before:2h", later - timedelta(hours=2), "pending"),
    ]


async def test_the_reminder_of_a_moved_visit_names_its_new_version_so_its_buttons_work(
    salon: Salonbot,
) -> None:
    booking = await _book(salon, await _customer(salon))
    later = VISIT + timedelta(days=1)
    moved = await salon.bookings.reschedule(booking.id, later, STAFF)

    await _tick(salon, later - timedelta(hours=24))

    # After the notice of the salon's move (core.services.customer_notices), the reminder.
    [_, (*_, status, body)] = await _outbox(salon)
    assert status == "pending"
    ids = [choice["id"] for choice in body["choices"]]
    assert moved.version == booking.version + 1
    assert ids == [f"{op}.{booking.id}.{moved.version}" for op in ("cv", "rv", "cx")]
    assert body["form"]["payloads"] == ids


async def test_a_visit_moved_back_to_its_time_gets_its_withdrawn_reminders_again(
    salon: Salonbot,
) -> None:
    booking = await _book(salon, await _customer(salon))
    await salon.bookings.reschedule(booking.id, VISIT + timedelta(hours=2), STAFF)

    await salon.bookings.reschedule(booking.id, VISIT, STAFF)

    statuses = [
        (occ, s) for k, _, occ, _, s, _ in await _notices(salon, booking.id) if k == "reminder"
    ]
    assert statuses.count((VISIT, "pending")) == 3
    assert statuses.count((VISIT + timedelta(hours=2), "withdrawn")) == 3


async def test_a_reminder_of_a_visit_moved_after_it_was_claimed_is_withdrawn_not_sent(
    salon: Salonbot,
) -> None:
    """The tick read the visit before it moved: the old time's reminder is recorded, not
    sent (its outbox message is withdrawn by the move)."""
    booking = await _book(salon, await _customer(salon))
    await _tick(salon, DUE_24H)
    await salon.bookings.reschedule(booking.id, VISIT + timedelta(hours=3), STAFF)
    await _tick(salon, DUE_24H + timedelta(hours=3, minutes=1))

    sent = [(about, status) for _, _, about, _, status, _ in await _outbox(salon)]
    # The old reminder taken back, the notice of the move, the new time's reminder.
    assert sent == [(booking.id, "expired"), (booking.id, "pending"), (booking.id, "pending")]


async def test_a_cancelled_visit_gets_no_reminder_queued_or_planned(salon: Salonbot) -> None:
    booking = await _book(salon, await _customer(salon))
    await _tick(salon, DUE_24H)

    await salon.bookings.cancel(booking.id, STAFF)
    await _tick(salon, DUE_2H)

    outbox = await _outbox(salon)
    # The reminder taken back; the notice of the salon's cancel (customer_notices) goes.
    assert [status for *_, status, _ in outbox] == ["expired", "pending"]
    assert "has cancelled your visit" in outbox[1][5]["text"]
    # The queued one too: its message was taken back before it went.
    assert set((await _statuses(salon, booking.id)).values()) == {"withdrawn"}


async def test_an_unreachable_customer_and_a_walk_in_get_no_reminder(salon: Salonbot) -> None:
    customer = await _customer(salon)
    mine = await _book(salon, customer)
    walk_in = await _book(salon, None, VISIT + timedelta(hours=2))
    async with salon.uow() as uow:
        await ReachabilityRepository(uow.connection).mark_unreachable("telegram", "100", DUE_24H)
        await uow.commit()

    await _tick(salon, DUE_24H + timedelta(hours=2))

    assert await _outbox(salon) == []
    notes = {
        n
        for *_, s, n in await _notices(salon, mine.id) + await _notices(salon, walk_in.id)
        if s == "skipped"
    }
    assert notes == {
        "the customer is unreachable on their channel",
        "the customer has no chat with the salon",
    }


async def test_an_ended_visit_becomes_completed_and_gets_its_follow_up_once(
    salon: Salonbot,
) -> None:
    booking = await _book(salon, await _customer(salon))
    end = VISIT + timedelta(minutes=45)

    await _tick(salon, end)
    await _tick(salon, end + timedelta(hours=2))
    await _tick(salon, end + timedelta(hours=2, minutes=1))

    history = [e["action"] for e in await _history(salon, booking.id)]
    assert history == ["booked", "completed"]
    follow_ups = [body for *_, body in await _outbox(salon) if "review" in body["text"]]
    assert len(follow_ups) == 1
    assert "https://example.com/review" in follow_ups[0]["text"]


async def test_a_no_show_gets_no_follow_up(salon: Salonbot) -> None:
    booking = await _book(salon, await _customer(salon))
    await _tick(salon, VISIT + timedelta(minutes=10))

    await salon.bookings.record_outcome(booking.id, STAFF, BookingStatus.NO_SHOW)
    await _tick(salon, VISIT + timedelta(hours=4))

    assert (await _statuses(salon, booking.id))["follow_up:"] == "withdrawn"
    assert all("review" not in body["text"] for *_, body in await _outbox(salon))


async def test_a_follow_up_more_than_a_day_late_is_skipped(salon: Salonbot) -> None:
    booking = await _book(salon, await _customer(salon))

    await _tick(salon, VISIT + timedelta(days=2))

    assert (await _statuses(salon, booking.id))["follow_up:"] == "skipped"
    assert await _outbox(salon) == []


async def test_only_confirmed_visits_that_ended_are_completed(salon: Salonbot) -> None:
    customer = await _customer(salon)
    ended = await _book(salon, customer, VISIT)
    cancelled = await _book(salon, customer, VISIT + timedelta(hours=1))
    upcoming = await _book(salon, customer, VISIT + timedelta(days=1))
    await salon.bookings.cancel(cancelled.id, STAFF)
    salon.clock.set(VISIT + timedelta(hours=3))  # type: ignore[attr-defined]

    assert await salon.complete_ended_visits.run() == 1
    assert await salon.complete_ended_visits.run() == 0

    statuses = await rows(salon.engine, "SELECT id, status FROM bookings ORDER BY id")
    assert statuses == [
        (ended.id, "completed"),
        (cancelled.id, "cancelled"),
        (upcoming.id, "confirmed"),
    ]
    [(actor_kind, to_status)] = await rows(
        salon.engine,
        f"SELECT actor_kind, to_status FROM booking_events WHERE booking_id = {ended.id}"
        " AND action = 'completed'",
    )
    assert (actor_kind, to_status) == ("system", "completed")


async def test_a_catalog_load_replans_the_upcoming_visits_by_the_new_rules(
    salon: Salonbot, clock: FakeClock
) -> None:
    booking = await _book(salon, await _customer(salon))
    changed = REMINDING.replace('    - day_before_at: "20:00"\n', "    - before: 3h\n")

    document, _ = load_catalog_text(SALON.replace("RULES", changed))
    await load_catalog(salon.uow, clock, document)

    assert await _statuses(salon, booking.id) == {
        "reminder:before:24h": "pending",
        "reminder:day_before_at:20:00": "withdrawn",
        "reminder:before:2h": "pending",
        "follow_up:": "pending",
        "reminder:before:3h": "pending",
    }


async def test_a_catalog_load_that_keeps_the_reminder_settings_leaves_the_plans_alone(
    salon: Salonbot, clock: FakeClock
) -> None:
    booking = await _book(salon, await _customer(salon))
    postponed = DUE_24H + timedelta(minutes=7)  # as a tick in quiet hours would have
    async with salon.engine.begin() as connection:
        await connection.execute(
            text("UPDATE scheduled_notices SET due_at = :at WHERE rule = 'before:24h'"),
            {"at": postponed},
        )

    renamed = SALON.replace("RULES", REMINDING).replace("name: Lumen", "name: Lumen Studio")

    await load_catalog(salon.uow, clock, load_catalog_text(renamed)[0])
    assert (await _notices(salon, booking.id))[0][3] == postponed

    quieter = renamed.replace("21:00-09:00", "22:00-08:00")
    await load_catalog(salon.uow, clock, load_catalog_text(quieter)[0])
    assert (await _notices(salon, booking.id))[0][3] == DUE_24H


async def test_a_salon_without_reminder_settings_plans_nothing(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    app = await _salon(clean_engine, clock, "")
    booking = await _book(app, await _customer(app))

    await _tick(app, VISIT - timedelta(hours=1))

    assert await _notices(app, booking.id) == []
    assert await _outbox(app) == []


async def _history(app: Salonbot, booking_id: int) -> list[dict[str, object]]:
    async with app.uow() as uow:
        return await BookingRepository(uow.connection).history(booking_id)


async def test_staff_correct_a_completed_visit_to_a_no_show_and_back_and_the_follow_up_follows(
    salon: Salonbot,
) -> None:
    booking = await _book(salon, await _customer(salon))
    end = VISIT + timedelta(minutes=45)
    await _tick(salon, end)  # recorded completed when it ended

    missed = await salon.bookings.record_outcome(booking.id, STAFF, BookingStatus.NO_SHOW)
    again = await salon.bookings.record_outcome(booking.id, STAFF, BookingStatus.NO_SHOW)
    assert (missed.status, again.status) == (BookingStatus.NO_SHOW, BookingStatus.NO_SHOW)
    assert (await _statuses(salon, booking.id))["follow_up:"] == "withdrawn"

    await salon.bookings.record_outcome(booking.id, STAFF, BookingStatus.COMPLETED)
    await _tick(salon, end + timedelta(hours=2, minutes=1))

    history = [e["action"] for e in await _history(salon, booking.id)]
    assert history == ["booked", "completed", "no_show", "completed"]
    follow_ups = [body for *_, body in await _outbox(salon) if "review" in body["text"]]
    assert len(follow_ups) == 1


async def test_a_follow_up_withdrawn_unsent_by_a_no_show_goes_once_when_corrected_to_completed(
    salon: Salonbot,
) -> None:
    booking = await _book(salon, await _customer(salon))
    end = VISIT + timedelta(minutes=45)
    await _tick(salon, end)
    await _tick(salon, end + timedelta(hours=2))  # queued, not sent yet
    assert (await _statuses(salon, booking.id))["follow_up:"] == "queued"

    await salon.bookings.record_outcome(booking.id, STAFF, BookingStatus.NO_SHOW)
    assert [status for *_, status, _ in await _outbox(salon)] == ["expired"]
    await salon.bookings.record_outcome(booking.id, STAFF, BookingStatus.COMPLETED)
    await _tick(salon, end + timedelta(hours=2, minutes=5))
    await _tick(salon, end + timedelta(hours=2, minutes=6))
    sender = RecordingSender()
    await _dispatch(salon, sender)

    assert (await _statuses(salon, booking.id))["follow_up:"] == "queued"
    assert [status for *_, status, _ in await _outbox(salon)] == ["expired", "sent"]
    assert len(sender.sent) == 1
    assert "https://example.com/review" in sender.sent[0][1]
