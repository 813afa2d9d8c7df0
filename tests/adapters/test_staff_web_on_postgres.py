"""The staff web as ``salonbot serve`` wires it: the real accounts (argon2, sessions in
Postgres) and the real calendar over the demo salon, through the app's own routes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.calendar.ports import Role
from core.db.customer_repository import CustomerRepository
from core.domain.booking import Actor
from salonbot.bootstrap import Salonbot
from salonbot.web import create_web_app
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


async def _sign_in(client: httpx.AsyncClient, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/staff/login")
    found = CSRF.search(form.text)
    assert found is not None
    return await client.post(
        "/staff/login", data={"email": EMAIL, "password": password, "csrf": found.group(1)}
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
