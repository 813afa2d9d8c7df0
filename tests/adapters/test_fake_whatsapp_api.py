"""The fake WhatsApp Cloud API, driven through a real ``httpx.AsyncClient``.

Status webhooks are received by a tiny aiohttp server standing in for our webhook route.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.fakes.whatsapp_api import (
    INVALID_TOKEN,
    RE_ENGAGEMENT_DETAILS,
    FakeWhatsApp,
)

TOKEN = "test-token"
SECRET = "test-app-secret"
ADA = "15550001111"
BEA = "15550002222"


class ManualClock:
    """A monotonic clock the test moves by hand, so rate limits need no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Receiver:
    """Our webhook route's stand-in: keeps every POST's raw body and signature header."""

    url: str = ""
    posts: list[tuple[bytes, str]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw, _ in self.posts]

    def statuses(self) -> list[dict[str, Any]]:
        return [
            status
            for body in self.bodies()
            for entry in body["entry"]
            for change in entry["changes"]
            for status in change["value"].get("statuses", [])
        ]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()

    async def handle(request: web.Request) -> web.Response:
        found.posts.append((await request.read(), request.headers.get("X-Hub-Signature-256", "")))
        found.arrived.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    try:
        yield found
    finally:
        await runner.cleanup()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeWhatsApp]:
    async with FakeWhatsApp(clock=clock) as server:
        server.approve_template("booking_reminder", "en_US")
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        yield client


async def post(
    http: httpx.AsyncClient,
    fake: FakeWhatsApp,
    body: dict[str, Any],
    token: str = TOKEN,
    phone_number_id: str | None = None,
) -> httpx.Response:
    number = phone_number_id or fake.phone_number_id
    return await http.post(
        f"{fake.base_url}/{number}/messages",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


def text(to: str, body: str = "Hello") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
    }


def buttons(*titles: str, body: str = "Pick a time", to: str = ADA) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "footer": {"text": "Salon"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": f"b{i}", "title": t}}
                    for i, t in enumerate(titles)
                ]
            },
        },
    }


def list_message(
    rows: list[str], button: str = "Services", to: str = ADA, sections: int = 1
) -> dict[str, Any]:
    per = -(-len(rows) // sections)
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "What would you like?"},
            "action": {
                "button": button,
                "sections": [
                    {
                        "title": f"Section {s}",
                        "rows": [
                            {"id": f"r{s}-{i}", "title": t, "description": "45 min"}
                            for i, t in enumerate(rows[s * per : (s + 1) * per])
                        ],
                    }
                    for s in range(sections)
                ],
            },
        },
    }


def template(to: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": {"name": "booking_reminder", "language": {"code": "en_US"}},
    }


def assert_graph_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "code", "error_data", "fbtrace_id"}
    assert error["code"] == code
    assert set(error["error_data"]) == {"messaging_product", "details"}
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert isinstance(error["error_data"]["details"], str)
    assert isinstance(error["fbtrace_id"], str)
    assert error["fbtrace_id"]
    return dict(error)


