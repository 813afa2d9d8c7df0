"""A real reminder on WhatsApp, from the scheduler's tick to the customer's tap on the
approved template: salonbot on a real port, the fake Cloud API posting signed
notifications to its route, the real dispatcher and sender, real Postgres, the demo salon.

The customer books through the conversation; a day later their 24-hour window has closed,
so the reminder (an interactive message) is refused with 131047 and goes as the approved
``visit_reminder`` template instead; the template's quick replies come back as inbound
``button`` messages and do what the reminder's buttons do in the chat.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog.file import load_catalog_text
from core.domain.booking import Actor
from core.services.catalog import load_catalog
from core.services.pacing import Pacing
from salonbot.bootstrap import Salonbot
from salonbot.runtime import Runtime
from salonbot.web import create_web_app
from salonbot.whatsapp_runtime import add_whatsapp
from tests.adapters.telegram_harness import MONDAY_MORNING, eventually
from tests.adapters.whatsapp_webhook import choices
from tests.catalog_cases import DEMO_TEXT
from tests.db_state import rows
from tests.fakes.clock import FakeClock
from tests.fakes.whatsapp_api import FakeWhatsApp, SentMessage
from tests.waiting import settled

ADA = "491511111111"
REMINDER = "visit_reminder"
REOPENER = "visit_follow_up"
BUTTONS = {
    "en": ("Confirm", "Reschedule", "Cancel"),
    "ru": ("Подтвердить", "Перенести", "Отменить"),
}
CONFIRM, RESCHEDULE, CANCEL = 0, 1, 2
# The salon's clock stands still (the tick's due times are set by hand), so a send the
# fake refused for its pair rate would wait for a retry time that never comes: the fake's
# limits are kept out of the way (they have their own tests), salonbot's pacing quick.
QUICK = Pacing(per_chat_rate=10, per_chat_burst=3, overall_rate=75, overall_burst=5)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Salon:
    """salonbot serving WhatsApp on ``app``: the customer writes and taps through the fake."""

    def __init__(self, app: Salonbot, clock: FakeClock, fake: FakeWhatsApp, runtime: Runtime):
        self.app = app
        self.clock = clock
        self.fake = fake
        self.runtime = runtime

    def to(self, wa_id: str = ADA) -> list[SentMessage]:
        return self.fake.messages_to(wa_id)

    def templates(self, wa_id: str = ADA) -> list[SentMessage]:
        return [m for m in self.to(wa_id) if m.type == "template"]

    async def reply_after(self, message: dict[str, Any], wa_id: str = ADA) -> SentMessage:
        """Deliver ``message`` to salonbot's route and wait for the one reply it brings."""
        before = len(self.to(wa_id))
        answer = await self.fake.deliver(self.fake.envelope([message]))
        assert answer.status_code == 200, answer.text
        await eventually(lambda: len(self.to(wa_id)) > before)
        return self.to(wa_id)[-1]

    async def say(self, said: str) -> SentMessage:
        return await self.reply_after(self.fake.text_message(ADA, said))

    async def tap(self, label: str) -> SentMessage:
        """Press the reply button or list row of the last message whose title has ``label``."""
        kind, options = choices(self.to()[-1])
        found = [(i, t) for i, t in options if label.casefold() in t.casefold()]
        assert len(found) == 1, f"{label!r} among {options}"
        choice_id, title = found[0]
        if kind == "button":
            return await self.reply_after(self.fake.button_reply(ADA, choice_id, title))
        return await self.reply_after(self.fake.list_reply(ADA, choice_id, title))

    async def tap_nth(self, index: int) -> SentMessage:
        return await self.tap(choices(self.to()[-1])[1][index][1])

    async def tap_template(self, button: int) -> SentMessage:
        """The customer taps quick reply ``button`` of the latest template: an inbound
        ``button`` message through the real route."""
        return await self.reply_after(self.fake.quick_reply(ADA, button))

    async def book(self) -> int:
        """Book a manicure with Maria through the conversation; the booking's id."""
        await self.say("hi")
        await self.tap("Book a visit")
        await self.tap("Nails")
        await self.tap("Manicure")
        await self.tap("Maria")
        await self.tap_nth(2)
        await self.tap_nth(0)
        booked = await self.tap("Confirm")
        assert (booked.body or "").startswith("Booked!")
        [(booking,)] = await self.rows("SELECT id FROM bookings WHERE status = 'confirmed'")
        return int(booking)

    async def speak_russian(self) -> None:
        await self.say("hi")
        await self.tap("Language")
        await self.tap("Русский")

    async def first_reminder_due(self, booking: int) -> datetime:
        [(due,)] = await self.rows(
            "SELECT min(due_at) FROM scheduled_notices"
            f" WHERE booking_id = {booking} AND kind = 'reminder' AND status = 'pending'"
        )
        assert isinstance(due, datetime)
        return due

    async def remind(self, booking: int) -> None:
        """A day later: the window has closed, and the tick runs at the first reminder's
        time, queueing it (the dispatcher is woken)."""
        await settled(self.app.engine)
        self.fake.close_window(ADA)
        self.clock.set(await self.first_reminder_due(booking))
        counts = await self.app.due_notices(self.runtime.outbox).run()
        assert counts.queued == 1

    async def outbox(self, booking: int) -> list[tuple[Any, ...]]:
        return await self.rows(
            f"SELECT kind, status FROM outbound_messages WHERE booking_id = {booking} ORDER BY id"
        )

    async def events(self, booking: int) -> list[tuple[Any, ...]]:
        return await self.rows(
            f"SELECT action, actor_kind FROM booking_events WHERE booking_id = {booking}"
            " ORDER BY id"
        )

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return await rows(self.app.engine, sql)


