"""A faithful fake of the Telegram Bot API HTTP server, for tests.

The fake is a real aiohttp server on 127.0.0.1 (ephemeral port). A real aiogram ``Bot`` reaches
it through a custom API server::

    async with FakeTelegram(token="123456:TEST-token") as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        bot = Bot(token="123456:TEST-token", session=session)

Contract (shapes as in docs/platform-facts.md section A and the Bot API docs):

- Requests: ``GET`` or ``POST {base_url}/bot{token}/{method}``; the method name is matched
  case-insensitively. Parameters come from the query string, a form body (url-encoded or
  multipart; nested objects such as ``reply_markup`` are JSON strings, as aiogram sends them)
  or a JSON body. Body values win over query values.
- Every answer is ``{"ok": true, "result": ...}`` (setWebhook/deleteWebhook add Telegram's
  ``description``) or ``{"ok": false, "error_code": N, "description": "..."}`` with HTTP status
  ``N``; a 429 adds ``"parameters": {"retry_after": N}`` and says
  ``"Too Many Requests: retry after N"``.
- A wrong token answers 401 ``Unauthorized``; an unknown method 404
  ``Not Found: method not found``; any other path 404 ``Not Found``.
- Methods: getMe, sendMessage, editMessageText, answerCallbackQuery, setWebhook,
  deleteWebhook, getWebhookInfo, getUpdates.
- Sending methods (sendMessage, editMessageText) go through, in order: injected faults
  (:meth:`FakeTelegram.fail_next`, :meth:`FakeTelegram.storm_429`, first queued first served),
  parameter validation (400), chat checks (:meth:`FakeTelegram.forget_chat` gives 400
  ``chat not found``, :meth:`FakeTelegram.block_chat` gives 403), then the rate limits
  (token buckets per chat and global; 429 with an integer ``retry_after`` of at least 1).
  Only a delivered call takes a rate-limit token and lands in :attr:`FakeTelegram.sent`.
- Chats are private chats with users; any integer chat id is accepted unless forgotten.
  Message ids count per chat and are shared by the user's and the bot's messages, as in a
  private chat. Text is stripped of surrounding whitespace, as Telegram does; entities are not
  parsed (``parse_mode`` is checked and recorded, the text is kept as sent).
- getUpdates returns queued updates with ``update_id >= offset`` (a negative offset keeps the
  last ``-offset`` ones), forgets those below ``offset``, long-polls up to ``timeout`` seconds
  (capped by ``max_poll_seconds``) and answers 409 while a webhook is set. A newer getUpdates
  or a setWebhook ends a waiting poll with 409, as the real server does.
- The fake never calls a webhook; setWebhook only records it (:attr:`FakeTelegram.webhook`).
  getWebhookInfo reports the queued updates as ``pending_update_count`` and, once
  :meth:`FakeTelegram.webhook_failed` says a delivery failed, ``last_error_date`` (Unix
  time) and ``last_error_message``, as the Bot API server does after a failed delivery
  (``tdlib/telegram-bot-api``, ``Client.cpp``: both fields only when an error happened).
  Whether a new setWebhook clears them is not modelled: they stay until the fake says
  otherwise (:meth:`FakeTelegram.webhook_failed` with ``None``).

Groups and channels exist only as update builders (:meth:`FakeTelegram.group_update`,
:meth:`FakeTelegram.group_callback_update`, :meth:`FakeTelegram.channel_post_update`);
media only as what a user sends (:meth:`FakeTelegram.media_update`, :data:`MEDIA`).

Not modelled: sending to groups and channels, files (download or upload), inline mode,
payments, entity parsing, the 20 messages per minute group limit, callback query expiry.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.local_server import serve_on_loopback

DEFAULT_TOKEN = "123456:TEST-token"


def _file(unique: str, **more: Any) -> dict[str, Any]:
    return {"file_id": f"AgACAgIAAxkBAAI{unique}", "file_unique_id": f"AQAD{unique}", **more}


_LOCATION = {"latitude": 52.520008, "longitude": 13.404954}
# What a person can send besides text, each as the message field(s) the Bot API gives it
# (core.telegram.org/bots/api#message); someone else's contact card has another user_id.
MEDIA: dict[str, dict[str, Any]] = {
    "photo": {
        "photo": [
            _file("p1", width=90, height=67, file_size=1425),
            _file("p2", width=1280, height=960, file_size=91204),
        ]
    },
    "sticker": {
        "sticker": _file(
            "s1",
            type="regular",
            width=512,
            height=512,
            is_animated=False,
            is_video=False,
            emoji="👍",
            file_size=23040,
        )
    },
    "voice": {"voice": _file("v1", duration=3, mime_type="audio/ogg", file_size=7410)},
    "video": {"video": _file("d1", width=720, height=1280, duration=5, mime_type="video/mp4")},
    "video_note": {"video_note": _file("n1", length=384, duration=4, file_size=251872)},
    "audio": {
        "audio": _file("a1", duration=184, performer="Nina", title="Song", mime_type="audio/mpeg")
    },
    "document": {"document": _file("f1", file_name="price list.pdf", mime_type="application/pdf")},
    "animation": {
        "animation": _file("g1", width=320, height=240, duration=2, mime_type="video/mp4"),
        "document": _file("g1", file_name="cat.mp4", mime_type="video/mp4"),
    },
    "location": {"location": _LOCATION},
    "venue": {
        "venue": {"location": _LOCATION, "title": "Studio Lumen", "address": "Torstr. 1"},
        "location": _LOCATION,
    },
    "poll": {
        "poll": {
            "id": "5390024543925960709",
            "question": "Which day?",
            "options": [
                {"persistent_id": "0", "text": "Monday", "voter_count": 0},
                {"persistent_id": "1", "text": "Friday", "voter_count": 0},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
    },
    "dice": {"dice": {"emoji": "🎲", "value": 4}},
    "contact": {"contact": {"phone_number": "+49 151 2345678", "first_name": "Bea", "user_id": 99}},
}

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_INLINE_BUTTONS_PER_ROW = 8
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_SECRET_TOKEN_LENGTH = 256
WEBHOOK_PORTS = (80, 88, 443, 8443)

SENDING_METHODS = frozenset({"sendMessage", "editMessageText"})

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
OTHER_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
SET_WEBHOOK_CONFLICT = "Conflict: terminated by setWebhook request"


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``burst`` sends at once, then ``per_second`` sends a second."""

    burst: int
    per_second: float


