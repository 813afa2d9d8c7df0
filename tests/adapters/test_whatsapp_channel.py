"""The WhatsApp channel end to end: salonbot on a real port, the fake Cloud API posting
signed notifications to its route, replies sent through the real httpx client, real Postgres."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from core.conversation.messages import Choice, Form, Reply
from core.db.outbox_repository import OutboxRepository, Priority
from core.services.pacing import Pacing
from salonbot.bootstrap import Salonbot
from salonbot.runtime import Runtime
from salonbot.web import create_web_app
from salonbot.whatsapp_runtime import add_whatsapp
from tests.adapters.telegram_harness import eventually
from tests.adapters.whatsapp_webhook import choices
from tests.db_state import rows
from tests.fakes.whatsapp_api import FakeWhatsApp, SentMessage
from tests.waiting import handled, settled

VERIFY = "verify-me"
ADA, BEN = "491511111111", "491522222222"
# The fake's pair limit is shortened with salonbot's pacing, so a conversation runs in seconds.
QUICK = Pacing(per_chat_rate=10, per_chat_burst=3, overall_rate=75, overall_burst=5)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Salon:
    def __init__(self, app: Salonbot, fake: FakeWhatsApp) -> None:
        self.app = app
        self.fake = fake

    def to(self, wa_id: str) -> list[SentMessage]:
        return self.fake.messages_to(wa_id)

    async def reply_after(self, wa_id: str, message: dict[str, Any]) -> SentMessage:
        before = len(self.to(wa_id))
        answer = await self.fake.deliver(self.fake.envelope([message]))
        assert answer.status_code == 200, answer.text
        await eventually(lambda: len(self.to(wa_id)) > before)
        return self.to(wa_id)[-1]

    async def say(self, wa_id: str, said: str) -> SentMessage:
        return await self.reply_after(wa_id, self.fake.text_message(wa_id, said))

    async def tap(self, wa_id: str, label: str) -> SentMessage:
        """Press the button or pick the list row of the last message whose title has ``label``."""
        kind, options = choices(self.to(wa_id)[-1])
        found = [(i, t) for i, t in options if label.casefold() in t.casefold()]
        assert len(found) == 1, f"{label!r} among {options}"
        choice_id, title = found[0]
        if kind == "button":
            message = self.fake.button_reply(wa_id, choice_id, title)
        else:
            message = self.fake.list_reply(wa_id, choice_id, title)
        return await self.reply_after(wa_id, message)

    async def tap_nth(self, wa_id: str, index: int) -> SentMessage:
        _, options = choices(self.to(wa_id)[-1])
        return await self.tap(wa_id, options[index][1])

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return await rows(self.app.engine, sql)


@pytest.fixture
async def salon(demo: Salonbot) -> AsyncIterator[Salon]:
    port = _port()
    async with FakeWhatsApp(
        webhook_url=f"http://127.0.0.1:{port}/webhooks/whatsapp", pair_limit_seconds=0.1
    ) as fake:
        fake.approve_template("visit_follow_up", "en")
        fake.approve_template("visit_reminder", "en", 3, ("Confirm", "Reschedule", "Cancel"))
        runtime = Runtime(demo, poll_interval=0.05)
        add_whatsapp(
            runtime,
            api_base=fake.base_url,
            phone_number_id=fake.phone_number_id,
            token=fake.token,
            app_secret=fake.app_secret,
            verify_token=VERIFY,
            template="visit_follow_up",
            reminder_template="visit_reminder",
            pacing=QUICK,
        )
        web = create_web_app(demo, runtime.routers, runtime.running)
        server = uvicorn.Server(
            uvicorn.Config(web, host="127.0.0.1", port=port, log_config=None, access_log=False)
        )
        serving = asyncio.create_task(server.serve())
        await eventually(lambda: server.started)
        await runtime.start()
        try:
            yield Salon(demo, fake)
        finally:
            await fake.drain()
            await runtime.stop()
            server.should_exit = True
            await serving


async def test_the_verification_handshake_answers_the_raw_challenge(salon: Salon) -> None:
    good = await salon.fake.verify_webhook(VERIFY, challenge="1158201444")
    assert (good.status_code, good.text) == (200, "1158201444")
    assert (await salon.fake.verify_webhook("wrong")).status_code == 403
    assert (await salon.fake.verify_webhook(VERIFY, mode="unsubscribe")).status_code == 403


async def test_a_whole_booking_by_list_and_button_replies(salon: Salon) -> None:
    menu = await salon.say(ADA, "hi")
    assert menu.body is not None
    assert menu.body.startswith("Hello, Ada! Welcome to Studio Lumen.")
    assert choices(menu)[0] == "list"  # four choices: a list
    assert menu.payload["interactive"]["action"]["button"] == "Choose"
    await salon.tap(ADA, "Book a visit")
    await salon.tap(ADA, "Nails")
    await salon.tap(ADA, "Manicure")
    await salon.tap(ADA, "Maria")
    await salon.tap_nth(ADA, 2)
    summary = await salon.tap_nth(ADA, 0)
    assert choices(summary)[0] == "button"  # three choices: reply buttons
    booked = await salon.tap(ADA, "Confirm")

    assert booked.body is not None
    assert booked.body.startswith("Booked! See you soon.")
    assert await salon.rows("SELECT status FROM bookings") == [("confirmed",)]
    # Kept under the BSUID Meta sends with every message; the number it shares is her phone.
    assert await salon.rows("SELECT channel, external_id, name, phone FROM customers") == [
        ("whatsapp", salon.fake.bsuid(ADA), "Ada", f"+{ADA}")
    ]
    assert booked.payload["recipient"] == salon.fake.bsuid(ADA)
    assert "to" not in booked.payload


async def test_a_customer_whose_number_is_later_hidden_stays_the_same_customer(
    salon: Salon,
) -> None:
    fake = salon.fake
    await salon.say(ADA, "hi")
    await salon.tap(ADA, "Book a visit")
    await salon.tap(ADA, "Nails")
    await salon.tap(ADA, "Manicure")
    await salon.tap(ADA, "Maria")
    await salon.tap_nth(ADA, 2)
    await salon.tap_nth(ADA, 0)
    await salon.tap(ADA, "Confirm")

    bsuid = fake.hide_number(ADA, "ada.lovelace")  # from now on: no "from", only the BSUID
    later = fake.text_message(ADA, "hi")
    assert ("from" in later, later["from_user_id"]) == (False, bsuid)
    await salon.reply_after(ADA, later)
    visits = await salon.tap(ADA, "My bookings")

    assert (visits.body or "").startswith("Your upcoming visits:")
    assert visits.payload["recipient"] == bsuid
    assert await salon.rows("SELECT external_id, phone FROM customers") == [(bsuid, f"+{ADA}")]
    assert await salon.rows("SELECT chat_id FROM conversations") == [(bsuid,)]
    assert await salon.rows("SELECT DISTINCT chat_key FROM inbound_events") == [(bsuid,)]


async def test_a_customer_stored_under_their_number_moves_to_their_bsuid_with_their_id(
    salon: Salon,
) -> None:
    fake = salon.fake
    # Before salonbot keyed customers by BSUID (or before Meta sent one), Ada was kept
    # under her number.
    old_style = fake.text_message(ADA, "hi")
    del old_style["from_user_id"]
    await salon.reply_after(ADA, old_style)
    [(ada_id, external_id)] = await salon.rows("SELECT id, external_id FROM customers")
    assert external_id == str(ADA)

    await salon.reply_after(ADA, fake.text_message(ADA, "hi again"))  # number and BSUID

    assert await salon.rows("SELECT id, external_id FROM customers") == [(ada_id, fake.bsuid(ADA))]


async def test_a_duplicate_delivery_gets_one_reply(salon: Salon) -> None:
    body = salon.fake.envelope([salon.fake.text_message(ADA, "hi")])
    answers = [await salon.fake.deliver(body) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    await eventually(lambda: len(salon.to(ADA)) == 1)
    await settled(salon.app.engine)
    assert len(salon.to(ADA)) == 1
    assert await salon.rows("SELECT count(*) FROM inbound_events") == [(1,)]


@pytest.mark.parametrize("signature", ["", "sha256=0000", "sha1=abc", "nonsense"])
async def test_a_bad_signature_is_401_and_stores_nothing(salon: Salon, signature: str) -> None:
    body = salon.fake.envelope([salon.fake.text_message(ADA, "hi")])
    answer = await salon.fake.deliver(body, signature=signature)
    assert answer.status_code == 401
    assert await salon.rows("SELECT count(*) FROM inbound_events") == [(0,)]


async def test_a_body_signed_for_other_bytes_is_refused(salon: Salon) -> None:
    body = salon.fake.envelope([salon.fake.text_message(ADA, "hi")])
    raw = salon.fake.encode(body)
    answer = await salon.fake.deliver(raw + b" ", signature=salon.fake.sign(raw))
    assert answer.status_code == 401


async def test_three_messages_from_two_customers_in_one_post_each_handled_once_in_order(
    salon: Salon,
) -> None:
    fake = salon.fake
    body = fake.envelope(
        [
            fake.text_message(ADA, "hi", name="Ada"),
            fake.text_message(BEN, "hello", name="Ben"),
            fake.text_message(ADA, "/help", name="Ada"),
        ]
    )
    assert (await fake.deliver(body)).status_code == 200

    await eventually(lambda: len(salon.to(ADA)) == 2 and len(salon.to(BEN)) == 1)
    await settled(salon.app.engine)
    assert [len(salon.to(ADA)), len(salon.to(BEN))] == [2, 1]
    ada = [m.body or "" for m in salon.to(ADA)]
    assert ada[0].startswith("Hello, Ada!")
    assert ada[1].startswith("I can book a visit for you")  # /help answered after the hello
    assert (salon.to(BEN)[0].body or "").startswith("Hello, Ben!")
    assert await salon.rows("SELECT status, count(*) FROM inbound_events GROUP BY status") == [
        ("done", 3)
    ]


async def _outbox(salon: Salon) -> list[tuple[Any, ...]]:
    return await salon.rows("SELECT kind, status FROM outbound_messages ORDER BY id")


def _templates(salon: Salon, wa_id: str) -> list[SentMessage]:
    return [m for m in salon.to(wa_id) if m.type == "template"]


async def test_outside_the_24_hour_window_the_template_is_sent_instead(salon: Salon) -> None:
    await salon.say(ADA, "hi")
    # A day later the customer has not written: a message queued now (a reminder, say)
    # is refused with 131047, and the approved template goes instead.
    salon.fake.close_window(ADA)
    async with salon.app.uow() as uow:
        await OutboxRepository(uow.connection).add(
            "whatsapp", ADA, [Reply("Your visit is tomorrow.")], salon.app.clock.now()
        )
        await uow.commit()

    await eventually(lambda: len(salon.to(ADA)) == 2)
    template = salon.to(ADA)[-1]
    assert template.type == "template"
    assert template.payload["template"] == {"name": "visit_follow_up", "language": {"code": "en"}}
    # Meta has it; salonbot records the send a moment later, in its own commit.
    await eventually(
        lambda: salon.rows(
            "SELECT 1 FROM outbound_messages WHERE kind = 'window_reopener' AND status = 'sent'"
        )
    )
    assert await _outbox(salon) == [
        ("reply", "sent"),
        ("reply", "failed"),  # refused: it never reached Ada
        ("window_reopener", "sent"),
    ]


async def test_a_window_closed_reported_later_sends_the_template_once(salon: Salon) -> None:
    first = await salon.say(ADA, "hi")
    second = await salon.say(ADA, "/help")
    await eventually(
        lambda: salon.rows(
            "SELECT 1 FROM outbound_messages HAVING count(*) FILTER"
            " (WHERE delivery_status = 'delivered') = 2"
        )
    )
    # Meta took both, then reports (asynchronously) that the window had closed: twice for
    # the first message (a redelivered webhook), once for the second.
    salon.fake.close_window(ADA)
    failed = await salon.fake.fail_delivery(first.wamid, code=131047)
    assert failed.answer == 200
    assert (await salon.fake.deliver(failed.body)).status_code == 200
    assert (await salon.fake.fail_delivery(second.wamid, code=131047)).answer == 200

    await eventually(lambda: _templates(salon, ADA))
    await eventually(
        lambda: salon.rows(
            "SELECT 1 FROM outbound_messages WHERE kind = 'window_reopener' AND status = 'sent'"
        )
    )
    await salon.fake.drain()
    [template] = _templates(salon, ADA)
    assert template.payload["template"] == {"name": "visit_follow_up", "language": {"code": "en"}}
    assert await _outbox(salon) == [
        ("reply", "failed"),
        ("reply", "failed"),
        ("window_reopener", "sent"),
    ]
    [(error,)] = await salon.rows(
        "SELECT DISTINCT last_error FROM outbound_messages WHERE status = 'failed'"
    )
    assert "131047" in error


async def test_a_tap_on_the_reminder_templates_quick_reply_does_what_the_button_does(
    salon: Salon,
) -> None:
    await salon.say(ADA, "hi")
    salon.fake.close_window(ADA)
    # Global choices the conversation has today stand in for a reminder's Confirm,
    # Reschedule and Cancel: the payload comes back as the choice, from any screen.
    form = Form("reminder", "en", ("Manicure", "Tue 8 Dec, 11:00", "Maria"), ("help", "my", "menu"))
    reminder = Reply("Your visit is tomorrow.", (Choice("help", "Help"),), form=form)
    async with salon.app.uow() as uow:
        await OutboxRepository(uow.connection).add(
            "whatsapp", ADA, [reminder], salon.app.clock.now(), priority=Priority.BULK
        )
        await uow.commit()
    await eventually(lambda: _templates(salon, ADA))
    [template] = _templates(salon, ADA)
    assert template.payload["template"]["name"] == "visit_reminder"

    answer = await salon.reply_after(ADA, salon.fake.quick_reply(ADA, 0))

    assert (answer.body or "").startswith("I can book a visit for you")  # the help screen
    await settled(salon.app.engine)
    assert await _outbox(salon) == [
        ("reply", "sent"),
        ("reply", "failed"),  # the reminder itself, refused outside the window
        ("template", "sent"),
        ("reply", "sent"),  # the answer to the tap
    ]


async def test_a_failed_status_webhook_marks_the_message_failed(salon: Salon) -> None:
    reply = await salon.say(ADA, "hi")
    await eventually(
        lambda: salon.rows("SELECT 1 FROM outbound_messages WHERE delivery_status='delivered'")
    )

    await salon.fake.fail_delivery(reply.wamid, code=131026)

    await eventually(lambda: salon.rows("SELECT 1 FROM outbound_messages WHERE status = 'failed'"))
    [(status, delivery, error)] = await salon.rows(
        "SELECT status, delivery_status, last_error FROM outbound_messages"
    )
    assert (status, delivery) == ("failed", "failed")
    assert "131026" in error
    assert _templates(salon, ADA) == []  # not a closed window: nothing more to send


async def test_an_older_status_arriving_late_changes_nothing(salon: Salon) -> None:
    reply = await salon.say(ADA, "hi")
    await salon.fake.read(reply.wamid)
    await eventually(
        lambda: salon.rows("SELECT 1 FROM outbound_messages WHERE delivery_status='read'")
    )
    await salon.fake.send_status(reply.wamid, "sent")  # a straggler, same second or older
    await settled(salon.app.engine)
    assert await salon.rows("SELECT delivery_status FROM outbound_messages") == [("read",)]


async def test_a_photo_gets_a_polite_reply_in_the_customers_language(salon: Salon) -> None:
    await salon.say(ADA, "hi")
    await salon.tap(ADA, "Language")
    await salon.tap(ADA, "Русский")
    reply = await salon.reply_after(ADA, salon.fake.unsupported(ADA, kind="image"))
    assert (reply.body or "").startswith("Извините, я понимаю только текст и кнопки ниже.")


async def test_items_that_cannot_be_read_or_kept_are_skipped_not_the_whole_post(
    salon: Salon,
) -> None:
    fake = salon.fake
    good = fake.text_message(ADA, "hi")
    raw = fake.encode(fake.envelope([good]))
    # Splice in a message Postgres could not keep (1e400 is an infinity), a contact with a
    # non-string wa_id, and a status with an impossible timestamp.
    bad_message = (
        b'{"from":"491533333333","id":"wamid.inf","timestamp":"1","type":"text",'
        b'"text":{"body":"x"},"n":1e400}'
    )
    raw = raw.replace(b'"messages":[', b'"messages":[' + bad_message + b",", 1)
    raw = raw.replace(b'"contacts":[', b'"contacts":[{"wa_id":{"x":1}},', 1)
    raw = raw.replace(
        b'"messages":[',
        b'"statuses":[{"id":"wamid.x","status":"read","timestamp":"999999999999999"}],"messages":[',
        1,
    )
    answer = await fake.deliver(raw)
    assert answer.status_code == 200, answer.text
    await eventually(lambda: len(salon.to(ADA)) == 1)
    assert await salon.rows("SELECT platform_id FROM inbound_events") == [(good["id"],)]


async def test_messages_to_another_number_of_the_account_are_not_ours(salon: Salon) -> None:
    fake = salon.fake
    body = fake.envelope([fake.text_message(ADA, "hi")])
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert (await fake.deliver(body)).status_code == 200
    await settled(salon.app.engine)
    assert await salon.rows("SELECT count(*) FROM inbound_events") == [(0,)]


async def test_a_reaction_gets_no_answer(salon: Salon) -> None:
    fake = salon.fake
    await salon.say(ADA, "hi")
    reaction = fake.unsupported(ADA, kind="reaction")
    assert (await fake.deliver(fake.envelope([reaction]))).status_code == 200
    await eventually(lambda: salon.rows("SELECT 1 FROM inbound_events WHERE status='ignored'"))
    await settled(salon.app.engine)
    assert len(salon.to(ADA)) == 1


async def test_an_oversized_body_is_refused_before_it_is_read_whole(salon: Salon) -> None:
    import httpx

    async def chunks() -> Any:
        for _ in range(4):
            yield b"x" * 1_000_000

    async with httpx.AsyncClient() as client:
        answer = await client.post(
            salon.fake.webhook_url or "", content=chunks(), headers={"X-Hub-Signature-256": "x"}
        )
    assert answer.status_code == 413


async def test_a_group_message_is_stored_logged_and_not_answered(
    salon: Salon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="salonbot.inbox")
    fake = salon.fake
    assert (await fake.deliver(fake.envelope([fake.group_message(ADA, "/start")]))).is_success

    await handled(salon.app.engine, 1)

    assert await salon.rows("SELECT status, last_error FROM inbound_events") == [
        ("ignored", "a message in a group")
    ]
    assert await salon.rows("SELECT count(*) FROM outbound_messages") == [(0,)]
    assert fake.sent == []
    logged = [r for r in caplog.records if r.getMessage() == "inbound ignored"]
    assert [r.__dict__["reason"] for r in logged] == ["a message in a group"]


async def test_a_deleted_or_edited_message_gets_no_answer(salon: Salon) -> None:
    fake = salon.fake
    hello = fake.text_message(ADA, "hi")
    await salon.reply_after(ADA, hello)
    changes = [fake.revoke(ADA, hello["id"]), fake.edit(ADA, hello["id"], "/book")]
    assert (await fake.deliver(fake.envelope(changes))).is_success

    await handled(salon.app.engine, 3)

    assert len(salon.to(ADA)) == 1
    assert await salon.rows(
        "SELECT status, last_error FROM inbound_events WHERE status = 'ignored' ORDER BY id"
    ) == [
        ("ignored", "the customer deleted a message"),
        ("ignored", "the customer edited an earlier message"),
    ]


async def test_a_customer_known_only_by_a_username_is_answered_under_their_bsuid(
    salon: Salon,
) -> None:
    fake = salon.fake
    bsuid = fake.hide_number(ADA, "ada.lovelace")

    greeting = await salon.reply_after(bsuid, fake.text_message(ADA, "hi"))
    help_ = await salon.reply_after(bsuid, fake.text_message(ADA, "/help"))

    assert greeting.payload["recipient"] == bsuid
    assert "to" not in greeting.payload
    assert (greeting.body or "").startswith("Hello, Ada!")
    assert (help_.body or "").startswith("I can book a visit for you")
    assert await salon.rows("SELECT channel, external_id, name FROM customers") == [
        ("whatsapp", bsuid, "Ada")
    ]
    # Meta reports the sends by the BSUID alone; salonbot keeps those reports too.
    await eventually(
        lambda: salon.rows(
            "SELECT 1 FROM outbound_messages HAVING bool_and(delivery_status = 'delivered')"
        )
    )


async def test_a_message_without_a_sender_is_kept_ignored_and_logged_as_a_warning(
    salon: Salon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="salonbot.whatsapp")
    fake = salon.fake
    nameless = fake.text_message(ADA, "hi")
    del nameless["from"], nameless["from_user_id"]

    assert (await fake.deliver(fake.envelope([nameless], contacts=[]))).is_success
    await handled(salon.app.engine, 1)

    assert await salon.rows("SELECT platform_id, status, last_error FROM inbound_events") == [
        (nameless["id"], "ignored", "a message with no sender")
    ]
    assert [r.levelname for r in caplog.records if "without a sender" in r.getMessage()] == [
        "WARNING"
    ]
    assert fake.sent == []


async def test_a_changed_bsuid_is_logged_with_both_ids_and_not_answered(
    salon: Salon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="salonbot.whatsapp")
    fake = salon.fake
    notice = fake.bsuid_changed(ADA, "DE.99887766554433221100")

    assert (await fake.deliver(fake.envelope([notice], contacts=[]))).is_success
    await settled(salon.app.engine)

    assert await salon.rows("SELECT chat_key, status FROM inbound_events") == [
        (fake.bsuid(ADA), "ignored")
    ]
    changed = [r for r in caplog.records if "BSUID changed" in r.getMessage()]
    assert [
        (r.levelname, r.__dict__["previous_user_id"], r.__dict__["user_id"]) for r in changed
    ] == [("WARNING", fake.bsuid(ADA), "DE.99887766554433221100")]
    assert fake.sent == []