@asynccontextmanager
async def serving(
    engine: AsyncEngine, *, reminder_template: str | None = REMINDER
) -> AsyncIterator[Salon]:
    """The demo salon on a fake clock at Monday morning, its WhatsApp side running; the
    window reopener and the reminder template approved in English and Russian."""
    clock = FakeClock(MONDAY_MORNING)
    app = Salonbot(engine, clock)
    await load_catalog(app.uow, clock, load_catalog_text(DEMO_TEXT)[0])
    port = _port()
    async with FakeWhatsApp(
        webhook_url=f"http://127.0.0.1:{port}/webhooks/whatsapp",
        pair_limit_seconds=0.01,
        pair_burst=100,
    ) as fake:
        fake.approve_template(REOPENER, "en")
        for language, labels in BUTTONS.items():
            fake.approve_template(REMINDER, language, 3, labels)
        runtime = Runtime(app, poll_interval=0.05)
        add_whatsapp(
            runtime,
            api_base=fake.base_url,
            phone_number_id=fake.phone_number_id,
            token=fake.token,
            app_secret=fake.app_secret,
            verify_token="verify-me",
            template=REOPENER,
            reminder_template=reminder_template,
            pacing=QUICK,
        )
        web = create_web_app(app, runtime.routers, runtime.running)
        server = uvicorn.Server(
            uvicorn.Config(web, host="127.0.0.1", port=port, log_config=None, access_log=False)
        )
        serving = asyncio.create_task(server.serve())
        await eventually(lambda: server.started)
        await runtime.start()
        try:
            yield Salon(app, clock, fake, runtime)
        finally:
            await fake.drain()
            await runtime.stop()
            server.should_exit = True
            await serving


@pytest.fixture
async def salon(clean_engine: AsyncEngine) -> AsyncIterator[Salon]:
    async with serving(clean_engine) as running:
        yield running


def _body_parameters(template: SentMessage) -> list[str]:
    [body] = [c for c in template.payload["template"]["components"] if c["type"] == "body"]
    return [p["text"] for p in body["parameters"]]


def _payloads(template: SentMessage) -> list[tuple[str, str]]:
    return [
        (c["index"], c["parameters"][0]["payload"])
        for c in template.payload["template"]["components"]
        if c["type"] == "button" and c["sub_type"] == "quick_reply"
    ]


def _visit_payloads(booking: int) -> list[tuple[str, str]]:
    """Confirm, Reschedule and Cancel of the demo visit, as booked (version 1), by button
    index."""
    return [
        ("0", f"cv.{booking}.1"),
        ("1", f"rv.{booking}.1"),
        ("2", f"cx.{booking}.1"),
    ]


async def _reminder_row(salon: Salon, booking: int) -> tuple[Any, ...]:
    [row] = await salon.rows(
        "SELECT status, delivery_status, platform_message_id, last_error FROM outbound_messages"
        f" WHERE booking_id = {booking} AND kind = 'reply'"
    )
    return row