PER_CHAT_LIMIT = RateLimit(burst=3, per_second=1.0)
GLOBAL_LIMIT = RateLimit(burst=30, per_second=30.0)


@dataclass(frozen=True)
class SentMessage:
    """One delivered sending call: what the bot sent or edited, and when (fake's clock)."""

    method: str
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    message_id: int
    at: float
    parse_mode: str | None = None


@dataclass(frozen=True)
class AnsweredCallback:
    """One accepted answerCallbackQuery call."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    at: float


@dataclass(frozen=True)
class Webhook:
    """The webhook set with setWebhook (the secret is kept for assertions only)."""

    url: str
    secret: str | None
    max_connections: int = 40
    allowed_updates: tuple[str, ...] | None = None


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None = None


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


class _Bucket:
    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.limit.burst), self.tokens + elapsed * self.limit.per_second)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill(now)
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.limit.per_second

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


@dataclass
class _Profile:
    first_name: str = "Ada"
    language_code: str | None = "en"


@dataclass
class _StoredMessage:
    message: dict[str, Any]
    from_bot: bool


@dataclass
class _Poll:
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    conflict: str | None = None


class FakeTelegram:
    """The fake Bot API server; use it as ``async with FakeTelegram() as fake``.

    ``per_chat_limit`` and ``global_limit`` are the token buckets for sending methods (``None``
    turns one off). ``clock`` is the monotonic clock the buckets and records use; tests may pass
    their own to move time without sleeping. ``max_poll_seconds`` caps getUpdates' ``timeout``.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "salonbot_test_bot",
        bot_first_name: str = "Salonbot",
        per_chat_limit: RateLimit | None = PER_CHAT_LIMIT,
        global_limit: RateLimit | None = GLOBAL_LIMIT,
        max_poll_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.per_chat_limit = per_chat_limit
        self.global_limit = global_limit
        self.max_poll_seconds = max_poll_seconds
        self.clock = clock

        self.sent: list[SentMessage] = []
        """Delivered sendMessage/editMessageText calls, in order."""
        self.answered_callbacks: list[AnsweredCallback] = []
        self.webhook: Webhook | None = None
        self._webhook_error: tuple[int, str] | None = None
        self.requests: Counter[str] = Counter()
        """Calls per canonical method name (right token, known method), whatever the answer."""
        self.conflicts: Counter[str] = Counter()
        """getUpdates calls answered 409, by why: ``getUpdates`` (ended by a newer one, as
        when two processes poll one bot) or ``webhook`` (set, or being set)."""

        self._runner: web.AppRunner | None = None
        self._port = 0
        self._faults: list[_Fault] = []
        self._delay = 0.0
        # Closed (``hold_sends``): sending calls wait here, before they are counted.
        self._gate = asyncio.Event()
        self._gate.set()
        self._held: dict[int, web.Request] = {}
        self._blocked: set[int] = set()
        self._forgotten: set[int] = set()
        self._chat_buckets: dict[int, _Bucket] = {}
        self._global_bucket: _Bucket | None = None
        self._messages: dict[tuple[int, int], _StoredMessage] = {}
        self._last_message_id: dict[int, int] = {}
        self._profiles: dict[int, _Profile] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(100_000_001)
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._callback_queries: set[str] = set()
        self._polls: list[_Poll] = []
        self._stopping = False
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "answerCallbackQuery": self._answer_callback_query,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "getUpdates": self._get_updates,
            }.items()
        }
        self._canonical = {
            name.lower(): name
            for name in (
                "getMe",
                "sendMessage",
                "editMessageText",
                "answerCallbackQuery",
                "setWebhook",
                "deleteWebhook",
                "getWebhookInfo",
                "getUpdates",
            )
        }

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner, self._port = await serve_on_loopback(app, shutdown_timeout=1.0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        for poll in self._polls:
            poll.woken.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, for ``TelegramAPIServer.from_base``."""
        if self._runner is None:
            raise RuntimeError("FakeTelegram is not running; use it as an async context manager")
        return f"http://127.0.0.1:{self._port}"

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot as it appears in ``from`` of its messages."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # -- failure injection -----------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, description: str | None = None) -> None:
        """Answer the next ``n`` sending calls with a server error (not delivered)."""
        if status < 500:
            raise ValueError("fail_next injects server errors (5xx); use block_chat and the like")
        text = description or {502: "Bad Gateway"}.get(status, "Internal Server Error")
        self._faults.extend(_Fault(status, text) for _ in range(n))

    def storm_429(self, n: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``n`` sending calls with 429 ``retry_after`` (not delivered)."""
        description = f"Too Many Requests: retry after {retry_after}"
        self._faults.extend(_Fault(429, description, retry_after) for _ in range(n))

    def webhook_failed(self, message: str | None, date: int | None = None) -> None:
        """Telegram's last delivery to the webhook failed with ``message`` at ``date``
        (Unix time; default now); ``None`` forgets it."""
        when = int(time.time()) if date is None else date
        self._webhook_error = None if message is None else (when, message)

    def hold_sends(self) -> None:
        """Hold every sending call as it arrives, before it is counted or delivered, until
        ``release_sends`` (the sender sees a request in flight)."""
        self._gate.clear()

    def release_sends(self) -> None:
        """Let the held calls go on; one whose client has gone meanwhile is dropped, never
        counted or delivered (it never reached Telegram)."""
        self._gate.set()

    @property
    def held(self) -> int:
        """Sending calls held now whose client is still connected."""
        return sum(
            1
            for r in self._held.values()
            if r.transport is not None and not r.transport.is_closing()
        )

    def slow(self, seconds: float) -> None:
        """Delay every answer by ``seconds`` from now on (``slow(0)`` to stop)."""
        self._delay = max(0.0, seconds)

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: sending to ``chat_id`` answers 403."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def forget_chat(self, chat_id: int) -> None:
        """Telegram does not know ``chat_id``: sending to it answers 400 ``chat not found``."""
        self._forgotten.add(chat_id)

    # -- recording -------------------------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Every delivered send and edit to ``chat_id``, in order."""
        return [record for record in self.sent if record.chat_id == chat_id]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The current state of a message in a chat (after edits), as Telegram would send it."""
        stored = self._messages.get((chat_id, message_id))
        return None if stored is None else json.loads(json.dumps(stored.message))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    # -- update builders -------------------------------------------------------------------

    def text_update(
        self,
        user_id: int,
        text: str,
        language_code: str | None = "en",
        first_name: str = "Ada",
    ) -> dict[str, Any]:
        """An update with a private text message from ``user_id`` (not queued).

        A text starting with ``/`` carries a ``bot_command`` entity for its first word.
        """
        message = self._user_message(user_id, language_code, first_name)
        message["text"] = text
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_length(command)}
            ]
        return {"update_id": next(self._update_ids), "message": message}

    def contact_update(
        self,
        user_id: int,
        phone: str,
        language_code: str | None = "en",
        first_name: str = "Ada",
    ) -> dict[str, Any]:
        """An update with the user sharing their own contact (a ``request_contact`` button)."""
        message = self._user_message(user_id, language_code, first_name)
        message["contact"] = {"phone_number": phone, "first_name": first_name, "user_id": user_id}
        return {"update_id": next(self._update_ids), "message": message}

    def media_update(
        self,
        user_id: int,
        kind: str,
        language_code: str | None = "en",
        first_name: str = "Ada",
    ) -> dict[str, Any]:
        """An update with a private message of ``kind`` (a key of :data:`MEDIA`): its field
        as the Bot API documents it, with the companion field Telegram adds for backward
        compatibility (``document`` beside ``animation``, ``location`` beside ``venue``)."""
        message = self._user_message(user_id, language_code, first_name)
        message.update(json.loads(json.dumps(MEDIA[kind])))
        return {"update_id": next(self._update_ids), "message": message}

    def group_update(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        chat_type: str = "group",
        language_code: str | None = "en",
    ) -> dict[str, Any]:
        """An update with a text message of ``user_id`` in a ``group`` or ``supergroup``
        chat ``chat_id`` (negative, as Telegram's group ids are)."""
        self._profiles.setdefault(user_id, _Profile("Ada", language_code))
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": self._user(user_id),
            "chat": {"id": chat_id, "title": "Studio Lumen fans", "type": chat_type},
            "date": int(time.time()),
            "text": text,
        }
        return {"update_id": next(self._update_ids), "message": message}

    def channel_post_update(self, chat_id: int, text: str) -> dict[str, Any]:
        """An update with a post in channel ``chat_id`` (a channel post has no ``from``)."""
        post = {
            "message_id": self._next_message_id(chat_id),
            "sender_chat": {"id": chat_id, "title": "Studio Lumen news", "type": "channel"},
            "chat": {"id": chat_id, "title": "Studio Lumen news", "type": "channel"},
            "date": int(time.time()),
            "text": text,
        }
        return {"update_id": next(self._update_ids), "channel_post": post}

    def callback_update(
        self,
        user_id: int,
        data: str,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """An update with a press on an inline button of the bot's message ``message_id``.

        Without ``message_id`` the bot's latest message in the chat is used. The message must
        be one the bot sent through the fake (LookupError otherwise). The query id is
        remembered so answerCallbackQuery accepts it.
        """
        if message_id is None:
            ids = [
                mid for (chat, mid), m in self._messages.items() if chat == user_id and m.from_bot
            ]
            if not ids:
                raise LookupError(f"the bot has sent no message to chat {user_id}")
            message_id = max(ids)
        stored = self._messages.get((user_id, message_id))
        if stored is None or not stored.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {user_id}")
        query_id = str(next(self._callback_ids))
        self._callback_queries.add(query_id)
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": query_id,
                "from": self._user(user_id),
                "message": json.loads(json.dumps(stored.message)),
                "chat_instance": str(-(7_000_000_000_000_000_000 + user_id)),
                "data": data,
            },
        }

    def group_callback_update(
        self,
        chat_id: int,
        user_id: int,
        data: str,
        chat_type: str = "group",
        inaccessible: bool = False,
    ) -> dict[str, Any]:
        """A press by ``user_id`` on an inline button under a bot message in the ``group``
        (or ``supergroup``) chat ``chat_id``. ``inaccessible``: the message is too old for
        Telegram to include, so it comes as an InaccessibleMessage (its chat, its id and
        ``date`` 0). The query id is remembered so answerCallbackQuery accepts it."""
        self._profiles.setdefault(user_id, _Profile("Ada", "en"))
        chat = {"id": chat_id, "title": "Studio Lumen fans", "type": chat_type}
        message_id = self._next_message_id(chat_id)
        message: dict[str, Any] = (
            {"chat": chat, "message_id": message_id, "date": 0}
            if inaccessible
            else {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": chat,
                "date": int(time.time()),
                "text": "Choose:",
                "reply_markup": {
                    "inline_keyboard": [[{"text": "Book a visit", "callback_data": data}]]
                },
            }
        )
        query_id = str(next(self._callback_ids))
        self._callback_queries.add(query_id)
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": query_id,
                "from": self._user(user_id),
                "message": message,
                "chat_instance": str(-(7_000_000_000_000_000_000 - chat_id)),
                "data": data,
            },
        }

    def queue_update(self, update: Mapping[str, Any]) -> None:
        """Queue an update for getUpdates (and wake a waiting long poll)."""
        self._updates.append(dict(update))
        self._wake_polls(None)

    # -- HTTP ------------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return _error(404, "Not Found")

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            if request.match_info["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            key = request.match_info["method"].lower()
            handler = self._methods.get(key)
            if handler is None:
                raise _ApiError(404, "Not Found: method not found")
            method = self._canonical[key]
            if method in SENDING_METHODS and not self._gate.is_set():
                self._held[id(request)] = request
                try:
                    await self._gate.wait()
                finally:
                    del self._held[id(request)]
                if request.transport is None or request.transport.is_closing():
                    raise _ApiError(499, "Client Closed Request")  # its client is gone
            self.requests[method] += 1
            params = await _read_params(request)
            if self._delay:
                await asyncio.sleep(self._delay)
            if method in SENDING_METHODS and self._faults:
                fault = self._faults.pop(0)
                raise _ApiError(fault.status, fault.description, fault.retry_after)
            outcome = handler(params)
            if asyncio.iscoroutine(outcome):
                outcome = await outcome
        except _ApiError as error:
            return _error(error.status, error.description, error.retry_after)
        if isinstance(outcome, _WithDescription):
            return _ok(outcome.result, outcome.description)
        return _ok(outcome)

    # -- methods ---------------------------------------------------------------------------

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _chat_id(params)
        text = _message_text(params)
        parse_mode = _parse_mode(params)
        markup = _reply_markup(params)
        self._check_chat(chat_id)
        self._take_rate_token(chat_id)
        message_id = self._next_message_id(chat_id)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = _StoredMessage(message, from_bot=True)
        self._record("sendMessage", chat_id, text, markup, message_id, parse_mode)
        return message

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        if _present(params, "inline_message_id"):
            raise _ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat_id = _chat_id(params)
        if not _present(params, "message_id"):
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        message_id = _int(params, "message_id")
        text = _message_text(params)
        parse_mode = _parse_mode(params)
        markup = _reply_markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise _ApiError(400, "Bad Request: inline keyboard expected")
        self._check_chat(chat_id)
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        if not stored.from_bot:
            raise _ApiError(400, "Bad Request: message can't be edited")
        current = stored.message
        if current.get("text") == text and current.get("reply_markup") == markup:
            raise _ApiError(400, NOT_MODIFIED)
        self._take_rate_token(chat_id)
        current["text"] = text
        current["edit_date"] = int(time.time())
        if markup is None:
            current.pop("reply_markup", None)
        else:
            current["reply_markup"] = markup
        self._record("editMessageText", chat_id, text, markup, message_id, parse_mode)
        return dict(current)

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = _str(params, "callback_query_id")
        if not query_id:
            raise _ApiError(400, 'Bad Request: parameter "callback_query_id" is required')
        text = _str(params, "text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        if query_id not in self._callback_queries:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.answered_callbacks.append(
            AnsweredCallback(
                callback_query_id=query_id,
                text=text or None,
                show_alert=_bool(params, "show_alert"),
                url=_str(params, "url"),
                cache_time=_int(params, "cache_time") if _present(params, "cache_time") else None,
                at=self.clock(),
            )
        )
        return True

    def _set_webhook(self, params: dict[str, Any]) -> _WithDescription:
        url = _str(params, "url") or ""
        if _bool(params, "drop_pending_updates"):
            self._updates.clear()
        if not url:
            return self._remove_webhook()
        match = re.fullmatch(r"https://([^/:?#]+)(?::(\d+))?(?:[/?#].*)?", url)
        if match is None:
            raise _ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        port = int(match.group(2)) if match.group(2) else 443
        if port not in WEBHOOK_PORTS:
            raise _ApiError(
                400,
                "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
            )
        secret = _str(params, "secret_token") or None
        if secret is not None:
            if len(secret) > MAX_SECRET_TOKEN_LENGTH:
                raise _ApiError(400, "Bad Request: secret token is too long")
            if not _SECRET_TOKEN.fullmatch(secret):
                raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = 40
        if _present(params, "max_connections"):
            max_connections = min(100, max(1, _int(params, "max_connections")))
        allowed = _json(params, "allowed_updates")
        webhook = Webhook(
            url=url,
            secret=secret,
            max_connections=max_connections,
            allowed_updates=tuple(str(u) for u in allowed) if isinstance(allowed, list) else None,
        )
        if webhook == self.webhook:
            return _WithDescription(True, "Webhook is already set")
        self.webhook = webhook
        self._wake_polls(SET_WEBHOOK_CONFLICT)
        return _WithDescription(True, "Webhook was set")

    def _delete_webhook(self, params: dict[str, Any]) -> _WithDescription:
        if _bool(params, "drop_pending_updates"):
            self._updates.clear()
        return self._remove_webhook()

    def _remove_webhook(self) -> _WithDescription:
        if self.webhook is None:
            return _WithDescription(True, "Webhook is already deleted")
        self.webhook = None
        return _WithDescription(True, "Webhook was deleted")

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info["max_connections"] = self.webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = list(self.webhook.allowed_updates)
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            self.conflicts["webhook"] += 1
            raise _ApiError(409, WEBHOOK_ACTIVE)
        offset = _int(params, "offset") if _present(params, "offset") else 0
        limit = _int(params, "limit") if _present(params, "limit") else 100
        limit = min(100, max(1, limit))
        timeout = _int(params, "timeout") if _present(params, "timeout") else 0
        timeout_s = min(self.max_poll_seconds, float(max(0, timeout)))
        allowed = _json(params, "allowed_updates")
        self._confirm(offset)
        self._wake_polls(OTHER_GET_UPDATES)
        found = self._select(limit, allowed)
        if found or timeout_s <= 0:
            return found
        poll = _Poll()
        self._polls.append(poll)
        deadline = asyncio.get_running_loop().time() + timeout_s
        try:
            while not found and not self._stopping:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                poll.woken.clear()
                try:
                    await asyncio.wait_for(poll.woken.wait(), remaining)
                except TimeoutError:
                    break
                if poll.conflict is not None:
                    why = "getUpdates" if poll.conflict == OTHER_GET_UPDATES else "webhook"
                    self.conflicts[why] += 1
                    raise _ApiError(409, poll.conflict)
                found = self._select(limit, allowed)
        finally:
            self._polls.remove(poll)
        return found

    # -- helpers ---------------------------------------------------------------------------

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            del self._updates[: max(0, len(self._updates) + offset)]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _select(self, limit: int, allowed: Any) -> list[dict[str, Any]]:
        updates = self._updates
        if isinstance(allowed, list) and allowed:
            kinds = set(allowed)
            updates = [u for u in updates if kinds.intersection(u.keys() - {"update_id"})]
        return [json.loads(json.dumps(u)) for u in updates[:limit]]

    def _wake_polls(self, conflict: str | None) -> None:
        for poll in self._polls:
            if conflict is not None:
                poll.conflict = conflict
            poll.woken.set()

    def _check_chat(self, chat_id: int) -> None:
        if chat_id in self._forgotten:
            raise _ApiError(400, "Bad Request: chat not found")
        if chat_id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")

    def _take_rate_token(self, chat_id: int) -> None:
        now = self.clock()
        buckets: list[_Bucket] = []
        if self.per_chat_limit is not None:
            bucket = self._chat_buckets.get(chat_id)
            if bucket is None:
                bucket = self._chat_buckets[chat_id] = _Bucket(self.per_chat_limit, now)
            buckets.append(bucket)
        if self.global_limit is not None:
            if self._global_bucket is None:
                self._global_bucket = _Bucket(self.global_limit, now)
            buckets.append(self._global_bucket)
        wait = max((bucket.wait(now) for bucket in buckets), default=0.0)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for bucket in buckets:
            bucket.take(now)

    def _record(
        self,
        method: str,
        chat_id: int,
        text: str,
        markup: dict[str, Any] | None,
        message_id: int,
        parse_mode: str | None,
    ) -> None:
        self.sent.append(
            SentMessage(method, chat_id, text, markup, message_id, self.clock(), parse_mode)
        )

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _chat(self, chat_id: int) -> dict[str, Any]:
        profile = self._profiles.get(chat_id, _Profile())
        return {"id": chat_id, "type": "private", "first_name": profile.first_name}

    def _user(self, user_id: int) -> dict[str, Any]:
        profile = self._profiles.get(user_id, _Profile())
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": profile.first_name}
        if profile.language_code:
            user["language_code"] = profile.language_code
        return user

    def _user_message(
        self, user_id: int, language_code: str | None, first_name: str
    ) -> dict[str, Any]:
        self._profiles[user_id] = _Profile(first_name, language_code)
        message_id = self._next_message_id(user_id)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self._user(user_id),
            "chat": self._chat(user_id),
            "date": int(time.time()),
        }
        self._messages[(user_id, message_id)] = _StoredMessage(message, from_bot=False)
        return json.loads(json.dumps(message))


