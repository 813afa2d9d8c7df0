"""The fake Telegram Bot API, driven through the real aiogram client (and raw HTTP for shapes)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)

from tests.fakes.telegram_api import NOT_MODIFIED, FakeTelegram, RateLimit

TOKEN = "123456:TEST-token"
ADA = 1001
BEA = 1002


class ManualClock:
    """A monotonic clock the test moves by hand, so rate limits need no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_bot(fake: FakeTelegram, token: str = TOKEN) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return Bot(token=token, session=session)


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=f"b{i}", callback_data=d)] for i, d in enumerate(data)
        ]
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN, clock=clock, max_poll_seconds=2.0) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(fake)
    try:
        yield client
    finally:
        await client.session.close()


async def raw(
    fake: FakeTelegram, method: str, token: str = TOKEN, **kwargs: object
) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}/bot{token}/{method}", **kwargs) as response,  # type: ignore[arg-type]
    ):
        return response.status, await response.json()


async def test_get_me_is_a_bot_user(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "salonbot_test_bot"
    assert me.can_join_groups is not None
    assert me.supports_inline_queries is False


async def test_send_message_with_inline_keyboard_returns_a_parsed_message(
    fake: FakeTelegram, bot: Bot, clock: ManualClock
) -> None:
    fake.text_update(ADA, "/start", first_name="Ada")  # the user's message takes id 1

    message = await bot.send_message(ADA, "  Pick a service  ", reply_markup=keyboard("svc:1"))

    assert isinstance(message, Message)
    assert message.message_id == 2
    assert message.chat.id == ADA
    assert message.chat.type == "private"
    assert message.chat.first_name == "Ada"
    assert message.from_user is not None
    assert message.from_user.is_bot
    assert message.text == "Pick a service"
    assert message.reply_markup is not None
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "svc:1"
    [record] = fake.messages_to(ADA)
    assert record.method == "sendMessage"
    assert record.message_id == 2
    assert record.text == "Pick a service"
    assert record.reply_markup == {"inline_keyboard": [[{"text": "b0", "callback_data": "svc:1"}]]}
    assert record.at == clock.now
    assert fake.requests["sendMessage"] == 1


async def test_callback_data_is_limited_to_64_bytes(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(ADA, "fits", reply_markup=keyboard("é" * 32))  # 64 bytes

    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ADA, "too big", reply_markup=keyboard("x" * 65))

    assert [r.text for r in fake.sent] == ["fits"]


@pytest.mark.parametrize(
    "rows",
    [
        [[f"r{r}c{c}" for c in range(8)] for r in range(13)],  # 104 buttons
        [[f"c{c}" for c in range(9)]],  # 9 in a row
    ],
)
async def test_inline_keyboard_size_limits(
    fake: FakeTelegram, bot: Bot, rows: list[list[str]]
) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=d, callback_data=d) for d in row] for row in rows
        ]
    )
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await bot.send_message(ADA, "menu", reply_markup=markup)
    assert fake.sent == []


async def test_message_text_bounds(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ADA, "   ")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ADA, "x" * 4097)
    await bot.send_message(ADA, "x" * 4096)
    assert len(fake.sent) == 1


async def test_per_chat_limit_answers_retry_after_and_delivers_nothing(
    fake: FakeTelegram, bot: Bot, clock: ManualClock
) -> None:
    for n in range(3):
        await bot.send_message(ADA, f"burst {n}")

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ADA, "one too many")

    assert caught.value.retry_after >= 1
    assert [r.text for r in fake.messages_to(ADA)] == ["burst 0", "burst 1", "burst 2"]
    await bot.send_message(BEA, "another chat still flows")
    clock.now += 1.0
    await bot.send_message(ADA, "after a second")
    assert fake.messages_to(ADA)[-1].text == "after a second"


async def test_429_body_is_telegrams_exact_shape(clock: ManualClock) -> None:
    async with FakeTelegram(token=TOKEN, clock=clock, per_chat_limit=RateLimit(1, 0.25)) as fake:
        assert (await raw(fake, "sendMessage", data={"chat_id": "7", "text": "a"}))[0] == 200
        status, body = await raw(fake, "sendMessage", data={"chat_id": "7", "text": "b"})
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 4",
        "parameters": {"retry_after": 4},
    }


