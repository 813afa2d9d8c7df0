"""The day page's "Google Calendar" notices as ``salonbot serve`` wires them, on Postgres:
open alerts with a dismiss button (a signed form), stuck pushes and the sync state, the
owner seeing everyone's and a staff member their own; nothing at all without a calendar."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.ports import Role
from core.catalog.file import load_catalog_text
from core.db.tables import calendar_syncs, staff
from core.domain.booking import Actor, Booking
from core.linked_calendars.edits import RevertReason
from core.services.calendar_alerts import AlertKind, raise_alert
from core.services.catalog import load_catalog
from salonbot.bootstrap import Salonbot
from salonbot.web import create_web_app
from tests.catalog_cases import EXAMPLE_CATALOG
from tests.fakes.clock import FakeClock
from tests.fakes.linked_calendars import FakeLinkedCalendars
from tests.integration.test_calendar_pushes import calendar_of, pusher
from tests.staff_chats import add_customer

MONDAY_10 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # the clock: Monday 07:00 in Berlin
WEDNESDAY_12 = datetime(2026, 12, 9, 11, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NOTICES = re.compile(r'<details class="linked".*?</details>', re.S)


@pytest.fixture
async def salon(clean_engine: AsyncEngine, clock: FakeClock) -> Salonbot:
    calendars = FakeLinkedCalendars()
    calendars.refuse_next(1, "calendar not found or not shared (404 notFound)", transient=False)
    app = Salonbot(clean_engine, clock, linked_calendars=calendars, calendar_of=calendar_of)
    document, _ = load_catalog_text(EXAMPLE_CATALOG.read_text(encoding="utf-8"))
    await load_catalog(app.uow, clock, document)
    await app.accounts.add("owner@salon.test", PASSWORD, Role.OWNER)
    await app.accounts.add("maria@salon.test", PASSWORD, Role.STAFF, "maria")
    await app.accounts.add("olga@salon.test", PASSWORD, Role.STAFF, "olga", language="ru")
    return app


@pytest.fixture
async def client(salon: Salonbot) -> AsyncIterator[httpx.AsyncClient]:
    web = create_web_app(salon, [], lambda: True)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salon.test") as client:
        yield client


@pytest.fixture
async def troubles(salon: Salonbot) -> tuple[Booking, Booking]:
    """Maria's booking has a conflict; Olga's was put back after a move and its push to
    her calendar is parked (not shared); Maria's calendar fails to be read."""
    ada = await add_customer(salon, "Ada Lovelace")
    olgas = await salon.bookings.book(
        "manicure", WEDNESDAY_12, Actor.staff("owner"), staff_key="olga", customer_id=ada
    )
    await pusher(salon).run()  # Olga's put: refused for good
    marias = await salon.bookings.book(
        "manicure", MONDAY_10, Actor.staff("owner"), staff_key="maria", customer_id=ada
    )
    async with salon.uow() as uow:
        catalog = await salon.catalogs.current(uow.connection)
        for key, booking, kind, detail in (
            ("maria", marias, AlertKind.CONFLICT, ""),
            ("olga", olgas, AlertKind.REVERTED, RevertReason.TAKEN),
        ):
            await raise_alert(
                uow.connection,
                catalog,
                staff_key=key,
                kind=kind,
                booking_id=booking.id,
                event_id="dentist",
                detail=detail,
                at=salon.clock.now(),
            )
        maria_id = await uow.connection.scalar(select(staff.c.id).where(staff.c.key == "maria"))
        await uow.connection.execute(
            insert(calendar_syncs).values(
                staff_id=maria_id,
                calendar_id="maria@example.org",
                failures=3,
                last_error="Google Calendar did not answer in time",
            )
        )
        await uow.commit()
    return marias, olgas


async def _sign_in(client: httpx.AsyncClient, email: str) -> None:
    form = await client.get("/staff/login")
    found = CSRF.search(form.text)
    assert found is not None
    signed = await client.post(
        "/staff/login", data={"email": email, "password": PASSWORD, "csrf": found.group(1)}
    )
    assert signed.status_code == 303


async def _notices(client: httpx.AsyncClient, path: str = "/staff/") -> str:
    page = await client.get(path)
    assert page.status_code == 200
    found = NOTICES.search(page.text)
    return "" if found is None else " ".join(found.group(0).split())


