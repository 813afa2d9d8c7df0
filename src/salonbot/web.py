"""The HTTP app: the channels' webhook routes, the staff pages (``/staff/``), the staff
API (``/api/v1/``), ``/healthz`` and ``/readyz``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from adapters.google_calendar.webhook import google_calendar_webhook
from adapters.staff_api.app import mount_api
from adapters.staff_api.side import ApiSide
from adapters.staff_web.app import mount_staff
from adapters.staff_web.side import StaffSide
from salonbot.bootstrap import Salonbot
from salonbot.metrics import Metrics
from salonbot.metrics_web import metrics_route, time_webhooks
from salonbot.migrate import head_revision
from salonbot.readiness import DatabaseProbe


def create_web_app(
    app: Salonbot,
    routers: Sequence[APIRouter],
    workers_running: Callable[[], bool],
    *,
    store_answering: Callable[[], bool] | None = None,
    https: bool = False,
    public_base_url: str | None = None,
    metrics: Metrics | None = None,
    metrics_token: str | None = None,
) -> FastAPI:
    """The app; with ``store_answering``, ``/readyz`` checks the inbox's store too (its
    transaction may hang on a dead connection while a fresh one answers the probe).
    ``https``: the salon's public address is HTTPS (the staff cookies are always Secure);
    ``public_base_url``: that address, for links read outside the browser (feeds).
    ``metrics``: the webhooks' latency is measured into it, and with ``metrics_token``
    it is served at ``/metrics`` to that bearer token (``salonbot.metrics_web``)."""
    database = DatabaseProbe(app.engine, head_revision())

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await database.close()

    web = FastAPI(
        title="salonbot", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )

    @web.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @web.get("/readyz")
    async def readyz() -> JSONResponse:
        """Ready for traffic: the database answers (within about 2 s), its schema is at
        head, workers run, the store is not stuck."""
        health = await database()
        checks = {
            "database": health.answers,
            "migrations": health.at_head,
            "workers": workers_running(),
        }
        if store_answering is not None:
            checks["store"] = store_answering()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    if metrics is not None:
        time_webhooks(web, metrics)
        if metrics_token is not None:
            web.include_router(metrics_route(metrics, metrics_token))
    for router in routers:
        web.include_router(router)
    if app.linked_calendars is not None:
        # The staff calendars' push notifications (channels are opened by processes with
        # an https PUBLIC_BASE_URL; one is accepted only for the channel a calendar's row
        # names, with its token).
        web.include_router(
            google_calendar_webhook(app.calendar_notifications, app.calendar_sync_wanted.notify)
        )
    side = StaffSide(
        app.accounts,
        app.calendar,
        app.salon_today,
        app.front_desk,
        app.customer_book,
        https=https,
        live=app.live,
        feeds=app.feeds,
        menu=app.service_menu,
        public_url=public_base_url,
        linked=app.linked_calendars_desk,
    )
    mount_staff(web, side)
    mount_api(
        web, ApiSide(app.accounts, app.calendar, app.front_desk, app.customer_book, app.clock)
    )
    return web
