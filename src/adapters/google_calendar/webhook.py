"""``/webhooks/google-calendar``: the staff calendars' push notifications in.

Google POSTs a notification with no body, only headers (``X-Goog-Channel-ID``,
``X-Goog-Channel-Token``, ``X-Goog-Resource-State``: ``sync`` when a channel opens, then
``exists``/``not_exists``; and the resource's id, URI, the message number). Whatever the
state, it means one thing: read the calendar again. The route checks the headers' sizes,
reads (and ignores) at most ``MAX_BODY`` bytes of body, and hands the channel id and token
to the core, which asks for a sync of that calendar and commits before the answer:

* 200: the notification is the channel's (then ``woken`` tells the import to look now);
* 403: an unknown channel, a wrong or missing token: nothing is stored (Google does not
  retry a 4xx); one answer for both, so the route tells nobody which channels exist;
* 400: not a notification (no channel id or state, a header too long); 413: a body;
* 503: the database did not answer in time (Google retries a 503 with backoff).

The token is never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask

from adapters.common.platform_input import read_limited
from core.linked_calendars.notifications import CalendarNotifications
from core.ports import StoreUnavailable

WEBHOOK_PATH = "/webhooks/google-calendar"
MAX_BODY = 4096  # Google sends none
# The notification headers read, and the most characters each may have (a channel id is
# at most 64, a token 256 by Google's rules; a state is a word; a message number an int64).
HEADER_LIMITS = {
    "x-goog-channel-id": 64,
    "x-goog-channel-token": 256,
    "x-goog-resource-state": 32,
    "x-goog-message-number": 20,
}

log = logging.getLogger("salonbot.google_calendar")


def google_calendar_webhook(
    notifications: CalendarNotifications, woken: Callable[[], None] | None = None
) -> APIRouter:
    router = APIRouter()

    async def receive(request: Request) -> Response:
        body = await read_limited(request.stream(), request.headers.get("content-length"), MAX_BODY)
        if body is None:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        headers = {name: request.headers.get(name, "") for name in HEADER_LIMITS}
        channel_id, state = headers["x-goog-channel-id"], headers["x-goog-resource-state"]
        too_long = any(len(headers[name]) > limit for name, limit in HEADER_LIMITS.items())
        if not channel_id or not state or too_long:
            return JSONResponse({"error": "not a notification"}, status_code=400)
        token = headers["x-goog-channel-token"]
        try:
            accepted = bool(token) and await notifications.notified(channel_id, token)
        except StoreUnavailable:  # down, hanging or overloaded (logged once, by the bound)
            return JSONResponse({"error": "not stored"}, status_code=503)
        about = {"channel": channel_id, "state": state, "number": headers["x-goog-message-number"]}
        if not accepted:
            log.info("calendar notification refused", extra=about)
            return JSONResponse({"error": "unknown channel or bad token"}, status_code=403)
        log.info("calendar notification", extra=about)
        return JSONResponse(
            {"ok": True}, background=BackgroundTask(woken) if woken is not None else None
        )

    router.add_route(WEBHOOK_PATH, receive, methods=["POST"])
    return router