def verified(raw: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


# -- sending --------------------------------------------------------------------------------


async def test_text_send_answers_the_real_success_shape(
    fake: FakeWhatsApp, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert fake.base_url.endswith("/v21.0")

    response = await post(http, fake, text("+1 555 000 1111", "Hi Ada"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"messaging_product", "contacts", "messages"}
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+1 555 000 1111", "wa_id": ADA}]
    [message] = body["messages"]
    assert set(message) == {"id"}
    assert message["id"].startswith("wamid.")
    [record] = fake.messages_to(ADA)
    assert record.to == ADA
    assert record.type == "text"
    assert record.wamid == message["id"]
    assert record.payload["text"] == {"body": "Hi Ada"}
    assert record.body == "Hi Ada"
    assert record.at == clock.now
    assert fake.requests == 1


async def test_wamids_are_unique(fake: FakeWhatsApp, http: httpx.AsyncClient) -> None:
    ids = set()
    for to in (ADA, BEA, "15550003333"):
        response = await post(http, fake, text(to))
        ids.add(response.json()["messages"][0]["id"])
    assert len(ids) == 3


async def test_buttons_and_list_within_limits_are_accepted(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    ok_buttons = await post(http, fake, buttons("a" * 20, "b", "c", body="x" * 1024))
    ok_list = await post(
        http, fake, list_message([f"{i}" * 24 for i in range(10)], "L" * 20, to=BEA, sections=2)
    )

    assert ok_buttons.status_code == 200
    assert ok_list.status_code == 200
    assert [r.type for r in fake.sent] == ["interactive", "interactive"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (buttons("a", "b", "c", "d"), "buttons count"),
        (buttons("x" * 21), "button title"),
        (buttons("Same", "Same"), "not unique"),
        (buttons("a", body="x" * 1025), "body"),
        (list_message([f"row {i}" for i in range(11)]), "rows count"),
        (list_message([f"row {i}" for i in range(11)], sections=2), "rows count"),
        (list_message(["r" * 25]), "row title"),
        (list_message(["ok"], button="B" * 21), "list button"),
        (list_message(["ok"], button=""), "list button"),
        (text(ADA, "x" * 4097), "text['body']"),
    ],
    ids=[
        "4-buttons",
        "21-char-title",
        "duplicate-titles",
        "1025-char-button-body",
        "11-rows",
        "11-rows-2-sections",
        "25-char-row-title",
        "21-char-list-button",
        "empty-list-button",
        "4097-char-text",
    ],
)
async def test_limits_answer_131009_with_details(
    fake: FakeWhatsApp, http: httpx.AsyncClient, body: dict[str, Any], problem: str
) -> None:
    response = await post(http, fake, body)

    error = assert_graph_error(response, 400, 131009)
    assert error["type"] == "OAuthException"
    assert error["message"].endswith("Parameter value is not valid")
    assert problem in error["error_data"]["details"]
    assert fake.sent == []


async def test_second_untitled_section_is_refused(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    body = list_message(["a", "b"], sections=2)
    del body["interactive"]["action"]["sections"][1]["title"]

    response = await post(http, fake, body)

    assert_graph_error(response, 400, 100)
    assert "sections'][1]['title']" in response.json()["error"]["message"]


async def test_wrong_or_missing_token_answers_401_code_190(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    wrong = await post(http, fake, text(ADA), token="nope")
    missing = await http.post(f"{fake.base_url}/{fake.phone_number_id}/messages", json=text(ADA))

    for response in (wrong, missing):
        error = assert_graph_error(response, 401, 190)
        assert error["type"] == "OAuthException"
        assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert fake.sent == []


async def test_unknown_phone_number_id_answers_code_100(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    response = await post(http, fake, text(ADA), phone_number_id="999")

    error = assert_graph_error(response, 400, 100)
    assert error["type"] == "GraphMethodException"
    assert error["message"].startswith("Unsupported post request. Object with ID '999'")


async def test_missing_to_answers_code_100(fake: FakeWhatsApp, http: httpx.AsyncClient) -> None:
    body = text(ADA)
    del body["to"]

    error = assert_graph_error(await post(http, fake, body), 400, 100)
    assert error["message"] == "(#100) The parameter to is required."


async def test_closed_window_refuses_text_but_accepts_a_template(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    fake.close_window(ADA)

    refused = await post(http, fake, text(ADA))
    accepted = await post(http, fake, template(ADA))

    error = assert_graph_error(refused, 400, 131047)
    assert error["message"].endswith("Re-engagement message")
    assert error["error_data"]["details"] == RE_ENGAGEMENT_DETAILS
    assert accepted.status_code == 200
    assert accepted.json()["messages"][0]["message_status"] == "accepted"
    assert [r.type for r in fake.messages_to(ADA)] == ["template"]

    fake.text_message(ADA, "hi again")  # the customer writes: the window opens
    assert (await post(http, fake, text(ADA))).status_code == 200


async def test_a_customer_is_one_customer_by_number_or_by_bsuid(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    bsuid = fake.bsuid(ADA)
    by_bsuid = {k: v for k, v in text(ADA).items() if k != "to"} | {"recipient": bsuid}
    fake.close_window(ADA)
    assert (fake.window_open(ADA), fake.window_open(bsuid)) == (False, False)

    assert_graph_error(await post(http, fake, by_bsuid), 400, 131047)

    fake.open_window(bsuid)
    assert (fake.window_open(ADA), fake.window_open(bsuid)) == (True, True)
    assert (await post(http, fake, by_bsuid)).status_code == 200
    assert (await post(http, fake, text(ADA))).status_code == 200
    assert [r.to for r in fake.messages_to(ADA)] == [bsuid, ADA]
    assert fake.messages_to(bsuid) == fake.messages_to(ADA)


async def test_pair_rate_allows_a_burst_then_one_per_six_seconds(
    fake: FakeWhatsApp, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    answers = [(await post(http, fake, text(ADA))).status_code for _ in range(3)]
    limited = await post(http, fake, text(ADA))
    other_customer = await post(http, fake, text(BEA))

    assert answers == [200, 200, 200]
    error = assert_graph_error(limited, 400, 131056)
    assert error["message"].endswith("(Business Account, Consumer Account) pair rate limit hit")
    assert other_customer.status_code == 200

    clock.now += 5.9
    assert (await post(http, fake, text(ADA))).status_code == 400
    clock.now += 0.2
    assert (await post(http, fake, text(ADA))).status_code == 200
    assert len(fake.messages_to(ADA)) == 4


async def test_throughput_above_the_limit_answers_130429(
    clock: ManualClock, http: httpx.AsyncClient
) -> None:
    async with FakeWhatsApp(throughput_per_second=5, clock=clock) as fake:
        answers = [(await post(http, fake, text(f"1555000{i:04}"))) for i in range(6)]
        clock.now += 0.2
        after = await post(http, fake, text("15559999999"))

    assert [a.status_code for a in answers[:5]] == [200] * 5
    error = assert_graph_error(answers[5], 400, 130429)
    assert error["message"].endswith("Rate limit hit")
    assert after.status_code == 200


async def test_fail_next_injects_graph_server_errors(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    fake.fail_next(1)
    fake.fail_next(1, status=503)

    first = await post(http, fake, text(ADA))
    second = await post(http, fake, text(ADA))
    third = await post(http, fake, text(ADA))

    error = assert_graph_error(first, 500, 1)
    assert (error["type"], error["message"]) == ("OAuthException", "An unknown error occurred")
    error = assert_graph_error(second, 503, 2)
    assert error["message"] == "Service temporarily unavailable"
    assert third.status_code == 200
    assert len(fake.sent) == 1
    assert fake.requests == 3


async def test_slow_delays_the_answer(fake: FakeWhatsApp, http: httpx.AsyncClient) -> None:
    fake.slow(0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()

    response = await post(http, fake, text(ADA))

    assert response.status_code == 200
    assert loop.time() - started >= 0.19


# -- status webhooks ------------------------------------------------------------------------


async def test_accepted_send_is_followed_by_signed_sent_then_delivered(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    async with FakeWhatsApp(webhook_url=receiver.url) as fake:
        response = await post(http, fake, text(ADA))
        wamid = response.json()["messages"][0]["id"]
        await fake.drain()
        await fake.read(wamid)

    assert len(receiver.posts) == 3
    for raw, header in receiver.posts:
        assert verified(raw, header)
    body = receiver.bodies()[0]
    assert body["object"] == "whatsapp_business_account"
    [entry] = body["entry"]
    assert entry["id"] == fake.waba_id
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"] == {
        "display_phone_number": fake.display_phone_number,
        "phone_number_id": fake.phone_number_id,
    }
    statuses = receiver.statuses()
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for status in statuses:
        assert status["id"] == wamid
        assert status["recipient_id"] == ADA
        # Meta names the BSUID of a number's sent, delivered and read statuses too.
        assert status["recipient_user_id"] == fake.bsuid(ADA)
        assert status["timestamp"].isdigit()
        assert status["pricing"]["pricing_model"] == "PMP"
    assert fake.statuses_of(wamid) == ["sent", "delivered", "read"]
    assert [s.answer for s in fake.statuses_sent] == [200, 200, 200]


async def test_the_send_answer_does_not_wait_for_status_webhooks(
    http: httpx.AsyncClient,
) -> None:
    gate = asyncio.Event()

    async def stuck(request: web.Request) -> web.Response:
        await gate.wait()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhook", stuck)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/webhook"
    try:
        async with FakeWhatsApp(webhook_url=url) as fake:
            response = await asyncio.wait_for(post(http, fake, text(ADA)), 2.0)
            assert response.status_code == 200
            assert fake.statuses_sent == []
            gate.set()  # leaving the block drains the pending callbacks
        assert [s.status for s in fake.statuses_sent] == ["sent", "delivered"]
    finally:
        await runner.cleanup()


async def test_fail_delivery_posts_a_failed_status_with_131047(
    receiver: Receiver, http: httpx.AsyncClient
) -> None:
    async with FakeWhatsApp(auto_statuses=False) as fake:
        fake.webhook_url = receiver.url
        response = await post(http, fake, text(ADA))
        wamid = response.json()["messages"][0]["id"]
        await fake.drain()
        assert receiver.posts == []

        record = await fake.fail_delivery(wamid)

    assert record.answer == 200
    [(raw, header)] = receiver.posts
    assert verified(raw, header)
    [status] = receiver.statuses()
    assert status["status"] == "failed"
    assert status["id"] == wamid
    assert status["recipient_id"] == ADA
    assert "recipient_user_id" not in status  # a failed send to a number: the number alone
    assert "pricing" not in status
    [error] = status["errors"]
    assert set(error) == {"code", "title", "message", "error_data", "href"}
    assert error["code"] == 131047
    assert error["title"] == "Re-engagement message"
    assert error["error_data"] == {"details": RE_ENGAGEMENT_DETAILS}


async def test_template_statuses_are_billable(receiver: Receiver, http: httpx.AsyncClient) -> None:
    async with FakeWhatsApp(webhook_url=receiver.url) as fake:
        fake.approve_template("booking_reminder", "en_US")
        await post(http, fake, template(ADA))

    pricing = [s["pricing"] for s in receiver.statuses()]
    assert (
        pricing
        == [{"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}]
        * 2
    )


def reminder(*components: dict[str, Any], language: str = "en") -> dict[str, Any]:
    body = template(ADA)
    body["template"] = {"name": "visit_reminder", "language": {"code": language}}
    if components:
        body["template"]["components"] = list(components)
    return body


def body_text(*texts: str) -> dict[str, Any]:
    return {"type": "body", "parameters": [{"type": "text", "text": t} for t in texts]}


def quick_reply(index: str, payload: str) -> dict[str, Any]:
    return {
        "type": "button",
        "sub_type": "quick_reply",
        "index": index,
        "parameters": [{"type": "payload", "payload": payload}],
    }


REMINDER_BUTTONS = ("Confirm", "Reschedule", "Cancel")
FILLED = (
    body_text("Manicure", "Tue 8 Dec, 11:00", "Maria"),
    quick_reply("0", "cv:7.x"),
    quick_reply("1", "rv:7.x"),
    quick_reply("2", "cx:7.x"),
)


async def test_an_approved_template_filled_in_full_is_accepted(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    fake.approve_template("visit_reminder", "en", 3, REMINDER_BUTTONS)
    response = await post(http, fake, reminder(*FILLED))
    assert response.status_code == 200, response.text
    assert response.json()["messages"][0]["message_status"] == "accepted"
    assert [m.type for m in fake.messages_to(ADA)] == ["template"]


async def test_a_template_not_approved_in_that_language_answers_132001(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    fake.approve_template("visit_reminder", "en", 3, REMINDER_BUTTONS)
    response = await post(http, fake, reminder(*FILLED, language="ru"))
    error = assert_graph_error(response, 404, 132001)
    assert error["error_data"]["details"] == "template name (visit_reminder) does not exist in ru"
    assert fake.sent == []


@pytest.mark.parametrize(
    ("components", "status", "code", "problem"),
    [
        ((body_text("Manicure", "Tue"),), 400, 132000, "(2) does not match the expected"),
        ((body_text("Manicure", "Tue\n11:00", "Maria"),), 400, 100, "new-line/tab"),
        ((body_text("Manicure", "Tue      11:00", "Maria"),), 400, 100, "4 consecutive"),
        ((body_text("Manicure", "", "Maria"),), 400, 131009, "is empty"),
        ((body_text("M" * 1025, "Tue", "Maria"),), 400, 131009, "Max length: 1024"),
        ((*FILLED, quick_reply("3", "more")), 400, 131009, "index 3 of type Quick_reply"),
        ((*FILLED[:2], quick_reply("0", "again")), 400, 131009, "index 0 is given twice"),
        ((*FILLED[:1], quick_reply("10", "x")), 400, 131009, "from '0' to '9'"),
        ((*FILLED[:1], quick_reply("0", "p" * 257)), 400, 131009, "Max length: 256"),
        ((*FILLED[:1], {**quick_reply("0", "x"), "sub_type": "url"}), 400, 131009, "quick_reply"),
        ((*FILLED, body_text("again")), 400, 131009, "one body component"),
        ((*FILLED[:1], {"type": "footer"}), 400, 131009, "header, body or button"),
    ],
)
async def test_template_components_are_checked_as_meta_does(
    fake: FakeWhatsApp,
    http: httpx.AsyncClient,
    components: tuple[dict[str, Any], ...],
    status: int,
    code: int,
    problem: str,
) -> None:
    fake.approve_template("visit_reminder", "en", 3, REMINDER_BUTTONS)
    response = await post(http, fake, reminder(*components))
    error = assert_graph_error(response, status, code)
    assert problem in error["error_data"]["details"]
    assert fake.sent == []


async def test_tapping_a_quick_reply_sends_its_payload_back_as_a_button_message(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    fake.approve_template("visit_reminder", "en", 3, REMINDER_BUTTONS)
    await post(http, fake, reminder(*FILLED))
    fake.close_window(ADA)
    [sent] = fake.messages_to(ADA)

    tap = fake.quick_reply(ADA, 1)

    assert tap["context"] == {"from": fake.display_phone_number, "id": sent.wamid}
    assert tap["type"] == "button"
    assert tap["button"] == {"payload": "rv:7.x", "text": "Reschedule"}
    assert set(tap) == {"context", "from", "from_user_id", "id", "timestamp", "type", "button"}
    assert fake.window_open(ADA)  # the customer wrote: the window is open again


async def test_a_quick_reply_sent_without_a_payload_comes_back_with_its_label(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    fake.approve_template("visit_reminder", "en", 3, REMINDER_BUTTONS)
    await post(http, fake, reminder(FILLED[0]))
    assert fake.quick_reply(ADA, 2)["button"] == {"payload": "Cancel", "text": "Cancel"}


# -- inbound builders -----------------------------------------------------------------------


async def test_inbound_builders_have_the_real_shapes(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    sent = await post(http, fake, buttons("Yes", "No"))
    wamid = sent.json()["messages"][0]["id"]

    message = fake.text_message(ADA, "Hi", name="Ada")
    press = fake.button_reply(ADA, "b0", "Yes")
    choice = fake.list_reply(BEA, "r0-0", "Manicure", description="45 min", context_wamid=wamid)
    image = fake.unsupported(BEA, name="Bea")

    assert set(message) == {"from", "from_user_id", "id", "timestamp", "type", "text"}
    assert message["from"] == ADA
    assert message["id"].startswith("wamid.")
    assert message["timestamp"].isdigit()
    assert message["text"] == {"body": "Hi"}
    assert press["type"] == "interactive"
    assert press["context"] == {"from": fake.display_phone_number, "id": wamid}
    assert press["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "b0", "title": "Yes"},
    }
    assert choice["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "r0-0", "title": "Manicure", "description": "45 min"},
    }
    assert image["type"] == "image"
    assert set(image["image"]) == {"mime_type", "sha256", "id"}
    assert fake.unsupported(ADA, kind="unsupported")["errors"][0]["code"] == 131051
    assert len({m["id"] for m in (message, press, choice, image)}) == 4


async def test_envelope_batches_customers_and_deliver_signs_it(
    fake: FakeWhatsApp, receiver: Receiver
) -> None:
    fake.webhook_url = receiver.url
    body = fake.envelope(
        [
            fake.text_message(ADA, "Café?", name="Ada"),
            fake.text_message(BEA, "Hello", name="Bea"),
            fake.button_reply(ADA, "b1", "Tomorrow"),
        ]
    )

    response = await fake.deliver(body)
    tampered = await fake.deliver(body, signature="sha256=" + "0" * 64)

    assert response.status_code == 200
    assert tampered.status_code == 200  # the stand-in route does not check; the header is wrong
    (raw, header), (_, bad_header) = receiver.posts
    assert verified(raw, header)
    assert not verified(raw, bad_header)
    assert header == fake.sign(raw)
    assert b"Caf\\u00e9" in raw  # Meta escapes non-ASCII: verify the raw bytes, not re-dumped
    value = json.loads(raw)["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [
        {"profile": {"name": "Ada"}, "wa_id": ADA, "user_id": fake.bsuid(ADA)},
        {"profile": {"name": "Bea"}, "wa_id": BEA, "user_id": fake.bsuid(BEA)},
    ]
    assert [m["from"] for m in value["messages"]] == [ADA, BEA, ADA]
    assert [m["from_user_id"] for m in value["messages"]] == [
        fake.bsuid(c) for c in (ADA, BEA, ADA)
    ]
    assert value["metadata"]["phone_number_id"] == fake.phone_number_id


async def test_the_phone_number_answers_a_get_with_its_fields(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{fake.base_url}/{fake.phone_number_id}"

    default = await http.get(url, headers=bearer)
    some = await http.get(url, params={"fields": "verified_name,quality_rating"}, headers=bearer)

    assert default.status_code == 200
    assert default.json() == {
        "verified_name": "Studio Lumen",
        "code_verification_status": "VERIFIED",
        "display_phone_number": "+1 555-078-3881",
        "quality_rating": "GREEN",
        "platform_type": "CLOUD_API",
        "throughput": {"level": "STANDARD"},
        "id": fake.phone_number_id,
    }
    assert some.json() == {
        "verified_name": "Studio Lumen",
        "quality_rating": "GREEN",
        "id": fake.phone_number_id,
    }
    nonexisting = await http.get(url, params={"fields": "colour"}, headers=bearer)
    assert nonexisting.status_code == 400
    assert nonexisting.json()["error"]["code"] == 100
    assert "nonexisting field (colour)" in nonexisting.json()["error"]["message"]


async def test_the_phone_number_get_checks_the_token_then_the_id(
    fake: FakeWhatsApp, http: httpx.AsyncClient
) -> None:
    url = f"{fake.base_url}/{fake.phone_number_id}"

    wrong = await http.get(url, headers={"Authorization": "Bearer nope"})
    other = await http.get(f"{fake.base_url}/999", headers={"Authorization": f"Bearer {TOKEN}"})
    fake.expire_token()
    expired = await http.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    send = await post(http, fake, text(ADA))

    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, 190)
    assert wrong.json()["error"]["message"] == INVALID_TOKEN
    assert wrong.json()["error"]["type"] == "OAuthException"
    assert (other.status_code, other.json()["error"]["code"]) == (400, 100)
    assert other.json()["error"]["message"].startswith(
        "Unsupported get request. Object with ID '999'"
    )
    assert (expired.status_code, expired.json()["error"]["code"]) == (401, 190)
    assert expired.json()["error"]["message"].startswith(
        "Error validating access token: Session has expired"
    )
    assert (send.status_code, send.json()["error"]["code"]) == (401, 190)
    assert fake.sent == []