async def test_global_limit_is_configurable(clock: ManualClock) -> None:
    async with FakeTelegram(token=TOKEN, clock=clock, global_limit=RateLimit(2, 1.0)) as fake:
        bot = make_bot(fake)
        try:
            await bot.send_message(1, "a")
            await bot.send_message(2, "b")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(3, "c")
            clock.now += 1.0
            await bot.send_message(3, "c")
        finally:
            await bot.session.close()
    assert [r.chat_id for r in fake.sent] == [1, 2, 3]


async def test_blocked_and_forgotten_chats(fake: FakeTelegram, bot: Bot) -> None:
    fake.block_chat(ADA)
    fake.forget_chat(BEA)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ADA, "hello")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(BEA, "hello")
    assert fake.sent == []


async def test_injected_server_errors_then_recovery(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next(1, status=502)
    fake.storm_429(1, retry_after=2)

    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(ADA, "first")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ADA, "second")
    assert caught.value.retry_after == 2
    await bot.get_me()  # not a sending method: never faulted
    await bot.send_message(ADA, "third")

    assert [r.text for r in fake.sent] == ["third"]
    assert fake.requests["sendMessage"] == 3


async def test_slow_delays_answers(fake: FakeTelegram, bot: Bot) -> None:
    fake.slow(0.2)
    started = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - started >= 0.2


async def test_edit_message_text(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ADA, "Pick", reply_markup=keyboard("a"))

    edited = await bot.edit_message_text(
        "Picked", chat_id=ADA, message_id=sent.message_id, reply_markup=keyboard("b")
    )

    assert isinstance(edited, Message)
    assert edited.text == "Picked"
    assert edited.edit_date is not None
    assert edited.reply_markup is not None
    assert edited.reply_markup.inline_keyboard[0][0].callback_data == "b"
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            "Picked", chat_id=ADA, message_id=sent.message_id, reply_markup=keyboard("b")
        )
    assert caught.value.message == NOT_MODIFIED
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ADA, message_id=999)
    # Without reply_markup, Telegram removes the keyboard.
    await bot.edit_message_text("Picked", chat_id=ADA, message_id=sent.message_id)
    assert "reply_markup" not in (fake.message(ADA, sent.message_id) or {})
    assert [r.method for r in fake.messages_to(ADA)] == [
        "sendMessage",
        "editMessageText",
        "editMessageText",
    ]


async def test_get_updates_returns_updates_and_respects_offset(
    fake: FakeTelegram, bot: Bot
) -> None:
    first = fake.text_update(ADA, "/start promo", language_code="ru")
    second = fake.contact_update(ADA, "+15550100")
    fake.queue_update(first)
    fake.queue_update(second)

    updates = await bot.get_updates()

    assert all(isinstance(u, Update) for u in updates)
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    message = updates[0].message
    assert message is not None
    assert message.text == "/start promo"
    assert message.from_user is not None
    assert message.from_user.language_code == "ru"
    assert message.entities is not None
    assert (message.entities[0].type, message.entities[0].length) == ("bot_command", 6)
    contact = updates[1].message.contact if updates[1].message else None
    assert contact is not None
    assert (contact.phone_number, contact.user_id) == ("+15550100", ADA)

    again = await bot.get_updates(offset=second["update_id"])
    assert [u.update_id for u in again] == [second["update_id"]]
    assert await bot.get_updates(offset=second["update_id"] + 1) == []
    assert fake.pending_updates == []


async def test_get_updates_long_polls_until_an_update_arrives(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    update = fake.text_update(ADA, "hi")
    started = time.monotonic()
    fake.queue_update(update)

    updates = await poll

    assert [u.update_id for u in updates] == [update["update_id"]]
    assert time.monotonic() - started < 1


async def test_get_updates_timeout_is_capped(bot: Bot, clock: ManualClock) -> None:
    async with FakeTelegram(token=TOKEN, clock=clock, max_poll_seconds=0.1) as fake:
        client = make_bot(fake)
        try:
            started = time.monotonic()
            assert await client.get_updates(timeout=30) == []
            assert time.monotonic() - started < 1
        finally:
            await client.session.close()


async def test_a_newer_poll_ends_the_older_one(fake: FakeTelegram, bot: Bot) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)

    assert await bot.get_updates(timeout=0) == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await older
    assert fake.conflicts == {"getUpdates": 1}


