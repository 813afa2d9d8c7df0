"""Google Calendar both ways, end to end, as a salon runs it.

salonbot's HTTP app is served over HTTPS on loopback (a certificate made here, which the
fake Google trusts as it would a public CA's): the fake Calendar API (the real
google-api-python-client, a service-account key made here) posts its push notifications
to the real webhook, and customers write through the real Telegram route (the fake Bot
API, the inbox workers, the outbox dispatcher). The real ``Scheduler`` ticks: it opens
Maria's push channel, pushes bookings to her calendar, and runs the import when a
notification asks for it. Nothing is driven by hand but what people do: a customer
chatting, Maria in her Google Calendar (the fake's ``owner_*``), the desk booking.

The clock runs from Monday 2026-12-07 07:00 in Berlin, Google's with it (as NTP keeps
them). Maria works Mondays 09:00-18:00 (13:00-13:30 a break); a manicure is 1 h, then
10 min of buffer.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.google_calendar.client import GoogleCalendars
from adapters.google_calendar.webhook import WEBHOOK_PATH
from core.catalog.file import load_catalog_text
from core.domain.availability import SlotQuery
from core.domain.booking import Actor
from core.linked_calendars.ports import event_id
from core.services.catalog import load_catalog
from core.services.pacing import Pacing
from salonbot.bootstrap import Salonbot
from salonbot.scheduler import Scheduler
from salonbot.telegram_runtime import build_telegram, make_bot
from salonbot.web import create_web_app
from tests.adapters.telegram_harness import SECRET, Salon, buttons, eventually
from tests.catalog_cases import edited, put
from tests.fakes.clock import RunningClock
from tests.fakes.google_calendar import FakeGoogleCalendar
from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram, SentMessage
from tests.fakes.tls import LoopbackCertificate, loopback_certificate
from tests.waiting import settled, until

MARIA = "maria@group.calendar.google.com"
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 12, 7)
MONDAY_MORNING = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
HOUR = timedelta(hours=1)
ADA, BEA = 7001, 7002
DESK = Actor.staff("owner@salon.test")
# The conversation is not what is tested here: Telegram's pacing (a message a second per
# chat) would only make each booking take seconds.
QUICK = Pacing(per_chat_rate=100.0, per_chat_burst=10.0, overall_rate=100.0, overall_burst=10.0)


def monday(hour: int, minute: int = 0) -> datetime:
    """Monday 2026-12-07 at ``hour``:``minute`` in Berlin, in UTC."""
    return datetime(2026, 12, 7, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def own_event(start: datetime, *, minutes: int = 60, free: bool = False) -> dict[str, Any]:
    """An event of Maria's own life, as she adds it in Google Calendar."""
    event = {
        "summary": "Dentist",
        "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Berlin"},
        "end": {
            "dateTime": (start + timedelta(minutes=minutes)).isoformat(),
            "timeZone": "Europe/Berlin",
        },
    }
    if free:
        event["transparency"] = "transparent"
    return event


_CALM = text(
    """
    SELECT NOT EXISTS (SELECT 1 FROM calendar_pushes WHERE done_at IS NULL AND parked_at IS NULL)
       AND NOT EXISTS (
           SELECT 1 FROM calendar_syncs
            WHERE synced_at IS NULL OR wanted_at IS NOT NULL OR claimed_until IS NOT NULL)
    """
)


