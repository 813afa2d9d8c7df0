"""The Telegram channel end to end: the real webhook route, the inbox worker, converse, the
outbox dispatcher and the real aiogram client, against the fake Bot API on real Postgres."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from salonbot.bootstrap import Salonbot
from tests.adapters.telegram_harness import (
    Salon,
    button,
    buttons,
    eventually,
    serving,
)
from tests.fakes.telegram_api import MEDIA, FakeTelegram, busiest_second
from tests.waiting import handled, settled

ADA = 5001
SORRY_RU = "Извините, я понимаю только текст и кнопки ниже."


@pytest.fixture
async def salon(demo: Salonbot, fake: FakeTelegram) -> AsyncIterator[Salon]:
    async with serving(demo, fake) as running:
        yield running


async def _to_times(salon: Salon, chat: int) -> None:
    await salon.say(chat, "/start")
    await salon.tap(chat, "Book a visit")
    await salon.tap(chat, "Nails")
    await salon.tap(chat, "Manicure")
    await salon.tap(chat, "Maria")
    await salon.tap_nth(chat, 2)  # the third open day


async def test_a_whole_booking_by_button_taps(salon: Salon) -> None:
    greeting = await salon.say(ADA, "/start")
    assert greeting.text.startswith("Hello, Ada! Welcome to Studio Lumen.")
    await _to_times(salon, ADA)
    summary = await salon.tap_nth(ADA, 0)
    assert summary.text.startswith("Please check your booking:")

    booked = await salon.tap(ADA, "Confirm")

    assert booked.text.startswith("Booked! See you soon.")
    assert await salon.rows("SELECT status FROM bookings") == [("confirmed",)]
    customers = await salon.rows("SELECT channel, external_id, name, language FROM customers")
    assert customers == [("telegram", str(ADA), "Ada", "en")]
    # Every tap's spinner was stopped.
    taps = await salon.rows("SELECT count(*) FROM inbound_events WHERE payload ? 'callback_query'")
    await eventually(lambda: len(salon.fake.answered_callbacks) == taps[0][0])


async def test_the_same_update_delivered_three_times_gets_one_reply(salon: Salon) -> None:
    update = salon.fake.text_update(ADA, "/start")
    answers = [await salon.post(update) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    await eventually(lambda: len(salon.to(ADA)) == 1)
    await settled(salon.app.engine)  # a wrong second reply would have been sent by now
    assert len(salon.to(ADA)) == 1
    assert await salon.rows("SELECT count(*) FROM inbound_events") == [(1,)]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", "test-webhook-secret_"])
async def test_a_forged_or_missing_secret_is_401_and_stores_nothing(
    salon: Salon, secret: str | None
) -> None:
    answer = await salon.post(salon.fake.text_update(ADA, "/start"), secret=secret)
    assert answer.status_code == 401
    assert await salon.rows("SELECT count(*) FROM inbound_events") == [(0,)]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        (b"[1, 2, 3]", 400),
        (b'{"message": {}}', 400),
        (b'{"update_id": "12"}', 400),
        (b'{"update_id": true}', 400),
        (b'{"update_id": 77, "edited_message": {"text": "x"}}', 200),
        (b'{"update_id": 78, "message": "not an object"}', 200),
        (b'{"update_id": 79}', 200),
        (b'{"update_id": 80, "callback_query": {"id": "1", "data": "menu"}}', 200),
        (json.dumps({"update_id": 81, "pad": "x" * 1_000_001}).encode(), 413),
        (b'{"update_id": 82, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),
        (b'{"update_id": NaN}', 400),
        (b'{"update_id": 83, "x": Infinity}', 400),
        (b'{"update_id": 84, "message": {"text": "a\\u0000b"}}', 200),
        (b'{"update_id": 85, "x": 1e400}', 400),
        (b'{"update_id": 86, "x": -1e400}', 400),
        (b'{"update_id": 87, "x": "\\ud800"}', 400),
        (b'{"update_id": 88, "\\udfff": 1}', 400),
    ],
)
async def test_malformed_bodies_get_a_clear_answer_never_a_500(
    salon: Salon, body: bytes, status: int
) -> None:
    answer = await salon.post(body)
    assert answer.status_code == status
    if status == 200:  # stored, then ignored: nothing to answer, nothing left pending
        await eventually(
            lambda: salon.rows("SELECT status FROM inbound_events WHERE status <> 'pending'")
        )
        # ... and why it was ignored is kept on the row.
        assert await salon.rows("SELECT status, last_error <> '' FROM inbound_events") == [
            ("ignored", True)
        ]
    else:
        assert await salon.rows("SELECT count(*) FROM inbound_events") == [(0,)]
    assert salon.fake.sent == []


async def test_two_taps_at_the_same_instant_are_handled_one_after_the_other_in_order(
    salon: Salon,
) -> None:
    menu = await salon.say(ADA, "/start")
    first = salon.fake.callback_update(ADA, button(menu, "Book a visit"))
    second = salon.fake.callback_update(ADA, button(menu, "Help"))

    answers = await asyncio.gather(salon.post(first), salon.post(second))

    assert [a.status_code for a in answers] == [200, 200]
    await eventually(lambda: len(salon.to(ADA)) == 3)
    stored = await salon.rows(
        "SELECT platform_id FROM inbound_events WHERE payload ? 'callback_query' ORDER BY id"
    )
    handled = await salon.rows(
        "SELECT platform_id FROM inbound_events"
        " WHERE payload ? 'callback_query' ORDER BY handled_at"
    )
    assert handled == stored  # in the order they were stored, with two workers running
    # The replies leave in the same order, each answering its own tap; one step at a time
    # (each tap saved a new version of the chat's state).
    expected = {
        str(first["update_id"]): "What would you like to book?",
        str(second["update_id"]): "I can book a visit for you",
    }
    replies = [m.text for m in salon.to(ADA)[1:]]
    assert len(replies) == 2
    for reply, (update_id,) in zip(replies, stored, strict=True):
        assert reply.startswith(expected[update_id])
    assert await salon.rows("SELECT max(version) FROM conversations") == [(3,)]


async def test_a_chat_writing_faster_than_it_is_answered_is_logged(
    salon: Salon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="salonbot.inbox")
    updates = [salon.fake.text_update(ADA, text_) for text_ in ("/start", "/help", "/my", "hi")]
    await asyncio.gather(*(salon.post(u) for u in updates))
    await eventually(lambda: len(salon.to(ADA)) == 4)
    busy = [r for r in caplog.records if r.getMessage() == "inbound chat busy"]
    assert busy
    assert all(r.__dict__["chat"] == str(ADA) for r in busy)


async def test_thirty_customers_racing_for_one_slot_one_gets_it_and_29_hear_just_taken(
    salon: Salon,
) -> None:
    chats = list(range(7001, 7031))
    await asyncio.gather(*(_to_times(salon, chat) for chat in chats))
    wanted = {buttons(salon.to(chat)[-1])[0][0] for chat in chats}
    assert len(wanted) == 1  # all look at the same first free time

    replies = await asyncio.gather(*(salon.tap_nth(chat, 0) for chat in chats))

    held = [r for r in replies if r.text.startswith("Please check your booking:")]
    taken = [r for r in replies if r.text.startswith("Sorry, that time was just taken.")]
    assert (len(held), len(taken)) == (1, 29)
    assert all("The nearest free times:" in r.text for r in taken)
    assert all(len(buttons(r)) == 4 for r in taken)  # three alternatives and a way back
    winner = held[0].chat_id
    confirmed = await salon.tap(winner, "Confirm")
    assert confirmed.text.startswith("Booked!")
    assert await salon.rows("SELECT status FROM bookings") == [("confirmed",)]


async def test_an_update_acknowledged_but_not_handled_before_a_crash_is_handled_once_after(
    demo: Salonbot, fake: FakeTelegram
) -> None:
    async with serving(demo, fake, start=False) as down:
        assert (await down.post(fake.text_update(ADA, "/start"))).status_code == 200
    assert fake.sent == []  # acknowledged, stored, and the process is gone

    async with serving(demo, fake) as restarted:
        await eventually(lambda: len(fake.sent) == 1)
        await settled(demo.engine)
        assert await restarted.rows("SELECT status, attempts FROM inbound_events") == [("done", 1)]
    assert len(fake.messages_to(ADA)) == 1


async def test_a_process_killed_while_handling_an_update_handles_it_once_after_restart(
    demo: Salonbot, fake: FakeTelegram
) -> None:
    async with serving(demo, fake) as salon:
        menu = await salon.say(ADA, "/start")
        fake.slow(2.0)  # Telegram hangs: the worker is stuck answering the tap's callback
        await salon.post(fake.callback_update(ADA, button(menu, "Help")))
        await eventually(lambda: fake.requests["answerCallbackQuery"] == 1)
        await salon.runtime.stop(grace=0.05)  # killed: the claim's transaction rolls back
        assert await salon.rows(
            "SELECT status FROM inbound_events WHERE payload ? 'callback_query'"
        ) == [("pending",)]
    fake.slow(0)
    async with serving(demo, fake) as restarted:
        await eventually(lambda: len(fake.messages_to(ADA)) == 2)
        await settled(demo.engine)
        assert await restarted.rows(
            "SELECT status FROM inbound_events WHERE payload ? 'callback_query'"
        ) == [("done",)]
    assert len(fake.messages_to(ADA)) == 2
    assert fake.messages_to(ADA)[1].text.startswith("I can book a visit for you")


async def test_a_429_storm_delivers_every_message_once_and_never_runs_over_the_limits(
    salon: Salon,
) -> None:
    salon.fake.storm_429(4, retry_after=1)
    chats = list(range(8001, 8041))

    await asyncio.gather(*(salon.post(salon.fake.text_update(c, "/start")) for c in chats))

    await eventually(lambda: all(len(salon.to(c)) == 1 for c in chats), within=30)
    await eventually(
        lambda: salon.rows("SELECT 1 FROM outbound_messages HAVING bool_and(status = 'sent')")
    )
    await settled(salon.app.engine)
    assert all(len(salon.to(c)) == 1 for c in chats)
    rows = await salon.rows("SELECT DISTINCT status FROM outbound_messages")
    assert rows == [("sent",)]
    # Every sendMessage the fake saw was either delivered or one of the 4 injected 429s:
    # salonbot's own pacing never earned a 429, and no second saw more than 30 messages.
    assert salon.fake.requests["sendMessage"] == len(salon.fake.sent) + 4
    assert busiest_second([m.at for m in salon.fake.sent]) <= 30


async def test_a_blocked_bot_fails_the_message_marks_the_customer_and_does_not_retry(
    salon: Salon,
) -> None:
    await salon.say(ADA, "/start")
    salon.fake.block_chat(ADA)
    await salon.post(salon.fake.callback_update(ADA, button(salon.to(ADA)[-1], "Help")))

    await eventually(lambda: salon.rows("SELECT 1 FROM outbound_messages WHERE status='failed'"))
    await settled(salon.app.engine)
    assert salon.fake.requests["sendMessage"] == 2  # the first reply, and one refused try
    failed = await salon.rows("SELECT last_error FROM outbound_messages WHERE status='failed'")
    assert "blocked" in failed[0][0]
    assert await salon.rows("SELECT unreachable_at IS NOT NULL FROM customers") == [(True,)]


async def test_a_chat_telegram_no_longer_knows_fails_the_message_and_marks_the_customer(
    salon: Salon,
) -> None:
    await salon.say(ADA, "/start")
    salon.fake.forget_chat(ADA)
    await salon.post(salon.fake.callback_update(ADA, button(salon.to(ADA)[-1], "Help")))

    await eventually(lambda: salon.rows("SELECT 1 FROM outbound_messages WHERE status='failed'"))
    failed = await salon.rows("SELECT last_error FROM outbound_messages WHERE status='failed'")
    assert "chat not found" in failed[0][0]
    assert await salon.rows("SELECT unreachable_at IS NOT NULL FROM customers") == [(True,)]


async def test_server_errors_are_retried_until_the_message_goes_through(salon: Salon) -> None:
    salon.fake.fail_next(2, status=502)
    await salon.post(salon.fake.text_update(ADA, "/start"))

    await eventually(lambda: len(salon.to(ADA)) == 1, within=20)
    # Telegram has it; salonbot records the send a moment later, in its own commit.
    await eventually(lambda: salon.rows("SELECT 1 FROM outbound_messages WHERE status='sent'"))
    assert await salon.rows("SELECT status, attempts FROM outbound_messages") == [("sent", 3)]
    assert len(salon.to(ADA)) == 1


async def test_long_polling_takes_updates_from_get_updates(
    demo: Salonbot, fake: FakeTelegram
) -> None:
    async with serving(demo, fake, webhook=False):
        fake.queue_update(fake.text_update(ADA, "/start", language_code="ru"))
        await eventually(lambda: len(fake.messages_to(ADA)) == 1)
    assert fake.messages_to(ADA)[0].text.startswith("Здравствуйте, Ada!")
    assert fake.pending_updates == []  # the next getUpdates confirmed it: stored first


async def test_health_and_readiness(salon: Salon) -> None:
    assert (await salon.client.get("/healthz")).json() == {"status": "ok"}
    ready = await salon.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "migrations": True, "workers": True}
    await salon.runtime.stop()
    not_ready = await salon.client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["workers"] is False


async def test_when_the_database_cannot_store_an_update_the_answer_is_503(
    fake: FakeTelegram,
) -> None:
    from salonbot.database import make_engine

    unreachable = Salonbot(make_engine("postgresql://postgres@127.0.0.1:9/nowhere", pool_size=1))
    async with serving(unreachable, fake, start=False) as salon:
        answer = await salon.post(fake.text_update(ADA, "/start"))
    await unreachable.close()
    assert answer.status_code == 503  # Telegram will deliver it again
    assert answer.json()["ok"] is False


async def test_one_chat_gets_its_replies_paced_at_about_one_a_second(salon: Salon) -> None:
    for said in ("/start", "/help", "/my", "hi", "/book", "/language"):
        assert (await salon.post(salon.fake.text_update(ADA, said))).status_code == 200

    await eventually(lambda: len(salon.to(ADA)) == 6, within=20)

    times = [m.at for m in salon.to(ADA)]
    assert busiest_second(times) <= 3  # a burst of 2, then 1/s
    assert times[-1] - times[0] >= 3.5
    assert salon.fake.requests["sendMessage"] == 6  # no 429 earned


async def test_media_in_a_private_chat_gets_one_polite_answer_in_the_customers_language(
    salon: Salon,
) -> None:
    chats = {kind: 6001 + number for number, kind in enumerate(sorted(MEDIA))}
    for kind, chat in chats.items():
        answer = await salon.post(salon.fake.media_update(chat, kind, language_code="ru"))
        assert answer.status_code == 200

    await handled(salon.app.engine, len(chats))

    for kind, chat in chats.items():
        said = [m.text for m in salon.to(chat)]
        assert sum(SORRY_RU in text_ for text_ in said) == 1, (kind, said)
    assert await salon.rows("SELECT DISTINCT status FROM inbound_events") == [("done",)]


async def test_messages_in_groups_and_channels_are_stored_and_never_answered(
    salon: Salon,
) -> None:
    fake = salon.fake
    updates = [
        fake.group_update(-4001, ADA, "/start"),
        fake.group_update(-1001234567890, ADA, "/book", chat_type="supergroup"),
        fake.channel_post_update(-1009876543210, "/start"),
    ]
    for update in updates:
        assert (await salon.post(update)).status_code == 200

    await handled(salon.app.engine, len(updates))

    assert await salon.rows("SELECT status, last_error FROM inbound_events ORDER BY id") == [
        ("ignored", "a message in a group chat"),
        ("ignored", "a message in a supergroup chat"),
        ("ignored", "an update of a kind salonbot does not answer (channel_post)"),
    ]
    assert await salon.rows("SELECT count(*) FROM outbound_messages") == [(0,)]
    assert fake.sent == []


async def test_an_update_aiogram_cannot_read_is_kept_with_the_reason_and_logged_as_a_warning(
    salon: Salon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="salonbot.telegram")
    # As in Telegram's own curl examples: no from.is_bot, no chat.type.
    update = {
        "update_id": 10000,
        "message": {
            "date": 1441645532,
            "chat": {"id": ADA, "first_name": "Ada"},
            "message_id": 1365,
            "from": {"id": ADA, "first_name": "Ada"},
            "text": "/start",
        },
    }
    assert (await salon.post(update)).status_code == 200

    await handled(salon.app.engine, 1)

    [(status, reason)] = await salon.rows("SELECT status, last_error FROM inbound_events")
    assert status == "ignored"
    assert "message.from.is_bot: Field required" in reason
    assert "message.chat.type: Field required" in reason
    [warning] = [r for r in caplog.records if r.getMessage() == "telegram update not readable"]
    assert warning.levelname == "WARNING"
    assert warning.__dict__["error"] == reason
    assert salon.fake.sent == []


async def test_long_polling_keeps_an_update_aiogram_cannot_read_and_goes_on(
    demo: Salonbot, fake: FakeTelegram
) -> None:
    unreadable = {
        "update_id": 900,
        "message": {
            "message_id": 1,
            "date": 1441645532,
            "chat": {"id": ADA, "first_name": "Ada"},
            "from": {"id": ADA, "first_name": "Ada"},
            "text": "/start",
        },
    }
    async with serving(demo, fake, webhook=False) as salon:
        fake.queue_update(unreadable)
        fake.queue_update(fake.text_update(ADA, "/start"))
        await handled(salon.app.engine, 2)
        rows = await salon.rows("SELECT platform_id, status FROM inbound_events ORDER BY id")
    assert rows[0] == ("900", "ignored")
    assert rows[1][1] == "done"
    assert len(fake.messages_to(ADA)) == 1


@pytest.mark.parametrize("inaccessible", [False, True])
async def test_a_button_tap_in_a_group_stops_the_spinner_and_is_never_answered(
    salon: Salon, inaccessible: bool
) -> None:
    fake = salon.fake
    taps = [
        fake.group_callback_update(-4001, ADA, "menu", inaccessible=inaccessible),
        fake.group_callback_update(
            -1001234567890, ADA, "menu", chat_type="supergroup", inaccessible=inaccessible
        ),
    ]
    for tap in taps:
        assert (await salon.post(tap)).status_code == 200

    await handled(salon.app.engine, len(taps))

    assert await salon.rows("SELECT status, last_error FROM inbound_events ORDER BY id") == [
        ("ignored", "a button tap in a group chat"),
        ("ignored", "a button tap in a supergroup chat"),
    ]
    answered = {a.callback_query_id for a in fake.answered_callbacks}
    assert answered == {tap["callback_query"]["id"] for tap in taps}
    assert await salon.rows("SELECT count(*) FROM outbound_messages") == [(0,)]
    assert fake.sent == []


async def test_a_private_message_with_a_field_aiogram_cannot_read_is_still_answered_once(
    salon: Salon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="salonbot.telegram")
    update = salon.fake.text_update(ADA, "/start", language_code="ru")
    # A malformed nested message (a reply to something aiogram cannot read).
    update["message"]["reply_to_message"] = {"message_id": "not a number", "chat": 7}
    photo = salon.fake.media_update(ADA + 1, "photo")
    photo["message"]["reply_to_message"] = {"chat": None}
    for sent in (update, photo):
        assert (await salon.post(sent)).status_code == 200

    await handled(salon.app.engine, 2)

    [greeting] = salon.to(ADA)
    assert greeting.text.startswith("Здравствуйте")
    [sorry] = salon.to(ADA + 1)
    assert "I can only read text" in sorry.text
    assert await salon.rows("SELECT DISTINCT status FROM inbound_events") == [("done",)]
    warnings = [r for r in caplog.records if r.getMessage() == "telegram update not readable"]
    assert len(warnings) == 2
    assert all("reply_to_message" in r.__dict__["error"] for r in warnings)


async def test_a_private_service_message_aiogram_cannot_read_is_never_answered(
    salon: Salon,
) -> None:
    pinned = salon.fake.text_update(ADA, "x")
    del pinned["message"]["text"]
    # A pinned message aiogram cannot read: no one wrote to salonbot.
    pinned["message"]["pinned_message"] = {"message_id": "not a number", "chat": 7}
    assert (await salon.post(pinned)).status_code == 200

    await handled(salon.app.engine, 1)

    [(status, reason)] = await salon.rows("SELECT status, last_error FROM inbound_events")
    assert status == "ignored"
    assert reason.startswith("unreadable update: message.pinned_message.")
    assert await salon.rows("SELECT count(*) FROM outbound_messages") == [(0,)]
    assert salon.fake.sent == []


async def test_the_reason_an_update_is_unreadable_is_bounded(
    salon: Salon,
) -> None:
    # 300 replies deep, the innermost malformed: where it fails is a long path.
    nested: dict[str, object] = {"message_id": "x", "date": 0, "chat": {"id": 1}}
    for _ in range(300):
        nested = {"message_id": 1, "date": 0, "chat": {"id": 1}, "reply_to_message": nested}
    update = salon.fake.group_update(-4001, ADA, "hi")
    update["message"]["reply_to_message"] = nested
    assert (await salon.post(update)).status_code == 200

    await handled(salon.app.engine, 1)

    [(status, reason)] = await salon.rows("SELECT status, last_error FROM inbound_events")
    assert status == "ignored"
    assert reason.startswith("unreadable update: message.reply_to_message.")
    assert len(reason) < 1_500
    assert "more)" in reason
