"""The staff web as ``salonbot serve`` wires it: the real accounts (argon2, sessions in
Postgres) and the real calendar over the demo salon, through the app's own routes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.ports import Role
from core.conversation.state import State
from core.db.conversation_repository import ConversationRepository
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor
from salonbot.bootstrap import Salonbot
from salonbot.web import create_web_app
from tests.db_state import rows
from tests.fakes.clock import FakeClock

MONDAY = date(2026, 12, 7)  # the ``app`` fixture's clock: 07:00 in Berlin
EMAIL = "owner@salon.test"
PASSWORD = "a long enough password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def client(app: Salonbot) -> AsyncIterator[httpx.AsyncClient]:
    await app.accounts.add(EMAIL, PASSWORD, Role.OWNER)
    web = create_web_app(app, [], lambda: True)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salon.test") as client:
        yield client


async def _sign_in(
    client: httpx.AsyncClient, password: str = PASSWORD, email: str = EMAIL
) -> httpx.Response:
    form = await client.get("/staff/login")
    found = CSRF.search(form.text)
    assert found is not None
    return await client.post(
        "/staff/login", data={"email": email, "password": password, "csrf": found.group(1)}
    )


async def test_an_owner_signs_in_and_sees_todays_bookings_from_chat_and_desk(
    app: Salonbot, client: httpx.AsyncClient
) -> None:
    async with app.uow() as uow:
        ada, _ = await CustomerRepository(uow.connection).for_identity(
            "telegram", "501", app.clock.now(), name="Ada Lovelace", phone="+49 151 1"
        )
        ben = await CustomerRepository(uow.connection).add(
            "Ben Walker", app.clock.now(), phone="+49 160 2"
        )
        await uow.commit()
    await app.bookings.book(
        "manicure",
        datetime(2026, 12, 7, 9, tzinfo=UTC),
        Actor.customer(ada),
        staff_key="maria",
        customer_id=ada,
    )
    await app.bookings.book(
        "brow-shaping",
        datetime(2026, 12, 7, 13, tzinfo=UTC),
        Actor.staff("owner"),
        staff_key="maria",
        customer_id=ben,
    )
    expected = await app.calendar.day(MONDAY)
    services = {b.customer_name: b.service_name for c in expected.columns for b in c.bookings}

    assert (await _sign_in(client)).status_code == 303
    page = await client.get("/staff/")

    assert page.status_code == 200
    assert "Monday, 7 December 2026" in page.text
    for name, hour in (("Ada Lovelace", "10:00"), ("Ben Walker", "14:00")):
        block = re.search(
            r'<article class="booking[^>]*>(?:(?!</article>).)*' + name + r".*?</article>",
            page.text,
            re.S,
        )
        assert block is not None, name
        assert f">{hour}</time>" in block.group(0)
        assert services[name] in block.group(0)
    assert "Telegram" in page.text
    assert "Walk-in or phone" in page.text


async def test_a_wrong_password_is_refused_by_the_real_accounts(
    client: httpx.AsyncClient,
) -> None:
    answer = await _sign_in(client, "not the password")
    assert answer.status_code == 401
    assert "Wrong email or password." in answer.text
    assert (await client.get("/staff/")).status_code == 303


async def test_the_week_view_and_logout_through_the_real_services(
    client: httpx.AsyncClient,
) -> None:
    await _sign_in(client)
    week = await client.get("/staff/week/maria/2026-12-09")
    assert week.status_code == 200
    days = re.findall(r'<h2 class="head"><a href="/staff/day/([\d-]+)">', week.text)
    assert days == [f"2026-12-{n:02d}" for n in range(7, 14)]
    assert (await client.get("/staff/week/nobody/2026-12-09")).status_code == 404

    csrf = CSRF.search(week.text)
    assert csrf is not None
    assert (await client.post("/staff/logout", data={"csrf": csrf.group(1)})).status_code == 303
    assert (await client.get("/staff/week/maria/2026-12-09")).status_code == 303


async def test_before_a_catalog_is_loaded_the_pages_say_so_instead_of_failing(
    clean_engine: AsyncEngine, clock: FakeClock
) -> None:
    bare = Salonbot(clean_engine, clock)
    await bare.accounts.add(EMAIL, PASSWORD, Role.OWNER)
    web = create_web_app(bare, [], lambda: True)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://salon.test") as client:
        await _sign_in(client)
        for path in ("/staff/", "/staff/day/2026-12-07", "/staff/week/maria/2026-12-07"):
            answer = await client.get(path)
            assert answer.status_code == 503
            assert "its catalog is not loaded" in answer.text


# The actions, through the pages, on the real desk.

TUESDAY = "2026-12-08"
BOOKED = re.compile(r"/staff/booking/(\d+)\?done=booked")


async def _csrf(client: httpx.AsyncClient, path: str = "/staff/") -> str:
    found = CSRF.search((await client.get(path)).text)
    assert found is not None
    return found.group(1)


async def _walk_in(
    client: httpx.AsyncClient, at: str, name: str, staff: str = "maria"
) -> httpx.Response:
    return await client.post(
        "/staff/new",
        data={"csrf": await _csrf(client), "service": "manicure", "staff": staff,
              "day": TUESDAY, "at": at, "customer": "new", "name": name, "phone": ""},
    )  # fmt: skip


def _history(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", line) for line in re.findall(r"<li><time.*?</li>", page)]


async def test_a_walk_in_is_booked_moved_and_cancelled_with_the_user_in_its_history(
    app: Salonbot, client: httpx.AsyncClient
) -> None:
    await _sign_in(client)
    booked = await _walk_in(client, "10:00", "Ben Walker")
    assert booked.status_code == 303
    found = BOOKED.fullmatch(booked.headers["location"])
    assert found is not None
    booking_id = int(found.group(1))
    page = (await client.get(booked.headers["location"])).text
    assert "The booking is made." in page
    assert "Ben Walker" in page
    day = (await client.get(f"/staff/day/{TUESDAY}")).text
    assert f'<a class="open" href="/staff/booking/{booking_id}">' in day

    moved = await client.post(
        f"/staff/booking/{booking_id}/move",
        data={"csrf": await _csrf(client), "version": "1", "day": TUESDAY, "at": "15:00",
              "staff": "maria"},
    )  # fmt: skip
    assert moved.status_code == 303
    assert (await app.front_desk.booking(booking_id)).block.start == datetime(
        2026, 12, 8, 14, tzinfo=UTC
    )

    # Another walk-in takes 10:00; moving back there is refused with free times nearby.
    assert (await _walk_in(client, "10:00", "Cleo Park")).status_code == 303
    taken = await client.post(
        f"/staff/booking/{booking_id}/move",
        data={"csrf": await _csrf(client), "version": "2", "day": TUESDAY, "at": "10:00",
              "staff": "maria"},
    )  # fmt: skip
    assert taken.status_code == 409
    assert "That time is no longer free." in taken.text
    assert re.findall(r'name="at" value="(\d\d:\d\d)">', taken.text)

    cancelled = await client.post(
        f"/staff/booking/{booking_id}/cancel",
        data={"csrf": await _csrf(client), "version": "2", "reason": "Maria is ill"},
    )
    assert cancelled.status_code == 303
    page = (await client.get(f"/staff/booking/{booking_id}")).text
    history = _history(page)
    assert len(history) == 3
    assert all(EMAIL in line for line in history)
    assert "Moved" in history[1]
    assert history[2].endswith("Maria is ill")


async def test_a_chat_customers_visit_cancelled_on_the_page_is_told_in_their_chat(
    app: Salonbot, client: httpx.AsyncClient
) -> None:
    now = app.clock.now()
    async with app.uow() as uow:
        ada, _ = await CustomerRepository(uow.connection).for_identity(
            "telegram", "501", now, name="Ada Lovelace", language="en"
        )
        # A customer who has chatted: their conversation knows the chat to tell.
        await ConversationRepository(uow.connection).save(
            "telegram", "501", ada, State().to_json(), None, now
        )
        await uow.commit()
    booking = await app.bookings.book(
        "manicure", datetime(2026, 12, 8, 9, tzinfo=UTC), Actor.customer(ada),
        staff_key="maria", customer_id=ada,
    )  # fmt: skip
    await _sign_in(client)
    answer = await client.post(
        f"/staff/booking/{booking.id}/cancel",
        data={"csrf": await _csrf(client), "version": "1", "reason": "The salon floods"},
    )
    assert answer.status_code == 303
    told = await rows(app.engine, "SELECT chat_id, body FROM outbound_messages")
    assert [(chat, "The salon floods" in body["text"]) for chat, body in told] == [("501", True)]


async def test_a_visit_that_started_is_marked_no_show(
    clock: FakeClock, client: httpx.AsyncClient
) -> None:
    await _sign_in(client)
    booked = await _walk_in(client, "10:00", "Ben Walker")
    found = BOOKED.fullmatch(booked.headers["location"])
    assert found is not None
    clock.advance(timedelta(hours=27, minutes=30))  # Tuesday 10:30, the app's clock
    await _sign_in(client)
    page = (await client.get(f"/staff/booking/{found.group(1)}")).text
    assert "How did the visit go?" in page
    marked = await client.post(
        f"/staff/booking/{found.group(1)}/mark",
        data={"csrf": await _csrf(client), "version": "1", "outcome": "no_show"},
    )
    assert marked.status_code == 303
    page = (await client.get(marked.headers["location"])).text
    assert '<dd class="status">No-show' in page
    assert _history(page)[-1].endswith(f"No-show · {EMAIL}")


async def test_time_off_is_added_refused_over_a_booking_and_removed(
    client: httpx.AsyncClient,
) -> None:
    await _sign_in(client)
    await _walk_in(client, "10:00", "Ben Walker")
    form = {"from_day": TUESDAY, "from_at": "15:00", "to_day": TUESDAY, "to_at": "16:30",
            "reason": "Dentist"}  # fmt: skip
    path = f"/staff/time-off/maria/{TUESDAY}"
    added = await client.post(path, data={**form, "csrf": await _csrf(client)})
    assert added.status_code == 303
    page = (await client.get(added.headers["location"])).text
    assert "Dentist" in page
    time_off_id = re.search(r'name="id" value="(\d+)"', page)
    assert time_off_id is not None
    week = (await client.get(f"/staff/week/maria/{TUESDAY}")).text
    assert "Dentist" in week

    over = await client.post(
        path, data={**form, "from_at": "09:30", "to_at": "10:30", "csrf": await _csrf(client)}
    )
    assert over.status_code == 409
    assert "There are bookings in that time" in over.text

    removed = await client.post(
        path + "/remove", data={"id": time_off_id.group(1), "csrf": await _csrf(client)}
    )
    assert removed.status_code == 303
    assert "No time off this week." in (await client.get(path)).text


async def test_a_staff_member_is_refused_a_colleagues_booking_by_the_real_desk(
    app: Salonbot, client: httpx.AsyncClient
) -> None:
    await _sign_in(client)
    booked = await _walk_in(client, "10:00", "Ben Walker")
    found = BOOKED.fullmatch(booked.headers["location"])
    assert found is not None
    await app.accounts.add("anna@salon.test", PASSWORD, Role.STAFF, "anna")
    await _sign_in(client, email="anna@salon.test")
    page = await client.get(f"/staff/booking/{found.group(1)}")
    assert "Only the owner or the staff member of this booking can change it." in page.text
    refused = await client.post(
        f"/staff/booking/{found.group(1)}/cancel",
        data={"csrf": await _csrf(client), "version": "1", "reason": ""},
    )
    assert refused.status_code == 403
    assert (await app.front_desk.booking(int(found.group(1)))).block.status.value == "confirmed"


async def test_customers_are_found_on_the_real_customer_book(client: httpx.AsyncClient) -> None:
    await _sign_in(client)
    await _walk_in(client, "10:00", "Ben Walker")
    found = (await client.get("/staff/customers?q=walk")).text
    link = re.search(r'<a href="(/staff/customers/\d+)">Ben Walker</a>', found)
    assert link is not None
    card = (await client.get(link.group(1))).text
    assert "Classic manicure" in card or "Manicure" in card
    assert '<dd class="cancelled">0</dd>' in card


async def test_the_walk_in_form_offers_the_catalogs_services_by_name(
    client: httpx.AsyncClient,
) -> None:
    await _sign_in(client)
    form = (await client.get("/staff/new")).text

    assert '<select id="service" name="service" required>' in form
    assert '<option value="manicure">Manicure</option>' in form
    assert '<option value="womens-haircut">' in form
