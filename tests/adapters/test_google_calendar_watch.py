"""Push channels through the real google-api-python-client against the fake Calendar API:
``watch`` and ``stop_watch``, and the notifications the fake sends as Google does (to an
HTTPS receiver on loopback whose certificate the fake is told to trust)."""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from adapters.google_calendar.client import GoogleCalendars
from core.linked_calendars.ports import CalendarRefused, EventDraft, event_id
from tests.adapters.telegram_harness import eventually
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.fakes.tls import LoopbackCertificate, loopback_certificate

MARIA = "maria@group.calendar.google.com"
TOKEN = "a-channel-token-of-43-characters-xxxxxxxxxx"


@dataclass
class Receiver:
    """An HTTPS server on loopback that keeps what it is sent and answers ``status``."""

    url: str
    status: int = 200
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture(scope="module")
def certificate() -> LoopbackCertificate:
    return loopback_certificate()


@pytest.fixture
async def receiver(certificate: LoopbackCertificate, tmp_path: Path) -> AsyncIterator[Receiver]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate.write(tmp_path))
    found = Receiver("")

    async def keep(request: web.Request) -> web.Response:
        found.received.append((dict(request.headers), await request.read()))
        return web.Response(status=found.status)

    app = web.Application()
    app.router.add_post("/notifications", keep)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    found.url = f"https://127.0.0.1:{runner.addresses[0][1]}/notifications"
    yield found
    await runner.cleanup()


@pytest.fixture
async def fake(certificate: LoopbackCertificate) -> AsyncIterator[FakeGoogleCalendar]:
    async with FakeGoogleCalendar() as server:
        server.add_calendar(MARIA)
        server.trust(certificate.certificate_pem)
        yield server


@pytest.fixture
def calendars(fake: FakeGoogleCalendar, tmp_path: Path) -> GoogleCalendars:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(fake.service_account_info()))
    return GoogleCalendars.from_key_file(key_file, api_base=fake.base_url, timeout=5.0)


def _in(days: float) -> datetime:
    # Google keeps milliseconds.
    instant = datetime.now(UTC) + timedelta(days=days)
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


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


async def test_watch_opens_a_channel_and_google_says_sync_first(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars, receiver: Receiver
) -> None:
    expires_at = _in(7)
    channel = await calendars.watch(
        MARIA, channel_id="channel-1", address=receiver.url, token=TOKEN, expires_at=expires_at
    )

    assert channel.channel_id == "channel-1"
    assert channel.resource_id
    assert channel.expires_at == expires_at
    await eventually(lambda: len(receiver.received) == 1)
    headers, body = receiver.received[0]
    assert body == b""
    assert headers["X-Goog-Channel-ID"] == "channel-1"
    assert headers["X-Goog-Channel-Token"] == TOKEN
    assert headers["X-Goog-Resource-State"] == "sync"
    assert headers["X-Goog-Message-Number"] == "1"
    assert headers["X-Goog-Resource-ID"] == channel.resource_id
    assert headers["X-Goog-Resource-URI"].endswith("/events?alt=json")
    assert headers["X-Goog-Channel-Expiration"].endswith(" GMT")
    assert fake.calls == [
        ("POST", "/calendar/v3/calendars/maria@group.calendar.google.com/events/watch")
    ]


async def test_every_change_of_the_events_is_an_exists_notification(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars, receiver: Receiver
) -> None:
    await calendars.watch(
        MARIA, channel_id="channel-1", address=receiver.url, token=TOKEN, expires_at=_in(7)
    )
    await calendars.put(MARIA, _draft(1))  # an insert
    await calendars.put(MARIA, _draft(1))  # a 409, then a patch
    await calendars.remove(MARIA, event_id(1))
    await fake.drain()

    states = sorted(
        (int(h["X-Goog-Message-Number"]), h["X-Goog-Resource-State"]) for h, _ in receiver.received
    )
    assert states == [(1, "sync"), (2, "exists"), (3, "exists"), (4, "exists")]


async def test_a_stopped_channel_says_nothing_more_and_stopping_again_is_fine(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars, receiver: Receiver
) -> None:
    channel = await calendars.watch(
        MARIA, channel_id="channel-1", address=receiver.url, token=TOKEN, expires_at=_in(7)
    )
    await fake.drain()
    await calendars.stop_watch(channel.channel_id, channel.resource_id)
    await calendars.stop_watch(channel.channel_id, channel.resource_id)  # Google's 404
    await calendars.put(MARIA, _draft(1))
    await fake.drain()

    assert fake.live_channels(MARIA) == []
    assert [h["X-Goog-Resource-State"] for h, _ in receiver.received] == ["sync"]
    assert [path for _, path in fake.calls][1:3] == ["/calendar/v3/channels/stop"] * 2


