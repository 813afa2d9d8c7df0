"""``/webhooks/whatsapp``: the verification handshake, and signed notifications in.

``GET`` answers Meta's subscription check with the raw challenge when the verify token
matches. ``POST`` checks ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app
secret, constant time) before reading anything, then stores every message of every entry
and change as its own inbound event keyed by its ``wamid`` (a redelivery changes nothing),
in its customer's queue (their BSUID, else their number; a message naming neither is kept
under ``unknown:<wamid>``, logged, and ignored by the worker), keeps the delivery statuses,
and answers 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from adapters.common.platform_input import objects, read_limited, storable, strict_json
from adapters.whatsapp.sender import OUTSIDE_WINDOW
from adapters.whatsapp.updates import CHANNEL, sender
from core.ports import DeliveryReport, KeepDeliveryReports, StoreEvent, StoreUnavailable

WEBHOOK_PATH = "/webhooks/whatsapp"
MAX_BODY = 3_000_000  # up to 1,000 updates may come in one POST

log = logging.getLogger("salonbot.whatsapp")


def signature(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _report(status: Mapping[str, Any]) -> DeliveryReport | None:
    wamid, state, stamp = status.get("id"), status.get("status"), status.get("timestamp")
    if not (isinstance(wamid, str) and isinstance(state, str) and isinstance(stamp, str)):
        return None
    if not stamp.isascii() or not stamp.isdecimal() or len(stamp) > 11:
        return None
    errors = objects(status, "errors")
    error = "; ".join(
        f"{e.get('code')}: {e.get('title') or e.get('message') or ''}" for e in errors
    )
    try:
        at = datetime.fromtimestamp(int(stamp), UTC)
    except (OverflowError, OSError, ValueError):
        return None
    # 131047 in a failed status: the window had closed after all (Meta often says so only
    # here, the send having been accepted): the template follows, as for a refused send.
    window_closed = any(e.get("code") == OUTSIDE_WINDOW for e in errors)
    return DeliveryReport(CHANNEL, wamid, state, at, error, window_closed)


def _shape(message: Mapping[str, Any]) -> dict[str, object]:
    """What a log may say of a message: its kind and fields, never what it says."""
    return {
        "channel": CHANNEL,
        "type": str(message.get("type"))[:40],
        "fields": [str(key)[:40] for key in sorted(message)[:20]],
    }


def read_notification(
    body: Mapping[str, Any], phone_number_id: str
) -> tuple[list[tuple[str, str, dict[str, Any]]], list[DeliveryReport]]:
    """(wamid, customer, stored payload) for each message to our number, and the delivery
    reports. Items that cannot be read or kept are skipped (and logged), never the batch."""
    messages: list[tuple[str, str, dict[str, Any]]] = []
    reports: list[DeliveryReport] = []
    for entry in objects(body, "entry"):
        for change in objects(entry, "changes"):
            value = change.get("value")
            if change.get("field") != "messages" or not isinstance(value, Mapping):
                continue
            metadata = value.get("metadata")
            number = metadata.get("phone_number_id") if isinstance(metadata, Mapping) else None
            if number is not None and str(number) != phone_number_id:
                continue  # another number of the same business account: not ours to answer
            profiles = {
                c[key]: c
                for c in objects(value, "contacts")
                for key in ("user_id", "wa_id")  # the phone number's entry wins
                if isinstance(c.get(key), str)
            }
            for message in objects(value, "messages"):
                wamid, customer = message.get("id"), sender(message)
                if not (isinstance(wamid, str) and wamid):
                    log.warning("whatsapp message without an id skipped", extra=_shape(message))
                    continue
                if not customer:  # never dropped without a trace: kept, and ignored later
                    log.warning("whatsapp message without a sender", extra=_shape(message))
                    customer = f"unknown:{wamid[:100]}"
                try:
                    payload = storable(
                        {"message": dict(message), "contact": profiles.get(customer, {})}
                    )
                except ValueError:
                    log.warning("whatsapp message not storable", extra={"wamid": wamid[:100]})
                    continue
                messages.append((wamid, customer, payload))
            reports += [r for s in objects(value, "statuses") if (r := _report(s)) is not None]
    return messages, reports


async def _no_reports() -> int:
    return 0  # nothing to keep: the database is not asked (nor its outage told)


def whatsapp_webhook(
    store: StoreEvent,
    record: KeepDeliveryReports,
    app_secret: str,
    verify_token: str,
    phone_number_id: str,
) -> APIRouter:
    router = APIRouter()

    async def verify(request: Request) -> Response:
        query = request.query_params
        given = query.get("hub.verify_token", "").encode()
        if query.get("hub.mode") != "subscribe" or not secrets.compare_digest(
            given, verify_token.encode()
        ):
            return PlainTextResponse("Forbidden", status_code=403)
        return PlainTextResponse(query.get("hub.challenge", ""))

    async def receive(request: Request) -> Response:
        started = time.perf_counter()
        body = await read_limited(request.stream(), request.headers.get("content-length"), MAX_BODY)
        if body is None:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        given = request.headers.get("x-hub-signature-256", "")
        if not secrets.compare_digest(given.encode(), signature(body, app_secret).encode()):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        try:
            notification = strict_json(body)
            messages, reports = read_notification(notification, phone_number_id)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return JSONResponse({"error": "body is not a notification"}, status_code=400)
        try:
            # Messages together, in their order: one commit for the lot (see StoreInbound).
            # The reports alongside, not after: each step is bounded (about 2 s), and the
            # two side by side keep the whole answer within one bound, not two.
            storing = asyncio.gather(
                *(store(CHANNEL, wamid, sender, payload) for wamid, sender, payload in messages)
            )
            stored, _ = await asyncio.gather(storing, record(reports) if reports else _no_reports())
        except StoreUnavailable:  # down, hanging or overloaded (logged once, by the inbox)
            return JSONResponse({"error": "not stored"}, status_code=503)
        log.info(
            "inbound stored",
            extra={
                "channel": CHANNEL,
                "messages": len(messages),
                "new": sum(stored),
                "statuses": len(reports),
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return JSONResponse({"ok": True})

    router.add_route(WEBHOOK_PATH, verify, methods=["GET"])
    router.add_route(WEBHOOK_PATH, receive, methods=["POST"])
    return router