async def test_a_reminder_outside_the_window_goes_as_the_approved_template_once(
    salon: Salon,
) -> None:
    booking = await salon.book()
    chat_before = len(salon.to())

    await salon.remind(booking)

    [template] = await eventually(salon.templates)
    await settled(salon.app.engine)
    assert template.payload["template"]["name"] == REMINDER
    assert template.payload["template"]["language"] == {"code": "en"}
    assert _body_parameters(template) == ["Manicure", "Wednesday, 9 December at 9:00 AM", "Maria"]
    assert _payloads(template) == _visit_payloads(booking)
    # The interactive reminder never reached Ada: the template is all she got, once.
    assert salon.to()[chat_before:] == [template]
    assert await salon.outbox(booking) == [("reply", "failed"), ("template", "sent")]
    assert "131047" in (await _reminder_row(salon, booking))[3]
    # Ticking again (a restart, a second process) sends nothing more.
    assert (await salon.app.due_notices(salon.runtime.outbox).run()).queued == 0
    await settled(salon.app.engine)
    assert salon.templates() == [template]


async def test_a_russian_customer_gets_the_template_in_russian(salon: Salon) -> None:
    booking = await salon.book()
    await salon.speak_russian()

    await salon.remind(booking)

    [template] = await eventually(salon.templates)
    assert template.payload["template"]["language"] == {"code": "ru"}
    assert _body_parameters(template) == ["Маникюр", "среда, 9 декабря, 09:00", "Maria"]
    answer = await salon.tap_template(CONFIRM)
    assert (answer.body or "").startswith("Спасибо за подтверждение!")


@pytest.mark.parametrize("tapped_on", ["the template's quick reply", "the reminder in the chat"])
async def test_confirm_records_the_attendance_whether_tapped_on_the_template_or_in_the_chat(
    salon: Salon, tapped_on: str
) -> None:
    booking = await salon.book()
    if tapped_on == "the reminder in the chat":
        # Ada wrote recently: the reminder itself arrives, with its buttons.
        await settled(salon.app.engine)
        before = len(salon.to())
        salon.clock.set(await salon.first_reminder_due(booking))
        assert (await salon.app.due_notices(salon.runtime.outbox).run()).queued == 1
        reminder = await eventually(lambda: len(salon.to()) > before and salon.to()[-1])
        assert (reminder.body or "").startswith("A reminder of your visit")
        assert [title for _, title in choices(reminder)[1]] == [
            "✅ Confirm",
            "Reschedule",
            "✖ Cancel visit",
        ]
        answer = await salon.tap("Confirm")
        assert salon.templates() == []
    else:
        await salon.remind(booking)
        await eventually(salon.templates)
        answer = await salon.tap_template(CONFIRM)

    assert (answer.body or "").startswith("Thank you for confirming! See you soon.")
    assert "Wednesday, 9 December at 9:00" in (answer.body or "")
    assert await salon.rows(
        f"SELECT status, customer_confirmed_at FROM bookings WHERE id = {booking}"
    ) == [("confirmed", salon.clock.now())]
    assert await salon.events(booking) == [
        ("held", "customer"),
        ("confirmed", "customer"),
        ("attendance_confirmed", "customer"),
    ]


async def test_a_second_tap_on_the_templates_confirm_changes_nothing(salon: Salon) -> None:
    booking = await salon.book()
    await salon.remind(booking)
    await eventually(salon.templates)
    await salon.tap_template(CONFIRM)
    salon.clock.advance(timedelta(hours=1))

    again = await salon.tap_template(CONFIRM)

    assert (again.body or "").startswith("You have already confirmed this visit.")
    [(confirmed_at,)] = await salon.rows(
        f"SELECT customer_confirmed_at FROM bookings WHERE id = {booking}"
    )
    assert confirmed_at == salon.clock.now() - timedelta(hours=1)
    assert [a for a, _ in await salon.events(booking)].count("attendance_confirmed") == 1


async def test_without_a_reminder_template_the_customer_gets_no_reminder_and_the_log_says_why(
    clean_engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="salonbot.outbox")
    async with serving(clean_engine, reminder_template=None) as salon:
        booking = await salon.book()
        chat_before = len(salon.to())

        await salon.remind(booking)

        async def both_failed() -> bool:
            return await salon.outbox(booking) == [("reply", "failed"), ("template", "failed")]

        await eventually(both_failed)
        await settled(salon.app.engine)
        assert salon.to()[chat_before:] == []  # neither the reminder nor the window reopener
    [refused] = [r for r in caplog.records if r.getMessage() == "outbound refused"]
    assert "no WHATSAPP_REMINDER_TEMPLATE" in refused.__dict__["error"]