async def test_an_expired_channel_says_nothing(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars, receiver: Receiver
) -> None:
    await calendars.watch(
        MARIA, channel_id="channel-1", address=receiver.url, token=TOKEN, expires_at=_in(1)
    )
    await fake.drain()
    fake.clock = lambda: (datetime.now(UTC) + timedelta(days=2)).timestamp()
    await calendars.put(MARIA, _draft(1))
    await fake.drain()

    assert len(receiver.received) == 1  # the sync only


async def test_google_may_shorten_a_channel_and_the_answer_says_so(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars, receiver: Receiver
) -> None:
    fake.channel_lifetime_limit = 3600.0
    channel = await calendars.watch(
        MARIA, channel_id="channel-1", address=receiver.url, token=TOKEN, expires_at=_in(7)
    )
    assert abs(channel.expires_at - _in(1 / 24)) < timedelta(seconds=30)


@pytest.mark.parametrize(
    ("address", "channel_id", "reason"),
    [
        ("http://127.0.0.1:9/notifications", "channel-1", "push.webhookUrlNotHttps"),
        ("https://127.0.0.1:9/notifications", "x" * 65, "invalid"),
        ("https://127.0.0.1:9/notifications", "not a channel id", "invalid"),
    ],
)
async def test_watch_refuses_what_google_refuses(
    calendars: GoogleCalendars, address: str, channel_id: str, reason: str
) -> None:
    with pytest.raises(CalendarRefused) as refused:
        await calendars.watch(
            MARIA, channel_id=channel_id, address=address, token=TOKEN, expires_at=_in(7)
        )
    assert not refused.value.transient
    assert f"(400 {reason})" in refused.value.reason


async def test_a_channel_id_in_use_is_refused(
    calendars: GoogleCalendars, receiver: Receiver
) -> None:
    await calendars.watch(
        MARIA, channel_id="channel-1", address=receiver.url, token=TOKEN, expires_at=_in(7)
    )
    with pytest.raises(CalendarRefused, match="channelIdNotUnique"):
        await calendars.watch(
            MARIA, channel_id="channel-1", address=receiver.url, token=TOKEN, expires_at=_in(7)
        )


async def test_an_unshared_calendar_cannot_be_watched(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars, receiver: Receiver
) -> None:
    fake.add_calendar("olga@group.calendar.google.com", access=None)
    with pytest.raises(CalendarRefused) as refused:
        await calendars.watch(
            "olga@group.calendar.google.com",
            channel_id="channel-1",
            address=receiver.url,
            token=TOKEN,
            expires_at=_in(7),
        )
    assert not refused.value.transient
    assert "not found" in refused.value.reason


async def test_a_5xx_is_delivered_again_and_a_4xx_is_not(
    fake: FakeGoogleCalendar, calendars: GoogleCalendars, receiver: Receiver
) -> None:
    receiver.status = 503
    await calendars.watch(
        MARIA, channel_id="channel-1", address=receiver.url, token=TOKEN, expires_at=_in(7)
    )
    await fake.drain()
    assert [d.status for d in fake.delivered("channel-1")] == [503] * 4  # 3 redeliveries

    receiver.status = 403
    await calendars.put(MARIA, _draft(1))
    await fake.drain()
    assert [d.status for d in fake.delivered("channel-1")][4:] == [403]


async def test_an_untrusted_certificate_gets_nothing(
    calendars: GoogleCalendars, receiver: Receiver, tmp_path: Path
) -> None:
    async with FakeGoogleCalendar() as other:  # trusts no loopback certificate
        other.add_calendar(MARIA)
        key_file = tmp_path / "other.json"
        key_file.write_text(json.dumps(other.service_account_info()))
        elsewhere = GoogleCalendars.from_key_file(key_file, api_base=other.base_url)
        await elsewhere.watch(
            MARIA, channel_id="channel-1", address=receiver.url, token=TOKEN, expires_at=_in(7)
        )
        await other.drain()
        [delivery] = other.delivered("channel-1")

    assert delivery.status is None
    assert "Certificate" in delivery.error
    assert receiver.received == []
