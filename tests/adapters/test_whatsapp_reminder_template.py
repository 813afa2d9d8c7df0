"""The reminder template: a reminder refused outside the customer's 24-hour window goes as
the approved template, its body and quick replies filled, through the real httpx client
against the fake Cloud API; without a configured template it does not go, and the log says
why."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.whatsapp.sender import WhatsAppSender
from adapters.whatsapp.templates import PARAMETER_LENGTH
from core.conversation.messages import Choice, Form, Reply
from core.db.outbox_repository import OutboxRepository, Priority
from core.ports import PermanentFailure, Sent
from core.services.dispatch import OutboxDispatcher
from core.services.pacing import Pacing
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from tests.db_state import rows
from tests.fakes.whatsapp_api import FakeWhatsApp

ADA = "491511111111"
BUTTONS_EN = ("Confirm", "Reschedule", "Cancel")
BUTTONS_RU = ("Подтвердить", "Перенести", "Отменить")
FAST = Pacing(per_chat_rate=1000, per_chat_burst=1000, overall_rate=1000, overall_burst=1000)
FORM = Form("reminder", "en", ("Manicure", "Tue 8 Dec, 11:00", "Maria"), ("cv.7", "rv.7", "cx.7"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp() as server:
        server.approve_template("visit_reminder", "en", 3, BUTTONS_EN)
        server.approve_template("visit_reminder", "ru", 3, BUTTONS_RU)
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        yield client


def _sender(
    fake: FakeWhatsApp, http: httpx.AsyncClient, reminder: str | None = "visit_reminder"
) -> WhatsAppSender:
    return WhatsAppSender(
        http, fake.base_url, fake.phone_number_id, fake.token, reminder_template=reminder
    )


async def test_a_reminder_form_is_sent_as_the_reminder_template_in_its_language(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    outcome = await _sender(fake, http).send_form(ADA, FORM)

    assert isinstance(outcome, Sent)
    [sent] = fake.messages_to(ADA)
    assert sent.payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": ADA,
        "type": "template",
        "template": {
            "name": "visit_reminder",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Manicure"},
                        {"type": "text", "text": "Tue 8 Dec, 11:00"},
                        {"type": "text", "text": "Maria"},
                    ],
                },
                *(
                    {
                        "type": "button",
                        "sub_type": "quick_reply",
                        "index": str(index),
                        "parameters": [{"type": "payload", "payload": payload}],
                    }
                    for index, payload in enumerate(("cv.7", "rv.7", "cx.7"))
                ),
            ],
        },
    }
    assert fake.quick_reply(ADA, 0)["button"] == {"payload": "cv.7", "text": "Confirm"}


async def test_parameters_meta_would_refuse_are_flattened_and_bounded(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    form = Form(
        "reminder", "ru", ("Маникюр\nи педикюр", "вт,\t8 дек.     11:00", "  "), ("a", "b", "c")
    )
    assert isinstance(await _sender(fake, http).send_form(ADA, form), Sent)
    long = Form("reminder", "en", ("x" * 5000, "y", "z"), ("a", "b", "c"))
    assert isinstance(await _sender(fake, http).send_form(ADA, long), Sent)

    first, second = (m.payload["template"]["components"][0] for m in fake.messages_to(ADA))
    assert [p["text"] for p in first["parameters"]] == [
        "Маникюр и педикюр",
        "вт, 8 дек. 11:00",
        "-",
    ]
    assert len(second["parameters"][0]["text"]) == PARAMETER_LENGTH


async def test_without_a_reminder_template_the_form_is_refused_and_nothing_is_posted(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    outcome = await _sender(fake, http, reminder=None).send_form(ADA, FORM)

    assert isinstance(outcome, PermanentFailure)
    assert "no WHATSAPP_REMINDER_TEMPLATE" in outcome.error
    assert not outcome.unreachable
    assert fake.requests == 0


async def test_a_form_no_template_stands_for_is_refused(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    outcome = await _sender(fake, http).send_form(ADA, Form("wait_list_offer", "en"))
    assert isinstance(outcome, PermanentFailure)
    assert "'wait_list_offer'" in outcome.error
    assert fake.requests == 0


async def test_a_language_meta_has_not_approved_fails_the_form_with_metas_reason(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    german = Form("reminder", "de", FORM.params, FORM.payloads)
    outcome = await _sender(fake, http).send_form(ADA, german)
    assert isinstance(outcome, PermanentFailure)
    assert "code 132001" in outcome.error
    assert not outcome.unreachable


async def _remind(app: Salonbot) -> None:
    reminder = Reply(
        "Your manicure with Maria is tomorrow at 11:00.",
        (Choice("cv.7", "Confirm"), Choice("rv.7", "Reschedule"), Choice("cx.7", "Cancel")),
        form=FORM,
    )
    async with app.uow() as uow:
        await OutboxRepository(uow.connection).add(
            "whatsapp", ADA, [reminder], app.clock.now(), priority=Priority.BULK
        )
        await uow.commit()


async def _dispatch(app: Salonbot, sender: WhatsAppSender) -> None:
    dispatcher = OutboxDispatcher(app.uow, app.clock, sender, Wakeup(), pacing=FAST)
    while await dispatcher.send_one():
        pass


async def test_a_reminder_outside_the_window_goes_as_the_template_once(
    app: Salonbot, fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    fake.close_window(ADA)
    await _remind(app)

    await _dispatch(app, _sender(fake, http))

    assert [m.type for m in fake.messages_to(ADA)] == ["template"]
    assert await rows(app.engine, "SELECT kind, status FROM outbound_messages ORDER BY id") == [
        ("reply", "failed"),
        ("template", "sent"),
    ]


async def test_a_reminder_inside_the_window_goes_as_itself_with_its_buttons(
    app: Salonbot, fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    await _remind(app)
    await _dispatch(app, _sender(fake, http))
    [sent] = fake.messages_to(ADA)
    assert sent.type == "interactive"
    assert [b["reply"]["id"] for b in sent.payload["interactive"]["action"]["buttons"]] == [
        "cv.7",
        "rv.7",
        "cx.7",
    ]


async def test_without_a_reminder_template_a_customer_outside_the_window_gets_nothing_and_the_log_says_why(  # noqa: E501
    app: Salonbot, fake: FakeWhatsApp, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.close_window(ADA)
    await _remind(app)

    with caplog.at_level(logging.INFO, "salonbot.outbox"):
        await _dispatch(app, _sender(fake, http, reminder=None))

    assert fake.messages_to(ADA) == []
    assert await rows(app.engine, "SELECT kind, status FROM outbound_messages ORDER BY id") == [
        ("reply", "failed"),
        ("template", "failed"),
    ]
    [refused] = [r for r in caplog.records if r.getMessage() == "outbound refused"]
    assert "no WHATSAPP_REMINDER_TEMPLATE" in refused.__dict__["error"]