async def test_the_owner_sees_every_alert_stuck_push_and_failing_sync_and_dismisses_one(
    client: httpx.AsyncClient, troubles: tuple[Booking, Booking]
) -> None:
    marias, olgas = troubles
    await _sign_in(client, "owner@salon.test")

    shown = await _notices(client)

    assert shown.startswith(
        '<details class="linked" open> <summary>Google Calendar: 4 things to look at</summary>'
    )
    assert (
        f'<strong>Maria</strong> · <a href="/staff/booking/{marias.id}">Booking #{marias.id}</a>'
        f' (<time datetime="{marias.start.isoformat()}">Mon 7 Dec 10:00</time>):'
        " an event in the Google Calendar overlaps this booking"
    ) in shown
    assert (
        f'Booking #{olgas.id}</a> (<time datetime="{olgas.start.isoformat()}">Wed 9 Dec'
        " 12:00</time>): a change made in Google Calendar was put back: that time is not free"
        " (a booking, time off or an event of your own)"
    ) in shown
    assert (
        "not on the Google Calendar; salonbot gave up: calendar not found or not shared"
        " (404 notFound)"
    ) in shown
    assert (
        "<strong>Maria</strong>: reading it back failed 3 times in a row: Google Calendar"
        " did not answer in time"
    ) in shown
    dismiss = re.findall(r'action="(/staff/google/alerts/\d+/dismiss)"', shown)
    assert len(dismiss) == 2

    token = CSRF.search(shown)
    assert token is not None
    forged = await client.post(dismiss[0], data={"day": "2026-12-09"})
    assert forged.status_code == 403
    done = await client.post(dismiss[0], data={"csrf": token.group(1), "day": "2026-12-09"})
    assert (done.status_code, done.headers["location"]) == (303, "/staff/day/2026-12-09")
    again = await client.post(dismiss[0], data={"csrf": token.group(1), "day": "2026-12-09"})
    assert again.status_code == 303  # a second click: done already

    shown = await _notices(client, "/staff/day/2026-12-09")
    assert "3 things to look at" in shown
    assert "overlaps this booking" not in shown
    assert len(re.findall(r"/dismiss", shown)) == 1


async def test_a_staff_member_sees_only_their_own_in_their_language(
    client: httpx.AsyncClient, troubles: tuple[Booking, Booking]
) -> None:
    marias, olgas = troubles
    await _sign_in(client, "olga@salon.test")

    shown = await _notices(client)

    assert "Google Календарь: 2 вопроса требуют внимания" in shown  # her alert and push
    assert f"/staff/booking/{olgas.id}" in shown
    assert f"/staff/booking/{marias.id}" not in shown
    assert "изменение в Google Календаре отменено: это время занято" in shown
    [dismiss] = re.findall(r'action="(/staff/google/alerts/\d+/dismiss)"', shown)

    # Maria's alert is not hers to dismiss, even by a form made by hand.
    other = int(dismiss.split("/")[-2]) - 1
    token = CSRF.search(shown)
    assert token is not None
    refused = await client.post(
        f"/staff/google/alerts/{other}/dismiss", data={"csrf": token.group(1)}
    )
    assert refused.status_code == 403
    bad = await client.post("/staff/google/alerts/x1/dismiss", data={"csrf": token.group(1)})
    assert bad.status_code == 404


async def test_without_linked_calendars_the_day_page_shows_no_notices(
    client: httpx.AsyncClient,
) -> None:
    await _sign_in(client, "owner@salon.test")

    page = await client.get("/staff/")

    assert page.status_code == 200
    assert "Google Calendar" not in page.text


async def test_with_every_calendar_in_step_the_notices_stay_closed(
    client: httpx.AsyncClient, salon: Salonbot, clock: FakeClock
) -> None:
    async with salon.engine.begin() as connection:
        maria_id = await connection.scalar(select(staff.c.id).where(staff.c.key == "maria"))
        await connection.execute(
            insert(calendar_syncs).values(
                staff_id=maria_id, calendar_id="maria@example.org", synced_at=clock.now()
            )
        )
    await _sign_in(client, "maria@salon.test")

    shown = await _notices(client)

    assert shown.startswith('<details class="linked"> <summary>Google Calendar: in step</summary>')
    assert "<strong>Maria</strong>: read back at Mon 7 Dec 07:00" in shown
