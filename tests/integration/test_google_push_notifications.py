"""Push notifications end to end: salonbot's HTTP app served over HTTPS on loopback (a
certificate made here, which the fake Google trusts as it would a public CA's), the
channels' tick opening a channel through the real google-api-python-client, the fake
Calendar API posting ``sync`` and ``exists`` notifications to the real webhook, which asks
for a sync; forged notifications refused; renewal and removal seen from Google's side."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.google_calendar.client import GoogleCalendars
from adapters.google_calendar.webhook import WEBHOOK_PATH, google_calendar_webhook
from core.catalog.file import load_catalog_text
from core.db.unit_of_work import UnitOfWorkFactory
from core.linked_calendars.ports import EventDraft, event_id
from core.services.calendar_channels import CHANNEL_LIFE, ChannelRun
from core.services.calendar_notifications import StoredCalendarNotifications
from core.services.catalog import load_catalog
from core.services.wakeup import Wakeup
from salonbot.bootstrap import Salonbot
from salonbot.database import make_engine
from salonbot.scheduler import Scheduler
from salonbot.web import create_web_app
from tests.adapters.telegram_harness import eventually
from tests.calendar_rows import read_back, sync_not_wanted, sync_row
from tests.catalog_cases import EXAMPLE_CATALOG, edited, put
from tests.fakes.clock import FakeClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.fakes.tls import LoopbackCertificate, loopback_certificate

MARIA = "maria@group.calendar.google.com"


@dataclass
class Salon:
    app: Salonbot
    google: FakeGoogleCalendar
    calendars: GoogleCalendars
    webhook: str
    certificate: LoopbackCertificate

    async def open_channel(self) -> str:
        """The channels' tick opens Maria's channel; its first notification has come."""
        assert self.app.calendar_channels is not None
        assert await self.app.calendar_channels.run() == ChannelRun(opened=1)
        channel_id = str((await sync_row(self.app.engine, "maria"))["channel_id"])
        await self.google.drain()
        return channel_id

    def post(self) -> httpx.AsyncClient:
        context = ssl.create_default_context(cadata=self.certificate.certificate_pem)
        return httpx.AsyncClient(verify=context, timeout=10)


@pytest.fixture(scope="module")
def certificate() -> LoopbackCertificate:
    return loopback_certificate()


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def salon(
    clean_engine: AsyncEngine,
    clock: FakeClock,
    certificate: LoopbackCertificate,
    tmp_path: Path,
) -> AsyncIterator[Salon]:
    port = _port()
    webhook = f"https://127.0.0.1:{port}{WEBHOOK_PATH}"
    async with FakeGoogleCalendar() as google:
        google.add_calendar(MARIA)
        google.trust(certificate.certificate_pem)
        google.clock = lambda: clock.now().timestamp()  # Google's time is the test's
        key_file = tmp_path / "key.json"
        key_file.write_text(json.dumps(google.service_account_info()))
        calendars = GoogleCalendars.from_key_file(key_file, api_base=google.base_url)
        app = Salonbot(
            clean_engine, clock, linked_calendars=calendars, calendar_webhook_url=webhook
        )
        document, _ = load_catalog_text(edited(put("staff", 1, "google_calendar", value=MARIA)))
        await load_catalog(app.uow, clock, document)
        await read_back(app.engine, "maria", MARIA)

        certificate_file, key = certificate.write(tmp_path)
        server = uvicorn.Server(
            uvicorn.Config(
                create_web_app(app, [], lambda: True),
                host="127.0.0.1",
                port=port,
                log_config=None,
                access_log=False,
                ssl_certfile=str(certificate_file),
                ssl_keyfile=str(key),
            )
        )
        serving = asyncio.create_task(server.serve())
        await eventually(lambda: server.started)
        try:
            yield Salon(app, google, calendars, webhook, certificate)
        finally:
            await google.drain()
            server.should_exit = True
            await serving


def _draft(booking_id: int) -> EventDraft:
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    return EventDraft(
        event_id(booking_id),
        booking_id,
        "Manicure: Ada",
        "salonbot #1",
        start,
        start + timedelta(hours=1),
        "Europe/Berlin",
    )


async def test_a_change_in_the_calendar_reaches_the_webhook_and_asks_for_a_sync(
    salon: Salon, clock: FakeClock
) -> None:
    channel_id = await salon.open_channel()
    [sync] = salon.google.delivered(channel_id)
    assert (sync.state, sync.status) == ("sync", 200)
    await sync_not_wanted(salon.app.engine)  # as the import's sync would
    clock.advance(timedelta(minutes=1))

    await salon.calendars.put(MARIA, _draft(1))
    await salon.google.drain()

    exists = salon.google.delivered(channel_id)[1:]
    assert [(d.state, d.status) for d in exists] == [("exists", 200)]
    assert (await sync_row(salon.app.engine, "maria"))["wanted_at"] == clock.now()
    # The import is woken at once, not at its next tick.
    await asyncio.wait_for(salon.app.calendar_sync_wanted.wait(60), timeout=5)


async def test_the_first_notification_is_accepted_even_before_google_answers(
    salon: Salon,
) -> None:
    """Google may send ``sync`` before it answers ``watch``."""
    salon.google.sync_before_answer = True
    channel_id = await salon.open_channel()
    assert [(d.state, d.status) for d in salon.google.delivered(channel_id)] == [("sync", 200)]


async def test_forged_notifications_are_refused_and_change_nothing(salon: Salon) -> None:
    channel_id = await salon.open_channel()
    token = salon.google.channels[channel_id].token
    assert token is not None
    await sync_not_wanted(salon.app.engine)
    before = await sync_row(salon.app.engine, "maria")

    def notification(channel: str | None, token: str | None) -> dict[str, str]:
        headers = {"X-Goog-Resource-State": "exists", "X-Goog-Message-Number": "7"}
        if channel is not None:
            headers["X-Goog-Channel-ID"] = channel
        if token is not None:
            headers["X-Goog-Channel-Token"] = token
        return headers

    refused = [
        (notification(channel_id, "guess"), 403),
        (notification(channel_id, None), 403),
        (notification("another", token), 403),
        (notification(None, token), 400),
        (notification("x" * 65, token), 400),
        (notification(channel_id, "t" * 257), 400),
    ]
    async with salon.post() as client:
        for headers, status in refused:
            answer = await client.post(salon.webhook, headers=headers)
            assert answer.status_code == status, headers
        oversized = await client.post(
            salon.webhook, headers=notification(channel_id, token), content=b"x" * 5000
        )
        assert oversized.status_code == 413
        assert await sync_row(salon.app.engine, "maria") == before

        genuine = await client.post(salon.webhook, headers=notification(channel_id, token))
    assert genuine.status_code == 200
    assert (await sync_row(salon.app.engine, "maria"))["wanted_at"] is not None


async def test_a_renewed_channel_replaces_the_old_one_at_google(
    salon: Salon, clock: FakeClock
) -> None:
    old = await salon.open_channel()
    clock.advance(CHANNEL_LIFE - timedelta(hours=12))
    assert salon.app.calendar_channels is not None
    assert await salon.app.calendar_channels.run() == ChannelRun(renewed=1)
    new = str((await sync_row(salon.app.engine, "maria"))["channel_id"])

    assert [c.channel_id for c in salon.google.live_channels(MARIA)] == [new]
    await salon.calendars.put(MARIA, _draft(1))
    await salon.google.drain()
    assert [d.state for d in salon.google.delivered(old)] == ["sync"]
    assert [(d.state, d.status) for d in salon.google.delivered(new)] == [
        ("sync", 200),
        ("exists", 200),
    ]


async def test_a_calendar_taken_out_of_the_catalog_is_no_longer_watched(
    salon: Salon, clock: FakeClock
) -> None:
    await salon.open_channel()
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(salon.app.uow, clock, document)  # Maria without google_calendar

    assert salon.app.calendar_channels is not None
    assert await salon.app.calendar_channels.run() == ChannelRun(closed=1)
    assert salon.google.live_channels(MARIA) == []
    assert (await sync_row(salon.app.engine, "maria"))["channel_id"] is None


async def test_the_scheduler_keeps_the_channels_only_with_linked_calendars(
    salon: Salon,
) -> None:
    without = Salonbot(salon.app.engine, salon.app.clock)
    assert without.calendar_channels is None
    assert not Scheduler(without, Wakeup())._scheduler.get_job("calendar channels")
    assert WEBHOOK_PATH not in {
        getattr(route, "path", None) for route in create_web_app(without, [], bool).routes
    }

    scheduler = Scheduler(
        salon.app, Wakeup(), visits_every=3600, agendas_every=3600, calendars_every=3600
    )
    scheduler.start()
    try:
        await eventually(lambda: salon.google.live_channels(MARIA))
    finally:
        await scheduler.stop()


async def test_the_route_wakes_the_import_only_for_a_notification_it_kept(
    salon: Salon, clock: FakeClock
) -> None:
    channel_id = await salon.open_channel()
    token = salon.google.channels[channel_id].token
    assert token is not None
    woken: list[None] = []
    away = make_engine("postgresql://salonbot@127.0.0.1:9/nowhere")
    routes = {
        "here": google_calendar_webhook(
            salon.app.calendar_notifications, lambda: woken.append(None)
        ),
        "away": google_calendar_webhook(
            StoredCalendarNotifications(UnitOfWorkFactory(away), clock),
            lambda: woken.append(None),
        ),
    }

    async def post(where: str, token: str) -> int:
        web = FastAPI()
        web.include_router(routes[where])
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="https://salon.test") as client:
            headers = {
                "X-Goog-Channel-ID": channel_id,
                "X-Goog-Channel-Token": token,
                "X-Goog-Resource-State": "exists",
            }
            return (await client.post(WEBHOOK_PATH, headers=headers)).status_code

    try:
        started = time.monotonic()
        assert await post("away", token) == 503  # Google sends it again
        assert time.monotonic() - started < 3
        assert await post("here", "guess") == 403
        assert woken == []
        assert await post("here", token) == 200
        assert woken == [None]
    finally:
        await away.dispose()