@dataclass(frozen=True)
class _WithDescription:
    result: Any
    description: str


# -- request parsing and validation ---------------------------------------------------------


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method not in ("POST", "PUT") or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as error:
            raise _ApiError(400, "Bad Request: can't parse JSON encoded request") from error
        if not isinstance(body, dict):
            raise _ApiError(400, "Bad Request: can't parse JSON encoded request")
        params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, str):
            params[key] = value
    return params


def _present(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    return value is not None and value != ""


def _str(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _int(params: Mapping[str, Any], name: str) -> int:
    value = params.get(name)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return 0  # the real server reads a malformed integer as 0


def _bool(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1")


def _json(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _chat_id(params: Mapping[str, Any]) -> int:
    if not _present(params, "chat_id"):
        raise _ApiError(400, "Bad Request: chat_id is empty")
    value = params["chat_id"]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise _ApiError(400, "Bad Request: chat not found") from None


def _message_text(params: Mapping[str, Any]) -> str:
    text = (_str(params, "text") or "").strip()
    if not text:
        raise _ApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise _ApiError(400, "Bad Request: message is too long")
    return text


def _parse_mode(params: Mapping[str, Any]) -> str | None:
    mode = _str(params, "parse_mode")
    if not mode:
        return None
    if mode.lower() not in _PARSE_MODES:
        raise _ApiError(400, f'Bad Request: unsupported parse_mode "{mode}"')
    return mode


def _reply_markup(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The parsed reply markup; an inline keyboard is checked against Telegram's limits."""
    if not _present(params, "reply_markup"):
        return None
    markup = _json(params, "reply_markup")
    if not isinstance(markup, dict):
        raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    return markup


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _ApiError(
            400,
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
            "must be an Array of Arrays",
        )
    total = sum(len(row) for row in rows)
    if total > MAX_INLINE_BUTTONS or any(len(row) > MAX_INLINE_BUTTONS_PER_ROW for row in rows):
        raise _ApiError(400, "Bad Request: reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict):
                raise _ApiError(400, "Bad Request: can't parse inline keyboard button")
            text = button.get("text")
            if not isinstance(text, str) or not text.strip() or not _BUTTON_ACTIONS & button.keys():
                raise _ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                size = len(data.encode()) if isinstance(data, str) else 0
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _ok(result: Any, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return web.json_response(body)


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def busiest_second(times: list[float]) -> int:
    """The most sends any one-second window holds (times in seconds, any order)."""
    ordered, most, first = sorted(times), 0, 0
    for last in range(len(ordered)):
        while ordered[last] - ordered[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most
