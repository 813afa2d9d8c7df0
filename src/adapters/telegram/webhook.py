"""``POST /webhooks/telegram``: check the secret, store the update, answer 200. Nothing else.

Telegram retries any non-2xx answer and holds the chat's later updates until it gets
one, so everything that is not a forged request is answered 2xx: an update we cannot read
is refused with 400 only when it is not an update at all (no ``update_id``), and stored
as it is otherwise (the worker ignores kinds it does not handle).
"""

from __future__ import annotations

import logging
import secrets
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from adapters.common.platform_input import read_limited, storable, strict_json
from adapters.telegram.updates import CHANNEL, chat_key
from core.ports import StoreEvent, StoreUnavailable

WEBHOOK_PATH = "/webhooks/telegram"
MAX_BODY = 1_000_000
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name

log = logging.getLogger("salonbot.telegram")


def _answer(status: int, description: str) -> Response:
    return JSONResponse({"ok": status < 300, "description": description}, status_code=status)


def telegram_webhook(store: StoreEvent, secret: str) -> APIRouter:
    """The route; ``secret`` is what ``setWebhook`` registered as ``secret_token``."""
    router = APIRouter()
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        started = time.perf_counter()
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secrets.compare_digest(given, expected):
            return _answer(401, "Unauthorized")
        body = await read_limited(request.stream(), request.headers.get("content-length"), MAX_BODY)
        if body is None:
            return _answer(413, "Request Entity Too Large")
        try:
            update = strict_json(body)
        except (ValueError, RecursionError):
            return _answer(400, "Bad Request: body is not JSON")
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return _answer(400, "Bad Request: not a Telegram update (no update_id)")
        try:
            update = storable(update)  # no 1e400, no lone surrogate; NUL dropped
        except ValueError:
            return _answer(400, "Bad Request: body is not storable JSON")
        try:
            chat = chat_key(update)
            new = await store(CHANNEL, str(update_id), chat, update)
        except StoreUnavailable:  # down, hanging or overloaded (logged by the inbox, once)
            return _answer(503, "Service Unavailable: the update could not be stored")
        log.info(
            "inbound stored" if new else "inbound duplicate dropped",
            extra={
                "channel": CHANNEL,
                "update_id": update_id,
                "chat": chat,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return JSONResponse({"ok": True})

    # A plain Starlette route: the request path stays as short as it can be.
    router.add_route(WEBHOOK_PATH, receive, methods=["POST"])
    return router