async def test_a_tap_on_the_templates_confirm_of_a_visit_moved_since_says_so_and_changes_nothing(
    salon: Salon,
) -> None:
    booking = await salon.book()
    await salon.remind(booking)
    await eventually(salon.templates)
    moved_to = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, the same day
    before = len(salon.to())
    await salon.app.bookings.reschedule(booking, moved_to, Actor.staff("desk"))

    # The salon's move is told to the customer (core.services.customer_notices), but their
    # window has closed and no template is approved for that notice: it is refused, and
    # nothing goes in its place.
    async def notice_refused() -> bool:
        found = await salon.rows(
            "SELECT status FROM outbound_messages WHERE body->>'text' LIKE '%has moved your%'"
        )
        return found == [("failed",)]

    await eventually(notice_refused)
    assert len(salon.to()) == before

    answer = await salon.tap_template(CONFIRM)

    assert (answer.body or "").startswith(
        "Your visit has moved: it is now on Wednesday, 9 December at 11:00\u202fAM."
    )
    assert await salon.rows(
        f"SELECT status, starts_at, customer_confirmed_at FROM bookings WHERE id = {booking}"
    ) == [("confirmed", moved_to, None)]
    # The visit is opened at its new time, to confirm (as it is now), move or cancel it.
    opened = choices(answer)[1]
    assert [title for _, title in opened][:3] == ["✅ Confirm", "Reschedule", "Cancel visit"]
    assert opened[0][0] == f"cv.{booking}.2"
    assert "attendance_confirmed" not in [a for a, _ in await salon.events(booking)]


async def test_a_tap_on_the_templates_cancel_asks_first_and_cancels_only_when_confirmed(
    salon: Salon,
) -> None:
    booking = await salon.book()
    await salon.remind(booking)  # 24 h before the visit: just within the cancel cutoff
    await eventually(salon.templates)

    question = await salon.tap_template(CANCEL)

    assert (question.body or "").startswith("Cancel this visit?")
    assert [title for _, title in choices(question)[1]] == ["Yes, cancel it", "No, keep it"]
    assert await salon.rows(f"SELECT status FROM bookings WHERE id = {booking}") == [("confirmed",)]
    done = await salon.tap("Yes, cancel it")
    assert (done.body or "").startswith("Your visit on Wednesday, 9 December at 9:00")
    assert await salon.rows(f"SELECT status FROM bookings WHERE id = {booking}") == [("cancelled",)]


async def test_a_tap_on_the_templates_cancel_after_the_cutoff_is_refused_with_the_salons_phone(
    salon: Salon,
) -> None:
    booking = await salon.book()
    await salon.remind(booking)
    await eventually(salon.templates)
    salon.clock.advance(timedelta(hours=1))  # 23 h before the visit: past the 24 h cutoff

    refusal = await salon.tap_template(CANCEL)

    body = refusal.body or ""
    assert body.startswith("Sorry, a visit can be cancelled here only up to 24 hours before it")
    assert "+49 30 1234567" in body
    assert "Yes, cancel it" not in [title for _, title in choices(refusal)[1]]
    assert await salon.rows(f"SELECT status FROM bookings WHERE id = {booking}") == [("confirmed",)]
    assert [a for a, _ in await salon.events(booking)] == ["held", "confirmed"]


async def test_a_window_closed_reported_later_also_ends_with_the_template_once(
    salon: Salon,
) -> None:
    booking = await salon.book()
    salon.clock.set(await salon.first_reminder_due(booking))
    assert (await salon.app.due_notices(salon.runtime.outbox).run()).queued == 1
    # Meta took the reminder (the window looked open), and reports later that it had closed:
    # twice, as a redelivered webhook does.
    await eventually(
        lambda: salon.rows(
            "SELECT 1 FROM outbound_messages"
            f" WHERE booking_id = {booking} AND delivery_status = 'delivered'"
        )
    )
    wamid = (await _reminder_row(salon, booking))[2]
    salon.fake.close_window(ADA)
    failed = await salon.fake.fail_delivery(wamid, code=131047)
    assert failed.answer == 200
    assert (await salon.fake.deliver(failed.body)).status_code == 200

    [template] = await eventually(salon.templates)
    await settled(salon.app.engine)
    await salon.fake.drain()
    await settled(salon.app.engine)
    assert salon.templates() == [template]
    assert _body_parameters(template) == ["Manicure", "Wednesday, 9 December at 9:00 AM", "Maria"]
    assert _payloads(template) == _visit_payloads(booking)
    assert await salon.outbox(booking) == [("reply", "failed"), ("template", "sent")]
    answer = await salon.tap_template(CONFIRM)
    assert (answer.body or "").startswith("Thank you for confirming!")