@dataclass
class TwoWay:
    """The salon running, Google and Telegram around it."""

    app: Salonbot
    clock: RunningClock
    google: FakeGoogleCalendar
    chat: Salon
    pokes: int = 0

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return await self.chat.rows(sql)

    async def starts(self) -> list[datetime]:
        """Where a manicure with Maria may start on Monday, as a customer is offered."""
        slots = await self.app.find_slots(SlotQuery("manicure", MONDAY, MONDAY, "maria"))
        return [slot.start for slot in slots]

    def writes(self) -> list[tuple[str, str]]:
        """The calls that changed an event in Google (not reads, not push channels)."""
        return [
            (method, path)
            for method, path in self.google.calls
            if method != "GET" and "/events" in path and not path.endswith("/watch")
        ]

    def event(self, booking_id: int) -> dict[str, Any] | None:
        """The booking's event in Maria's calendar, None when there is none."""
        for event in self.google.events(MARIA):
            if event["id"] == event_id(booking_id):
                return event
        return None

    def event_start(self, booking_id: int) -> datetime | None:
        event = self.event(booking_id)
        return None if event is None else datetime.fromisoformat(event["start"]["dateTime"])

    async def calm(self) -> None:
        """Nothing is on its way between salonbot and Google: no push open, every
        notification delivered, no sync wanted or running."""

        async def calm() -> bool:
            await self.google.drain()
            async with self.app.engine.connect() as connection:
                return bool((await connection.execute(_CALM)).scalar_one())

        await until(calm, "salonbot and Google Calendar are in step", within=10)

    async def quiet(self) -> None:
        """Calm, twice over: each time Maria touches an unrelated event of hers far away
        and the calendar is read again. A read that began after a moment runs in a later
        import run than any before it (a run claims its calendars as it starts, and runs
        never overlap), so what earlier reads handed over has been followed through."""
        for _ in range(2):
            await self.calm()
            mark = self.clock.now()
            self.pokes += 1
            poke = own_event(datetime(2027, 1, 3, 8, tzinfo=UTC), minutes=self.pokes, free=True)
            self.google.owner_put(MARIA, {**poke, "id": "poke00000"})

            async def read_since(mark: datetime = mark) -> bool:
                [(synced_at,)] = await self.rows("SELECT synced_at FROM calendar_syncs")
                return synced_at is not None and synced_at > mark

            await until(read_since, "the calendar is read again", within=10)
        await self.calm()
        await settled(self.app.engine)

    def to(self, chat: int) -> list[SentMessage]:
        return self.chat.to(chat)

    async def book_in_chat(self, chat: int, start: datetime) -> int:
        """The customer books a manicure with Maria at ``start`` in Telegram; the id."""
        await self.times(chat)
        await self.tap_time(chat, start)
        booked = await self.chat.tap(chat, "Confirm")
        assert booked.text.startswith("Booked!"), booked.text
        [(booking_id,)] = await self.rows(
            "SELECT id FROM bookings WHERE status = 'confirmed'"
            f" AND starts_at = '{start.isoformat()}'"
        )
        return int(booking_id)

    async def times(self, chat: int) -> SentMessage:
        """The customer is shown Monday's times for a manicure with Maria."""
        await self.chat.say(chat, "/start")
        await self.chat.tap(chat, "Book a visit")
        await self.chat.tap(chat, "Nails")
        await self.chat.tap(chat, "Manicure")
        await self.chat.tap(chat, "Maria")
        return await self.chat.tap(chat, "Mon 7 Dec")

    async def tap_time(self, chat: int, start: datetime) -> SentMessage:
        """The customer taps ``start`` among the times shown (paging on to it)."""
        label = f"{start.astimezone(BERLIN):%-I:%M %p}"
        for _ in range(6):
            shown = buttons(self.to(chat)[-1])
            found = [data for text_, data in shown if text_ == label]
            if found:
                update = self.chat.fake.callback_update(chat, found[0])
                return await self.chat.reply_after(chat, update)
            await self.chat.tap(chat, "More")
        raise AssertionError(f"{label} is not offered")

    async def history(self, booking_id: int) -> list[tuple[Any, ...]]:
        return await self.rows(
            "SELECT action, actor_ref FROM booking_events"
            f" WHERE booking_id = {booking_id} ORDER BY id"
        )

    async def booking(self, booking_id: int) -> tuple[Any, ...]:
        [row] = await self.rows(
            f"SELECT status, starts_at, version FROM bookings WHERE id = {booking_id}"
        )
        return row

    async def alerts(self) -> list[tuple[Any, ...]]:
        return await self.rows("SELECT kind, booking_id, event_id FROM calendar_alerts ORDER BY id")

    async def busy(self) -> list[tuple[Any, ...]]:
        """Maria's busy time from Google: (event id, start, end), in time order."""
        return await self.rows(
            "SELECT event_id, starts_at, ends_at FROM calendar_busy"
            " WHERE event_id <> 'poke00000' ORDER BY starts_at, event_id"
        )


