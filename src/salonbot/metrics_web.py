"""``/metrics`` over HTTP, and the webhooks' latency.

Two ways to scrape (README: Observability), either or both:

* ``METRICS_PORT``: a listener of its own on ``METRICS_HOST`` (127.0.0.1 by default),
  never reached through the reverse proxy;
* ``METRICS_TOKEN``: ``/metrics`` on the main app, for ``Authorization: Bearer <token>``
  only (compared in constant time); without the token the main app has no ``/metrics``.
  With both set, the own port asks for the token too.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.google_calendar.webhook import WEBHOOK_PATH as GOOGLE_CALENDAR_PATH
from adapters.telegram.webhook import WEBHOOK_PATH as TELEGRAM_PATH
from adapters.whatsapp.webhook import WEBHOOK_PATH as WHATSAPP_PATH
from salonbot.metrics import CONTENT_TYPE, Metrics

# The routes whose latency is measured, by path: the platforms' webhooks.
WEBHOOK_ROUTES: Mapping[str, str] = {
    TELEGRAM_PATH: "telegram",
    WHATSAPP_PATH: "whatsapp",
    GOOGLE_CALENDAR_PATH: "google_calendar",
}


class WebhookTimer:
    """ASGI middleware: the time from a webhook request's arrival to the end of its
    answer, by route and status (a request that raised counts as 500). Other paths pass
    untouched, streams included."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, routes: Mapping[str, str] = WEBHOOK_ROUTES
    ) -> None:
        self._app = app
        self._metrics = metrics
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, answer)
        finally:
            self._metrics.webhook_answered(route, status, time.perf_counter() - started)


def time_webhooks(web: FastAPI, metrics: Metrics) -> None:
    web.add_middleware(WebhookTimer, metrics=metrics)


def metrics_route(metrics: Metrics, token: str | None) -> APIRouter:
    """``GET /metrics``; with ``token``, only for ``Authorization: Bearer <token>``."""
    router = APIRouter()
    wanted = None if token is None else hashlib.sha256(token.encode()).digest()

    @router.get("/metrics", include_in_schema=False)
    async def scrape(authorization: Annotated[str | None, Header()] = None) -> Response:
        if wanted is not None and not _bearer_is(authorization, wanted):
            return Response(
                "a bearer token is required (METRICS_TOKEN)\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                media_type="text/plain",
            )
        return Response(await metrics.exposition(), media_type=CONTENT_TYPE)

    return router


def _bearer_is(authorization: str | None, wanted: bytes) -> bool:
    scheme, _, given = (authorization or "").partition(" ")
    # Digests of equal length: the comparison takes as long whatever was sent.
    digest = hashlib.sha256(given.strip().encode("utf-8", "replace")).digest()
    return hmac.compare_digest(digest, wanted) and scheme.lower() == "bearer"


def metrics_app(metrics: Metrics, token: str | None) -> FastAPI:
    """The listener of ``METRICS_PORT``: ``/metrics`` alone."""
    web = FastAPI(title="salonbot metrics", docs_url=None, redoc_url=None, openapi_url=None)
    web.include_router(metrics_route(metrics, token))
    return web