async def test_get_updates_conflicts_with_a_webhook(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_webhook("https://salon.example/tg", secret_token="s3cret_-token")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    assert fake.conflicts == {"webhook": 1}


async def test_callback_update_and_answer_are_recorded(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ADA, "Pick", reply_markup=keyboard("svc:1"))
    raw_update = fake.callback_update(ADA, "svc:1", sent.message_id)
    update = Update.model_validate(raw_update, context={"bot": bot})
    query = update.callback_query
    assert query is not None
    assert isinstance(query.id, str)
    assert query.data == "svc:1"
    assert isinstance(query.message, Message)
    assert query.message.message_id == sent.message_id
    assert query.message.chat.id == ADA

    assert await bot.answer_callback_query(query.id, text="Booked", show_alert=True)

    [answer] = fake.answered_callbacks
    assert (answer.callback_query_id, answer.text, answer.show_alert) == (query.id, "Booked", True)
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("424242")


async def test_webhook_secret_is_checked_and_recorded(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook("https://salon.example/tg", secret_token="a+b/c=")
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://salon.example/tg")
    assert fake.webhook is None

    assert await bot.set_webhook("https://salon.example/tg", secret_token="A-z_09")
    assert fake.webhook is not None
    assert (fake.webhook.url, fake.webhook.secret) == ("https://salon.example/tg", "A-z_09")
    info = await bot.get_webhook_info()
    assert info.url == "https://salon.example/tg"
    assert await bot.delete_webhook()
    assert fake.webhook is None
    assert (await bot.get_webhook_info()).url == ""


async def test_webhook_info_counts_pending_updates_and_tells_the_last_delivery_error(
    fake: FakeTelegram, bot: Bot
) -> None:
    assert await bot.set_webhook("https://salon.example/tg", secret_token="A-z_09")
    info = await bot.get_webhook_info()
    assert (info.pending_update_count, info.last_error_date, info.last_error_message) == (
        0,
        None,
        None,
    )

    fake.queue_update(fake.text_update(ADA, "hi"))
    fake.webhook_failed("Connection refused", date=1_796_000_000)
    info = await bot.get_webhook_info()

    assert info.pending_update_count == 1
    assert info.last_error_date is not None
    assert int(info.last_error_date.timestamp()) == 1_796_000_000
    assert info.last_error_message == "Connection refused"
    fake.webhook_failed(None)
    assert (await bot.get_webhook_info()).last_error_message is None


async def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    intruder = make_bot(fake, token="654321:WRONG-token")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()
    assert sum(fake.requests.values()) == 0


async def test_raw_http_shapes(fake: FakeTelegram) -> None:
    status, body = await raw(fake, "SENDMESSAGE", json={"chat_id": ADA, "text": "json body"})
    assert status == 200
    assert body["ok"] is True
    assert body["result"]["text"] == "json body"
    assert fake.requests["sendMessage"] == 1

    assert await raw(fake, "sendNothing") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert await raw(fake, "getMe", token="1:bad") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    status, body = await raw(fake, "deleteWebhook")
    assert body == {"ok": True, "result": True, "description": "Webhook is already deleted"}


async def test_long_poll_waits_for_an_allowed_update(fake: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ADA, "Pick", reply_markup=keyboard("svc:1"))
    poll = asyncio.create_task(bot.get_updates(timeout=5, allowed_updates=["callback_query"]))
    await asyncio.sleep(0.05)
    fake.queue_update(fake.text_update(ADA, "not asked for"))
    await asyncio.sleep(0.05)
    assert not poll.done()

    press = fake.callback_update(ADA, "svc:1", sent.message_id)
    fake.queue_update(press)

    assert [u.update_id for u in await poll] == [press["update_id"]]


async def test_set_webhook_ends_a_waiting_poll(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)

    assert await bot.set_webhook("https://salon.example:8443/tg")

    with pytest.raises(TelegramConflictError, match="terminated by setWebhook request"):
        await poll