@pytest.fixture(scope="module")
def certificate() -> LoopbackCertificate:
    return loopback_certificate()


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def salon(
    clean_engine: AsyncEngine, certificate: LoopbackCertificate, tmp_path: Path
) -> AsyncIterator[TwoWay]:
    clock = RunningClock(MONDAY_MORNING)
    port = _port()
    base = f"https://127.0.0.1:{port}"
    async with (
        FakeGoogleCalendar() as google,
        FakeTelegram(per_chat_limit=None, global_limit=None) as telegram,
    ):
        google.add_calendar(MARIA, time_zone="Europe/Berlin")
        google.trust(certificate.certificate_pem)
        google.clock = lambda: clock.now().timestamp()
        key_file = tmp_path / "key.json"
        key_file.write_text(json.dumps(google.service_account_info()))
        app = Salonbot(
            clean_engine,
            clock,
            linked_calendars=GoogleCalendars.from_key_file(
                key_file, api_base=google.base_url, timeout=5.0
            ),
            calendar_webhook_url=f"{base}{WEBHOOK_PATH}",
        )
        document, _ = load_catalog_text(edited(put("staff", 1, "google_calendar", value=MARIA)))
        await load_catalog(app.uow, clock, document)

        runtime = build_telegram(
            app,
            make_bot(DEFAULT_TOKEN, telegram.base_url),
            webhook_secret=SECRET,
            pacing=QUICK,
            poll_interval=0.05,
        )
        runtime.scheduler = Scheduler(
            app,
            runtime.outbox,
            calendars_every=0.1,
            calendar_import_every=0.5,
            # The channel is opened for a calendar the import has a row for: the second
            # tick does it (in a minute, as configured by default).
            calendar_channels_every=0.2,
        )
        certificate_file, key = certificate.write(tmp_path)
        server = uvicorn.Server(
            uvicorn.Config(
                create_web_app(app, runtime.routers, runtime.running),
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
        trusting = ssl.create_default_context(cadata=certificate.certificate_pem)
        try:
            async with httpx.AsyncClient(base_url=base, verify=trusting, timeout=10) as client:
                await runtime.start()
                try:
                    two_way = TwoWay(app, clock, google, Salon(app, telegram, runtime, client))
                    # Maria's channel is open and her calendar read once.
                    await eventually(lambda: google.live_channels(MARIA))
                    await two_way.calm()
                    yield two_way
                finally:
                    await runtime.stop()
        finally:
            await google.drain()
            server.should_exit = True
            await serving


async def test_an_event_maria_adds_in_google_takes_its_time_from_the_chat_until_deleted(
    salon: TwoWay,
) -> None:
    eleven, three = monday(11), monday(15)
    assert {eleven, three} <= set(await salon.starts())
    await salon.times(ADA)  # 11:00 is on the screen

    salon.google.owner_put(MARIA, own_event(three, free=True))  # shown as free
    dentist = salon.google.owner_put(MARIA, own_event(eleven))

    # The notification reached the webhook, which woke the import: no polling is due.
    await until(lambda: _not_offered(salon, eleven), "11:00 is no longer offered", within=5)
    channel = salon.google.live_channels(MARIA)[0].channel_id
    assert ("exists", 200) in [(d.state, d.status) for d in salon.google.delivered(channel)]
    assert three in await salon.starts()
    assert await salon.busy() == [(dentist, eleven, eleven + HOUR)]

    taken = await salon.tap_time(ADA, eleven)
    assert taken.text.startswith("Sorry, that time was just taken."), taken.text
    assert await salon.rows("SELECT count(*) FROM bookings") == [(0,)]  # nor a hold

    salon.google.owner_delete(MARIA, dentist)
    await until(lambda: _offered(salon, eleven), "11:00 is offered again", within=5)
    assert await salon.busy() == []


def one_put(booking_id: int) -> list[tuple[str, str]]:
    """The calls of one push putting the booking's event that is already there."""
    events = f"/calendar/v3/calendars/{MARIA}/events"
    return [("POST", events), ("PATCH", f"{events}/{event_id(booking_id)}")]


async def _offered(salon: TwoWay, start: datetime) -> bool:
    return start in await salon.starts()


async def _not_offered(salon: TwoWay, start: datetime) -> bool:
    return start not in await salon.starts()


async def test_a_chat_booking_maria_moves_in_google_is_moved_and_the_customer_told(
    salon: TwoWay,
) -> None:
    booking = await salon.book_in_chat(ADA, monday(11))
    await eventually(lambda: salon.event_start(booking) == monday(11), within=5)
    await salon.calm()
    written = len(salon.writes())

    salon.google.owner_move(MARIA, event_id(booking), monday(15), monday(16))

    moved = await eventually(
        lambda: [m for m in salon.to(ADA) if "has moved your visit" in m.text], within=5
    )
    assert "3:00" in moved[0].text, moved[0].text
    status, start, _ = await salon.booking(booking)
    assert (status, start) == ("confirmed", monday(15))
    assert (await salon.history(booking))[-1] == ("rescheduled", "google:maria")

    # No ping-pong: the move's own push puts the same times, once (an insert that finds
    # the event, then a patch); its echo and later reads change nothing more.
    await salon.quiet()
    assert salon.writes()[written:] == one_put(booking)
    assert salon.event_start(booking) == monday(15)
    assert await salon.booking(booking) == (status, start, _)
    assert len([m for m in salon.to(ADA) if "has moved your visit" in m.text]) == 1


async def test_a_move_in_google_onto_another_booking_is_put_back_and_maria_alerted(
    salon: TwoWay,
) -> None:
    booking = await salon.book_in_chat(ADA, monday(11))
    other = await salon.app.bookings.book("manicure", monday(15), DESK, staff_key="maria")
    await eventually(lambda: salon.event_start(other.id) == monday(15), within=5)
    await salon.calm()
    before, story = await salon.booking(booking), await salon.history(booking)
    said = len(salon.to(ADA))
    written = len(salon.writes())

    salon.google.owner_move(MARIA, event_id(booking), monday(15), monday(16))

    await until(lambda: _alerted(salon), "an alert is raised", within=5)
    await eventually(lambda: salon.event_start(booking) == monday(11), within=5)
    await salon.quiet()
    assert await salon.alerts() == [("reverted", booking, event_id(booking))]
    assert await salon.booking(booking) == before
    assert await salon.history(booking) == story  # held, then confirmed: nothing since
    assert salon.event_start(booking) == monday(11)
    assert salon.event_start(other.id) == monday(15)
    assert salon.writes()[written:] == one_put(booking)  # put back, once
    assert len(salon.to(ADA)) == said  # the customer's visit did not change


async def _alerted(salon: TwoWay) -> bool:
    return bool(await salon.alerts())


async def test_a_chat_booking_maria_deletes_in_google_is_cancelled_and_the_customer_told(
    salon: TwoWay,
) -> None:
    booking = await salon.book_in_chat(ADA, monday(11))
    await eventually(lambda: salon.event(booking), within=5)
    await salon.calm()
    written = len(salon.writes())

    salon.google.owner_delete(MARIA, event_id(booking))

    told = await eventually(
        lambda: [m for m in salon.to(ADA) if "has cancelled your visit" in m.text], within=5
    )
    assert [label for label, _ in buttons(told[0])] == ["Book again"]
    assert (await salon.booking(booking))[0] == "cancelled"
    assert (await salon.history(booking))[-1] == ("cancelled", "google:maria")
    await salon.quiet()
    assert salon.event(booking) is None
    # The cancellation's push removes the event: Google says it is gone already.
    events = f"/calendar/v3/calendars/{MARIA}/events"
    assert salon.writes()[written:] == [("DELETE", f"{events}/{event_id(booking)}")]
    assert monday(11) in await salon.starts()

    again = await salon.chat.tap(ADA, "Book again")
    assert "Nails" in [label for label, _ in buttons(again)]


async def test_an_expired_sync_token_reads_in_full_and_loses_or_doubles_nothing(
    salon: TwoWay,
) -> None:
    dentist = salon.google.owner_put(MARIA, own_event(monday(9)))
    booking = await salon.book_in_chat(ADA, monday(11))
    await eventually(lambda: salon.event(booking), within=5)
    await salon.calm()
    [(token, window_start)] = await salon.rows(
        "SELECT sync_token, window_start FROM calendar_syncs"
    )

    salon.google.expire_sync_tokens(MARIA)
    salon.google.owner_move(MARIA, event_id(booking), monday(15), monday(16))
    lunch = salon.google.owner_put(MARIA, own_event(monday(17), minutes=30))

    await eventually(
        lambda: [m for m in salon.to(ADA) if "has moved your visit" in m.text], within=5
    )
    await salon.quiet()
    # A full read (its window moved on with the clock) under a new token.
    [(new_token, new_window_start)] = await salon.rows(
        "SELECT sync_token, window_start FROM calendar_syncs"
    )
    assert new_token != token
    assert new_window_start > window_start
    assert await salon.busy() == [
        (dentist, monday(9), monday(10)),
        (lunch, monday(17), monday(17, 30)),
    ]
    assert (await salon.booking(booking))[:2] == ("confirmed", monday(15))
    assert [h for h in await salon.history(booking) if h[0] == "rescheduled"] == [
        ("rescheduled", "google:maria")
    ]
    assert len([m for m in salon.to(ADA) if "has moved your visit" in m.text]) == 1
    ours = [e for e in salon.google.events(MARIA) if e["id"] == event_id(booking)]
    assert [datetime.fromisoformat(e["start"]["dateTime"]) for e in ours] == [monday(15)]


async def test_a_chat_booking_just_before_a_conflicting_event_is_imported_is_alerted_once(
    salon: TwoWay,
) -> None:
    await salon.times(ADA)
    await salon.tap_time(ADA, monday(11))  # the summary: Confirm is next
    # Google is busy for the read Maria's new meeting asks for (retry in 2 s) ...
    salon.google.fail_next(1, 503, "backendError", retry_after=2)
    meeting = salon.google.owner_put(MARIA, own_event(monday(11, 30)))
    await until(lambda: _failed_once(salon), "the read failed", within=5)
    # ... and the customer confirms meanwhile: salonbot does not know of the meeting yet.
    booked = await salon.chat.tap(ADA, "Confirm")
    assert booked.text.startswith("Booked!"), booked.text
    [(booking,)] = await salon.rows("SELECT id FROM bookings WHERE status = 'confirmed'")

    await until(lambda: _alerted(salon), "an alert is raised", within=5)
    await salon.calm()
    salon.google.expire_sync_tokens(MARIA)  # the next read is a full one: all replayed
    await salon.quiet()

    assert await salon.alerts() == [("conflict", booking, meeting)]
    assert (await salon.booking(booking))[:2] == ("confirmed", monday(11))
    assert salon.event_start(booking) == monday(11)  # left for the staff to settle
    assert await salon.busy() == [(meeting, monday(11, 30), monday(12, 30))]


async def _failed_once(salon: TwoWay) -> bool:
    return await salon.rows("SELECT failures FROM calendar_syncs") == [(1,)]
